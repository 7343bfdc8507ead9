"""Offers: made in bulk for an approved cohort's admissions, answered once, and a seat given
back when an offer ends without being taken up."""

from datetime import timedelta

import pytest
from django.utils import timezone

from candidates import services
from candidates.models import Cohort, CohortAdmission, Offer
from candidates.services.candidate_page import candidate_page_link
from ecocycle.exceptions import DomainError
from ecocycle.models import AuditEntry
from tests.candidates.factories import admitted_round

pytestmark = pytest.mark.django_db


@pytest.fixture
def cohort():
    intake_round, _nominations = admitted_round(3, accepted=False)
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
