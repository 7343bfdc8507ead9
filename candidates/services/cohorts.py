"""Staff's decisions on a round's cohort: overrides, approval, reopening, a run on request.

Approval is the decision of record: one transaction holding the cohort's row lock, so that two
staff approving at the same moment approve once, and never more candidates than seats.
"""

from datetime import datetime

from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from ecocycle.exceptions import DomainError
from ecocycle.models import User
from ecocycle.services import audit_entry_create
from programs.models import DegreeTrack, IntakeRound, RoundTrack

from ..models import (
    Cohort,
    CohortAdmission,
    CohortNotification,
    CohortOverride,
    Nomination,
    NominationPreference,
    NominationScore,
    Offer,
    Placement,
)
from ._common import _nominations_closed_refusal
from .cohort_notices import cohort_notification_queue
from .matching import cohort_match_refusal
from .offers import offers_cancel, offers_make

# A refusal names this many candidates who can no longer be admitted, then "…".
STALE_NAMES_SHOWN = 20

APPROVAL_WAITS = gettext_lazy(
    "Nominations for %(round)s close on %(close)s: the cohort can be approved only once they "
    "have closed, so that no university nominates into a round already decided."
)


def _open_cohort(cohort: Cohort) -> tuple[Cohort, int]:
    """The cohort under its row lock and the run staff's overrides change: its proposal, or,
    once approved, the proposal of its next wave of offers (candidates.services.waves)."""
    cohort = Cohort.objects.select_for_update().select_related("intake_round__program").get(
        pk=cohort.pk)
    if cohort.status == Cohort.Status.APPROVED:
        if cohort.wave_run_id is None:
            raise DomainError(_("This cohort is approved. Reopen it first to change it."))
        return cohort, cohort.wave_run_id
    if cohort.match_run_id is None:
        raise DomainError(_("There is no proposal yet: run the matching first."))
    return cohort, cohort.match_run_id


def _wave_seats_taken(cohort: Cohort, track: DegreeTrack, nomination: Nomination) -> int:
    """The seats of `track` a wave cannot give: those held by an admission (accepted or
    pending) and those staff already gave to another candidate of the wave."""
    return (CohortAdmission.objects.filter(cohort=cohort, track=track).count()
            + CohortOverride.objects.filter(cohort=cohort, track=track, cleared_at__isnull=True,
                                            kind=CohortOverride.Kind.MOVE)
            .exclude(nomination=nomination)
            .exclude(nomination__admission__isnull=False).count())


def _seats(intake_round_id: int) -> dict[int, int]:
    return dict(RoundTrack.objects.filter(intake_round_id=intake_round_id)
                .values_list("track_id", "seats"))


def _move_check(*, cohort: Cohort, nomination: Nomination, track: DegreeTrack | None,
                run_id: int) -> NominationPreference:
    """Refuse a move the candidate or the track does not allow; the candidate's preference for
    the track."""
    if nomination.status != Nomination.Status.SUBMITTED or not nomination.is_eligible:
        raise DomainError(_("This candidate is not eligible (or no longer nominated)."))
    if nomination.consent_given_at is None:
        raise DomainError(_("The candidate has not confirmed consent and cannot be placed."))
    if track is None:
        raise DomainError({"track": _("Choose the track to move the candidate to.")})
    preference = NominationPreference.objects.filter(nomination=nomination,
                                                     track=track).first()
    if preference is None:
        raise DomainError({"track": _("The candidate did not rank “%(track)s”.") % {
            "track": track}})
    if any(r.get("code") == "degree_track" and r["params"].get("track_id") == track.pk
           for r in nomination.eligibility_reasons):
        raise DomainError({"track": _("The candidate's degree does not meet “%(track)s”'s "
                                      "requirement.") % {"track": track}})
    seats = _seats(cohort.intake_round_id).get(track.pk, 0)
    if cohort.status == Cohort.Status.APPROVED:  # a wave: only the seats given back
        taken = _wave_seats_taken(cohort, track, nomination)
    else:
        taken = Placement.objects.filter(match_run_id=run_id, track=track).exclude(
            nomination=nomination).count()
    if taken >= seats:
        raise DomainError({"track": _("“%(track)s” has no free seat (%(seats)s of "
                                      "%(seats)s taken).") % {"track": track,
                                                             "seats": seats}})
    return preference


def _placement_override(placement: Placement, *, nomination: Nomination,
                        track: DegreeTrack | None,
                        preference: NominationPreference | None) -> None:
    """The current proposal follows the override at once: moved to `track`, or excluded."""
    if track is not None:
        score = NominationScore.objects.filter(nomination=nomination, track=track).first()
        placement.track, placement.choice_rank = track, preference.rank
        placement.score, placement.reasons = (score.total if score else None), []
    else:
        placement.track, placement.choice_rank, placement.score = None, None, None
        placement.reasons = [{"track_id": None, "reason": "excluded_by_staff"}]
    placement.save()


@transaction.atomic
def override_create(
    *, actor: User, cohort: Cohort, nomination: Nomination, kind: str,
    track: DegreeTrack | None = None, reason: str = "",
) -> CohortOverride:
    """Move a candidate to another track they ranked that has a free seat, or exclude them.

    Re-validated: the candidate must still be submitted, eligible and consenting. An earlier
    active override of the same candidate is replaced. The current proposal changes at once;
    later runs of the matching keep the override until it is cleared.

    On the proposed wave of an approved cohort the same overrides apply to the candidates who
    hold no offer (a seat given back, or none), and the wave is proposed again at once; a
    candidate holding an offer is not overridden (a wave moves them only up, on the merits).
    """
    cohort, run_id = _open_cohort(cohort)
    wave = cohort.status == Cohort.Status.APPROVED
    reason = (reason or "").strip()
    if not reason:
        raise DomainError({"reason": _("Give the reason for this override.")})
    if kind not in CohortOverride.Kind.values:
        raise DomainError({"kind": _("Choose whether to move or to exclude the candidate.")})
    nomination = Nomination.objects.select_for_update().get(pk=nomination.pk)
    if nomination.intake_round_id != cohort.intake_round_id:
        raise DomainError(_("This candidate was not nominated for this round."))
    if wave and CohortAdmission.objects.filter(nomination=nomination).exists():
        raise DomainError(_("This candidate holds an offer: a wave moves them only to a track "
                            "they ranked higher, on the merits, and is not overridden."))
    placement = Placement.objects.filter(match_run_id=run_id, nomination=nomination).first()
    preference = None
    if kind == CohortOverride.Kind.MOVE:
        preference = _move_check(cohort=cohort, nomination=nomination, track=track,
                                 run_id=run_id)
    else:
        track = None
    previous = CohortOverride.objects.filter(nomination=nomination, cleared_at__isnull=True)
    for old in previous:
        old.cleared_at, old.cleared_by = timezone.now(), actor
        old.save(update_fields=["cleared_at", "cleared_by"])
    override = CohortOverride.objects.create(cohort=cohort, nomination=nomination, kind=kind,
                                             track=track, reason=reason, created_by=actor)
    before = {"track": placement.track_id if placement else None}
    if not wave:
        _placement_override(
            placement or Placement(match_run_id=run_id, nomination=nomination),
            nomination=nomination, track=track, preference=preference)
    audit_entry_create(actor=actor, action="cohort_override_create", target=nomination,
                       before=before, after={"kind": kind, "track": track.pk if track else None,
                                             "reason": reason})
    if wave:  # the wave follows the override at once: proposed again with it
        # In here: waves imports this module's checks.
        from .waves import wave_propose  # noqa: PLC0415

        wave_propose(actor=actor, cohort=cohort)
    return override


@transaction.atomic
def override_clear(*, actor: User, override: CohortOverride) -> None:
    """Clear an override and queue a run of the matching, which places the candidate again
    (once the round's nominations have closed: until then the next run will). An override of a
    proposed wave: the wave is proposed again at once, without it."""
    override = CohortOverride.objects.select_for_update().get(pk=override.pk)
    cohort, _run_id = _open_cohort(override.cohort)
    if override.cleared_at is not None:
        return
    override.cleared_at, override.cleared_by = timezone.now(), actor
    override.save(update_fields=["cleared_at", "cleared_by"])
    audit_entry_create(actor=actor, action="cohort_override_clear", target=override.nomination,
                       before={"kind": override.kind, "track": override.track_id})
    if cohort.status == Cohort.Status.APPROVED:  # a wave's override: the wave again, at once
        from .waves import wave_propose  # noqa: PLC0415

        wave_propose(actor=actor, cohort=cohort)
        return
    intake_round = override.cohort.intake_round
    if cohort_match_refusal(intake_round=intake_round) is None:
        cohort_run_request(actor=actor, intake_round=intake_round)


def cohort_approve_refusal(*, cohort: Cohort, now: datetime | None = None) -> str | None:
    """Why the cohort's proposal may not be approved at `now` (the round's nominations are
    still to close, or there is no proposal); None when it may. The checks of the proposal
    itself (seats, candidates still admissible) are made on approval."""
    refusal = _nominations_closed_refusal(cohort.intake_round, now or timezone.now(),
                                          APPROVAL_WAITS)
    if refusal is None and cohort.match_run_id is None:
        refusal = _("There is no proposal yet: run the matching first.")
    return refusal


@transaction.atomic
def cohort_approve(*, actor: User, cohort: Cohort, now: datetime | None = None,
                   run_id: int | None = None) -> Cohort:
    """Approve the proposal as a whole: admissions of record and an offer to each admitted
    candidate (answer due by the round's deadline) now, emails by a background job.

    The request's work does not grow with the cohort: the checks are aggregate queries, the
    admissions and the offers one INSERT … SELECT each, all under the cohort's row lock. The
    emails (the offer, its deadline and the link to answer it) are written by
    `cohort_notification_send`, queued after commit (`CohortNotification` shows its progress).
    Idempotent: approving an approved cohort changes nothing. Refused while the round's
    nominations are open, when the proposal is no longer the run `run_id` staff confirmed,
    when a track would hold more than its seats or a placed candidate is no longer submitted,
    eligible and consenting.
    """
    now = now or timezone.now()
    locked = Cohort.objects.select_for_update().select_related(
        "intake_round__program").get(pk=cohort.pk)
    if locked.status == Cohort.Status.APPROVED:
        return locked
    refusal = cohort_approve_refusal(cohort=locked, now=now)
    if refusal:
        raise DomainError(refusal)
    if run_id is not None and run_id != locked.match_run_id:
        raise DomainError(_("The proposal has changed since you opened the confirmation (a new "
                            "matching run). Check what the approval will do now, then confirm "
                            "again."))
    placed = Placement.objects.filter(match_run_id=locked.match_run_id, track__isnull=False)
    _seats_check(locked, placed)
    _admissible_check(placed)
    admitted = _admissions_insert(locked, now=now)
    offered = offers_make(cohort=locked, wave=1, now=now)
    locked.status, locked.approved_at, locked.approved_by = Cohort.Status.APPROVED, now, actor
    locked.save(update_fields=["status", "approved_at", "approved_by", "updated_at"])
    audit_entry_create(actor=actor, action="cohort_approve", target=locked,
                       before={"status": Cohort.Status.PROPOSED},
                       after={"status": Cohort.Status.APPROVED, "run": locked.match_run_id,
                              "admitted": admitted, "offered": offered})
    cohort_notification_queue(cohort=locked, kind=CohortNotification.Kind.APPROVED)
    return locked


def _seats_check(cohort: Cohort, placed) -> None:
    """Refuse a proposal that fills a track past its seats: one grouped query."""
    seats = _seats(cohort.intake_round_id)
    counts = placed.order_by().values("track_id").annotate(count=Count("id"))
    for row in counts:
        if row["count"] > seats.get(row["track_id"], 0):
            track = DegreeTrack.objects.get(pk=row["track_id"])
            raise DomainError(_("“%(track)s” would admit %(count)s candidates for %(seats)s "
                                "seats. Correct the proposal first.") % {
                "track": track, "count": row["count"], "seats": seats.get(track.pk, 0)})


def _admissible_check(placed) -> None:
    """Refuse a proposal placing a candidate no longer submitted, eligible and consenting."""
    stale = Nomination.objects.filter(
        pk__in=placed.values("nomination_id")).filter(
        ~Q(status=Nomination.Status.SUBMITTED) | Q(is_eligible=False)
        | Q(consent_given_at__isnull=True)).order_by("id")
    names = [str(n) for n in stale[:STALE_NAMES_SHOWN + 1]]
    if names:
        if len(names) > STALE_NAMES_SHOWN:
            names[-1] = "…"
        raise DomainError(_("%(names)s can no longer be admitted (withdrawn, not eligible or "
                            "without consent). Run the matching again or exclude them.") % {
            "names": ", ".join(names)})


def _admissions_insert(cohort: Cohort, *, now: datetime) -> int:
    """The admissions of record, straight from the proposal's placements: one statement,
    whatever the cohort's size (the ORM has no INSERT … SELECT; bulk_create from Python would
    load every placement and, on SQLite, split into many statements)."""
    admission, placement = CohortAdmission._meta, Placement._meta
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {admission.db_table} (cohort_id, nomination_id, track_id, "
            f"created_at) SELECT %s, nomination_id, track_id, %s FROM {placement.db_table} "
            "WHERE match_run_id = %s AND track_id IS NOT NULL",
            [cohort.pk, connection.ops.adapt_datetimefield_value(now), cohort.match_run_id])
        return cursor.rowcount


def cohort_reopen_refusal(*, cohort: Cohort) -> str | None:
    """Why an approved cohort can no longer be reopened, or None. Once a candidate has acted on
    the result (accepted their offer, or enrolled), the cohort is changed one candidate at a
    time instead (declines, no-shows, a later wave)."""
    # Through the reverse relation: candidates does not import the students app.
    enrolled = cohort.admissions.filter(enrolment__isnull=False).count()
    if enrolled:
        return ngettext(
            "%(count)s student of this cohort is enrolled already: the cohort can no longer be "
            "reopened.",
            "%(count)s students of this cohort are enrolled already: the cohort can no longer be "
            "reopened.", enrolled) % {"count": enrolled}
    accepted = cohort.offers.filter(status=Offer.Status.ACCEPTED).count()
    if accepted:
        return ngettext(
            "%(count)s candidate of this cohort has accepted their offer: the cohort can no "
            "longer be reopened. Record a decline or a no-show for a candidate instead.",
            "%(count)s candidates of this cohort have accepted their offers: the cohort can no "
            "longer be reopened. Record a decline or a no-show for a candidate instead.",
            accepted) % {"count": accepted}
    return None


@transaction.atomic
def cohort_reopen(*, actor: User, cohort: Cohort, reason: str) -> Cohort:
    """Take an approved cohort back to a proposal; the admissions of record are withdrawn.

    The pending offers are cancelled. Everyone the approval's emails reached (each candidate of
    the run and their universities' coordinators) is emailed in their language that the result
    is withdrawn pending a new decision, by the same background job as the approval; an
    approval's emails still being written stop where they are. Refused once a candidate of the
    cohort has accepted their offer or enrolled.
    """
    reason = (reason or "").strip()
    if not reason:
        raise DomainError({"reason": _("Give the reason for reopening the cohort.")})
    locked = Cohort.objects.select_for_update().select_related("intake_round__program").get(
        pk=cohort.pk)
    if locked.status != Cohort.Status.APPROVED:
        return locked
    refusal = cohort_reopen_refusal(cohort=locked)
    if refusal:
        raise DomainError(refusal)
    admitted = list(locked.admissions.values_list("nomination_id", "track_id"))
    cancelled = offers_cancel(cohort=locked, now=timezone.now())
    _admissions_delete(locked)
    locked.status, locked.approved_at, locked.approved_by = Cohort.Status.PROPOSED, None, None
    locked.save(update_fields=["status", "approved_at", "approved_by", "updated_at"])
    notification = cohort_notification_queue(cohort=locked,
                                              kind=CohortNotification.Kind.WITHDRAWN)
    audit_entry_create(actor=actor, action="cohort_reopen", target=locked,
                       before={"status": Cohort.Status.APPROVED, "admitted": admitted},
                       after={"status": Cohort.Status.PROPOSED, "reason": reason,
                              "offers_cancelled": cancelled,
                              "notification": notification.pk if notification else None})
    return locked


def _admissions_delete(cohort: Cohort) -> None:
    """The admissions of record withdrawn: one statement, whatever the cohort's size (the ORM's
    delete fetches every row and deletes a hundred at a time). A row still referring to an
    admission (an enrolment; the refusal above checked) makes the database refuse it, and the
    reopening rolls back."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {CohortAdmission._meta.db_table} WHERE cohort_id = %s",
                       [cohort.pk])


@transaction.atomic
def cohort_run_request(*, actor: User, intake_round: IntakeRound) -> None:
    """Staff's "run now": note the request and queue the matching after commit. Refused while
    the round's nominations are open, and for an approved cohort."""
    # In here: candidates.tasks imports the services.
    from ..tasks import run_cohort_matching  # noqa: PLC0415

    refusal = cohort_match_refusal(intake_round=intake_round)
    if refusal:
        raise DomainError(refusal)
    cohort, _created = Cohort.objects.get_or_create(intake_round=intake_round)
    if cohort.status == Cohort.Status.APPROVED:
        raise DomainError(_("This cohort is approved; reopen it before matching again."))
    Cohort.objects.filter(pk=cohort.pk).update(run_requested_at=timezone.now())
    audit_entry_create(actor=actor, action="cohort_run_request", target=cohort)
    run_cohort_matching.delay_on_commit(intake_round.pk, actor.pk)


# Durable: only the matching task calls it, after its run ended in a refusal; nothing may hold
# the answer back in a larger transaction.
@transaction.atomic(durable=True)
def cohort_run_request_clear(*, intake_round: IntakeRound, reason: str) -> None:
    """Answer staff's "run now" without a run (one is under way, or the cohort is approved),
    so that the dashboard stops showing it as running. Safe to call twice."""
    cohort = Cohort.objects.select_for_update().filter(intake_round=intake_round).first()
    if cohort is None or cohort.run_requested_at is None:
        return
    requested_at = cohort.run_requested_at
    Cohort.objects.filter(pk=cohort.pk).update(run_requested_at=None)
    audit_entry_create(actor=None, action="cohort_run_request_clear", target=cohort,
                       before={"run_requested_at": requested_at}, after={"reason": reason})
