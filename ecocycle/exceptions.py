"""One exception type for domain rules, turned into a page error or a JSON 400 in one place."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from rest_framework import exceptions as drf_exceptions
from rest_framework.views import exception_handler


class DomainError(ValidationError):
    """A domain rule refused the change. Carries a message, or messages per field.

    It is a ValidationError so that forms show it beside the field it names (``add_error``) and
    the API handler below answers it as a 400 with the same shape as serializer errors.
    """


def api_exception_handler(exc, context):
    if isinstance(exc, ValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = drf_exceptions.ValidationError(detail=detail)
    elif isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = drf_exceptions.PermissionDenied()
    return exception_handler(exc, context)


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
