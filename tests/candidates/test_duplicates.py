"""The cross-university duplicate check (issue 14): a refused submission tells the other
university nothing, emails nobody, alerts staff; and every door obeys a per-coordinator
submission rate limit."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from candidates import services
from candidates.models import DuplicateAttempt, Nomination
from ecocycle.models import AuditEntry, OutboundEmail
from hub.digest import DUPLICATES, staff_digest_lines
from tests.candidates.factories import (
    complete_nomination,
    open_round_with_tracks,
    submitted_nomination,
)
from tests.programs.factories import CoordinatorFactory

pytestmark = pytest.mark.django_db

PASSPORT, EMAIL = "B7654321", "probed.person@student.example"


@pytest.fixture
def probe():
    """A person nominated by one university, and another university's draft of the same
    passport, with an address of its own."""
    intake_round = open_round_with_tracks()
    first = submitted_nomination(intake_round=intake_round, passport_number=PASSPORT,
                                 email=EMAIL, via_services=True)
    other = CoordinatorFactory()
    second = complete_nomination(coordinator=other, intake_round=intake_round,
                                 passport_number=PASSPORT, email="prober@elsewhere.example")
    return {"first": first, "second": second, "coordinator": other}


def _emails_to(address: str) -> int:
    return OutboundEmail.objects.filter(to__iexact=address).count()


def test_a_refused_duplicate_says_only_that_staff_will_look_into_it(probe):
    second = probe["second"]
    with pytest.raises(ValidationError) as excinfo:
        services.nomination_submit(actor=probe["coordinator"].user, nomination=second)
    message = " ".join(excinfo.value.messages)
    assert "cannot be nominated again" in message and "staff" in message
    for leak in ("passport", "email", "name and date of birth", "already been nominated",
                 "this round", probe["first"].university.name):
        assert leak not in message
    second.refresh_from_db()
    assert second.status == Nomination.Status.DRAFT


def test_a_refused_duplicate_emails_nobody_and_alerts_staff(probe):
    before = {EMAIL: _emails_to(EMAIL), "prober": _emails_to("prober@elsewhere.example")}
    since = timezone.now() - timedelta(seconds=1)
    with pytest.raises(ValidationError):
        services.nomination_submit(actor=probe["coordinator"].user, nomination=probe["second"])
    assert _emails_to(EMAIL) == before[EMAIL]
    assert _emails_to("prober@elsewhere.example") == before["prober"]
    assert DuplicateAttempt.objects.filter(nomination=probe["second"]).count() == 1
    assert AuditEntry.objects.filter(action="nomination_duplicate_refused").count() == 1
    lines = staff_digest_lines(since=since, until=timezone.now() + timedelta(seconds=1))
    assert [line.count for line in lines if line.kind == DUPLICATES] == [1]


def test_an_edit_that_makes_a_duplicate_is_refused_alike_and_recorded(probe):
    third = submitted_nomination(coordinator=probe["coordinator"],
                                 intake_round=probe["first"].intake_round,
                                 passport_number="C1111111", email="third@elsewhere.example")
    with pytest.raises(ValidationError) as excinfo:
        services.nomination_update(actor=probe["coordinator"].user, nomination=third,
                                   data={"passport_number": PASSPORT})
    assert "cannot be nominated again" in " ".join(excinfo.value.messages)
    assert "passport" not in " ".join(excinfo.value.messages)
    assert DuplicateAttempt.objects.filter(nomination=third).count() == 1
    assert _emails_to(EMAIL) == 1  # the first nomination's own consent request only


def test_the_page_shows_the_neutral_message(probe, client):
    client.force_login(probe["coordinator"].user)
    response = client.post(reverse("candidates:nomination_submit", args=[probe["second"].pk]),
                           follow=True)
    body = response.content.decode()
    assert "cannot be nominated again" in body and "same passport" not in body


def test_the_api_shows_the_neutral_message(probe):
    client = APIClient()
    key = services.api_token_create(actor=probe["coordinator"].user,
                                    user=probe["coordinator"].user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = client.post(reverse("api:nomination_submit", args=[probe["second"].pk]))
    assert response.status_code == 400
    assert "cannot be nominated again" in response.content.decode()
    assert "passport" not in response.content.decode()


# --- the rate limit -----------------------------------------------------------------------------

@pytest.fixture
def busy(settings):
    """A coordinator who has used up an hour's submissions (2), and a third draft."""
    settings.ECOCYCLE_SUBMISSIONS_PER_HOUR = 2
    coordinator = CoordinatorFactory()
    intake_round = open_round_with_tracks()
    for _ in range(2):
        submitted_nomination(coordinator=coordinator, intake_round=intake_round,
                             via_services=True)
    draft = complete_nomination(coordinator=coordinator, intake_round=intake_round)
    return {"coordinator": coordinator, "draft": draft}


def test_the_service_refuses_submissions_beyond_the_hourly_limit(busy):
    with pytest.raises(ValidationError) as excinfo:
        services.nomination_submit(actor=busy["coordinator"].user, nomination=busy["draft"])
    assert "2 nominations in the last hour" in " ".join(excinfo.value.messages)
    busy["draft"].refresh_from_db()
    assert busy["draft"].status == Nomination.Status.DRAFT


def test_refused_duplicates_count_towards_the_limit(probe, settings):
    settings.ECOCYCLE_SUBMISSIONS_PER_HOUR = 1
    user = probe["coordinator"].user
    with pytest.raises(ValidationError, match="cannot be nominated again"):
        services.nomination_submit(actor=user, nomination=probe["second"])
    with pytest.raises(ValidationError, match="in the last hour"):
        services.nomination_submit(actor=user, nomination=probe["second"])
    assert DuplicateAttempt.objects.count() == 1


def test_the_limit_is_per_coordinator_and_per_hour(busy):
    other = CoordinatorFactory()
    theirs = complete_nomination(coordinator=other, intake_round=busy["draft"].intake_round)
    assert services.nomination_submit(actor=other.user, nomination=theirs).status == "submitted"
    AuditEntry.objects.filter(actor=busy["coordinator"].user).update(
        created_at=timezone.now() - timedelta(minutes=61))
    done = services.nomination_submit(actor=busy["coordinator"].user, nomination=busy["draft"])
    assert done.status == "submitted"


def test_the_page_obeys_the_limit(busy, client):
    client.force_login(busy["coordinator"].user)
    response = client.post(reverse("candidates:nomination_submit", args=[busy["draft"].pk]),
                           follow=True)
    assert "in the last hour" in response.content.decode()


def test_the_api_obeys_the_limit(busy):
    client = APIClient()
    user = busy["coordinator"].user
    key = services.api_token_create(actor=user, user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = client.post(reverse("api:nomination_submit", args=[busy["draft"].pk]))
    assert response.status_code == 400 and "in the last hour" in response.content.decode()
