"""An outbox email outlives a long mail outage: retried with capped backoff for days."""

from datetime import timedelta
from smtplib import SMTPServerDisconnected

import pytest
from django.contrib.admin.sites import site
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.test import RequestFactory
from django.utils import timezone

from ecocycle.mail import email_queue, outbound_email_flush, outbound_email_send
from ecocycle.models import OutboundEmail

pytestmark = pytest.mark.django_db


class FakeClock:
    def __init__(self):
        self.now = timezone.now()

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(timezone, "now", fake)
    return fake


@pytest.fixture
def outage():
    def refuse(self, fail_silently=False):
        raise SMTPServerDisconnected("mail server down")

    # Its own patcher, so that `outage.undo()` brings mail back and leaves the clock alone.
    with pytest.MonkeyPatch.context() as patcher:
        patcher.setattr(EmailMultiAlternatives, "send", refuse)
        yield patcher


def _queue() -> OutboundEmail:
    with transaction.atomic():
        return email_queue(to="someone@example.test", template="mentor_withdrawn",
                           language="en", context={})


def test_an_email_survives_a_24_hour_outage_and_goes_out_when_mail_returns(clock, outage):
    email = _queue()
    for _ in range(24 * 6):  # a flush every 10 minutes for 24 hours
        clock.now += timedelta(minutes=10)
        outbound_email_flush()
    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.PENDING
    assert email.attempts > 8
    # Backoff is capped: the next attempt is never more than 6 hours away.
    assert email.next_attempt_at <= clock.now + timedelta(hours=6)
    outage.undo()
    clock.now += timedelta(hours=6)
    outbound_email_flush()
    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.SENT
    assert [message.to for message in mail.outbox] == [["someone@example.test"]]


def test_an_email_is_given_up_only_after_the_retry_days(clock, outage, settings):
    settings.ECOCYCLE_MAIL_RETRY_DAYS = 2
    email = _queue()
    for _ in range(47):
        clock.now += timedelta(hours=1)
        outbound_email_flush()
    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.PENDING
    clock.now += timedelta(hours=7)
    outbound_email_flush()
    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.FAILED


def test_the_admins_send_now_sends_a_failed_email(clock, outage, admin_user, monkeypatch):
    email = _queue()
    OutboundEmail.objects.filter(pk=email.pk).update(
        status=OutboundEmail.Status.FAILED, attempts=30, last_error="SMTPServerDisconnected",
        next_attempt_at=clock.now - timedelta(days=1))
    outage.undo()
    assert outbound_email_flush() == 0
    request = RequestFactory().post("/")
    request.user = admin_user
    model_admin = site._registry[OutboundEmail]
    monkeypatch.setattr(model_admin, "message_user", lambda *args, **kwargs: None)
    model_admin.send_now(request, OutboundEmail.objects.filter(pk=email.pk))
    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.SENT
    assert len(mail.outbox) == 1


def test_a_direct_send_of_a_failed_email_does_nothing_unless_asked(clock):
    email = _queue()
    OutboundEmail.objects.filter(pk=email.pk).update(status=OutboundEmail.Status.FAILED)
    assert outbound_email_send(email_id=email.pk) is False
    assert outbound_email_send(email_id=email.pk, retry_failed=True) is True


def test_healthz_alerts_when_mail_has_been_failing_for_an_hour(client, clock, outage):
    _queue()
    outbound_email_flush()
    clock.now += timedelta(minutes=50)
    assert client.get("/healthz").json()["checks"]["outbox"] == "ok"
    clock.now += timedelta(minutes=20)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["outbox"] == "error: mail failing for 70 minutes"
    outage.undo()
    clock.now += timedelta(hours=1)
    outbound_email_flush()
    assert client.get("/healthz").json()["checks"]["outbox"] == "ok"
