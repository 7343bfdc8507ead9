"""The scheduled jobs of offers: the nightly lapse (idempotent, and safe to run twice at once)
and the reminder before a deadline (once per offer)."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from candidates import services
from candidates.models import Cohort, CohortAdmission, Nomination, Offer
from candidates.tasks import follow_up_offers
from ecocycle.models import AuditEntry, OutboundEmail
from hub.services import nightly_matching
from tests.candidates.factories import admitted_round

pytestmark = pytest.mark.django_db


def _round(n=4):
    intake_round, nominations = admitted_round(n, accepted=False)
    # Their emails read in English here.
    Nomination.objects.filter(pk__in=[n.pk for n in nominations]).update(candidate_language="en")
    return Cohort.objects.get(intake_round=intake_round), nominations


def _past_deadline(cohort, count):
    """The first `count` offers of the cohort (by id) are past their deadline."""
    ids = list(Offer.objects.filter(cohort=cohort).order_by("id").values_list("pk", flat=True))
    Offer.objects.filter(pk__in=ids[:count]).update(
        deadline=timezone.now() - timedelta(minutes=5))
    return ids[:count]


def test_lapse_ends_offers_past_deadline_gives_the_seats_back_and_tells_each_candidate():
    cohort, _nominations = _round(4)
    lapsed_ids = _past_deadline(cohort, 2)
    services.offer_accept(offer=Offer.objects.exclude(pk__in=lapsed_ids).order_by("id").first())
    assert services.offers_lapse() == 2
    assert set(Offer.objects.filter(pk__in=lapsed_ids).values_list("status", flat=True)) == {
        "lapsed"}
    assert Offer.objects.filter(status="pending").count() == 1
    assert Offer.objects.filter(status="accepted").count() == 1
    lapsed = Offer.objects.filter(pk__in=lapsed_ids).select_related("nomination")
    assert not CohortAdmission.objects.filter(
        nomination__in=[offer.nomination for offer in lapsed]).exists()
    assert CohortAdmission.objects.count() == 2
    entries = AuditEntry.objects.filter(action="offer_lapse")
    assert entries.count() == 2
    assert {entry.actor_label for entry in entries} == {"offer deadlines job"}
    emails = OutboundEmail.objects.filter(topic="offer_lapsed")
    assert sorted(emails.values_list("to", flat=True)) == sorted(
        offer.nomination.email for offer in lapsed)
    body = emails.first().body_text
    assert "has lapsed" in body and "[[link:1]]" in body  # the page's link, kept out of storage


def test_lapse_twice_changes_nothing_more():
    cohort, _nominations = _round(3)
    _past_deadline(cohort, 3)
    assert services.offers_lapse(batch_size=2) == 3  # more than one batch
    emails, audit = OutboundEmail.objects.count(), AuditEntry.objects.count()
    assert services.offers_lapse() == 0
    assert (OutboundEmail.objects.count(), AuditEntry.objects.count()) == (emails, audit)


def test_a_pending_offer_before_its_deadline_and_an_accepted_one_never_lapse():
    cohort, _nominations = _round(2)
    first, second = Offer.objects.filter(cohort=cohort).order_by("id")
    services.offer_accept(offer=first)
    Offer.objects.filter(pk=first.pk).update(deadline=timezone.now() - timedelta(days=1))
    assert services.offers_lapse() == 0
    assert services.offers_lapse(now=second.deadline - timedelta(seconds=1)) == 0
    assert services.offers_lapse(now=second.deadline) == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections")
@pytest.mark.django_db(transaction=True)
def test_two_lapse_jobs_at_once_lapse_each_offer_once():
    cohort, _nominations = _round(6)
    _past_deadline(cohort, 6)
    barrier, errors, counts = threading.Barrier(2), [], []

    def lapse():
        try:
            barrier.wait(timeout=10)
            counts.append(services.offers_lapse(batch_size=2))
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()  # the proxy resolves to this thread's own connection

    threads = [threading.Thread(target=lapse) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sum(counts) == 6
    assert Offer.objects.filter(status="lapsed").count() == 6
    assert AuditEntry.objects.filter(action="offer_lapse").count() == 6
    assert OutboundEmail.objects.filter(topic="offer_lapsed").count() == 6
    assert not CohortAdmission.objects.exists()


@override_settings(ECOCYCLE_OFFER_REMINDER_DAYS=3)
def test_reminder_goes_once_within_the_days_before_the_deadline():
    cohort, _nominations = _round(3)
    offers = list(Offer.objects.filter(cohort=cohort).order_by("id"))
    deadline = offers[0].deadline
    services.offer_accept(offer=offers[2])
    # Four days before: too early.
    assert services.offers_remind(now=deadline - timedelta(days=4)) == 0
    two_days_before = deadline - timedelta(days=2)
    assert services.offers_remind(now=two_days_before) == 2
    assert services.offers_remind(now=two_days_before + timedelta(hours=12)) == 0
    emails = OutboundEmail.objects.filter(topic="offer_reminder")
    assert emails.count() == 2
    assert "Reminder: please answer your offer" in emails.first().subject
    assert set(Offer.objects.filter(reminded_at__isnull=False).values_list("pk", flat=True)) == {
        offers[0].pk, offers[1].pk}


@override_settings(ECOCYCLE_OFFER_REMINDER_DAYS=3)
def test_an_extension_reminds_again_before_the_new_deadline(staff_user):
    cohort, _nominations = _round(1)
    offer = Offer.objects.get(cohort=cohort)
    services.offers_remind(now=offer.deadline - timedelta(days=1))
    now = offer.deadline - timedelta(hours=12)
    services.offer_extend(actor=staff_user, offer=offer, deadline=offer.deadline
                          + timedelta(days=10), reason="Visa office closed", now=now)
    offer.refresh_from_db()
    assert offer.reminded_at is None
    assert services.offers_remind(now=offer.deadline - timedelta(days=2)) == 1


def test_a_new_offer_is_not_reminded_on_its_first_day():
    cohort, _nominations = _round(1)
    offer = Offer.objects.get(cohort=cohort)
    Offer.objects.filter(pk=offer.pk).update(deadline=offer.made_at + timedelta(days=2))
    assert services.offers_remind(now=offer.made_at + timedelta(hours=1)) == 0
    assert services.offers_remind(now=offer.made_at + timedelta(days=1, hours=1)) == 1


def test_the_task_and_the_nightly_job_lapse_offers():
    cohort, _nominations = _round(2)
    _past_deadline(cohort, 1)
    assert nightly_matching()["offers_lapsed"] == 1
    _past_deadline(cohort, 2)
    assert follow_up_offers() == {"lapsed": 1, "reminded": 0}
