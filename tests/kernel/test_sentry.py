"""What an error report to Sentry keeps: no body, query string, cookie, credential or task args."""

from ecocycle.sentry import REMOVED, before_send, sentry_init


def test_before_send_strips_bodies_credentials_and_task_arguments():
    event = {
        "request": {"url": "https://ecocycle.example.org/api/v1/nominations/", "method": "POST",
                    "data": {"passport_number": "M12345678"}, "query_string": "email=a@b.org",
                    "cookies": {"sessionid": "s"},
                    "headers": {"Authorization": "Token abc", "Cookie": "sessionid=s",
                                "User-Agent": "curl"}},
        "extra": {"celery-job": {"task_name": "t", "args": ["a@b.org"], "kwargs": {"x": 1}}},
    }
    out = before_send(event, {})
    request = out["request"]
    assert request["data"] == request["query_string"] == request["cookies"] == REMOVED
    assert request["headers"] == {"Authorization": REMOVED, "Cookie": REMOVED,
                                  "User-Agent": "curl"}
    assert request["url"].endswith("/nominations/")
    job = out["extra"]["celery-job"]
    assert (job["task_name"], job["args"], job["kwargs"]) == ("t", REMOVED, REMOVED)
    assert "M12345678" not in repr(out)


def test_before_send_leaves_events_without_a_request_alone():
    event = {"message": "boom", "level": "error"}
    assert before_send(dict(event), {}) == event


def test_nothing_is_initialised_without_a_dsn():
    assert sentry_init(dsn="", environment="", traces_sample_rate=0.0) is False
