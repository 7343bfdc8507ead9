"""The nightly cohort job against the database: scoring, proposals, idempotence, locks."""

import threading
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from candidates import services
from candidates.models import (
    Cohort,
    MatchRun,
    MatchRunTrack,
    NominationPreference,
    NominationScore,
    Placement,
)
from candidates.services.matching import cohort_match_run, cohort_propose
from ecocycle.locks import JobBusy, exclusive_job
from ecocycle.matching import ViolationKind, check_stability
from hub.tasks import nightly_matching
from programs.models import RoundTrack
from tests.candidates.factories import (
    consented_nomination as consented,
)
from tests.candidates.factories import (
    open_round_with_tracks,
    submitted_nomination,
)
from tests.programs.factories import CoordinatorFactory, close_nominations

pytestmark = pytest.mark.django_db


@pytest.fixture
def contested_round():
    """Six consented candidates for three tracks of one seat each, plus two not taking part."""
    intake_round = open_round_with_tracks(n_tracks=3)
    RoundTrack.objects.filter(intake_round=intake_round).update(seats=1)
    gpas = ["3.9", "3.7", "3.5", "3.3", "3.1", "3.0"]
    nominations = [consented(intake_round=intake_round, gpa=gpa) for gpa in gpas]
    submitted_nomination(intake_round=intake_round, gpa="4.0")  # no consent
    services.nomination_withdraw(
        actor=None, nomination=submitted_nomination(intake_round=intake_round, gpa="4.0"))
    close_nominations(intake_round)
    return intake_round, nominations


def test_run_places_the_best_candidates_stably(contested_round):
    intake_round, nominations = contested_round
    proposal = cohort_match_run(intake_round=intake_round, trigger="command")
    run = proposal.run
    assert run.status == MatchRun.Status.SUCCEEDED
    assert run.counts == {"candidates": 6, "placed": 3, "unplaced": 3, "tracks": 3, "seats": 3}
    placed = set(Placement.objects.filter(match_run=run, track__isnull=False)
                 .values_list("nomination_id", flat=True))
    assert placed == {n.pk for n in nominations[:3]}  # everyone ranks the same three tracks
    unplaced = Placement.objects.get(match_run=run, nomination=nominations[5])
    assert {r["reason"] for r in unplaced.reasons} == {"full_ranked_below_cutoff"}
    assert NominationScore.objects.filter(nomination__in=nominations).count() == 18
    assert Cohort.objects.get(intake_round=intake_round).match_run == run


def test_score_components_explain_the_total(contested_round):
    intake_round, nominations = contested_round
    cohort_match_run(intake_round=intake_round, trigger="command")
    score = NominationScore.objects.filter(nomination=nominations[0]).first()
    assert set(score.components) == {"gpa", "language", "coursework", "interests",
                                     "university_rank"}
    assert Decimal(0) < score.total <= Decimal(100)
    assert score.components["gpa"] == pytest.approx(3.9 / 4, abs=1e-6)


def test_rerun_gives_identical_results_and_supersedes(contested_round):
    intake_round, _nominations = contested_round
    first = cohort_match_run(intake_round=intake_round, trigger="command").run
    second = cohort_match_run(intake_round=intake_round, trigger="schedule").run
    first.refresh_from_db()
    assert first.status == MatchRun.Status.SUPERSEDED
    assert (first.input_digest, first.output_digest) == (second.input_digest,
                                                        second.output_digest)
    rows = lambda run: list(Placement.objects.filter(match_run=run).order_by(  # noqa: E731
        "nomination_id").values_list("nomination_id", "track_id", "choice_rank", "score"))
    assert rows(first) == rows(second)


def test_dry_run_saves_nothing(contested_round, capsys):
    intake_round, _nominations = contested_round
    call_command("run_matching", "--round", str(intake_round.pk), "--dry-run")
    assert "placed 3 of 6" in capsys.readouterr().out
    assert not MatchRun.objects.exists() and not NominationScore.objects.exists()


def test_a_crash_half_way_leaves_nothing(contested_round, monkeypatch):
    intake_round, _nominations = contested_round

    def crash(*args, **kwargs):
        raise RuntimeError("worker killed")

    # The last write of the run: scores and placements are already written when it fails.
    monkeypatch.setattr(MatchRunTrack.objects, "bulk_create", crash)
    with pytest.raises(RuntimeError):
        cohort_match_run(intake_round=intake_round, trigger="command")
    assert not MatchRun.objects.exists()
    assert not NominationScore.objects.exists()
    assert not Placement.objects.exists()
    assert not Cohort.objects.exists()


def test_an_approved_cohort_is_never_altered(contested_round):
    intake_round, _nominations = contested_round
    run = cohort_match_run(intake_round=intake_round, trigger="command").run
    Cohort.objects.filter(intake_round=intake_round).update(status=Cohort.Status.APPROVED,
                                                            approved_at=timezone.now())
    before = list(Placement.objects.values_list("pk", "track_id"))
    with pytest.raises(ValidationError, match="approved"):
        cohort_match_run(intake_round=intake_round, trigger="command")
    assert list(Placement.objects.values_list("pk", "track_id")) == before
    assert MatchRun.objects.get().pk == run.pk


@pytest.mark.skipif(connection.vendor == "postgresql",
                    reason="advisory locks are re-entrant in one session: the PostgreSQL test "
                           "below uses two connections")
def test_a_second_copy_of_the_job_skips_while_the_first_runs():
    with exclusive_job("test-job"), pytest.raises(JobBusy), exclusive_job("test-job"):
        pass
    with exclusive_job("test-job"):  # released afterwards
        pass


def test_degree_ineligible_track_is_not_matched():
    intake_round = open_round_with_tracks(n_tracks=2)
    doctoral = intake_round.tracks.order_by("id").first()
    doctoral.level = "doctoral"
    doctoral.save()
    nomination = consented(intake_round=intake_round)  # holds a bachelor's degree
    proposal = cohort_propose(intake_round=intake_round)
    assert proposal.placements == {nomination.pk: intake_round.tracks.order_by("id").last().pk}
    assert (nomination.pk, doctoral.pk) not in proposal.scores


def test_what_if_with_more_seats_and_other_weights_saves_nothing(contested_round):
    intake_round, _nominations = contested_round
    track_ids = list(intake_round.tracks.values_list("id", flat=True))
    proposal = cohort_propose(intake_round=intake_round, seats={t: 2 for t in track_ids},
                              weights={"gpa": 0, "language": 0, "coursework": 0,
                                       "interests": 0, "university_rank": 1})
    assert proposal.counts["placed"] == 6
    assert not MatchRun.objects.exists()


def _round_of(size, coordinators):
    intake_round = open_round_with_tracks(n_tracks=3)
    for i in range(size):
        consented(intake_round=intake_round, coordinator=coordinators[i % len(coordinators)])
    close_nominations(intake_round)
    # Content types are cached after their first use: each measure starts from an empty cache.
    ContentType.objects.clear_cache()
    return intake_round


def test_job_queries_do_not_grow_with_nominations(django_assert_max_num_queries,
                                                  django_assert_num_queries):
    coordinators = [CoordinatorFactory() for _ in range(4)]
    small = _round_of(4, coordinators)
    with django_assert_max_num_queries(45) as measured:
        cohort_match_run(intake_round=small, trigger="command")
    large = _round_of(12, coordinators)
    with django_assert_num_queries(len(measured.captured_queries)):
        proposal = cohort_match_run(intake_round=large, trigger="command")
    assert proposal.counts["candidates"] == 12


def test_nightly_job_matches_rounds_in_their_matching_phase(contested_round):
    intake_round, _nominations = contested_round
    milestones = {m.kind: m for m in intake_round.milestones.all()}
    shift = milestones["matching"].at - timezone.now() + timedelta(hours=1)
    for m in milestones.values():
        m.at -= shift
        m.save()
    summary = nightly_matching()
    assert summary["matched_rounds"] == [intake_round.pk]
    assert MatchRun.objects.filter(intake_round=intake_round).count() == 1


def _saved_run(run):
    """The engine's inputs and output rebuilt from what the run saved: each candidate's ranked
    tracks, each track's candidates by score (best first), the seats, and the placements."""
    taking_part = list(Placement.objects.filter(match_run=run).values_list("nomination_id",
                                                                          flat=True))
    candidate_prefs = {pk: [] for pk in taking_part}
    for pk, track_id in NominationPreference.objects.filter(
            nomination_id__in=taking_part).order_by("rank").values_list("nomination_id",
                                                                          "track_id"):
        candidate_prefs[pk].append(track_id)
    capacities = dict(RoundTrack.objects.filter(intake_round=run.intake_round)
                      .values_list("track_id", "seats"))
    scored = defaultdict(list)
    for pk, track_id, total in NominationScore.objects.filter(
            nomination_id__in=taking_part).values_list("nomination_id", "track_id", "total"):
        scored[track_id].append((total, pk))
    for rows in scored.values():
        assert len({total for total, _pk in rows}) == len(rows)  # no ties: the order is certain
    track_prefs = {track_id: [pk for _total, pk in sorted(scored[track_id], reverse=True)]
                   for track_id in capacities}
    placements = dict(Placement.objects.filter(match_run=run, track__isnull=False)
                      .values_list("nomination_id", "track_id"))
    return candidate_prefs, track_prefs, capacities, placements


def test_stability_checker_agrees_with_saved_runs(contested_round):
    intake_round, nominations = contested_round
    run = cohort_match_run(intake_round=intake_round, trigger="command").run
    candidate_prefs, track_prefs, capacities, placements = _saved_run(run)
    assert len(candidate_prefs) == 6 and len(placements) == 3
    assert check_stability(candidate_prefs, track_prefs, capacities, placements) == []

    # The best candidate's seat given to the weakest: the checker sees the blocking pair.
    best, weakest = nominations[0], nominations[-1]
    seat = Placement.objects.get(match_run=run, nomination=best)
    Placement.objects.filter(match_run=run, nomination=weakest).update(track=seat.track_id)
    Placement.objects.filter(pk=seat.pk).update(track=None)
    *inputs, tampered = _saved_run(run)
    violations = {(v.kind, v.candidate, v.track) for v in check_stability(*inputs, tampered)}
    assert (ViolationKind.BLOCKING_PAIR, best.pk, seat.track_id) in violations
    assert {kind for kind, _candidate, _track in violations} == {ViolationKind.BLOCKING_PAIR}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections")
@pytest.mark.django_db(transaction=True)
def test_concurrent_run_on_postgresql_skips_while_another_holds_the_lock():
    intake_round = open_round_with_tracks(n_tracks=2)
    for _ in range(3):
        consented(intake_round=intake_round)
    close_nominations(intake_round)
    held, done = threading.Event(), threading.Event()

    def first_copy():
        try:
            with exclusive_job(f"cohort-match-{intake_round.pk}"):
                held.set()
                done.wait(timeout=30)
        finally:
            connection.close()  # the proxy resolves to this thread's own connection

    thread = threading.Thread(target=first_copy)
    thread.start()
    assert held.wait(timeout=10)
    try:
        with pytest.raises(JobBusy):
            cohort_match_run(intake_round=intake_round, trigger="schedule")
    finally:
        done.set()
        thread.join(timeout=30)
    assert not MatchRun.objects.exists()
    cohort_match_run(intake_round=intake_round, trigger="schedule")
    assert MatchRun.objects.count() == 1
