"""/healthz also watches the nightly job's last success and the outbox's backlog."""

from datetime import timedelta

import pytest
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from ecocycle.models import OutboundEmail
from hub.jobs import NIGHTLY_JOB, job_run_record
from hub.models import JobRun
from hub.tasks import nightly_matching

pytestmark = pytest.mark.django_db


def _installed(hours_ago: float) -> None:
    MigrationRecorder.Migration.objects.filter(app="hub", name="0002_job_run").update(
        applied=timezone.now() - timedelta(hours=hours_ago))


def test_a_fresh_install_is_healthy_for_its_first_26_hours(client):
    _installed(25)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["nightly_age_hours"] == 25.0


def test_no_nightly_success_26_hours_after_install_is_503(client):
    _installed(27)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["nightly"] == (
        "error: nightly job last succeeded 27.0 hours ago")


def test_a_recent_nightly_success_is_healthy_and_an_old_one_is_503(client, settings):
    _installed(24 * 30)
    job_run_record(job=NIGHTLY_JOB, outcome="success", duration_ms=10,
                   now=timezone.now() - timedelta(hours=3))
    assert client.get("/healthz").status_code == 200
    settings.ECOCYCLE_HEALTH_NIGHTLY_MAX_HOURS = 2
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["nightly"].startswith("error: nightly job last succeeded 3.0")


def test_a_failed_nightly_run_does_not_count_as_a_success(client):
    _installed(24 * 30)
    job_run_record(job=NIGHTLY_JOB, outcome="success", duration_ms=10,
                   now=timezone.now() - timedelta(hours=30))
    job_run_record(job=NIGHTLY_JOB, outcome="failure", duration_ms=10)
    run = JobRun.objects.get(job=NIGHTLY_JOB)
    assert (run.successes, run.failures, run.last_outcome) == (1, 1, "failure")
    assert client.get("/healthz").status_code == 503


def test_the_nightly_task_records_its_success(client):
    _installed(24 * 30)
    assert client.get("/healthz").status_code == 503
    nightly_matching.delay()
    run = JobRun.objects.get(job=NIGHTLY_JOB)
    assert run.last_outcome == "success"
    assert run.successes == 1
    assert client.get("/healthz").status_code == 200


def _pending(count: int) -> None:
    OutboundEmail.objects.bulk_create(
        OutboundEmail(topic="t", to="a@example.org", language="en", subject="s", body_text="b")
        for _ in range(count))


def test_an_outbox_backlog_above_the_bound_is_503(client, settings):
    settings.ECOCYCLE_HEALTH_OUTBOX_MAX = 3
    _pending(3)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["outbox_pending"] == 3
    _pending(1)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["outbox_backlog"] == "error: 4 emails pending"
