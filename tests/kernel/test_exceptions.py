"""Domain errors shown on pages (ecocycle.exceptions)."""

from django.contrib.messages import ERROR
from django.contrib.messages.storage.cookie import CookieStorage
from django.test import RequestFactory

from ecocycle.exceptions import DomainError, messages_add_error


def _request():
    request = RequestFactory().post("/")
    request._messages = CookieStorage(request)
    return request


def test_every_sentence_of_a_service_error_becomes_a_page_message():
    request = _request()

    messages_add_error(request, DomainError({"track": "Choose a track.",
                                             "reason": ["Give a reason.", "Be brief."]}))
    messages_add_error(request, DomainError("The cohort is approved."))

    shown = list(request._messages)
    assert [message.message for message in shown] == [
        "Choose a track.", "Give a reason.", "Be brief.", "The cohort is approved."]
    assert {message.level for message in shown} == {ERROR}
