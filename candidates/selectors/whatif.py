"""Reads of staff's what-ifs: what a what-if changes (for the task that stores it) and a page of
a stored one (for the staff page, which reads a fixed number of rows whatever the round's size).
"""

from collections import Counter

from django.db.models import QuerySet

from programs.models import DegreeTrack, IntakeRound, RoundTrack

from ..models import MatchRunTrack, Nomination, Placement, WhatIfRun
from .cohorts import cohort_get_for_round


def whatif_round_tracks(intake_round: IntakeRound) -> list[RoundTrack]:
    """The round's tracks with their seats now, in the order the dashboard lists them."""
    return list(RoundTrack.objects.filter(intake_round=intake_round).select_related("track")
                .order_by("track__department", "track__major", "track__level"))


def _score(value) -> str | None:
    return None if value is None else str(value)


def whatif_changes(intake_round: IntakeRound, proposal) -> dict:
    """What a what-if proposal (from services.cohort_propose) changes against the cohort's
    current run: per-track figures, and only the candidates whose outcome changes, as
    [nomination id, current track id, what-if track id] sorted by name. Their number is bounded
    by the seats (a change is a candidate placed in one of the two), not by the nominations."""
    cohort = cohort_get_for_round(intake_round)
    run_id = cohort.match_run_id if cohort else None
    current = dict(Placement.objects.filter(match_run_id=run_id)
                   .values_list("nomination_id", "track_id")) if run_id else {}
    ids = set(current) | set(proposal.placements) | set(proposal.unplaced)
    changed = [pk for pk in ids if current.get(pk) != proposal.placements.get(pk)]
    names = Nomination.objects.only("id", "given_names", "family_name").in_bulk(changed)
    changed.sort(key=lambda pk: (str(names[pk]).lower(), pk))
    cutoffs = dict(MatchRunTrack.objects.filter(match_run_id=run_id)
                   .values_list("track_id", "cutoff_score")) if run_id else {}
    placed_now = Counter(t for t in current.values() if t)
    tracks = []
    for round_track in whatif_round_tracks(intake_round):
        pk = round_track.track_id
        figures = proposal.tracks.get(pk, {})
        now = {"seats": round_track.seats, "placed": placed_now[pk],
               "cutoff_score": cutoffs.get(pk)}
        then = {"seats": figures.get("seats"), "placed": figures.get("placed"),
                "cutoff_score": figures.get("cutoff_score")}
        differs = now != then  # the scores compared as numbers, then kept as text in JSON
        for side in (now, then):
            side["cutoff_score"] = _score(side["cutoff_score"])
        tracks.append({"track_id": pk, "current": now, "whatif": then, "changed": differs})
    return {
        "tracks": tracks,
        "changes": [[pk, current.get(pk), proposal.placements.get(pk)] for pk in changed],
        "counts": {"changed": len(changed), "placed_now": sum(placed_now.values()),
                   "placed_whatif": len(proposal.placements),
                   "candidates": proposal.counts.get("candidates", 0)},
    }


def whatif_list_for_round(intake_round: IntakeRound) -> QuerySet[WhatIfRun]:
    """The round's what-ifs, newest first, without their stored results."""
    return (WhatIfRun.objects.filter(intake_round=intake_round)
            .defer("tracks", "changes").order_by("-created_at", "-id"))


def whatif_rows(whatif: WhatIfRun, changes: list) -> list[dict]:
    """A page of a what-if's changed candidates with their nominations and tracks (two queries
    for the page)."""
    nominations = Nomination.objects.defer("passport_number").in_bulk(
        [row[0] for row in changes])
    track_ids = {t for row in changes for t in row[1:] if t}
    tracks = DegreeTrack.objects.in_bulk(track_ids) if track_ids else {}
    return [{"nomination": nominations.get(pk), "current_track": tracks.get(now),
             "whatif_track": tracks.get(then)} for pk, now, then in changes
            if pk in nominations]


def whatif_track_rows(whatif: WhatIfRun) -> list[dict]:
    """A what-if's per-track figures with their tracks (one query)."""
    tracks = DegreeTrack.objects.in_bulk([row["track_id"] for row in whatif.tracks])
    return [{**row, "track": tracks[row["track_id"]]} for row in whatif.tracks
            if row["track_id"] in tracks]
