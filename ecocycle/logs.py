"""A request id for every request and every log line it causes, for logs read as JSON.

The proxy's X-Request-ID is kept when it looks like one (letters, digits, `-`, `_`, `.`; at most
64), so the proxy's and our lines can be joined; otherwise a new one is made. The response
carries it back in X-Request-ID. Imports no models: logging's configuration loads the filter.
"""

import logging
import re
import uuid
from contextvars import ContextVar

_request_id: ContextVar[str | None] = ContextVar("ecocycle_request_id", default=None)
_VALID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def request_id_current() -> str | None:
    return _request_id.get()


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get("X-Request-ID", "")
        request_id = given if _VALID.fullmatch(given) else uuid.uuid4().hex
        request.request_id = request_id
        token = _request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every record (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _request_id.get()
        return True
