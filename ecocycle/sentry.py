"""Error reporting to Sentry, on only when SENTRY_DSN is set (config/settings/base.py).

No personal data leaves: `send_default_pii=False` (no user, IP address or cookies), and every
event loses what could carry a candidate's data — request bodies, query strings, cookies, the
Authorization header, a Celery task's arguments. Imports no Django, so settings can import it.
"""

from typing import Any

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration

REMOVED = "[removed]"
_SECRET_HEADERS = {"authorization", "cookie", "x-csrftoken", "proxy-authorization"}


def before_send(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    """Strip bodies, query strings, cookies, credentials and task arguments from an event."""
    request = event.get("request")
    if isinstance(request, dict):
        for key in ("data", "cookies", "query_string"):
            if key in request:
                request[key] = REMOVED
        headers = request.get("headers")
        if isinstance(headers, dict):
            request["headers"] = {name: (REMOVED if name.lower() in _SECRET_HEADERS else value)
                                  for name, value in headers.items()}
    job = (event.get("extra") or {}).get("celery-job")
    if isinstance(job, dict):
        for key in ("args", "kwargs"):
            if key in job:
                job[key] = REMOVED
    return event


def sentry_init(*, dsn: str, environment: str, traces_sample_rate: float) -> bool:
    """Start the Sentry client if a DSN is given; nothing at all happens without one."""
    if not dsn:
        return False
    sentry_sdk.init(
        dsn=dsn, environment=environment or None, traces_sample_rate=traces_sample_rate,
        send_default_pii=False, max_request_body_size="never", before_send=before_send,
        integrations=[DjangoIntegration(), CeleryIntegration()],
    )
    return True
