"""The candidate's own page: what it shows in each state, the links it refuses, the changes the
candidate makes there, and that nothing of another candidate is reachable through it."""

import re
from datetime import timedelta

import pytest
from django.core import mail, signing
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from candidates import services
from candidates.models import Cohort, CohortAdmission, Nomination, Offer
from candidates.services.candidate_page import CANDIDATE_PAGE_LINK, candidate_page_link
from ecocycle.links import link_make
from ecocycle.mail import outbound_email_rendered
from ecocycle.models import AuditEntry, OutboundEmail
from mentors.models import MentorAssignment
from tests.candidates.factories import (
    admitted_round,
    consented_nomination,
    consented_round,
    open_round_with_tracks,
    pdf_file,
    round_decide,
    submitted_nomination,
)
from tests.mentors.factories import MentorFactory
from tests.programs.factories import CoordinatorFactory

pytestmark = pytest.mark.django_db

CANDIDATE = "candidate (own page)"


def _path(link) -> str:
    return "/" + str(link).split("://", 1)[1].split("/", 1)[1]


def _page(nomination) -> str:
    return _path(candidate_page_link(nomination))


def _token(nomination) -> str:
    return _page(nomination).rstrip("/").rsplit("/", 1)[1]


def _emails_to(address, topic=None):
    emails = OutboundEmail.objects.filter(to=address).order_by("id")
    if topic:
        emails = emails.filter(topic=topic)
    return [outbound_email_rendered(email)[1] for email in emails]


def _link_in(text, part) -> str:
    return _path(re.search(rf"https?://\S+/candidate/{part}\S*/", text).group(0))


@pytest.fixture(autouse=True)
def _english(client, settings):
    # The factories' candidates read Indonesian; these tests read the English words.
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def offered():
    """Two admitted candidates of one round, each with a pending offer."""
    intake_round, nominations = admitted_round(2, accepted=False)
    cohort = Cohort.objects.get(intake_round=intake_round)
    services.offers_make(cohort=cohort, wave=1, now=timezone.now())
    for nomination in nominations:
        nomination.refresh_from_db()
    return nominations


# --- what the page shows ------------------------------------------------------------------------

def test_a_consented_candidate_sees_who_nominated_them_and_what_comes_next(client):
    nomination = consented_nomination()
    response = client.get(_page(nomination))
    body = response.content.decode()
    assert response.status_code == 200
    assert f"Nominated by {nomination.university.name}" in body
    assert "Consent given" in body and "What comes next" in body
    assert 'id="document-form"' in body  # nominations are open
    assert 'id="withdraw-start"' in body


def test_the_page_speaks_the_candidates_language(client, settings):
    del client.cookies[settings.LANGUAGE_COOKIE_NAME]
    nomination = consented_nomination(candidate_language="id")
    response = client.get(_page(nomination))
    assert response.status_code == 200
    assert 'lang="id"' in response.content.decode()


def test_a_not_eligible_candidate_sees_the_reasons_in_plain_words(client):
    nomination = consented_nomination()
    Nomination.objects.filter(pk=nomination.pk).update(
        is_eligible=False, eligibility_checked_at=timezone.now(),
        eligibility_reasons=[{"code": "gpa_missing", "params": {}}])
    body = client.get(_page(nomination)).content.decode()
    assert "Not eligible" in body and "No GPA is given." in body


def test_a_pending_offer_shows_its_track_and_deadline_in_the_candidates_time_zone(client, offered):
    nomination = offered[0]
    Nomination.objects.filter(pk=nomination.pk).update(time_zone="Asia/Ho_Chi_Minh")
    offer = Offer.objects.get(nomination=nomination)
    body = client.get(_page(nomination)).content.decode()
    assert 'id="offer"' in body and escape(str(offer.track)) in body
    assert "Asia/Ho_Chi_Minh" in body
    assert 'id="documents-read-only"' in body  # nominations are closed


def test_the_page_names_the_mentor_once_they_accepted(client, offered):
    nomination = offered[0]
    mentor = MentorFactory(full_name="Kim Seong-ho", email="kim@retired.example")
    assignment = MentorAssignment.objects.create(nomination=nomination, mentor=mentor,
                                                 status=MentorAssignment.Status.INVITED)
    assert "Kim Seong-ho" not in client.get(_page(nomination)).content.decode()
    assignment.status, assignment.responded_at = "accepted", timezone.now()
    assignment.save()
    body = client.get(_page(nomination)).content.decode()
    assert "Kim Seong-ho" in body and "kim@retired.example" in body


def test_the_page_shows_nothing_of_the_other_candidates(client, offered):
    mine, other = offered
    body = client.get(_page(mine)).content.decode()
    assert other.display_name not in body and other.email not in body


# --- the links it refuses ------------------------------------------------------------------------

def test_a_tampered_token_is_not_found(client):
    nomination = consented_nomination()
    token = _token(nomination)
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    assert client.get(reverse("candidate:page", args=[tampered])).status_code == 404
    # A token signed for another kind of link does not open the page either.
    forged = signing.dumps({"i": nomination.pk, "s": CANDIDATE_PAGE_LINK.fingerprint(nomination)},
                           salt="ecocycle.link.consent")
    assert client.get(reverse("candidate:page", args=[forged])).status_code == 404


def test_an_expired_token_is_gone_and_offers_a_new_link(client, settings):
    nomination = consented_nomination()
    path = _page(nomination)
    settings.ECOCYCLE_CANDIDATE_LINK_DAYS = 0
    response = client.get(path)
    assert response.status_code == 410
    assert reverse("candidate:link_request") in response.content.decode()


def test_a_token_of_another_nomination_opens_that_one_only(client, offered):
    mine, other = offered
    token = link_make(CANDIDATE_PAGE_LINK, mine)
    body = client.get(reverse("candidate:page", args=[token])).content.decode()
    assert mine.display_name in body and other.display_name not in body


# --- nothing of another candidate is reachable ---------------------------------------------------

def test_another_candidates_document_is_not_found_through_my_page(client):
    intake_round = open_round_with_tracks()
    mine = consented_nomination(intake_round=intake_round)
    other = consented_nomination(intake_round=intake_round)
    own = mine.documents.first()
    theirs = other.documents.first()
    token = _token(mine)
    response = client.get(reverse("candidate:document", args=[token, own.pk]))
    assert response.status_code == 200
    response = client.get(reverse("candidate:document", args=[token, theirs.pk]))
    assert response.status_code == 404


def test_another_candidates_offer_cannot_be_answered_through_my_page(client, offered):
    mine, other = offered
    theirs = Offer.objects.get(nomination=other)
    token = _token(mine)
    for answer in ("accept", "decline"):
        url = reverse("candidate:offer_answer", args=[token, theirs.pk, answer])
        assert client.get(url).status_code == 404
        assert client.post(url, {"reason": "visa"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "pending"


# --- the offer -----------------------------------------------------------------------------------

def test_accept_through_the_page_after_a_confirmation(client, offered):
    nomination = offered[0]
    offer = Offer.objects.get(nomination=nomination)
    url = reverse("candidate:offer_answer", args=[_token(nomination), offer.pk, "accept"])
    response = client.get(url)
    assert response.status_code == 200 and 'id="offer-accept-confirm"' in response.content.decode()
    offer.refresh_from_db()
    assert offer.status == "pending"  # opening the confirmation changed nothing
    response = client.post(url)
    assert response.status_code == 302
    offer.refresh_from_db()
    assert offer.status == "accepted" and offer.recorded_by is None
    entry = AuditEntry.objects.get(action="offer_accept")
    assert entry.actor is None and entry.actor_label == CANDIDATE
    body = client.get(_page(nomination)).content.decode()
    assert 'id="offer"' not in body and "Accepted" in body
    # Answered once: a second POST is refused on the page.
    assert client.post(url).status_code == 400


def test_decline_through_the_page_with_a_reason(client, offered):
    nomination = offered[0]
    offer = Offer.objects.get(nomination=nomination)
    url = reverse("candidate:offer_answer", args=[_token(nomination), offer.pk, "decline"])
    assert client.post(url, {"reason": "bored"}).status_code == 400  # not a reason offered
    response = client.post(url, {"reason": "other_offer", "note": "KAIST"})
    assert response.status_code == 302
    offer.refresh_from_db()
    assert (offer.status, offer.decline_reason, offer.decline_note) == (
        "declined", "other_offer", "KAIST")
    assert not CohortAdmission.objects.filter(nomination=nomination).exists()
    body = client.get(_page(nomination)).content.decode()
    assert "I accepted another offer" in body


# --- details -------------------------------------------------------------------------------------

def test_the_email_changes_only_through_the_link_sent_to_the_new_address(client):
    nomination = consented_nomination()
    old_email, old_page = nomination.email, _page(nomination)
    response = client.post(old_page, {"action": "email", "email": "new.me@example.org"})
    assert response.status_code == 302
    nomination.refresh_from_db()
    assert nomination.email == old_email  # not before the confirmation
    (confirmation,) = _emails_to("new.me@example.org", "candidate_email_confirm")
    confirm = _link_in(confirmation, "email/")
    response = client.get(confirm)
    assert response.status_code == 200 and "new.me@example.org" in response.content.decode()
    nomination.refresh_from_db()
    assert nomination.email == old_email  # opening the link changed nothing
    response = client.post(confirm)
    assert response.status_code == 200 and 'data-state="confirmed"' in response.content.decode()
    nomination.refresh_from_db()
    assert nomination.email == "new.me@example.org"
    assert nomination.consent_given_at is not None  # the candidate's own consent stays
    # The old page link is dead; the new one went to the new address, and the old was told.
    assert client.get(old_page).status_code == 410
    (page_email,) = _emails_to("new.me@example.org", "candidate_page_link")
    assert client.get(_link_in(page_email, "")).status_code == 200
    assert _emails_to(old_email, "candidate_email_changed")
    assert AuditEntry.objects.get(action="candidate_email_change").actor_label == CANDIDATE
    # The confirmation link works once.
    assert client.post(confirm).status_code != 302
    assert client.get(confirm).status_code in (200, 410)


def test_an_address_used_by_another_nomination_of_the_round_is_refused(client):
    intake_round = open_round_with_tracks()
    mine = consented_nomination(intake_round=intake_round)
    other = consented_nomination(intake_round=intake_round)
    client.post(_page(mine), {"action": "email", "email": other.email.upper()})
    (confirmation,) = _emails_to(other.email.upper(), "candidate_email_confirm")
    response = client.post(_link_in(confirmation, "email/"))
    assert response.status_code == 400
    assert "already used by another nomination" in response.content.decode()
    mine.refresh_from_db()
    assert mine.email != other.email


def test_a_bad_email_or_phone_is_refused_with_the_entry_kept(client):
    nomination = consented_nomination()
    response = client.post(_page(nomination), {"action": "email", "email": "not-an-address"})
    assert response.status_code == 400 and "not-an-address" in response.content.decode()
    response = client.post(_page(nomination), {"action": "phone", "phone": "call me"})
    body = response.content.decode()
    assert response.status_code == 400 and "6 to 15 digits" in body and "call me" in body
    response = client.post(_page(nomination), {"action": "phone", "phone": "+62 812 3456 7890"})
    assert response.status_code == 302
    nomination.refresh_from_db()
    assert nomination.phone == "+62 812 3456 7890"
    assert AuditEntry.objects.get(action="candidate_phone_change").actor_label == CANDIDATE


def test_documents_are_replaced_while_nominations_are_open_only(client, offered):
    nomination = consented_nomination()
    response = client.post(_page(nomination), {"action": "document", "kind": "cv",
                                               "file": pdf_file("new-cv.pdf")})
    assert response.status_code == 302
    assert nomination.documents.get(kind="cv").original_name == "new-cv.pdf"
    entry = AuditEntry.objects.filter(action="document_upload").latest("id")
    assert entry.actor is None and entry.actor_label == CANDIDATE
    closed = offered[0]
    response = client.post(_page(closed), {"action": "document", "kind": "cv",
                                           "file": pdf_file("late.pdf")})
    assert response.status_code == 400 and "deadline" in response.content.decode()
    assert not closed.documents.filter(original_name="late.pdf").exists()


# --- withdrawal ----------------------------------------------------------------------------------

def test_withdraw_after_a_confirmation_gives_the_seat_back_and_tells_the_coordinator(client,
                                                                                     offered):
    nomination = offered[0]
    coordinator = CoordinatorFactory(university=nomination.university)
    coordinator.user.language = "ko"
    coordinator.user.save()
    url = reverse("candidate:withdraw", args=[_token(nomination)])
    response = client.get(url)
    assert response.status_code == 200 and 'id="withdraw-confirm"' in response.content.decode()
    nomination.refresh_from_db()
    assert nomination.status == "submitted"
    assert client.post(url, {"reason": "Family"}).status_code == 302
    nomination.refresh_from_db()
    assert nomination.status == "withdrawn"
    assert Offer.objects.get(nomination=nomination).status == "withdrawn"
    assert not CohortAdmission.objects.filter(nomination=nomination).exists()
    told = OutboundEmail.objects.get(to=coordinator.user.email, topic="candidate_withdrawn")
    assert told.language == "ko"
    entry = AuditEntry.objects.get(action="nomination_withdraw")
    assert entry.actor_label == CANDIDATE and entry.after["reason"] == "Family"
    body = client.get(_page(nomination)).content.decode()
    assert "You withdrew your nomination" in body and 'id="withdraw-start"' not in body


# --- "email me my link" --------------------------------------------------------------------------

def test_the_link_request_answers_alike_for_known_and_unknown_addresses(
        client, django_capture_on_commit_callbacks):
    nomination = consented_nomination()
    url = reverse("candidate:link_request")
    assert client.get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        known = client.post(url, {"email": nomination.email.upper()})
    with django_capture_on_commit_callbacks(execute=True):
        unknown = client.post(url, {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 200
    strip = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')
    assert strip.sub("", known.content.decode()) == strip.sub("", unknown.content.decode())
    # Sent at once here (the outbox's sending ran on commit): read from what was sent.
    (sent,) = [m for m in mail.outbox if m.to == [nomination.email]]
    assert client.get(_link_in(sent.body, "")).status_code == 200
    assert not OutboundEmail.objects.filter(to="nobody@example.org").exists()


def test_the_link_request_is_rate_limited(client, settings):
    settings.ECOCYCLE_CANDIDATE_LINK_REQUESTS_PER_HOUR = 2
    url = reverse("candidate:link_request")
    codes = [client.post(url, {"email": f"x{i}@example.org"}).status_code for i in range(3)]
    assert codes == [200, 200, 429]


def test_the_consent_email_carries_the_page_link(client):
    nomination = submitted_nomination(via_services=True)
    (email,) = _emails_to(nomination.email, "consent_request")
    assert client.get(_link_in(email, "")).status_code == 200


def test_the_consent_reminder_carries_the_page_link_too(client):
    nomination = submitted_nomination(via_services=True)
    Nomination.objects.filter(pk=nomination.pk).update(
        consent_requested_at=timezone.now() - timedelta(days=10))
    assert services.consent_reminders_send() == 1
    (email,) = _emails_to(nomination.email, "consent_reminder")
    assert client.get(_link_in(email, "")).status_code == 200


def test_the_page_reads_a_fixed_number_of_queries(client, offered,
                                                  django_assert_max_num_queries):
    nomination = offered[0]
    path = _page(nomination)
    client.get(path)
    # The nomination, its coordinator's time zone, the milestones, cohort, offers, mentor,
    # enrolment and documents: whatever the round's size.
    with django_assert_max_num_queries(8):
        response = client.get(path)
    assert response.status_code == 200


def test_the_command_prints_a_candidates_link(client, capsys):
    nomination = consented_nomination()
    call_command("candidate_page_link", nomination.email.upper())
    out = capsys.readouterr().out
    link = re.search(r"https?://\S+/candidate/\S+/", out).group(0)
    assert client.get(_path(link)).status_code == 200


def test_a_candidate_not_placed_is_told_why_in_plain_words(client):
    intake_round, nominations = consented_round(2, seats=1, n_tracks=1)
    round_decide(intake_round)
    placed = set(CohortAdmission.objects.values_list("nomination_id", flat=True))
    (left_out,) = [n for n in nominations if n.pk not in placed]
    body = client.get(_page(left_out)).content.decode()
    assert "Not placed in this round" in body
    assert "all its seats went to candidates it ranked higher" in body
    assert "Nothing more in this round: you were not placed." in body
    assert 'id="offer"' not in body
