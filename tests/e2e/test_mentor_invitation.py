"""A mentor receives the invitation through a real SMTP server, opens its link in a browser and
accepts; the candidate and the university are told, through the same server."""

import email
import re
import socket
import threading
from email import policy

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from hub.services import nightly_matching
from mentors.models import MentorAssignment
from tests.mentors.factories import MentorFactory, admitted_round
from tests.programs.factories import CoordinatorFactory

pytestmark = pytest.mark.django_db(transaction=True)


class _Inbox:
    """An aiosmtpd handler that keeps every message it is given."""

    def __init__(self):
        self.messages, self._lock = [], threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            self.messages.append((envelope.rcpt_tos, message))
        return "250 Message accepted for delivery"

    def to(self, address):
        with self._lock:
            return [m for rcpt, m in self.messages if address in rcpt]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_inbox(settings):
    inbox, port = _Inbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield inbox
    controller.stop()


def test_mentor_accepts_from_the_emailed_link(page, live_server, settings, smtp_inbox):
    settings.SITE_URL = live_server.url
    _round, (nomination,) = admitted_round(1)
    coordinator = CoordinatorFactory(university=nomination.university)
    mentor = MentorFactory(capacity=2, language="en", full_name="Dr. Seo Hyun-woo")

    summary = nightly_matching(now=timezone.now())
    assert summary["mentor_invitations_sent"] == 1

    (invitation,) = smtp_inbox.to(mentor.email)
    assert invitation["Subject"].startswith("[ecocycle] Will you mentor")
    assert invitation.is_multipart()
    text = invitation.get_body(("plain",)).get_content()
    html = invitation.get_body(("html",)).get_content()
    link = re.search(r"https?://\S+/mentoring/invitations/\S+/", text).group(0)
    assert link in html and link.startswith(live_server.url)
    assert nomination.display_name in text

    page.goto(link)
    page.wait_for_selector("#accept")
    assert nomination.display_name in page.inner_text("#invitation")
    assignment = MentorAssignment.objects.get(mentor=mentor)
    assert assignment.status == "invited"  # opening the link changed nothing
    page.click("#accept")
    page.wait_for_selector("#invitation[data-state=accepted]")
    assert "Thank you!" in page.inner_text("#invitation")
    assignment.refresh_from_db()
    assert assignment.status == "accepted"

    # The same link again shows the answer, without buttons.
    page.goto(link)
    page.wait_for_selector("#invitation[data-state=accepted]")
    assert page.query_selector("#accept") is None

    # In the candidate's own language; the mentor's name and address are in it.
    (to_candidate,) = [m for m in smtp_inbox.to(nomination.email)
                       if mentor.full_name in m["Subject"]]
    assert mentor.email in to_candidate.get_body(("plain",)).get_content()
    (to_university,) = smtp_inbox.to(coordinator.user.email)
    assert nomination.display_name in to_university["Subject"]
