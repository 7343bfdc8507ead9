"""allauth's emails (password resets, sign-in codes) go through the outbox: the request never talks
to the mail server, a mail outage loses nothing, and a working server gets them at once."""

import re

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.urls import reverse

from ecocycle.mail import outbound_email_flush
from ecocycle.models import OutboundEmail
from tests.kernel.factories import MentorUserFactory

pytestmark = pytest.mark.django_db

LOCMEM = "django.core.mail.backends.locmem.EmailBackend"


class RefusingSMTP(BaseEmailBackend):
    """A mail server whose port is closed."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError(111, "Connection refused")


@pytest.fixture
def mail_down(settings):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingSMTP"
    return settings


@pytest.fixture
def passwordless_mentor():
    mentor = MentorUserFactory(language="ko")
    mentor.set_unusable_password()
    mentor.save()
    return mentor


def _due_now():
    OutboundEmail.objects.update(next_attempt_at=None)


def test_password_reset_with_the_mail_server_down_answers_and_sends_later(
        client, coordinator_user, mail_down, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_reset_password"),
                               {"email": coordinator_user.email})
    assert response.status_code == 302
    assert client.get(response["Location"]).status_code == 200
    email = OutboundEmail.objects.get(to=coordinator_user.email)
    assert email.status == OutboundEmail.Status.PENDING
    assert "ConnectionRefusedError" in email.last_error
    assert mail.outbox == []
    # Staff read the outbox: the reset link that opens the account is not in it.
    assert "/accounts/password/reset/key/" not in email.body_text + email.body_html

    mail_down.EMAIL_BACKEND = LOCMEM
    _due_now()
    assert outbound_email_flush() == 1
    assert len(mail.outbox) == 1
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_sign_in_code_with_the_mail_server_down_answers_and_sends_later(
        client, passwordless_mentor, mail_down, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_request_login_code"),
                               {"email": passwordless_mentor.email})
    assert response.status_code == 302
    assert client.get(response["Location"]).status_code == 200
    assert OutboundEmail.objects.filter(to=passwordless_mentor.email,
                                        status=OutboundEmail.Status.PENDING).count() == 1

    mail_down.EMAIL_BACKEND = LOCMEM
    _due_now()
    outbound_email_flush()
    code = re.search(r"^\s*([A-Z0-9-]{6,})\s*$", mail.outbox[0].body, re.MULTILINE).group(1)
    stored = OutboundEmail.objects.get(to=passwordless_mentor.email)
    assert code not in stored.subject + stored.body_text + stored.body_html
    client.post(reverse("account_confirm_login_code"), {"code": code})
    assert client.session["_auth_user_id"] == str(passwordless_mentor.pk)


def test_sign_in_code_is_sent_at_once_in_the_accounts_language(
        client, passwordless_mentor, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_request_login_code"),
                               {"email": passwordless_mentor.email})
    assert response.status_code == 302
    # Sent on commit, before the page answers: a sign-in code is short-lived.
    assert len(mail.outbox) == 1
    email = OutboundEmail.objects.get(to=passwordless_mentor.email)
    assert email.status == OutboundEmail.Status.SENT
    assert email.language == "ko"
    assert email.topic == "account/email/login_code"
    assert re.search("[가-힣]", mail.outbox[0].subject + mail.outbox[0].body)
    assert mail.outbox[0].reply_to
    assert mail.outbox[0].subject.startswith("[ecocycle] ")
    assert not mail.outbox[0].subject.startswith("[ecocycle] [ecocycle]")


def test_the_request_language_serves_an_address_without_an_account(client):
    client.post(reverse("account_reset_password"), {"email": "nobody@example.test"},
                HTTP_ACCEPT_LANGUAGE="id")
    email = OutboundEmail.objects.get(to="nobody@example.test")
    assert email.language == "id"


def test_an_address_without_an_account_is_not_invited_to_sign_up(
        client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_request_login_code"), {"email": "nobody@example.test"})
    (message,) = mail.outbox
    assert "/accounts/signup/" not in message.body
    assert "invitation" in message.body
