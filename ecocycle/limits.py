"""Refuse a request whose declared body is larger than ECOCYCLE_MAX_REQUEST_BYTES with a 413,
before anything reads it.

Django's own limits (DATA_UPLOAD_MAX_MEMORY_SIZE and friends) apply only while a body is being
read, and file parts are not counted at all: without this a 30 MB upload is spooled to disk
whole before the document check refuses it. The proxy in front should refuse earlier still
(nginx `client_max_body_size`, see the README). A body sent without a Content-Length (chunked)
is not counted here; Django reads none of it unless the server ends the stream.
"""

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

REQUEST_ENTITY_TOO_LARGE = 413


def _declared_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0  # Django reads no body for a malformed length either.


class RequestSizeLimitMiddleware:
    """After the language is chosen (so the refusal speaks the user's), before the CSRF check
    and every view, which would read the body."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.ECOCYCLE_MAX_REQUEST_BYTES
        if _declared_length(request) <= limit:
            return self.get_response(request)
        message = _(
            "This request is too large: at most %(limit)s can be sent at once. Documents may be "
            "at most %(document)s each."
        ) % {"limit": filesizeformat(limit),
             "document": filesizeformat(settings.ECOCYCLE_MAX_UPLOAD_BYTES)}
        if request.path.startswith("/api/"):
            response = JsonResponse({"detail": message}, status=REQUEST_ENTITY_TOO_LARGE)
        else:
            response = render(request, "request_too_large.html", {"message": message},
                              status=REQUEST_ENTITY_TOO_LARGE)
        return response
