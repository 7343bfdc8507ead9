"""Staff's page of a round's offers: the list by status, and one offer's extension, decline
and no-show; KITECH staff only."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from candidates import services
from candidates.models import Cohort, Offer
from ecocycle.models import AuditEntry, OutboundEmail
from hub import offer_views
from tests.candidates.factories import admitted_round

pytestmark = pytest.mark.django_db


@pytest.fixture
def offers():
    intake_round, _nominations = admitted_round(4, accepted=False)
    offers = list(Offer.objects.filter(cohort__intake_round=intake_round).order_by("id"))
    services.offer_accept(offer=offers[1])
    services.offer_decline(offer=offers[2], reason="visa")
    return intake_round, offers


def _action(offer, action):
    return reverse("staff_rounds:round_offer_action",
                   args=[offer.cohort.intake_round_id, offer.pk, action])


def test_the_list_shows_every_offer_and_filters_by_status(client, staff_user, offers):
    intake_round, made = offers
    client.force_login(staff_user)
    url = reverse("staff_rounds:round_offers", args=[intake_round.pk])
    html = client.get(url).content.decode()
    for offer in made:
        assert f'id="offer-{offer.pk}"' in html
    assert 'data-status="all">4<' in html and 'data-status="pending">2<' in html
    html = client.get(url, {"status": "declined"}).content.decode()
    assert f'id="offer-{made[2].pk}"' in html and f'id="offer-{made[0].pk}"' not in html
    # An unknown status shows them all.
    assert f'id="offer-{made[0].pk}"' in client.get(url, {"status": "bogus"}).content.decode()
    overview = client.get(reverse("staff_rounds:round_overview", args=[intake_round.pk]))
    assert url in overview.content.decode()


def test_the_list_is_paginated_in_the_database(client, staff_user, offers, monkeypatch,
                                               django_assert_max_num_queries):
    intake_round, _made = offers
    monkeypatch.setattr(offer_views, "OFFERS_PAGE_SIZE", 3)
    client.force_login(staff_user)
    url = reverse("staff_rounds:round_offers", args=[intake_round.pk])
    with django_assert_max_num_queries(14):
        first = client.get(url).content.decode()
    second = client.get(url, {"page": 2}).content.decode()
    rows = re.compile(r'<tr id="offer-\d+"')
    assert len(rows.findall(first)) == 3 and len(rows.findall(second)) == 1
    assert "page 1 of 2" in first


def test_only_staff_see_the_offers(client, coordinator, offers):
    intake_round, made = offers
    pages = [reverse("staff_rounds:round_offers", args=[intake_round.pk]),
             reverse("staff_rounds:round_offer", args=[intake_round.pk, made[0].pk])]
    for url in pages:
        assert client.get(url).status_code == 302  # to sign in
    client.force_login(coordinator.user)
    for url in pages:
        assert client.get(url).status_code == 403
    response = client.post(_action(made[0], "extend"), {
        "deadline": (timezone.localtime() + timedelta(days=20)).strftime("%Y-%m-%dT%H:%M"),
        "reason": "x"})
    assert response.status_code == 403
    assert not AuditEntry.objects.filter(action="offer_extend").exists()


def test_an_offer_of_another_round_or_an_unknown_action_is_not_found(client, staff_user,
                                                                     offers):
    _intake_round, made = offers
    other, _nominations = admitted_round(1, accepted=False)
    client.force_login(staff_user)
    assert client.get(reverse("staff_rounds:round_offer",
                              args=[other.pk, made[0].pk])).status_code == 404
    assert client.post(_action(made[0], "delete"), {}).status_code == 404


def test_staff_extend_a_deadline_and_a_refusal_keeps_what_was_typed(client, staff_user,
                                                                    offers):
    _intake_round, made = offers
    offer = made[0]
    client.force_login(staff_user)
    page = client.get(reverse("staff_rounds:round_offer",
                              args=[offer.cohort.intake_round_id, offer.pk])).content.decode()
    assert 'id="offer-extend"' in page and 'id="offer-decline"' in page
    assert 'id="offer-no-show"' not in page
    too_late = (timezone.localtime() + timedelta(days=120)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(_action(offer, "extend"), {"deadline": too_late,
                                                      "reason": "Visa appointment"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "at most 90 days from now" in html
    assert too_late in html and "Visa appointment" in html
    new = (timezone.localtime(offer.deadline) + timedelta(days=5)).replace(second=0,
                                                                           microsecond=0)
    response = client.post(_action(offer, "extend"), {
        "deadline": new.strftime("%Y-%m-%dT%H:%M"), "reason": "Visa appointment"}, follow=True)
    assert response.status_code == 200 and "to answer; they are told by email" in (
        response.content.decode())
    offer.refresh_from_db()
    assert offer.deadline == new
    assert OutboundEmail.objects.filter(topic="offer_extended").count() == 1


def test_staff_record_a_decline_and_a_no_show(client, staff_user, offers):
    _intake_round, made = offers
    client.force_login(staff_user)
    response = client.post(_action(made[0], "decline"), {"reason": "other_offer",
                                                         "note": "Phoned on Monday"})
    assert response.status_code == 302
    made[0].refresh_from_db()
    assert (made[0].status, made[0].recorded_by, made[0].decline_note) == (
        "declined", staff_user, "Phoned on Monday")
    response = client.post(_action(made[1], "no-show"), {"reason": ""})
    assert response.status_code == 400 and "Give the reason" in response.content.decode()
    response = client.post(_action(made[1], "no-show"), {"reason": "Did not arrive"})
    assert response.status_code == 302
    made[1].refresh_from_db()
    assert made[1].status == "no_show"
    # An ended offer offers no action, and a stale form is refused in words.
    page = client.get(reverse("staff_rounds:round_offer",
                              args=[made[1].cohort.intake_round_id, made[1].pk]))
    assert 'id="no-action"' in page.content.decode()
    response = client.post(_action(made[1], "no-show"), {"reason": "Again"})
    assert response.status_code == 400 and "Only an accepted offer" in (
        response.content.decode())
    assert Cohort.objects.get(pk=made[1].cohort_id).status == "approved"
