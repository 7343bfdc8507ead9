import pytest
from django.db.backends.utils import CursorWrapper

pytestmark = pytest.mark.django_db


def test_healthz_reports_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"] == {"database": "ok", "broker": "ok", "outbox": "ok",
                              "outbox_backlog": "ok", "nightly": "ok"}
    assert body["outbox_pending"] == 0
    # A fresh install: counted from the migration of the job records, minutes ago.
    assert 0 <= body["nightly_age_hours"] < 26


def test_healthz_is_503_when_the_database_is_down(client, monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionError("database unreachable")

    monkeypatch.setattr(CursorWrapper, "execute", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"].startswith("error")


def test_healthz_is_503_when_the_broker_is_down(client, settings):
    settings.CELERY_BROKER_FOLDERS = ()
    # Nothing listens on port 1: the connection is refused at once.
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"].startswith("error")
    assert response.json()["checks"]["database"] == "ok"


def test_healthz_is_503_when_the_broker_folder_is_missing(client, settings, tmp_path):
    settings.CELERY_BROKER_FOLDERS = (tmp_path / "gone",)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == "error: broker folder not writable"
