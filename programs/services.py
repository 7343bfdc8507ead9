"""Writes of the programs domain. Each is one transaction and leaves audit entries.

Staff create and change programs, tracks and rounds in the admin, which writes through the
kernel's audited `model_create`, `model_update` and `model_delete` (`AuditedModelAdmin` in
`ecocycle.admin`); the functions here build the demo data and the test scenarios, and run a
round's calendar from the staff dashboard (close nominations early, extend the deadline, open
the matching phase, set the release of results), each with a reason, refused when the phase does
not allow it or when it would break the order of the milestones.
"""

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ecocycle.exceptions import DomainError
from ecocycle.models import User
from ecocycle.services import audit_entry_create, model_create

from .calendar import (
    CLOSE_NOMINATIONS,
    EXTEND_NOMINATIONS,
    OPEN_MATCHING,
    SET_LAST_WAVE,
    SET_RESULTS_RELEASE,
    calendar_action_refusal,
    moment,
)
from .models import (
    PHASE_MILESTONES,
    CoreTechnology,
    DegreeTrack,
    IntakeRound,
    Program,
    ProgramUniversity,
    RoundMilestone,
    RoundTrack,
    University,
    validate_milestone_order,
)


def university_create(*, actor: User | None, data: Mapping[str, Any]) -> University:
    return model_create(model=University, data=data, actor=actor)


def program_create(*, actor: User | None, data: Mapping[str, Any]) -> Program:
    return model_create(model=Program, data=data, actor=actor)


def core_technology_create(*, actor: User | None, data: Mapping[str, Any]) -> CoreTechnology:
    return model_create(model=CoreTechnology, data=data, actor=actor)


def program_university_add(
    *, actor: User | None, program: Program, university: University, nomination_quota: int
) -> ProgramUniversity:
    return model_create(
        model=ProgramUniversity,
        data={"program": program, "university": university, "nomination_quota": nomination_quota},
        actor=actor,
    )


def degree_track_create(*, actor: User | None, data: Mapping[str, Any]) -> DegreeTrack:
    return model_create(model=DegreeTrack, data=data, actor=actor)


@transaction.atomic
def intake_round_create(
    *,
    actor: User | None,
    program: Program,
    name: str,
    milestones: Mapping[str, datetime],
    preference_limit: int = 3,
    seats: Mapping[DegreeTrack, int] | None = None,
) -> IntakeRound:
    """Open a round with all five milestones and the seats of each track.

    `seats` defaults to every active track of the program with its default seats.
    """
    validate_milestone_order(dict(milestones))
    intake_round = model_create(
        model=IntakeRound,
        data={"program": program, "name": name, "preference_limit": preference_limit},
        actor=actor,
    )
    for kind, at in milestones.items():
        model_create(
            model=RoundMilestone, data={"intake_round": intake_round, "kind": kind, "at": at},
            actor=actor,
        )
    if seats is None:
        seats = {track: track.seats for track in program.tracks.filter(is_active=True)}
    for track, count in seats.items():
        model_create(
            model=RoundTrack, data={"intake_round": intake_round, "track": track, "seats": count},
            actor=actor,
        )
    return intake_round


# --- the round's calendar -----------------------------------------------------------------------

def _order_check(dates: Mapping[str, datetime], kind: str, at: datetime) -> None:
    """Refuse a date for `kind` that is not after the milestone before it and before the one
    after it, naming the neighbour it would pass."""
    kinds = PHASE_MILESTONES
    if kind not in kinds:  # the last wave: validate_milestone_order places it
        kinds = [kind]
    index = kinds.index(kind)
    label = RoundMilestone.Kind(kind).label
    previous = kinds[index - 1] if index > 0 else None
    following = kinds[index + 1] if index + 1 < len(kinds) else None
    if previous and dates.get(previous) is not None and at <= dates[previous]:
        raise DomainError(_("“%(milestone)s” on %(new)s would come before “%(previous)s” on "
                            "%(date)s. Choose a later date.") % {
            "milestone": label, "new": moment(at), "previous": RoundMilestone.Kind(previous).label,
            "date": moment(dates[previous])})
    if following and dates.get(following) is not None and at >= dates[following]:
        raise DomainError(_("“%(milestone)s” on %(new)s would pass the next milestone, "
                            "“%(next)s” on %(date)s. Choose a date before it.") % {
            "milestone": label, "new": moment(at), "next": RoundMilestone.Kind(following).label,
            "date": moment(dates[following])})
    try:
        validate_milestone_order({**dates, kind: at})
    except ValidationError as error:
        raise DomainError(error.messages) from error


def _milestone_move(
    *, actor: User | None, intake_round: IntakeRound, action: str, kind: str, at: datetime,
    reason: str, now: datetime, check: Callable[[dict], None] | None = None,
) -> IntakeRound:
    """Move one milestone of the round to `at`, under the round's row lock, and audit it."""
    # The round's row lock queues two staff changing the calendar at the same moment.
    locked = IntakeRound.objects.select_for_update().select_related("program").prefetch_related(
        "milestones").get(pk=intake_round.pk)
    milestones = {m.kind: m for m in locked.milestones.all()}
    refusal = calendar_action_refusal(locked, action, now)
    if refusal:
        raise DomainError(refusal)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError({"reason": _("Give the reason for this change of the calendar.")})
    dates = {k: m.at for k, m in milestones.items()}
    if check is not None:
        check(dates)
    _order_check(dates, kind, at)
    milestone = milestones.get(kind) or RoundMilestone(intake_round=locked, kind=kind)
    before = milestone.at
    milestone.at = at
    milestone.full_clean(exclude=["intake_round"], validate_constraints=False)
    milestone.save()
    audit_entry_create(actor=actor, action=f"intake_round_{action}", target=locked,
                       before={kind: before}, after={kind: at, "reason": reason})
    return locked


@transaction.atomic
def intake_round_close_nominations(
    *, actor: User | None, intake_round: IntakeRound, reason: str, now: datetime | None = None,
) -> IntakeRound:
    """Close nominations now, before their deadline: only while they are open."""
    now = now or timezone.now()
    return _milestone_move(actor=actor, intake_round=intake_round, action=CLOSE_NOMINATIONS,
                           kind=RoundMilestone.Kind.NOMINATIONS_CLOSE, at=now, reason=reason,
                           now=now)


@transaction.atomic
def intake_round_extend_nominations(
    *, actor: User | None, intake_round: IntakeRound, until: datetime, reason: str,
    now: datetime | None = None,
) -> IntakeRound:
    """Move the nomination deadline later, while it has not passed, and never past the opening
    of the matching phase (refused, naming it: the matching phase is not moved along)."""
    now = now or timezone.now()

    def later(dates: dict) -> None:
        close = dates.get(RoundMilestone.Kind.NOMINATIONS_CLOSE)
        if close is not None and until <= close:
            raise DomainError({"until": _("The new deadline must be later than the current one "
                                          "(%(date)s).") % {"date": moment(close)}})

    return _milestone_move(actor=actor, intake_round=intake_round, action=EXTEND_NOMINATIONS,
                           kind=RoundMilestone.Kind.NOMINATIONS_CLOSE, at=until, reason=reason,
                           now=now, check=later)


@transaction.atomic
def intake_round_open_matching(
    *, actor: User | None, intake_round: IntakeRound, reason: str, now: datetime | None = None,
) -> IntakeRound:
    """Open the matching phase now (the nightly job then matches the round): only once
    nominations have closed, and before the release of results."""
    now = now or timezone.now()
    return _milestone_move(actor=actor, intake_round=intake_round, action=OPEN_MATCHING,
                           kind=RoundMilestone.Kind.MATCHING, at=now, reason=reason, now=now)


@transaction.atomic
def intake_round_set_results_release(
    *, actor: User | None, intake_round: IntakeRound, at: datetime, reason: str,
    now: datetime | None = None,
) -> IntakeRound:
    """Set when results are released (the decisions milestone): after the matching phase opens,
    before enrolment, not in the past, and only while results are still to be released."""
    now = now or timezone.now()

    def ahead(dates: dict) -> None:
        if at < now:
            raise DomainError({"at": _("The release of results cannot be in the past. Choose a "
                                       "date and time from now on.")})

    return _milestone_move(actor=actor, intake_round=intake_round, action=SET_RESULTS_RELEASE,
                           kind=RoundMilestone.Kind.DECISIONS, at=at, reason=reason, now=now,
                           check=ahead)


@transaction.atomic
def intake_round_set_last_wave(
    *, actor: User | None, intake_round: IntakeRound, at: datetime, reason: str,
    now: datetime | None = None,
) -> IntakeRound:
    """Set the last date on which a wave of offers may be proposed and approved (optional):
    after nominations close, before enrolment, not in the past, and only while it has
    not passed."""
    now = now or timezone.now()

    def ahead(dates: dict) -> None:
        if at < now:
            raise DomainError({"at": _("The last wave of offers cannot be in the past. Choose a "
                                       "date and time from now on.")})

    return _milestone_move(actor=actor, intake_round=intake_round, action=SET_LAST_WAVE,
                           kind=RoundMilestone.Kind.LAST_WAVE, at=at, reason=reason, now=now,
                           check=ahead)
