"""/metrics: Prometheus's text for the operators' scraper (a bearer token), 404 for anyone else."""

import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest

from candidates.models import MatchRun
from ecocycle.models import OutboundEmail
from hub.tasks import send_staff_digest
from tests.kernel.factories import StaffFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent.parent
TOKEN = "operators-scrape-token-0123456789"


@pytest.fixture
def metrics_token(settings):
    settings.ECOCYCLE_METRICS_TOKEN = TOKEN
    return TOKEN


def _scrape(client, token=TOKEN):
    return client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")


def test_without_a_configured_token_metrics_is_a_404_even_with_a_bearer(client, settings):
    settings.ECOCYCLE_METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert _scrape(client, "").status_code == 404
    assert _scrape(client, "anything").status_code == 404


def test_anonymous_coordinator_and_staff_without_the_token_get_a_404(
        client, metrics_token, coordinator_user):
    assert client.get("/metrics").status_code == 404
    assert _scrape(client, "wrong-token").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}").status_code == 404
    client.force_login(coordinator_user)
    assert client.get("/metrics").status_code == 404
    client.force_login(StaffFactory(is_superuser=True))
    response = client.get("/metrics")
    assert response.status_code in (302, 404)
    assert b"ecocycle_" not in response.content


def test_the_token_gets_the_metrics(client, metrics_token):
    client.get("/healthz")  # a request for the middleware to time
    response = _scrape(client)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    body = response.content.decode()
    for name in ("django_http_requests_latency_seconds_by_view_method",
                 "ecocycle_outbox_emails", "ecocycle_outbox_oldest_pending_age_seconds",
                 "ecocycle_match_runs", "ecocycle_job_runs"):
        assert name in body, name


def test_the_outbox_is_counted_at_scrape_time(client, metrics_token):
    for status in ("pending", "pending", "failed", "sent"):
        OutboundEmail.objects.create(topic="t", to="a@example.org", language="en",
                                     subject="s", body_text="b", status=status)
    body = _scrape(client).content.decode()
    assert 'ecocycle_outbox_emails{status="pending"} 2.0' in body
    assert 'ecocycle_outbox_emails{status="failed"} 1.0' in body
    assert 'ecocycle_outbox_emails{status="sent"} 1.0' in body


def test_match_run_sizes_come_from_the_latest_good_run(client, metrics_token):
    start = "2026-01-01T00:00:00Z"
    for placed in (3, 7):
        MatchRun.objects.create(kind=MatchRun.Kind.CAREER, trigger=MatchRun.Trigger.COMMAND,
                                started_at=start, status=MatchRun.Status.SUCCEEDED,
                                counts={"placed": placed, "note": "text"}, duration_ms=1500)
    body = _scrape(client).content.decode()
    assert 'ecocycle_match_runs{kind="career",status="succeeded"} 2.0' in body
    assert 'ecocycle_match_run_size{count="placed",kind="career"} 7.0' in body
    assert 'ecocycle_match_run_duration_seconds{kind="career"} 1.5' in body


def test_a_scheduled_task_reports_its_duration_and_outcome(client, metrics_token):
    send_staff_digest.delay()
    body = _scrape(client).content.decode()
    assert ('ecocycle_task_duration_seconds_count{outcome="success",'
            'task="hub.tasks.send_staff_digest"}') in body
    assert 'ecocycle_job_runs{job="hub.tasks.send_staff_digest",outcome="success"}' in body
    assert 'ecocycle_job_last_success_timestamp_seconds{job="hub.tasks.send_staff_digest"}' in body


def test_in_multiprocess_mode_the_shared_folder_is_read(client, metrics_token, tmp_path,
                                                        monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    response = _scrape(client)
    assert response.status_code == 200
    # The folder is empty: no in-memory metric of this process, the database's gauges still.
    body = response.content.decode()
    assert "ecocycle_task_duration_seconds" not in body
    assert "ecocycle_outbox_emails" in body


def test_a_malformed_content_length_is_not_a_server_error(client):
    # Django reads no body for it (ecocycle.limits); the metrics middleware must not choke on it.
    response = client.generic("POST", "/healthz", b"", CONTENT_LENGTH="abc")
    assert response.status_code == 405


def test_gunicorn_drops_an_exited_workers_live_gauges(tmp_path, monkeypatch):
    hooks = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    (tmp_path / "gauge_livesum_4242.db").write_bytes(b"")
    (tmp_path / "counter_4242.db").write_bytes(b"")
    hooks["child_exit"](None, SimpleNamespace(pid=4242))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["counter_4242.db"]
