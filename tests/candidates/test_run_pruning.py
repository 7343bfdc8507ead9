"""Superseded match runs lose their placements after the retention period; the audit keeps
every run's digests and counts, and the approved and latest runs keep their placements."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from candidates import tasks
from candidates.models import Cohort, MatchRun, MatchRunTrack, Placement
from candidates.selectors import cohort_run_list
from candidates.services import superseded_runs_prune
from candidates.services.matching import cohort_match_run
from ecocycle.models import AuditEntry
from tests.candidates.factories import consented_nomination, open_round_with_tracks
from tests.programs.factories import close_nominations

pytestmark = pytest.mark.django_db


def _matched_round(size: int, runs: int) -> list[MatchRun]:
    intake_round = open_round_with_tracks(n_tracks=2)
    for index in range(size):
        consented_nomination(intake_round=intake_round, gpa=f"3.{index % 10}")
    close_nominations(intake_round)
    return [cohort_match_run(intake_round=intake_round, trigger="command").run
            for _ in range(runs)]


def _age(run: MatchRun, days: int) -> None:
    MatchRun.objects.filter(pk=run.pk).update(started_at=timezone.now() - timedelta(days=days))


def _placements(run: MatchRun) -> int:
    return Placement.objects.filter(match_run=run).count()


def test_old_superseded_runs_lose_their_placements_and_nothing_else(settings):
    settings.ECOCYCLE_SUPERSEDED_RUN_DAYS = 30
    small_old, small_recent, small_latest = _matched_round(size=3, runs=3)
    big_old, big_older, big_approved = _matched_round(size=9, runs=3)
    Cohort.objects.filter(match_run=big_approved).update(status=Cohort.Status.APPROVED,
                                                         approved_at=timezone.now())
    for run, days in [(small_old, 40), (small_recent, 10), (big_old, 31), (big_older, 90),
                      (big_approved, 100), (small_latest, 60)]:
        _age(run, days)
    runs_before = list(MatchRun.objects.order_by("pk").values(
        "pk", "status", "input_digest", "output_digest", "counts"))
    kept = {run.pk: _placements(run) for run in (small_recent, small_latest, big_approved)}
    tracks_before = MatchRunTrack.objects.count()

    assert superseded_runs_prune() == 3 + 9 + 9

    for run in (small_old, big_old, big_older):
        assert _placements(run) == 0
    assert {run.pk: _placements(run) for run in (small_recent, small_latest,
                                                 big_approved)} == kept
    assert list(MatchRun.objects.order_by("pk").values(
        "pk", "status", "input_digest", "output_digest", "counts")) == runs_before
    assert MatchRunTrack.objects.count() == tracks_before
    entries = AuditEntry.objects.filter(action="match_run_placements_prune")
    assert {(entry.target_id, entry.after["placements"]) for entry in entries} == {
        (str(small_old.pk), 3), (str(big_old.pk), 9), (str(big_older.pk), 9)}

    # Safe to run twice: nothing left to remove, no new audit entry.
    assert superseded_runs_prune() == 0
    assert AuditEntry.objects.filter(action="match_run_placements_prune").count() == 3


def test_the_task_and_the_command_prune(settings, capsys):
    settings.ECOCYCLE_SUPERSEDED_RUN_DAYS = 5
    old, latest = _matched_round(size=2, runs=2)
    _age(old, 6)
    tasks.prune_superseded_runs()
    assert _placements(old) == 0 and _placements(latest) == 2
    call_command("prune_superseded_runs")
    assert "0 placement(s)" in capsys.readouterr().out
    assert "candidates.tasks.prune_superseded_runs" in {
        entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}


def test_runs_a_crash_left_staging_go_after_a_day_and_are_never_shown():
    old, recent, latest = _matched_round(size=3, runs=3)
    for run, days in ((old, 2), (recent, 0)):
        MatchRun.objects.filter(pk=run.pk).update(status=MatchRun.Status.STAGING)
        _age(run, days)
    assert list(cohort_run_list(latest.intake_round)) == [latest]
    superseded_runs_prune()
    assert not MatchRun.objects.filter(pk=old.pk).exists()
    assert not Placement.objects.filter(match_run_id=old.pk).exists()
    assert _placements(recent) == 3  # younger than a day: may be one being written
    # The next run of the round removes what is left staging.
    cohort_match_run(intake_round=latest.intake_round, trigger="command")
    assert not MatchRun.objects.filter(status=MatchRun.Status.STAGING).exists()
