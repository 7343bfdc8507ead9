"""The CSV import's background job: its page and progress, all or nothing when it is killed
halfway, a bounded number of queries whatever the file's size, and who may see it."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from candidates import imports
from candidates.imports import nomination_import_job_create, nomination_import_job_run
from candidates.models import Nomination, NominationImportJob, NominationPreference
from ecocycle.models import AuditEntry
from programs.models import RoundTrack
from tests.candidates.factories import open_round_with_tracks
from tests.candidates.test_imports import csv_bytes, row
from tests.programs.factories import (
    CoordinatorFactory,
    CoreTechnologyFactory,
    ProgramUniversityFactory,
)

Status = NominationImportJob.Status


def _setup(n_tracks=3):
    intake_round = open_round_with_tracks(n_tracks=n_tracks)
    coordinator = CoordinatorFactory()
    ProgramUniversityFactory(program=intake_round.program, university=coordinator.university)
    technologies = [CoreTechnologyFactory(program=intake_round.program) for _ in range(2)]
    tracks = [rt.track for rt in RoundTrack.objects.filter(intake_round=intake_round)
              .select_related("track").order_by("id")]
    return intake_round, coordinator, tracks, technologies


def _rows(n, tracks, technologies):
    return [row(i, tracks[: i % 3 + 1], technologies) for i in range(n)]


def _queue(intake_round, coordinator, content, name="nominations.csv"):
    """A job as the upload page makes it, not yet run (the task waits for the commit)."""
    return nomination_import_job_create(
        actor=coordinator.user, intake_round=intake_round, university=coordinator.university,
        file=SimpleUploadedFile(name, content, content_type="text/csv"), language="en")


def _urls(job):
    args = [job.intake_round_id, job.pk]
    return {name: reverse(f"candidates:nomination_import_job{suffix}", args=args)
            for name, suffix in [("page", ""), ("status", "_status"), ("retry", "_retry")]}


@pytest.mark.django_db
def test_the_page_shows_progress_until_the_job_is_done_then_the_result(client):
    intake_round, coordinator, tracks, technologies = _setup()
    job = _queue(intake_round, coordinator, csv_bytes(_rows(3, tracks, technologies)))
    client.force_login(coordinator.user)
    urls = _urls(job)

    waiting = client.get(urls["page"]).content.decode()
    assert 'id="import-progress"' in waiting
    assert f'data-status-url="{urls["status"]}"' in waiting
    assert "js/import-progress.js" in waiting
    assert "Waiting to start" in waiting and "nominations.csv" in waiting
    assert client.get(urls["status"]).json() == {
        "status": "queued", "label": "Waiting to start", "finished": False, "rows_total": 3,
        "rows_checked": 0, "rows_imported": 0}

    assert nomination_import_job_run(job_id=job.pk)

    state = client.get(urls["status"]).json()
    assert (state["status"], state["finished"], state["rows_checked"], state["rows_imported"]) \
        == ("done", True, 3, 3)
    done = client.get(urls["page"]).content.decode()
    assert "3 draft nominations were created." in done
    assert "js/import-progress.js" not in done
    assert Nomination.objects.filter(university=coordinator.university).count() == 3
    # Safe to run twice: a finished job is not taken again.
    assert not nomination_import_job_run(job_id=job.pk)
    assert Nomination.objects.count() == 3


@pytest.mark.django_db
def test_progress_is_reported_as_rows_are_checked_and_imported(monkeypatch):
    intake_round, coordinator, tracks, technologies = _setup()
    monkeypatch.setattr(imports, "BATCH", 2)
    reports = []

    result = imports.nomination_import_csv(
        actor=coordinator.user, intake_round=intake_round, university=coordinator.university,
        file=csv_bytes(_rows(5, tracks, technologies)), progress=lambda **f: reports.append(f))

    assert result.ok, result.errors
    assert reports == [{"rows_checked": 2}, {"rows_checked": 4}, {"rows_checked": 5},
                       {"status": "importing"}, {"rows_imported": 2}, {"rows_imported": 4},
                       {"rows_imported": 5}]


@pytest.mark.django_db
def test_a_file_with_problems_imports_nothing_and_keeps_every_problem_by_row_and_column(client):
    intake_round, coordinator, tracks, technologies = _setup()
    content = csv_bytes([row(1, tracks, technologies), row(2, email="not-an-address", gpa="x"),
                         row(3, passport_number="C0000001"), row(4, preferences="9999")])
    job = _queue(intake_round, coordinator, content)

    nomination_import_job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == Status.REJECTED and job.rows_checked == 4 and job.rows_imported == 0
    assert [(r, c) for r, c, _m in job.errors] == [
        (2, "passport_number"), (3, "email"), (3, "gpa"), (4, "passport_number"),
        (5, "preferences")]
    assert Nomination.objects.count() == 0 and AuditEntry.objects.filter(
        action__startswith="nomination_").count() == 0
    client.force_login(coordinator.user)
    page = client.get(_urls(job)["page"]).content.decode()
    assert "Nothing was imported." in page and "Problems in 4 rows" in page
    assert "<tr><td>3</td><td><code>email</code></td>" in page
    assert not job.file.storage.exists(job.file.name)


@pytest.mark.django_db(transaction=True)
def test_a_job_killed_halfway_leaves_nothing_imported_and_runs_again(
        client, monkeypatch, django_capture_on_commit_callbacks):
    intake_round, coordinator, tracks, technologies = _setup()
    monkeypatch.setattr(imports, "BATCH", 2)
    real_progress = imports._Progress.__call__

    def killed(self, **fields):
        real_progress(self, **fields)
        if fields.get("rows_imported", 0) >= 2:  # two rows written, three to go
            raise SystemExit("worker killed")

    monkeypatch.setattr(imports._Progress, "__call__", killed)
    with pytest.raises(SystemExit), django_capture_on_commit_callbacks(execute=True):
        job = _queue(intake_round, coordinator, csv_bytes(_rows(5, tracks, technologies)))

    job = NominationImportJob.objects.get()
    assert job.status == Status.FAILED and job.rows_imported == 0
    assert Nomination.objects.count() == 0
    assert NominationPreference.objects.count() == 0
    assert not AuditEntry.objects.filter(action__in=["nomination_create", "nomination_import"])
    assert job.file.storage.exists(job.file.name)  # kept, to run again
    client.force_login(coordinator.user)
    urls = _urls(job)
    page = client.get(urls["page"]).content.decode()
    assert "The import stopped before it finished. Nothing was imported." in page
    assert f'action="{urls["retry"]}"' in page

    monkeypatch.setattr(imports._Progress, "__call__", real_progress)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(urls["retry"]).status_code == 302

    job.refresh_from_db()
    assert (job.status, job.rows_imported, job.attempts) == (Status.DONE, 5, 2)
    assert Nomination.objects.filter(university=coordinator.university).count() == 5
    assert AuditEntry.objects.filter(action="nomination_import").count() == 1


@pytest.mark.django_db
def test_a_job_whose_worker_died_shows_as_stopped_and_is_taken_again(client):
    intake_round, coordinator, tracks, technologies = _setup()
    job = _queue(intake_round, coordinator, csv_bytes(_rows(3, tracks, technologies)))
    # Killed outright (no handler ran): left importing, silent since.
    silent_since = timezone.now() - imports.JOB_STALE_AFTER - timedelta(minutes=1)
    NominationImportJob.objects.filter(pk=job.pk).update(
        status=Status.IMPORTING, started_at=silent_since, heartbeat_at=silent_since, attempts=1)
    client.force_login(coordinator.user)

    assert client.get(_urls(job)["status"]).json()["status"] == "failed"
    assert "Run the import again" in client.get(_urls(job)["page"]).content.decode()
    # The broker hands the unacknowledged task to another worker: it takes the stale job.
    assert nomination_import_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Status.DONE and Nomination.objects.count() == 3


@pytest.mark.django_db
def test_a_running_job_is_not_taken_twice_nor_retried():
    intake_round, coordinator, tracks, technologies = _setup()
    job = _queue(intake_round, coordinator, csv_bytes(_rows(2, tracks, technologies)))
    NominationImportJob.objects.filter(pk=job.pk).update(status=Status.CHECKING,
                                                         heartbeat_at=timezone.now())
    job.refresh_from_db()

    assert not nomination_import_job_run(job_id=job.pk)
    with pytest.raises(imports.DomainError):
        imports.nomination_import_job_retry(actor=coordinator.user, job=job)
    assert Nomination.objects.count() == 0


@pytest.mark.django_db
def test_queries_do_not_grow_with_the_rows():
    counts = {}
    for size in (20, 200):
        intake_round, coordinator, tracks, technologies = _setup()
        job = _queue(intake_round, coordinator, csv_bytes(_rows(size, tracks, technologies)))
        with CaptureQueriesContext(connection) as queries:
            nomination_import_job_run(job_id=job.pk)
        job.refresh_from_db()
        assert job.status == Status.DONE and job.rows_imported == size
        counts[size] = len(queries)
    # A fixed number for the file (what it may name, the existing nominations, the job's row)
    # and one INSERT per table per batch of 500 rows: ten times the rows, the same queries on
    # PostgreSQL. SQLite takes at most 999 values a statement, so there a nomination's 40-odd
    # columns split each INSERT every ~20 rows: a fraction of a query per row, not one.
    assert counts[20] <= 25, counts
    per_row = (counts[200] - counts[20]) / 180
    assert per_row <= (0 if connection.vendor == "postgresql" else 0.2), counts


@pytest.mark.django_db
def test_another_universitys_import_is_not_found(client):
    intake_round, coordinator, tracks, technologies = _setup()
    job = _queue(intake_round, coordinator, csv_bytes(_rows(2, tracks, technologies)))
    NominationImportJob.objects.filter(pk=job.pk).update(status=Status.FAILED)
    other = CoordinatorFactory()
    ProgramUniversityFactory(program=intake_round.program, university=other.university)
    client.force_login(other.user)
    urls = _urls(job)

    assert client.get(urls["page"]).status_code == 404
    assert client.get(urls["status"]).status_code == 404
    assert client.post(urls["retry"]).status_code == 404
    # Nor under another round of the same coordinator.
    client.force_login(coordinator.user)
    elsewhere = open_round_with_tracks(program=intake_round.program)
    assert client.get(reverse("candidates:nomination_import_job",
                              args=[elsewhere.pk, job.pk])).status_code == 404
    job.refresh_from_db()
    assert job.status == Status.FAILED and Nomination.objects.count() == 0


@pytest.mark.django_db
def test_only_the_latest_imports_are_kept_with_their_files(
        monkeypatch, django_capture_on_commit_callbacks):
    intake_round, coordinator, tracks, technologies = _setup()
    monkeypatch.setattr(imports, "JOBS_KEPT", 2)
    content = csv_bytes(_rows(1, tracks, technologies))
    first = _queue(intake_round, coordinator, content)
    NominationImportJob.objects.filter(pk=first.pk).update(status=Status.FAILED)  # file kept
    second = _queue(intake_round, coordinator, content)
    NominationImportJob.objects.filter(pk=second.pk).update(status=Status.CHECKING)  # running

    with django_capture_on_commit_callbacks(execute=True):
        third = _queue(intake_round, coordinator, content)
        fourth = _queue(intake_round, coordinator, content)

    assert set(NominationImportJob.objects.values_list("pk", flat=True)) == {
        second.pk, third.pk, fourth.pk}  # a running one is never pruned
    assert not first.file.storage.exists(first.file.name)
