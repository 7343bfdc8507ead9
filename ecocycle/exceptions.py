"""One exception type for domain rules, turned into a page error or a JSON 400 in one place;
and a database too busy to write (or out of reach), turned into a 503 that says to try again
(pages: ecocycle.middleware)."""

import logging

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import OperationalError
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions as drf_exceptions
from rest_framework.views import exception_handler, set_rollback

from .writes import database_busy

logger = logging.getLogger(__name__)

# Seconds a client is told to wait before trying again after a 503.
RETRY_AFTER_SECONDS = 2


class DomainError(ValidationError):
    """A domain rule refused the change. Carries a message, or messages per field.

    It is a ValidationError so that forms show it beside the field it names (``add_error``) and
    the API handler below answers it as a 400 with the same shape as serializer errors.
    """


class ServiceBusy(drf_exceptions.APIException):
    status_code = 503
    default_detail = gettext_lazy("The service is busy. Try again in a few seconds.")
    default_code = "service_busy"


def database_busy_message() -> str:
    return _("The database is busy for a moment. Nothing was saved: please try again in a "
             "few seconds.")


def api_exception_handler(exc, context):
    if database_busy(exc):
        # What the request wrote is rolled back; the client may send it again as it was.
        set_rollback()
        exc = ServiceBusy(database_busy_message())
    elif isinstance(exc, OperationalError):
        # A database out of reach: worth a retry too.
        logger.warning("API answered 503: %s", exc)
        set_rollback()
        exc = ServiceBusy()
    elif isinstance(exc, ValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = drf_exceptions.ValidationError(detail=detail)
    elif isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = drf_exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    # One shape for every 400, as documented: `detail` is a list of messages there (a parse
    # error's single message included), and a string in every other error.
    if (response is not None and response.status_code == 400 and isinstance(response.data, dict)
            and isinstance(response.data.get("detail"), str)):
        response.data["detail"] = [response.data["detail"]]
    if response is not None and response.status_code == 503:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def form_add_error(form, error: ValidationError) -> None:
    """Show a service's error on the form: beside the field it names, else above the form."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def messages_add_error(request, error: ValidationError) -> None:
    """Show a service's error as page messages, one per sentence: for a POST that redirects and
    so has no form to show it on."""
    for message in error.messages:
        messages.error(request, message)
