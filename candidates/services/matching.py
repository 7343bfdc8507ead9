"""Cohort matching: score every eligible, consented nomination against the tracks it ranked,
run candidate-proposing deferred acceptance, and save the proposal as a MatchRun.

A run loads everything it needs in a fixed number of queries, computes in memory with the pure
engine with no write transaction open, then writes in short transactions under a job lock: two
copies never overlap, SQLite's write lock is never held long, and a crash leaves each round
with its previous proposal or the whole new one. The same input gives the same output, byte
for byte.
"""

import hashlib
import json
import time
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ecocycle.bulk import bulk_copy, prepared_datetime
from ecocycle.exceptions import DomainError
from ecocycle.locks import JobBusy, JobLease, exclusive_job
from ecocycle.matching import StableMatchResult, check_stability, stable_match
from ecocycle.models import AuditEntry, User
from ecocycle.services import audit_entry_build
from ecocycle.writes import BATCH_ROWS, short_transaction
from programs.models import IntakeRound, RoundTrack

from .. import scoring
from ..models import (
    Cohort,
    CohortOverride,
    MatchRun,
    MatchRunTrack,
    Nomination,
    NominationCourse,
    NominationPreference,
    NominationScore,
    Placement,
)
from ..selectors import scoring_weights_get_for_round
from ._common import _nominations_closed_refusal
from .eligibility import eligibility_recheck

MATCHING_WAITS = gettext_lazy(
    "Nominations for %(round)s close on %(close)s: the matching runs once they have closed "
    "(a what-if can be tried before)."
)


@dataclass
class CohortProposal:
    """What a cohort run computed; saved as a MatchRun unless it was a dry run."""

    intake_round: IntakeRound
    input_digest: str
    output_digest: str
    placements: dict[int, int]                      # nomination id -> track id
    choice_ranks: dict[int, int]                    # nomination id -> 1-based rank of its track
    unplaced: dict[int, list[dict]]                 # nomination id -> reasons per ranked track
    scores: dict[tuple[int, int], scoring.Score]    # (nomination id, track id) -> score
    tracks: dict[int, dict]                         # track id -> seats/placed/applicants/cut-off
    counts: dict[str, int] = field(default_factory=dict)
    run: MatchRun | None = None


def _facts(intake_round: IntakeRound):
    """Everything a run needs, read as plain values in a fixed number of queries."""
    nominations = list(
        Nomination.objects.filter(
            intake_round=intake_round, status=Nomination.Status.SUBMITTED, is_eligible=True,
            consent_given_at__isnull=False,
        ).order_by("id").values_list(
            "id", "university_id", "gpa_normalised", "language_test", "language_score",
            "research_interests", "university_rank", "submitted_at", "eligibility_reasons",
        )
    )
    taking_part = Nomination.objects.filter(
        intake_round=intake_round, status=Nomination.Status.SUBMITTED, is_eligible=True,
        consent_given_at__isnull=False,
    )
    preferences = defaultdict(list)
    for nomination_id, track_id, rank in (
        NominationPreference.objects.filter(nomination__in=taking_part)
        .order_by("nomination_id", "rank").values_list("nomination_id", "track_id", "rank")
    ):
        preferences[nomination_id].append((track_id, rank))
    technologies = defaultdict(set)
    links = NominationCourse.technologies.through.objects.filter(
        nominationcourse__nomination__in=taking_part)
    for nomination_id, technology_id in links.values_list(
        "nominationcourse__nomination_id", "coretechnology_id"
    ):
        technologies[nomination_id].add(technology_id)
    round_tracks = list(
        RoundTrack.objects.filter(intake_round=intake_round).select_related("track")
        .prefetch_related("track__wanted_technologies").order_by("track_id")
    )
    return nominations, preferences, technologies, round_tracks


def _weights(intake_round: IntakeRound, override: Mapping[str, float] | None) -> dict:
    if override is not None:
        return {name: float(override.get(name, 0)) for name in scoring.CRITERIA}
    return scoring_weights_get_for_round(intake_round)


def _digest(value) -> str:
    return hashlib.sha256(
        json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode()
    ).hexdigest()


def _track_facts(round_tracks: list[RoundTrack]) -> dict[int, scoring.TrackFacts]:
    return {
        rt.track_id: scoring.TrackFacts(
            track_id=rt.track_id,
            technology_ids=frozenset(t.pk for t in rt.track.wanted_technologies.all()),
            wanted_words=scoring.words(" ".join(
                [rt.track.wanted_keywords, rt.track.major]
                + [f"{t.name} {t.keywords}" for t in rt.track.wanted_technologies.all()])),
        )
        for rt in round_tracks
    }


def _candidate_facts(row: tuple, technologies: Mapping[int, set],
                     per_university: Counter) -> scoring.CandidateFacts:
    (pk, university_id, gpa, test, language_score, interests, university_rank, submitted,
     _reasons) = row
    return scoring.CandidateFacts(
        nomination_id=pk, gpa_normalised=float(gpa or 0), language_test=test,
        language_score=float(language_score or 0),
        technology_ids=frozenset(technologies.get(pk, ())),
        interest_words=scoring.words(interests), university_rank=university_rank,
        university_nominees=per_university[university_id],
        submitted_order=submitted.timestamp() if submitted else 0.0,
    )


def _scored_preferences(
    nominations: list[tuple], preferences: Mapping[int, list[tuple[int, int]]],
    technologies: Mapping[int, set], track_facts: Mapping[int, scoring.TrackFacts],
    weights: dict,
):
    """Each candidate's list of the tracks it may be matched to, each track's (order key,
    candidate) entries, and the score of every such (candidate, track) pair."""
    per_university = Counter(row[1] for row in nominations)
    candidate_prefs: dict[int, list[int]] = {}
    entries: dict[int, list[tuple]] = defaultdict(list)
    scores: dict[tuple[int, int], scoring.Score] = {}
    round_scoring = scoring.RoundScoring(weights)
    for row in nominations:
        pk, reasons = row[0], row[8]
        # Tracks whose degree requirement the candidate misses are not matched.
        excluded = {r["params"].get("track_id") for r in reasons
                    if r.get("code") == "degree_track"}
        facts = _candidate_facts(row, technologies, per_university)
        scorer = round_scoring.candidate(facts)
        ranked = []
        for track_id, rank in preferences.get(pk, ()):
            if track_id not in track_facts or track_id in excluded:
                continue
            result = scorer.score(track_facts[track_id])
            scores[(pk, track_id)] = result
            entries[track_id].append((scoring.order_key(result.total, rank, facts), pk))
            ranked.append(track_id)
        candidate_prefs[pk] = ranked
    return candidate_prefs, entries, scores


def _overrides_hold(overrides: Mapping[int, int | None], candidate_prefs: dict[int, list[int]],
                    capacities: dict[int, int]) -> dict[int, int]:
    """Take the overridden candidates out of the matching (in place) and return the moved ones'
    fixed tracks, each seat taken off its track's capacity."""
    fixed: dict[int, int] = {}
    for pk, track_id in sorted(overrides.items()):
        if pk not in candidate_prefs:
            continue
        candidate_prefs.pop(pk)
        if track_id is not None and track_id in capacities and capacities[track_id] > 0:
            fixed[pk] = track_id
            capacities[track_id] -= 1
    return fixed


def _outcome(result: StableMatchResult, *, fixed: Mapping[int, int],
             overrides: Mapping[int, int | None], preferences: Mapping[int, list],
             taking_part: set[int]):
    """Placements, 1-based choice ranks and unplaced reasons: the engine's, with the overrides."""
    unplaced = {
        pk: [{"track_id": track_id, "reason": str(reason)} for track_id, reason in reasons]
        for pk, reasons in result.unplaced_reasons.items()
    }
    placements = dict(result.placements)
    choice_ranks = {pk: rank + 1 for pk, rank in result.choice_ranks.items()}
    for pk, track_id in fixed.items():
        placements[pk] = track_id
        choice_ranks[pk] = dict(preferences.get(pk, ())).get(track_id)
    for pk in overrides:
        if pk not in fixed and pk in taking_part:
            unplaced[pk] = [{"track_id": None, "reason": "excluded_by_staff"}]
    return placements, choice_ranks, unplaced


def _track_figures(
    result: StableMatchResult, *, capacities: Mapping[int, int], fixed: Mapping[int, int],
    track_prefs: Mapping[int, list[int]], scores: Mapping,
) -> dict[int, dict]:
    """Seats, placed, applicants and cut-off of every track, the fixed (moved) seats included."""
    fixed_per_track = Counter(fixed.values())
    tracks = {}
    for track_id, capacity in capacities.items():
        cutoff = result.cutoffs.get(track_id)
        taken = result.assigned.get(track_id, ())
        tracks[track_id] = {
            "seats": capacity + fixed_per_track[track_id],
            "placed": len(taken) + fixed_per_track[track_id],
            "applicants": len(track_prefs[track_id]) + fixed_per_track[track_id],
            "cutoff_rank": None if cutoff is None else cutoff + 1,
            "cutoff_score": scores[(taken[-1], track_id)].total if cutoff is not None and taken
            else None,
        }
    return tracks


def cohort_propose(
    *, intake_round: IntakeRound, seats: Mapping[int, int] | None = None,
    weights: Mapping[str, float] | None = None,
) -> CohortProposal:
    """Compute a proposal without saving anything (what-ifs pass seats and weights)."""
    nominations, preferences, technologies, round_tracks = _facts(intake_round)
    weights = _weights(intake_round, weights)
    capacities = {rt.track_id: int(seats.get(rt.track_id, rt.seats) if seats else rt.seats)
                  for rt in round_tracks}
    candidate_prefs, entries, scores = _scored_preferences(
        nominations, preferences, technologies, _track_facts(round_tracks), weights)
    # Staff's overrides hold across runs: an excluded candidate takes no part; a moved one
    # keeps its seat in the chosen track, which the others then have one seat fewer in.
    overrides = dict(
        CohortOverride.objects.filter(cohort__intake_round=intake_round, cleared_at__isnull=True)
        .values_list("nomination_id", "track_id")
    )
    fixed = _overrides_hold(overrides, candidate_prefs, capacities)
    track_prefs = {track_id: [pk for _key, pk in sorted(entries.get(track_id, []))
                              if pk not in overrides]
                   for track_id in capacities}
    result = stable_match(candidate_prefs, track_prefs, capacities)
    violations = check_stability(candidate_prefs, track_prefs, capacities, result.placements)
    if violations:
        raise RuntimeError(f"the engine returned an unstable matching: {violations[:3]}")

    placements, choice_ranks, unplaced = _outcome(
        result, fixed=fixed, overrides=overrides, preferences=preferences,
        taking_part={row[0] for row in nominations})
    input_digest = _digest({
        "candidates": sorted(candidate_prefs.items()), "tracks": sorted(track_prefs.items()),
        "capacities": sorted(capacities.items()), "overrides": sorted(overrides.items()),
        "scores": sorted((f"{n}:{t}", str(s.total)) for (n, t), s in scores.items()),
    })
    output_digest = _digest({"placements": sorted(placements.items()),
                             "unplaced": sorted(unplaced.items())})
    counts = {
        "candidates": len(nominations), "placed": len(placements),
        "unplaced": len(nominations) - len(placements), "tracks": len(capacities),
        "seats": sum(capacities.values()),
    }
    return CohortProposal(
        intake_round=intake_round, input_digest=input_digest, output_digest=output_digest,
        placements=placements, choice_ranks=choice_ranks, unplaced=unplaced, scores=scores,
        tracks=_track_figures(result, capacities=capacities, fixed=fixed,
                              track_prefs=track_prefs, scores=scores),
        counts=counts,
    )


def _scores_refresh(intake_round: IntakeRound, proposal: CohortProposal, now: datetime) -> None:
    """Bring the round's stored scores to the proposal's: only the nominations whose scores
    changed are written, each nomination's scores replaced whole in one short transaction
    (a batch holds many nominations)."""
    fresh: dict[int, list[int]] = defaultdict(list)
    for n, t in proposal.scores:
        fresh[n].append(t)
    # The stored scores are streamed, not held: a nomination is unchanged when it has as many
    # stored as fresh scores and each stored one equals the fresh one of its track.
    stored_count: Counter = Counter()
    differing: set[int] = set()
    for n, t, total, components in NominationScore.objects.filter(
            nomination__intake_round=intake_round).values_list(
            "nomination_id", "track_id", "total", "components").iterator(chunk_size=BATCH_ROWS):
        stored_count[n] += 1
        score = proposal.scores.get((n, t))
        if score is None or Decimal(total) != score.total or components != score.components:
            differing.add(n)
    changed = sorted(n for n in stored_count.keys() | fresh.keys()
                     if n in differing or stored_count[n] != len(fresh.get(n, ())))
    stored = set(stored_count)
    del stored_count, differing
    computed_at = prepared_datetime(now)
    texts: dict[int, tuple[str, str]] = {}  # a Score shared by several pairs is written once

    def text(score: scoring.Score) -> tuple[str, str]:
        key = id(score)
        if key not in texts:
            texts[key] = (str(score.total), scoring.components_json(score.components))
        return texts[key]

    def write(ids: list[int], rows: list[tuple]) -> None:
        if connection.vendor == "postgresql":
            # Scores are derived and recomputed every night: a crash may lose the last batches
            # (each whole or not at all), which the next run writes again; not waiting for the
            # log's flush at each commit saves most of the time the commits took.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        gone = [n for n in ids if n in stored]
        if gone:
            NominationScore.objects.filter(nomination_id__in=gone).delete()
        bulk_copy(NominationScore, ["nomination", "track", "total", "components",
                                    "computed_at"], rows)

    # On PostgreSQL (row locks, no database-wide write lock) fewer, larger transactions.
    per_transaction = BATCH_ROWS // 10 if connection.vendor == "sqlite" else BATCH_ROWS // 2
    for start in range(0, len(changed), per_transaction):
        ids = changed[start:start + per_transaction]
        texts.clear()  # a candidate's scores are shared within it, so within one batch
        rows = [(n, t, *text(proposal.scores[(n, t)]), computed_at)
                for n in ids for t in sorted(fresh.get(n, ()))]
        short_transaction(lambda ids=ids, rows=rows: write(ids, rows))


def _placement_rows(run: MatchRun, proposal: CohortProposal) -> list[tuple]:
    """The run's placements: one row per candidate who took part."""
    rows = []
    for pk in sorted({n for n, _t in proposal.scores} | set(proposal.unplaced)
                     | set(proposal.placements)):
        track_id = proposal.placements.get(pk)
        rows.append((
            run.pk, pk, track_id, proposal.choice_ranks.get(pk),
            str(proposal.scores[(pk, track_id)].total) if track_id else None,
            json.dumps(proposal.unplaced.get(pk, [])),
        ))
    return rows


def _run_stage(*, intake_round: IntakeRound, proposal: CohortProposal, trigger: str,
               actor: User | None, now: datetime, lease: JobLease) -> MatchRun:
    """Write the run, its per-track figures and its placements as STAGING, which nothing shows,
    in short transactions; `_run_publish` then makes it the round's proposal at once."""
    def create() -> MatchRun:
        run = MatchRun.objects.create(
            kind=MatchRun.Kind.COHORT, intake_round=intake_round, trigger=trigger,
            triggered_by=actor if actor and actor.pk else None, started_at=now,
            status=MatchRun.Status.STAGING, input_digest=proposal.input_digest,
            output_digest=proposal.output_digest, counts=proposal.counts,
        )
        MatchRunTrack.objects.bulk_create([
            MatchRunTrack(match_run=run, track_id=track_id, **figures)
            for track_id, figures in sorted(proposal.tracks.items())
        ])
        return run

    run = short_transaction(create)
    rows = _placement_rows(run, proposal)
    run.staged_placements = len(rows)  # what the swap checks are all there
    for start in range(0, len(rows), BATCH_ROWS):
        batch = rows[start:start + BATCH_ROWS]
        short_transaction(lambda batch=batch: bulk_copy(
            Placement, ["match_run", "nomination", "track", "choice_rank", "score", "reasons"],
            batch))
        lease.renew()
    return run


def staging_runs_discard(*, intake_round_id: int | None = None,
                         older_than: datetime | None = None) -> int:
    """Delete cohort runs left STAGING (by a crash, or by a cohort approved or changed during
    the run), their placements a batch per short transaction; returns how many runs went.

    Only under the round's job lock, or for runs older than any run lasts (`older_than`):
    a staging run younger than that may be one being written."""
    runs = MatchRun.objects.filter(kind=MatchRun.Kind.COHORT, status=MatchRun.Status.STAGING)
    if intake_round_id is not None:
        runs = runs.filter(intake_round_id=intake_round_id)
    if older_than is not None:
        runs = runs.filter(started_at__lt=older_than)
    run_ids = list(runs.values_list("pk", flat=True))
    for run_id in run_ids:
        while ids := list(Placement.objects.filter(match_run_id=run_id)
                          .values_list("pk", flat=True)[:BATCH_ROWS]):
            short_transaction(lambda ids=ids: Placement.objects.filter(pk__in=ids).delete())
        short_transaction(lambda run_id=run_id: (
            MatchRunTrack.objects.filter(match_run_id=run_id).delete(),
            MatchRun.objects.filter(pk=run_id, status=MatchRun.Status.STAGING).delete()))
    return len(run_ids)


def _run_publish(run: MatchRun, *, intake_round: IntakeRound, read_at: datetime,
                 actor: User | None, trigger: str, started: float) -> str | None:
    """The swap, one short transaction: the staged run becomes the round's proposal and the
    previous one is superseded. Re-checked here, under the write lock: a cohort approved during
    the run is not changed (APPROVED is returned), and a staff override made or cleared since
    the input was read would be lost (CHANGED is returned); the caller discards the run."""
    staged = MatchRun.objects.filter(pk=run.pk, status=MatchRun.Status.STAGING).annotate(
        placed=Count("placements")).values_list("placed", flat=True).first()
    if staged != run.staged_placements:
        raise JobBusy(f"cohort-match-{intake_round.pk}")  # another copy took over and tidied
    cohort = Cohort.objects.filter(intake_round=intake_round).first()
    if cohort is not None and cohort.status == Cohort.Status.APPROVED:
        return "approved"
    if CohortOverride.objects.filter(cohort__intake_round=intake_round).filter(
            Q(created_at__gte=read_at) | Q(cleared_at__gte=read_at)).exists():
        return "changed"
    MatchRun.objects.filter(intake_round=intake_round, kind=MatchRun.Kind.COHORT,
                            status=MatchRun.Status.SUCCEEDED).update(
        status=MatchRun.Status.SUPERSEDED)
    run.status = MatchRun.Status.SUCCEEDED
    run.finished_at = timezone.now()
    run.duration_ms = int((time.perf_counter() - started) * 1000)
    MatchRun.objects.filter(pk=run.pk).update(status=run.status, finished_at=run.finished_at,
                                              duration_ms=run.duration_ms)
    if cohort is None:
        Cohort.objects.create(intake_round=intake_round, match_run=run)
    else:
        Cohort.objects.filter(pk=cohort.pk).update(match_run=run, updated_at=timezone.now())
    AuditEntry.objects.bulk_create([audit_entry_build(
        actor=actor, action="match_run_create", target=run,
        after={"trigger": trigger, "counts": run.counts, "input_digest": run.input_digest,
               "output_digest": run.output_digest},
    )])
    return None


def cohort_match_refusal(*, intake_round: IntakeRound, now: datetime | None = None) -> str | None:
    """Why the round's cohort may not be matched at `now` (its nominations are still to close,
    and when they do); None when it may. A what-if (cohort_propose) is never refused."""
    return _nominations_closed_refusal(intake_round, now or timezone.now(), MATCHING_WAITS)


def _approved_refusal(intake_round: IntakeRound) -> DomainError:
    return DomainError(_("The cohort of %(round)s is approved; matching does not change it.")
                       % {"round": intake_round})


def cohort_match_run(
    *, intake_round: IntakeRound, trigger: str, actor: User | None = None,
    now: datetime | None = None,
) -> CohortProposal:
    """Propose the round's cohort and save it as the current MatchRun.

    Refused while the round's nominations are open, and for a round whose cohort is approved.
    The previous proposal of the round is marked superseded. Raises ecocycle.locks.JobBusy if
    another run of this round is under way.

    No write transaction is open while the proposal is computed; it is then written as a
    STAGING run in short transactions and made current in a last short one (`_run_publish`),
    so web writers wait for SQLite's write lock a few tens of milliseconds at most, and a
    crash leaves either the previous proposal or the whole new one. The scores are refreshed
    after the swap, each nomination's whole in one transaction.
    """
    now = now or timezone.now()
    refusal = cohort_match_refusal(intake_round=intake_round, now=now)
    if refusal:
        raise DomainError(refusal)
    started = time.perf_counter()
    with exclusive_job(f"cohort-match-{intake_round.pk}", atomic=False) as lease:
        staging_runs_discard(intake_round_id=intake_round.pk)
        for attempt in (1, 2):
            if Cohort.objects.filter(intake_round=intake_round,
                                     status=Cohort.Status.APPROVED).exists():
                raise _approved_refusal(intake_round)
            read_at = timezone.now()
            proposal = cohort_propose(intake_round=intake_round)
            lease.renew()
            run = _run_stage(intake_round=intake_round, proposal=proposal, trigger=trigger,
                             actor=actor, now=now, lease=lease)
            outcome = short_transaction(lambda run=run, read_at=read_at: _run_publish(
                run, intake_round=intake_round, read_at=read_at, actor=actor,
                trigger=trigger, started=started))
            if outcome is None:
                break
            staging_runs_discard(intake_round_id=intake_round.pk)
            if outcome == "approved":
                raise _approved_refusal(intake_round)
            if attempt == 2:
                raise DomainError(_("Staff changed the cohort of %(round)s during the run "
                                    "twice; run it again.") % {"round": intake_round})
        _scores_refresh(intake_round, proposal, now)
        proposal.run = run
    return proposal


def nightly_cohort_matching(*, trigger: str = MatchRun.Trigger.SCHEDULE,
                     now: datetime | None = None) -> dict:
    """The cohort half of the nightly job: re-check eligibility, then match every round in its
    matching phase (hub.services.nightly_matching runs this, then the mentor half).

    Each round is its own transaction and lock: a round whose run is under way elsewhere, or
    whose cohort is approved, is skipped and reported; the others still run.
    """
    now = now or timezone.now()
    summary = {"eligibility_changed": eligibility_recheck(now=now), "matched_rounds": [],
               "skipped_rounds": {}}
    rounds = IntakeRound.objects.prefetch_related("milestones").order_by("id")
    for intake_round in rounds:
        if intake_round.phase_at(now) != IntakeRound.Phase.MATCHING:
            continue
        try:
            cohort_match_run(intake_round=intake_round, trigger=trigger, now=now)
        except JobBusy:
            summary["skipped_rounds"][intake_round.pk] = "another run is under way"
        except DomainError as error:
            summary["skipped_rounds"][intake_round.pk] = " ".join(error.messages)
        else:
            summary["matched_rounds"].append(intake_round.pk)
    return summary
