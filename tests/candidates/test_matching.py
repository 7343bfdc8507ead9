"""The nightly cohort job against the database: scoring, proposals, idempotence, locks."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from candidates import services
from candidates.models import Cohort, MatchRun, MatchRunTrack, NominationScore, Placement
from candidates.services.matching import cohort_match_run, cohort_propose
from ecocycle.locks import JobBusy, exclusive_job
from ecocycle.matching import check_stability
from programs.models import RoundTrack
from tests.candidates.factories import (
    consented_nomination as consented,
)
from tests.candidates.factories import (
    open_round_with_tracks,
    submitted_nomination,
)
from tests.programs.factories import CoordinatorFactory

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


def test_job_queries_do_not_grow_with_nominations(django_assert_max_num_queries):
    intake_round = open_round_with_tracks(n_tracks=3)
    coordinators = [CoordinatorFactory() for _ in range(4)]
    for i in range(12):
        consented(intake_round=intake_round, coordinator=coordinators[i % 4])
    with django_assert_max_num_queries(40):
        cohort_match_run(intake_round=intake_round, trigger="command")


def test_nightly_job_matches_rounds_in_their_matching_phase(contested_round):
    intake_round, _nominations = contested_round
    milestones = {m.kind: m for m in intake_round.milestones.all()}
    shift = milestones["matching"].at - timezone.now() + timedelta(hours=1)
    for m in milestones.values():
        m.at -= shift
        m.save()
    from hub.tasks import nightly_matching

    summary = nightly_matching()
    assert summary["matched_rounds"] == [intake_round.pk]
    assert MatchRun.objects.filter(intake_round=intake_round).count() == 1


def test_stability_checker_agrees_with_saved_runs(contested_round):
    intake_round, _nominations = contested_round
    proposal = cohort_propose(intake_round=intake_round)
    assert proposal.counts["placed"] == 3
    assert check_stability({}, {}, {}, {}) == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections")
@pytest.mark.django_db(transaction=True)
def test_concurrent_run_on_postgresql_skips_while_another_holds_the_lock():
    intake_round = open_round_with_tracks(n_tracks=2)
    for _ in range(3):
        consented(intake_round=intake_round)
    held, done = threading.Event(), threading.Event()

    def first_copy():
        from django.db import connection as thread_connection

        try:
            with exclusive_job(f"cohort-match-{intake_round.pk}"):
                held.set()
                done.wait(timeout=30)
        finally:
            thread_connection.close()

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
