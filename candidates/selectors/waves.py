"""Reads for the later waves of offers: the seats given back, the proposed wave as a difference
from the current cohort, and each track's reserve list. Staff only (the views check)."""

from collections import Counter
from dataclasses import dataclass

from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.utils.translation import gettext_lazy

from programs.models import DegreeTrack, IntakeRound, RoundTrack

from ..models import (
    Cohort,
    CohortAdmission,
    CohortOverride,
    MatchRun,
    Nomination,
    NominationPreference,
    NominationScore,
    Offer,
    Placement,
)
from .dashboard import UNPLACED_TEXT

# Why a candidate gets no seat in a wave, in the wave's words (the seats left are only those
# given back; "no seats" means none of them is in that track).
WAVE_UNPLACED_TEXT = {
    **UNPLACED_TEXT,
    "full_ranked_below_cutoff": gettext_lazy(
        "%(track)s: its seats given back go to candidates it ranks higher."),
    "no_seats": gettext_lazy("%(track)s: no seat given back."),
    "gave_place_back": gettext_lazy("Gave their place back (declined, let the offer lapse or "
                                    "withdrew)."),
}


def wave_free_seats(cohort: Cohort) -> dict[int, int]:
    """Each track's seats not held by an admission (accepted or pending): the seats given
    back. Two queries."""
    held = Counter(dict(CohortAdmission.objects.filter(cohort=cohort).order_by()
                        .values("track_id").annotate(n=Count("id")).values_list("track_id", "n")))
    return {track_id: max(seats - held[track_id], 0) for track_id, seats in
            RoundTrack.objects.filter(intake_round_id=cohort.intake_round_id)
            .values_list("track_id", "seats")}


def wave_proposal_run(cohort: Cohort | None) -> MatchRun | None:
    """The proposed next wave of an approved cohort, or None (none, or one proposed before the
    cohort was last approved)."""
    if cohort is None or cohort.status != Cohort.Status.APPROVED or cohort.wave_run_id is None:
        return None
    run = MatchRun.objects.filter(pk=cohort.wave_run_id).first()
    if run is None or (cohort.approved_at and run.started_at < cohort.approved_at):
        return None
    return run


def _sentences(reasons: list[dict], names: dict[int, str]) -> list[str]:
    out = []
    for reason in reasons:
        text = WAVE_UNPLACED_TEXT.get(reason.get("reason"))
        track = names.get(reason.get("track_id"), "—")
        out.append(str(text) % {"track": track} if text else str(reason.get("reason")))
    return out


@dataclass
class WaveDiff:
    run: MatchRun | None
    tracks: list[dict]          # per track: seats, held, given back, new, moved in/out
    new: list[dict]             # candidates offered a seat given back
    moved: list[dict]           # pending offers replaced by one in a track ranked higher
    unplaced: QuerySet          # the wave's unplaced candidates (page them)


def wave_diff(cohort: Cohort) -> WaveDiff:
    """The proposed wave beside the current cohort: who gets which seat given back, whose
    pending offer moves up, and (a queryset, to page) who stays unplaced. A fixed number of
    queries; the new offers and moves are at most the seats given back plus the pending offers.
    """
    run = wave_proposal_run(cohort)
    round_tracks = list(RoundTrack.objects.filter(intake_round_id=cohort.intake_round_id)
                        .select_related("track").order_by("track__department", "track__major",
                                                          "track__level"))
    free = wave_free_seats(cohort)
    tracks = {rt.track_id: rt.track for rt in round_tracks}
    names = {pk: str(track) for pk, track in tracks.items()}
    admissions = dict(CohortAdmission.objects.filter(cohort=cohort)
                      .values_list("nomination_id", "track_id"))
    new, moved = [], []
    if run is not None:
        placed = list(Placement.objects.filter(match_run=run, track__isnull=False)
                      .values_list("nomination_id", "track_id", "choice_rank", "score"))
        changed = [row for row in placed if admissions.get(row[0]) != row[1]]
        nominations = Nomination.objects.select_related("university").in_bulk(
            [row[0] for row in changed])
        overrides = {o.nomination_id: o for o in CohortOverride.objects.filter(
            cohort=cohort, cleared_at__isnull=True, nomination_id__in=[r[0] for r in changed])}
        for pk, track_id, choice_rank, score in changed:
            row = {"nomination": nominations[pk], "track": tracks.get(track_id),
                   "choice_rank": choice_rank, "score": score, "override": overrides.get(pk)}
            if pk in admissions:
                moved.append({**row, "previous": tracks.get(admissions[pk])})
            else:
                new.append(row)
        new.sort(key=lambda r: (names.get(r["track"].pk, ""), -(r["score"] or 0)))
        moved.sort(key=lambda r: (names.get(r["track"].pk, ""), -(r["score"] or 0)))
    summary = []
    for rt in round_tracks:
        held = sum(1 for t in admissions.values() if t == rt.track_id)
        summary.append({
            "track": rt.track, "seats": rt.seats, "held": held, "free": free.get(rt.track_id, 0),
            "new": sum(1 for r in new if r["track"].pk == rt.track_id),
            "moved_in": sum(1 for r in moved if r["track"].pk == rt.track_id),
            "moved_out": sum(1 for r in moved if r["previous"] and
                             r["previous"].pk == rt.track_id),
        })
    unplaced = (Placement.objects.filter(match_run=run, track__isnull=True)
                .select_related("nomination__university").order_by("nomination_id")
                if run is not None else Placement.objects.none())
    return WaveDiff(run=run, tracks=summary, new=new, moved=moved, unplaced=unplaced)


def wave_unplaced_rows(cohort: Cohort, placements: list[Placement]) -> list[dict]:
    """A page of the wave's unplaced candidates: why not, in words, their override, and the
    tracks they ranked (for the override form). Three queries for the page."""
    ids = [p.nomination_id for p in placements]
    ranked: dict[int, list[DegreeTrack]] = {pk: [] for pk in ids}
    for preference in NominationPreference.objects.filter(nomination_id__in=ids).select_related(
            "track").order_by("rank"):
        ranked[preference.nomination_id].append(preference.track)
    names = {t.pk: str(t) for tracks in ranked.values() for t in tracks}
    overrides = {o.nomination_id: o for o in CohortOverride.objects.filter(
        cohort=cohort, cleared_at__isnull=True, nomination_id__in=ids)
        .select_related("track", "created_by")}
    return [{"nomination": p.nomination, "reasons": _sentences(p.reasons, names),
             "override": overrides.get(p.nomination_id), "ranked_tracks": ranked[p.nomination_id]}
            for p in placements]


def reserve_list(intake_round: IntakeRound, cohort: Cohort | None,
                 track: DegreeTrack) -> QuerySet[NominationScore]:
    """The track's reserve list: the eligible, consenting candidates who ranked it and hold no
    place (no admission once the cohort is approved, else not placed by its proposal), did not
    give a place back and are not excluded or moved by staff, in the track's order (the
    matching's: score, then the candidate's rank of the track, GPA, submission, id). Rows are
    the candidates' scores for the track, with `choice_rank`; page the queryset."""
    scores = NominationScore.objects.filter(
        track=track, nomination__intake_round=intake_round,
        nomination__status=Nomination.Status.SUBMITTED, nomination__is_eligible=True,
        nomination__consent_given_at__isnull=False,
    )
    if cohort is not None:
        if cohort.status == Cohort.Status.APPROVED:
            scores = scores.exclude(nomination__in=CohortAdmission.objects.filter(
                cohort=cohort).values("nomination_id"))
        elif cohort.match_run_id:
            scores = scores.exclude(nomination__in=Placement.objects.filter(
                match_run_id=cohort.match_run_id, track__isnull=False).values("nomination_id"))
        scores = scores.exclude(nomination__in=Offer.objects.filter(
            cohort=cohort, status__in=Offer.VACATING).values("nomination_id"))
        scores = scores.exclude(nomination__in=CohortOverride.objects.filter(
            cohort=cohort, cleared_at__isnull=True).values("nomination_id"))
    rank = NominationPreference.objects.filter(
        nomination_id=OuterRef("nomination_id"), track=track).values("rank")[:1]
    return (scores.annotate(choice_rank=Subquery(rank))
            .select_related("nomination__university")
            .order_by("-total", "choice_rank", "-nomination__gpa_normalised",
                      "nomination__submitted_at", "nomination_id"))
