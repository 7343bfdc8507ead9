"""Later waves of offers: the seats given back by declines, lapses and withdrawals offered
again, without breaking what was promised.

`wave_propose` runs the deferred-acceptance engine again on the round (`ecocycle.matching.
wave_match`): accepted places fixed, candidates who gave their place back left out, every other
eligible, consenting candidate taking part, pending offers among them (they can only move up).
The proposal is a MatchRun like the first wave's (counts {"wave": n}), reviewed on the staff
page as a difference from the current cohort and corrected with the same overrides, then
approved by `wave_approve`, which makes the wave's offers, replaces the offers of those who
move up, and tells the candidates and their universities.
"""

import hashlib
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ecocycle.bulk import bulk_insert
from ecocycle.exceptions import DomainError
from ecocycle.mail import email_draft, email_placeholder, email_queue_many
from ecocycle.matching import wave_match
from ecocycle.models import AuditEntry, User
from ecocycle.services import audit_entry_build, audit_entry_create
from ecocycle.writes import short_transaction
from programs.calendar import moment
from programs.models import RoundMilestone, RoundTrack

from ..models import (
    Cohort,
    CohortAdmission,
    CohortOverride,
    Coordinator,
    MatchRun,
    MatchRunTrack,
    Nomination,
    Offer,
    Placement,
)
from ..selectors.waves import wave_free_seats
from .candidate_page import candidate_page_link
from .cohorts import _admissible_check, _seats_check
from .matching import _facts, _scored_preferences, _track_facts, _weights
from .offers import offers_make

# Placement reasons a wave adds to the engine's.
EXCLUDED = "excluded_by_staff"
GAVE_BACK = "gave_place_back"


def _next_wave(cohort: Cohort) -> int:
    """The number of the next wave: one after the latest approved (the approval is wave 1)."""
    made = Offer.objects.filter(cohort=cohort).aggregate(latest=Max("wave"))["latest"] or 1
    return max(cohort.wave, made, 1) + 1


def wave_refusal(*, cohort: Cohort, now: datetime | None = None) -> str | None:
    """Why no wave of offers may be proposed or approved for the cohort at `now`, saying when it
    could (or that it will not again); None when it may. The seats are checked on proposal."""
    now = now or timezone.now()
    if cohort.status != Cohort.Status.APPROVED:
        return _("The cohort is not approved yet: its approval makes the first wave of offers; "
                 "later waves refill the seats given back after it.")
    dates = cohort.intake_round.milestone_dates()
    enrolment = dates.get(RoundMilestone.Kind.ENROLMENT)
    if enrolment is not None and enrolment <= now:
        return _("Enrolment began on %(date)s: no further wave of offers is made.") % {
            "date": moment(enrolment)}
    last_wave = dates.get(RoundMilestone.Kind.LAST_WAVE)
    if last_wave is not None and last_wave <= now:
        return _("The last wave of offers was on %(date)s.") % {"date": moment(last_wave)}
    return None


@dataclass
class WaveProposal:
    wave: int
    placements: dict[int, int]                       # nomination id -> track (fixed included)
    reasons: dict[int, list[dict]]                   # nomination id -> why not placed
    new: dict[int, int]                              # nomination id -> track: new offers
    moved_up: dict[int, tuple[int, int]]             # nomination id -> (held track, new track)
    kept: tuple = ()
    scores: dict = field(default_factory=dict)
    choice_ranks: dict[int, int] = field(default_factory=dict)
    applicants: Counter = field(default_factory=Counter)
    seats: dict[int, int] = field(default_factory=dict)
    counts: dict = field(default_factory=dict)


def _overrides_apply(cohort: Cohort, market: dict, held: dict, seats: dict[int, int],
                     admissions: dict[int, int]) -> tuple[dict[int, int], set[int], dict[int, int]]:
    """Staff's overrides taken out of `market` (changed in place): (moved to a track, excluded,
    the seats truly free after the admissions and the moves). One query."""
    # Staff's overrides hold for those who hold no offer: excluded, or given a seat given back.
    truly_free = dict(seats)
    for track_id in admissions.values():
        truly_free[track_id] = truly_free.get(track_id, 0) - 1
    moved, excluded = {}, set()
    for pk, track_id in (CohortOverride.objects.filter(
            cohort=cohort, cleared_at__isnull=True).order_by("created_at", "id")
            .values_list("nomination_id", "track_id")):
        if pk not in market or pk in held:
            continue
        market.pop(pk)
        if track_id is not None and truly_free.get(track_id, 0) > 0:
            moved[pk] = track_id
            truly_free[track_id] -= 1
        else:
            excluded.add(pk)
    return moved, excluded, truly_free


def _wave_compute(cohort: Cohort) -> WaveProposal:
    """The wave on the round's current facts; reads a fixed number of queries."""
    intake_round = cohort.intake_round
    nominations, preferences, technologies, round_tracks = _facts(intake_round)
    seats = {rt.track_id: rt.seats for rt in round_tracks}
    candidate_prefs, entries, scores = _scored_preferences(
        nominations, preferences, technologies, _track_facts(round_tracks),
        _weights(intake_round, None))
    admissions = dict(CohortAdmission.objects.filter(cohort=cohort)
                      .values_list("nomination_id", "track_id"))
    pending = set(Offer.objects.filter(cohort=cohort, status=Offer.Status.PENDING)
                  .values_list("nomination_id", flat=True))
    gone = set(Offer.objects.filter(cohort=cohort, status__in=Offer.VACATING)
               .values_list("nomination_id", flat=True)) - set(admissions)
    # A pending offer of a candidate still in the market may move up; every other admission
    # (accepted, or held by a candidate no longer eligible) is fixed.
    held = {pk: t for pk, t in admissions.items() if pk in pending and pk in candidate_prefs}
    fixed = {pk: t for pk, t in admissions.items() if pk not in held}
    market = {pk: prefs for pk, prefs in candidate_prefs.items()
              if pk not in fixed and pk not in gone}
    moved, excluded, truly_free = _overrides_apply(cohort, market, held, seats, admissions)
    track_prefs = {t: [pk for _key, pk in sorted(entries.get(t, [])) if pk in market]
                   for t in seats}
    try:
        result = wave_match(market, track_prefs, seats, fixed={**fixed, **moved}, held=held)
    except ValueError as error:
        raise DomainError(_("A track holds more admissions than its seats (were its seats "
                            "reduced?). Give it its seats back first.")) from error

    placements = {**fixed, **moved, **result.placements}
    ranks = {(pk, t): r for pk, prefs in preferences.items() for t, r in prefs}
    reasons = {pk: [{"track_id": t, "reason": str(r)} for t, r in rs]
               for pk, rs in result.unplaced_reasons.items()}
    reasons.update({pk: [{"track_id": None, "reason": EXCLUDED}] for pk in excluded})
    reasons.update({pk: [{"track_id": None, "reason": GAVE_BACK}]
                    for pk in gone if pk in candidate_prefs})
    applicants = Counter({t: len(pks) for t, pks in track_prefs.items()})
    applicants.update(Counter(placements[pk] for pk in {**fixed, **moved}))
    new = {**moved, **result.new}
    return WaveProposal(
        wave=_next_wave(cohort), placements=placements, reasons=reasons, new=new,
        moved_up=dict(result.moved_up), kept=result.kept, scores=scores,
        choice_ranks={pk: ranks.get((pk, t)) for pk, t in placements.items()},
        applicants=applicants, seats=seats,
        counts={"wave": _next_wave(cohort), "seats_free": sum(max(v, 0)
                                                              for v in truly_free.values()),
                "new": len(new), "moved_up": len(result.moved_up), "kept": len(result.kept),
                "candidates": len(market) + len(moved) + len(excluded),
                "placed": len(placements), "unplaced": len(result.unplaced_reasons)},
    )


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def _wave_write(cohort: Cohort, proposal: WaveProposal, *, actor: User | None,
                now: datetime) -> MatchRun:
    run = MatchRun.objects.create(
        kind=MatchRun.Kind.COHORT, intake_round_id=cohort.intake_round_id,
        trigger=MatchRun.Trigger.STAFF, triggered_by=actor if actor and actor.pk else None,
        started_at=now, finished_at=now, status=MatchRun.Status.SUCCEEDED,
        input_digest=_digest({"placements": sorted(proposal.placements.items())}),
        output_digest=_digest({"placements": sorted(proposal.placements.items()),
                               "reasons": sorted(proposal.reasons.items())}),
        counts=proposal.counts)
    placed = Counter(proposal.placements.values())
    MatchRunTrack.objects.bulk_create([
        MatchRunTrack(match_run=run, track_id=t, seats=seats, placed=placed[t],
                      applicants=proposal.applicants[t])
        for t, seats in sorted(proposal.seats.items())])
    rows = []
    for pk in sorted(set(proposal.placements) | set(proposal.reasons)):
        track_id = proposal.placements.get(pk)
        score = proposal.scores.get((pk, track_id)) if track_id else None
        rows.append((run.pk, pk, track_id, proposal.choice_ranks.get(pk),
                     str(score.total) if score else None,
                     json.dumps([] if track_id else proposal.reasons.get(pk, []))))
    bulk_insert(Placement, ["match_run", "nomination", "track", "choice_rank", "score",
                            "reasons"], rows)
    return run


def _locked(cohort: Cohort) -> Cohort:
    return Cohort.objects.select_for_update().select_related("intake_round__program").get(
        pk=cohort.pk)


CHANGED_DURING = gettext_lazy("Answers or overrides came in twice while the wave was being "
                              "computed: propose it again.")
CHANGED = gettext_lazy("Answers or overrides came in since this wave was proposed: propose it "
                       "again, check it, then approve.")


def _wave_check(cohort: Cohort, now: datetime) -> None:
    refusal = wave_refusal(cohort=cohort, now=now)
    if refusal:
        raise DomainError(refusal)
    if not any(wave_free_seats(cohort).values()):
        raise DomainError(_("No seat has been given back: there is nothing to offer again."))


def _answers_state(cohort: Cohort) -> str:
    """A digest of what a wave is computed from besides the nominations: the admissions, the
    offers' answers, staff's overrides and the seats. Four queries."""
    return _digest({
        "admissions": sorted(CohortAdmission.objects.filter(cohort=cohort)
                             .values_list("nomination_id", "track_id")),
        "offers": sorted(Offer.objects.filter(cohort=cohort).values_list("id", "status")),
        "overrides": sorted(CohortOverride.objects.filter(cohort=cohort, cleared_at__isnull=True)
                            .values_list("id", "track_id")),
        "seats": sorted(RoundTrack.objects.filter(intake_round_id=cohort.intake_round_id)
                        .values_list("track_id", "seats")),
        "wave": cohort.wave,
    })


def wave_propose(*, actor: User | None, cohort: Cohort, now: datetime | None = None) -> MatchRun:
    """Propose the next wave of offers of an approved cohort and make it the one staff review
    (the previous proposal, if any, is superseded). Refused before the approval, once the last
    wave's date or enrolment has come, and when no seat was given back.

    The wave is computed with no write transaction open, then written in one short transaction
    under the cohort's row lock, which re-checks that no answer, override or seat changed in
    between (else it computes again, once): candidates answering their offers never wait on the
    computation. Called inside a transaction (an override's), it computes under that one.
    """
    now = now or timezone.now()
    if transaction.get_connection().in_atomic_block:
        return _wave_propose_locked(actor=actor, cohort=cohort, now=now, state=None,
                                    proposal=None)
    for _attempt in (1, 2):
        current = Cohort.objects.select_related("intake_round__program").get(pk=cohort.pk)
        _wave_check(current, now)
        state = _answers_state(current)
        proposal = _wave_compute(current)
        run = short_transaction(lambda state=state, proposal=proposal: _wave_propose_locked(
            actor=actor, cohort=cohort, now=now, state=state, proposal=proposal))
        if run is not None:
            return run
    raise DomainError(str(CHANGED_DURING))


def _wave_propose_locked(*, actor: User | None, cohort: Cohort, now: datetime,
                         state: str | None, proposal: "WaveProposal | None") -> MatchRun | None:
    """The write of a proposal, under the cohort's row lock: None when the answers changed
    since `state` was read (the caller computes again)."""
    locked = _locked(cohort)
    _wave_check(locked, now)
    if state is not None and _answers_state(locked) != state:
        return None
    if proposal is None:
        proposal = _wave_compute(locked)
    run = _wave_write(locked, proposal, actor=actor, now=now)
    previous = locked.wave_run_id
    if previous:
        MatchRun.objects.filter(pk=previous).update(status=MatchRun.Status.SUPERSEDED)
    locked.wave_run = run
    locked.save(update_fields=["wave_run", "updated_at"])
    audit_entry_create(actor=actor, action="cohort_wave_propose", target=locked,
                       before={"run": previous}, after={"run": run.pk, "counts": run.counts})
    return run


# --- approval -----------------------------------------------------------------------------------




def _answers_unchanged(cohort: Cohort, placed: dict[int, int]) -> tuple[dict, dict]:
    """The run's new offers and moves up, refused if the candidates' answers changed since it
    was proposed: an accepted place must be where the run has it, a pending offer may only
    move up (to a track the run placed it in), nobody who gave their place back is offered
    one, and every admission is in the run."""
    admissions = dict(CohortAdmission.objects.filter(cohort=cohort)
                      .values_list("nomination_id", "track_id"))
    offers = dict(Offer.objects.filter(cohort=cohort, status__in=Offer.OPEN)
                  .values_list("nomination_id", "status"))
    gone = set(Offer.objects.filter(cohort=cohort, status__in=Offer.VACATING,
                                    nomination_id__in=list(placed))
               .values_list("nomination_id", flat=True))
    if set(admissions) - set(placed):
        raise DomainError(str(CHANGED))
    new, moved = {}, {}
    for pk, track_id in placed.items():
        if pk not in admissions:
            if pk in gone or pk in offers:
                raise DomainError(str(CHANGED))
            new[pk] = track_id
        elif track_id != admissions[pk]:
            if offers.get(pk) != Offer.Status.PENDING:
                raise DomainError(str(CHANGED))
            moved[pk] = (admissions[pk], track_id)
    return new, moved


def _wave_offers_write(locked: Cohort, *, wave: int, new: dict[int, int],
                       moved: dict[int, tuple[int, int]],
                       now: datetime) -> tuple[list[tuple[int, int]], int]:
    """The approval's writes of seats and offers, inside wave_approve's transaction and row
    lock: the pending offers of those who move up SUPERSEDED, their admissions moved, the new
    admissions, and the wave's offers. (superseded (nomination id, offer id) pairs, offers made)."""
    superseded = list(Offer.objects.filter(cohort=locked, nomination_id__in=list(moved),
                                           status=Offer.Status.PENDING)
                      .values_list("nomination_id", "pk"))
    Offer.objects.filter(pk__in=[pk for _n, pk in superseded]).update(
        status=Offer.Status.SUPERSEDED, responded_at=now)
    moving = list(CohortAdmission.objects.filter(cohort=locked,
                                                 nomination_id__in=list(moved)))
    for admission in moving:
        admission.track_id = moved[admission.nomination_id][1]
    CohortAdmission.objects.bulk_update(moving, ["track"], batch_size=500)
    CohortAdmission.objects.bulk_create([
        CohortAdmission(cohort=locked, nomination_id=pk, track_id=track_id)
        for pk, track_id in sorted(new.items())])
    made = offers_make(cohort=locked, wave=wave, now=now, nomination_ids=[*new, *moved])
    return superseded, made


@transaction.atomic
def wave_approve(*, actor: User, cohort: Cohort, run_id: int,
                 now: datetime | None = None) -> Cohort:
    """Approve the proposed wave `run_id`: its new offers made (answer due by the round's
    number of days from now), the pending offers of those who move up replaced (the old one
    SUPERSEDED, the admission moved, a new offer), nobody moved down and no accepted place
    touched; the candidates and their universities' coordinators are emailed in their language.

    Under the cohort's row lock, with a bounded number of statements whatever the wave's size.
    Idempotent: approving the same wave again changes nothing. Refused when the proposal is no
    longer `run_id`, out of the waves' dates, when a track would hold more than its seats, a
    candidate offered a place is no longer admissible, or answers came in since the proposal.
    """
    now = now or timezone.now()
    locked = _locked(cohort)
    run = MatchRun.objects.filter(pk=run_id, intake_round_id=locked.intake_round_id,
                                  kind=MatchRun.Kind.COHORT).first()
    wave = (run.counts or {}).get("wave") if run else None
    if locked.wave_run_id is None and wave is not None and wave <= locked.wave:
        return locked  # approved already
    if run is None or run_id != locked.wave_run_id:
        raise DomainError(_("The proposed wave has changed since you opened the confirmation. "
                            "Check what the approval will do now, then confirm again."))
    refusal = wave_refusal(cohort=locked, now=now)
    if refusal:
        raise DomainError(refusal)
    if wave != _next_wave(locked) or (locked.approved_at and run.started_at < locked.approved_at):
        raise DomainError(str(CHANGED))
    placed_rows = Placement.objects.filter(match_run_id=run_id, track__isnull=False)
    _seats_check(locked, placed_rows)
    placed = dict(placed_rows.values_list("nomination_id", "track_id"))
    new, moved = _answers_unchanged(locked, placed)
    _admissible_check(placed_rows.filter(nomination_id__in=[*new, *moved]))

    superseded, made = _wave_offers_write(locked, wave=wave, new=new, moved=moved, now=now)
    locked.wave, locked.wave_run = wave, None
    locked.save(update_fields=["wave", "wave_run", "updated_at"])
    superseded_ids = dict(superseded)
    nominations = {n.pk: n for n in Nomination.objects.filter(pk__in=[*new, *moved])
                   .select_related("university")}
    AuditEntry.objects.bulk_create([
        *(audit_entry_build(actor=actor, action="offer_wave_make",
                            target=nominations[pk], after={"wave": wave, "track": t})
          for pk, t in sorted(new.items())),
        *(audit_entry_build(actor=actor, action="offer_wave_move_up", target=nominations[pk],
                            before={"track": old, "offer": superseded_ids.get(pk)},
                            after={"wave": wave, "track": t})
          for pk, (old, t) in sorted(moved.items())),
        audit_entry_build(actor=actor, action="cohort_wave_approve", target=locked,
                          before={"wave": wave - 1},
                          after={"wave": wave, "run": run_id, "offers": made,
                                 "new": len(new), "moved_up": len(moved)}),
    ])
    _wave_emails(locked, wave=wave, nominations=list(nominations.values()), moved=moved)
    return locked


# --- emails -------------------------------------------------------------------------------------

def _zones(nominations: list[Nomination]) -> dict[int, str]:
    """Each candidate's time zone (theirs, else their coordinator's, else the site's): one
    query for the coordinators, however many candidates."""
    creators = {n.created_by_id for n in nominations if not n.time_zone and n.created_by_id}
    zones = dict(Coordinator.objects.filter(user_id__in=creators).exclude(timezone="")
                 .values_list("user_id", "timezone")) if creators else {}
    return {n.pk: n.time_zone or zones.get(n.created_by_id) or settings.TIME_ZONE
            for n in nominations}


def _deadline_text(deadline: datetime, zone: str, language: str) -> str:
    with translation.override(language):
        local = timezone.localtime(deadline, ZoneInfo(zone))
        return f"{formats.date_format(local, 'DATETIME_FORMAT')} ({zone})"


def _wave_emails(cohort: Cohort, *, wave: int, nominations: list[Nomination],
                 moved: dict) -> None:
    """The candidates' emails (a new offer, or an offer replaced by one ranked higher) and a
    summary to each university's coordinators: each template rendered once per language, all
    put in the outbox with one insert."""
    ids = [n.pk for n in nominations]
    if not ids:
        return
    offers = {o.nomination_id: o for o in Offer.objects.filter(
        cohort=cohort, nomination_id__in=ids, status=Offer.Status.PENDING, wave=wave)
        .select_related("track")}
    tracks = {o.track_id: o.track for o in offers.values()}
    tracks.update({t.pk: t for t in cohort.intake_round.tracks.filter(
        pk__in=[old for old, _new in moved.values()])})
    zones = _zones(nominations)
    intake_round = cohort.intake_round
    base = {"program": intake_round.program, "intake_round": intake_round, "wave": wave}
    fill_names = ("name", "track", "previous", "deadline", "link")
    drafts, emails = {}, []
    for nomination in sorted(nominations, key=lambda n: n.pk):
        offer = offers.get(nomination.pk)
        if offer is None or not nomination.email:
            continue
        language = nomination.candidate_language or settings.LANGUAGE_CODE
        template = "wave_offer_moved_up" if nomination.pk in moved else "wave_offer_candidate"
        key = (template, language)
        if key not in drafts:
            drafts[key] = email_draft(template=template, language=language, context={
                **base, **{name: email_placeholder(name) for name in fill_names}})
        with translation.override(language):
            previous = str(tracks.get(moved[nomination.pk][0], "")) \
                if nomination.pk in moved else ""
            fill = {"name": nomination.display_name, "track": str(offer.track),
                    "previous": previous,
                    "deadline": _deadline_text(offer.deadline, zones[nomination.pk], language),
                    "link": candidate_page_link(nomination)}
        emails.append(drafts[key].personalise(to=nomination.email, fill=fill))
    emails += _university_summaries(cohort, wave=wave, nominations=nominations, offers=offers,
                                    moved=moved, tracks=tracks)
    email_queue_many(emails)


def _university_summaries(cohort, *, wave, nominations, offers, moved, tracks) -> list:
    """One summary per university with candidates in the wave, to each active coordinator, in
    their language (rendered once per university and language)."""
    by_university = defaultdict(list)
    for nomination in nominations:
        if nomination.pk in offers:
            by_university[nomination.university_id].append(nomination)
    coordinators = defaultdict(list)
    for coordinator in Coordinator.objects.filter(
            university_id__in=list(by_university), user__is_active=True
    ).select_related("user").order_by("user__email"):
        coordinators[coordinator.university_id].append(coordinator)
    emails = []
    intake_round = cohort.intake_round
    for university_id, members in sorted(by_university.items()):
        university, drafts = members[0].university, {}
        for coordinator in coordinators.get(university_id, []):
            language = coordinator.user.language or settings.LANGUAGE_CODE
            zone = coordinator.timezone or settings.TIME_ZONE
            if (language, zone) not in drafts:
                with translation.override(language):
                    rows = [{"name": n.display_name, "track": str(offers[n.pk].track),
                             "previous": str(tracks.get(moved[n.pk][0], ""))
                             if n.pk in moved else "",
                             "deadline": _deadline_text(offers[n.pk].deadline, zone, language)}
                            for n in members]
                drafts[language, zone] = email_draft(
                    template="wave_university_summary", language=language,
                    context={"program": intake_round.program, "intake_round": intake_round,
                             "wave": wave, "university": university, "rows": rows})
            emails.append(drafts[language, zone].personalise(to=coordinator.user.email,
                                                             fill={}))
    return emails
