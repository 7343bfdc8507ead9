"""Offers: made in bulk for an approved cohort's admissions, answered once, and a seat given
back when an offer ends without being taken up."""

import importlib
from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.core import mail
from django.utils import timezone, translation

import candidates.migrations
from candidates import selectors, services
from candidates.models import Cohort, CohortAdmission, Nomination, Offer
from candidates.services.candidate_page import candidate_page_link
from ecocycle.exceptions import DomainError
from ecocycle.models import AuditEntry, OutboundEmail
from programs.calendar import moment
from students import selectors as student_selectors
from students import services as student_services
from tests.candidates.factories import (
    admitted_round,
    consented_round,
    offer_take_up,
    round_decide,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def cohort():
    intake_round, nominations = admitted_round(3, accepted=False)
    # Their emails read in English here (one test switches a candidate to Korean).
    Nomination.objects.filter(pk__in=[n.pk for n in nominations]).update(candidate_language="en")
    return Cohort.objects.get(intake_round=intake_round)


def test_offers_make_offers_each_admission_once_with_the_rounds_deadline(cohort):
    now = timezone.now()
    Offer.objects.filter(cohort=cohort).delete()
    made = services.offers_make(cohort=cohort, wave=1, now=now)
    assert made == 3 == Offer.objects.filter(cohort=cohort, status="pending").count()
    assert services.offers_make(cohort=cohort, wave=1, now=now) == 0
    offer = Offer.objects.filter(cohort=cohort).first()
    days = cohort.intake_round.offer_response_days
    assert offer.deadline == now + timedelta(days=days) and days == 14
    assert offer.track_id == CohortAdmission.objects.get(nomination=offer.nomination).track_id


def test_offers_make_only_the_nominations_named(cohort):
    Offer.objects.filter(cohort=cohort).delete()
    admission = CohortAdmission.objects.filter(cohort=cohort).first()
    made = services.offers_make(cohort=cohort, wave=2, now=timezone.now(),
                                nomination_ids=[admission.nomination_id])
    assert made == 1
    assert Offer.objects.get(cohort=cohort).wave == 2
    assert services.offers_make(cohort=cohort, wave=2, now=timezone.now(),
                                nomination_ids=[]) == 0


def _pending(cohort):
    Offer.objects.filter(cohort=cohort).delete()
    services.offers_make(cohort=cohort, wave=1, now=timezone.now())
    return Offer.objects.filter(cohort=cohort).order_by("id").first()


def test_accept_once_then_refused(cohort):
    offer = _pending(cohort)
    services.offer_accept(offer=offer)
    offer.refresh_from_db()
    assert offer.status == "accepted" and offer.responded_at
    assert AuditEntry.objects.filter(action="offer_accept").count() == 1
    with pytest.raises(DomainError):
        services.offer_accept(offer=offer)
    with pytest.raises(DomainError):
        services.offer_decline(offer=offer, reason="visa")


def test_decline_gives_the_seat_back(cohort):
    offer = _pending(cohort)
    services.offer_decline(offer=offer, reason="other_offer", note="  Took a place at KAIST ")
    offer.refresh_from_db()
    assert (offer.status, offer.decline_reason, offer.decline_note) == (
        "declined", "other_offer", "Took a place at KAIST")
    assert not CohortAdmission.objects.filter(nomination=offer.nomination).exists()
    assert AuditEntry.objects.filter(action="offer_declined").count() == 1


def test_decline_refuses_an_unknown_reason_and_a_passed_deadline(cohort):
    offer = _pending(cohort)
    with pytest.raises(DomainError):
        services.offer_decline(offer=offer, reason="bored")
    with pytest.raises(DomainError):
        services.offer_accept(offer=offer, now=offer.deadline + timedelta(seconds=1))
    assert CohortAdmission.objects.filter(nomination=offer.nomination).exists()


def test_the_candidates_page_link_dies_when_their_email_changes(client, cohort):
    nomination = CohortAdmission.objects.filter(cohort=cohort).first().nomination
    link = candidate_page_link(nomination)
    response = client.get(link)
    assert response.status_code == 200 and nomination.display_name in response.content.decode()
    nomination.email_normalised = "someone.else@example.org"
    nomination.save()
    assert client.get(link).status_code != 200


# --- approval, reopening and enrolment --------------------------------------------------------

def test_approval_offers_each_admitted_candidate_and_emails_deadline_and_link(
        django_capture_on_commit_callbacks):
    intake_round, nominations = consented_round(3)
    nomination = nominations[0]
    Nomination.objects.filter(pk=nomination.pk).update(time_zone="Asia/Jakarta",
                                                       candidate_language="id")
    with django_capture_on_commit_callbacks(execute=True):
        cohort = round_decide(intake_round)
    admitted = CohortAdmission.objects.filter(cohort=cohort)
    offers = Offer.objects.filter(cohort=cohort, status="pending", wave=1)
    assert offers.count() == admitted.count() == 3
    assert AuditEntry.objects.get(action="cohort_approve").after["offered"] == 3
    nomination.refresh_from_db()
    offer = offers.get(nomination=nomination)
    email = OutboundEmail.objects.get(to=nomination.email, topic="cohort_candidate_result")
    with timezone.override("Asia/Jakarta"), translation.override("id"):
        deadline = moment(offer.deadline)
    assert "WIB" in deadline and deadline in email.body_text and deadline in email.body_html
    # The link to their page: kept out of the stored email, put back at sending.
    assert "[[link:1]]" in email.body_text and 'href="[[link:1]]"' in email.body_html
    sent = next(message for message in mail.outbox if message.to == [nomination.email]
                and deadline in message.body)
    assert candidate_page_link(nomination) in sent.body


def test_reopening_cancels_pending_offers_and_is_refused_once_one_is_accepted(staff_user):
    cohort = Cohort.objects.get(intake_round=admitted_round(3, accepted=False)[0])
    first = Offer.objects.filter(cohort=cohort).order_by("id").first()
    services.cohort_reopen(actor=staff_user, cohort=cohort, reason="A seat was missing")
    assert set(Offer.objects.values_list("status", flat=True)) == {"cancelled"}
    with pytest.raises(DomainError):
        services.offer_accept(offer=first)

    cohort = Cohort.objects.get(intake_round=admitted_round(3, accepted=False)[0])
    services.offer_accept(offer=Offer.objects.filter(cohort=cohort).first())
    refusal = services.cohort_reopen_refusal(cohort=cohort)
    assert "1 candidate of this cohort has accepted their offer" in refusal
    with pytest.raises(DomainError, match="accepted their offer"):
        services.cohort_reopen(actor=staff_user, cohort=cohort, reason="Too late")
    assert Cohort.objects.get(pk=cohort.pk).status == "approved"


def test_enrolment_only_after_the_offer_is_accepted(staff_user):
    intake_round, _nominations = admitted_round(2, accepted=False)
    admission = CohortAdmission.objects.select_related("cohort", "track").order_by("id").first()
    assert not student_selectors.admissions_not_enrolled(intake_round=intake_round).exists()
    with pytest.raises(DomainError, match="has not accepted the offer"):
        student_services.enrolment_create(actor=staff_user, admission=admission,
                                          semester="2027 Spring",
                                          enrolled_on=timezone.localdate())
    offer_take_up(admission)
    assert list(student_selectors.admissions_not_enrolled(intake_round=intake_round)) == [
        admission]
    student_services.enrolment_create(actor=staff_user, admission=admission,
                                      semester="2027 Spring", enrolled_on=timezone.localdate())
    assert list(selectors.admissions_taken_up(intake_round=intake_round)) == [admission]
    assert list(selectors.taken_up_nominations(intake_round)) == [admission.nomination]


# --- answers, extension, no-show: audited, and the candidate told ----------------------------

def test_the_candidate_is_told_of_their_answer_in_their_language(cohort):
    offer = _pending(cohort)
    Nomination.objects.filter(pk=offer.nomination_id).update(candidate_language="ko")
    services.offer_accept(offer=offer)
    email = OutboundEmail.objects.get(topic="offer_accepted")
    assert email.to == offer.nomination.email and email.language == "ko"
    assert "you have accepted your place" not in email.body_text and "수락" in email.body_text
    other = Offer.objects.filter(cohort=cohort, status="pending").first()
    services.offer_decline(offer=other, reason="funding")
    email = OutboundEmail.objects.get(topic="offer_declined")
    assert "you decline your place" in email.body_text


def test_staff_record_a_decline_even_of_an_accepted_offer(cohort, staff_user):
    offer = _pending(cohort)
    services.offer_accept(offer=offer)
    services.offer_decline(offer=offer, actor=staff_user, reason="other_offer",
                           note="By email on Monday")
    offer.refresh_from_db()
    assert (offer.status, offer.recorded_by) == ("declined", staff_user)
    assert "KITECH staff have recorded" in OutboundEmail.objects.get(
        topic="offer_declined").body_text
    assert AuditEntry.objects.get(action="offer_declined").actor == staff_user


def test_extend_moves_the_deadline_within_bounds_and_tells_the_candidate_not_why(
        cohort, staff_user):
    offer = _pending(cohort)
    now = timezone.now()
    for deadline, words in ((now - timedelta(hours=1), "in the future"),
                            (offer.deadline - timedelta(hours=1), "later than the current"),
                            (now + timedelta(days=91), "at most 90 days")):
        with pytest.raises(DomainError, match=words):
            services.offer_extend(actor=staff_user, offer=offer, deadline=deadline,
                                  reason="Visa", now=now)
    with pytest.raises(DomainError, match="reason"):
        services.offer_extend(actor=staff_user, offer=offer,
                              deadline=offer.deadline + timedelta(days=3), reason=" ")
    new = offer.deadline + timedelta(days=3)
    services.offer_extend(actor=staff_user, offer=offer, deadline=new,
                          reason="Their embassy was closed", now=now)
    offer.refresh_from_db()
    assert offer.deadline == new and offer.status == "pending"
    entry = AuditEntry.objects.get(action="offer_extend")
    assert entry.actor == staff_user and entry.after["reason"] == "Their embassy was closed"
    email = OutboundEmail.objects.get(topic="offer_extended")
    assert "more time" in email.body_text and "embassy" not in email.body_text
    services.offer_accept(offer=offer)
    with pytest.raises(DomainError, match="Only an offer waiting"):
        services.offer_extend(actor=staff_user, offer=offer, deadline=new + timedelta(days=1),
                              reason="Again")


def test_an_overdue_offer_not_yet_lapsed_can_still_be_extended(cohort, staff_user):
    offer = _pending(cohort)
    now = offer.deadline + timedelta(hours=2)
    services.offer_extend(actor=staff_user, offer=offer, deadline=now + timedelta(days=2),
                          reason="Asked for time before the deadline", now=now)
    services.offers_lapse(now=now)
    offer.refresh_from_db()
    assert offer.status == "pending"


def test_no_show_only_for_an_accepted_offer_before_enrolment(cohort, staff_user):
    offer = _pending(cohort)
    with pytest.raises(DomainError, match="Only an accepted offer"):
        services.offer_no_show(actor=staff_user, offer=offer, reason="Did not come")
    services.offer_accept(offer=offer)
    with pytest.raises(DomainError, match="reason"):
        services.offer_no_show(actor=staff_user, offer=offer, reason="")
    services.offer_no_show(actor=staff_user, offer=offer, reason="Did not come")
    offer.refresh_from_db()
    assert (offer.status, offer.decline_note) == ("no_show", "Did not come")
    assert not CohortAdmission.objects.filter(nomination=offer.nomination).exists()
    assert AuditEntry.objects.get(action="offer_no_show").actor == staff_user
    assert OutboundEmail.objects.filter(topic="offer_no_show", to=offer.nomination.email).exists()

    enrolled = Offer.objects.filter(cohort=cohort, status="pending").first()
    services.offer_accept(offer=enrolled)
    admission = CohortAdmission.objects.select_related("cohort", "track").get(
        nomination=enrolled.nomination)
    student_services.enrolment_create(actor=staff_user, admission=admission,
                                      semester="2027 Spring", enrolled_on=timezone.localdate())
    with pytest.raises(DomainError, match="enrolled already"):
        services.offer_no_show(actor=staff_user, offer=enrolled, reason="Left")


def test_admissions_approved_before_offers_existed_get_an_accepted_offer():
    # Found by its name: the number is given at merge.
    path = next(Path(candidates.migrations.__file__).parent.glob(
        "*_offers_for_earlier_admissions.py"))
    migration = importlib.import_module(f"candidates.migrations.{path.stem}")
    intake_round, _nominations = admitted_round(3, accepted=False)
    cohort = Cohort.objects.get(intake_round=intake_round)
    Offer.objects.all().delete()
    migration.accepted_offers(django_apps, None)
    assert Offer.objects.filter(cohort=cohort, status="accepted").count() == 3
    assert {offer.responded_at for offer in Offer.objects.all()} == {cohort.approved_at}
    migration.accepted_offers(django_apps, None)  # once per admission
    assert Offer.objects.count() == 3
    assert selectors.admissions_taken_up(intake_round=intake_round).count() == 3


def test_staff_cannot_record_a_decline_of_an_enrolled_student(staff_user):
    _round, (nomination,) = admitted_round(1)  # accepted
    admission = CohortAdmission.objects.get(nomination=nomination)
    student_services.enrolment_create(actor=None, admission=admission, semester="2027 Spring",
                                      enrolled_on=timezone.localdate())
    offer = Offer.objects.get(nomination=nomination)
    with pytest.raises(DomainError, match="enrolled already"):
        services.offer_decline(offer=offer, actor=staff_user, reason="personal")
    offer.refresh_from_db()
    assert offer.status == "accepted" and CohortAdmission.objects.filter(pk=admission.pk).exists()
