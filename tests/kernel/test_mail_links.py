"""Emailed links are not readable in the outbox (issue 14): the stored subject and bodies hold a
placeholder, the link itself is stored encrypted beside them and put back at send time, then
forgotten once the email is sent."""

import re

import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse

from candidates.services import consent_check
from ecocycle.links import LinkState
from ecocycle.mail import (
    EmailDraft,
    SecretLink,
    email_placeholder,
    email_queue,
    email_queue_many,
    outbound_email_rendered,
    outbound_email_send,
)
from ecocycle.models import OutboundEmail
from tests.candidates.factories import submitted_nomination

pytestmark = pytest.mark.django_db


CONSENT_URL = re.compile(r"/consent/([^/\s\"'<]+)/")


def _tokens(text: str) -> list[str]:
    return CONSENT_URL.findall(text)


@pytest.fixture
def consent_email():
    """A submitted nomination and the consent request waiting in the outbox."""
    nomination = submitted_nomination(via_services=True)
    email = OutboundEmail.objects.filter(to=nomination.email).latest("id")
    return nomination, email


def _raw_row(email: OutboundEmail) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {OutboundEmail._meta.db_table} WHERE id = %s", [email.pk])
        return " ".join(str(value) for value in cursor.fetchone())


def test_the_stored_email_holds_no_token(consent_email):
    _nomination, email = consent_email
    assert not _tokens(email.subject + email.body_text + email.body_html)
    assert "[[link:1]]" in email.body_text
    assert not _tokens(_raw_row(email))  # not even in the column that keeps it, encrypted


def test_the_admin_does_not_show_the_token(consent_email, client, staff_user):
    _nomination, email = consent_email
    client.force_login(staff_user)
    change = client.get(reverse("admin:ecocycle_outboundemail_change", args=[email.pk]))
    changelist = client.get(reverse("admin:ecocycle_outboundemail_changelist"))
    assert change.status_code == changelist.status_code == 200
    assert not _tokens(change.content.decode()) and not _tokens(changelist.content.decode())
    assert "[[link:1]]" in change.content.decode()


def test_the_sent_email_carries_the_working_link_and_the_outbox_forgets_it(consent_email):
    nomination, email = consent_email
    mail.outbox.clear()
    assert outbound_email_send(email_id=email.pk)
    sent = mail.outbox[0]
    (token,) = set(_tokens(sent.body))
    assert "[[link:" not in sent.body
    html = sent.alternatives[0][0] if sent.alternatives else ""
    assert "[[link:" not in html
    check = consent_check(token)
    assert check.state == LinkState.VALID and check.object == nomination
    email.refresh_from_db()
    assert not email.links and "[[link:1]]" in email.body_text


def test_an_email_without_secret_links_is_stored_as_rendered():
    email = email_queue(to="a@example.org", template="consent_request", language="en",
                        context={"link": "https://example.org/plain/", "days": 14})
    assert not email.links


def test_an_email_written_in_bulk_masks_its_secret_link_too():
    link = SecretLink("https://example.org/consent/a-secret-token/")
    draft = EmailDraft(topic="bulk", language="en", subject="Hello", html="",
                       text=f"Open {email_placeholder('link')} to answer.")
    [email] = email_queue_many([draft.personalise(to="a@example.org", fill={"link": link})])
    email.refresh_from_db()
    assert "a-secret-token" not in email.body_text + _raw_row(email)
    assert outbound_email_rendered(email)[1] == f"Open {link} to answer."
