"""Every email carries the Reply-To of the setting: the outbox's and allauth's alike."""

import pytest
from django.core import mail
from django.core.mail import get_connection
from django.db import transaction
from django.urls import reverse

from ecocycle.mail import email_queue, outbound_email_flush
from ecocycle.models import OutboundEmail

pytestmark = pytest.mark.django_db

REPLY_TO = "KITECH ecocycle desk <desk@kitech.example>"


def test_a_queued_email_once_sent_carries_the_reply_to(settings):
    settings.ECOCYCLE_REPLY_TO = REPLY_TO
    with transaction.atomic():
        email = email_queue(to="someone@example.test", template="mentor_withdrawn",
                            language="en", context={})
    outbound_email_flush()
    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.SENT
    (message,) = mail.outbox
    assert message.to == ["someone@example.test"]
    assert message.reply_to == [REPLY_TO]
    assert message.message()["Reply-To"] == REPLY_TO


def test_allauths_sign_in_code_email_carries_the_reply_to(client, settings, mentor_user,
                                                          django_capture_on_commit_callbacks):
    settings.ECOCYCLE_REPLY_TO = REPLY_TO
    mentor_user.set_unusable_password()
    mentor_user.save()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_request_login_code"),
                               {"email": mentor_user.email})
    assert response.status_code == 302
    (message,) = mail.outbox
    assert message.to == [mentor_user.email]
    assert message.message()["Reply-To"] == REPLY_TO


def test_every_smtp_connection_gives_up_after_the_timeout(settings):
    # A mail server that accepts and never answers must not hold a request until gunicorn
    # kills the worker: allauth's emails and the outbox both use Django's default connection.
    assert settings.EMAIL_TIMEOUT == 10
    settings.EMAIL_TIMEOUT = 3
    assert get_connection("django.core.mail.backends.smtp.EmailBackend").timeout == 3
