"""The coordinator's list, the API list and a nomination's detail cost the same number of
queries whatever the number of nominations (issue 16): measured at two sizes of data."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from candidates import services
from candidates.models import Nomination
from tests.candidates.factories import (
    NominationFactory,
    complete_nomination,
    open_round_with_tracks,
)
from tests.programs.factories import CoordinatorFactory, ProgramUniversityFactory

pytestmark = pytest.mark.django_db

# The most each may cost (session and user included); the same at both sizes.
MOST = {"list": 10, "api_list": 7, "detail": 11, "api_detail": 10}


def _world(n: int):
    """A coordinator with `n` nominations (some complete, with ranked tracks, courses and
    documents; the rest drafts), and another university's nominations beside them."""
    intake_round = open_round_with_tracks()
    coordinator = CoordinatorFactory()
    ProgramUniversityFactory(program=intake_round.program, university=coordinator.university,
                             nomination_quota=1000)
    complete = [complete_nomination(coordinator=coordinator, intake_round=intake_round,
                                    via_services=False) for _ in range(min(n, 5))]
    NominationFactory.create_batch(n - len(complete), intake_round=intake_round,
                                   university=coordinator.university)
    NominationFactory.create_batch(3, intake_round=intake_round)  # another university's
    return coordinator, complete[0]


def _counts(coordinator, nomination) -> dict[str, int]:
    page = APIClient()
    page.force_login(coordinator.user)
    api = APIClient()
    key = services.api_token_create(actor=coordinator.user, user=coordinator.user)
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    requests = {
        "list": (page, reverse("candidates:coordinator_home")),
        "api_list": (api, reverse("api:nomination_list")),
        "detail": (page, reverse("candidates:nomination_detail", args=[nomination.pk])),
        "api_detail": (api, reverse("api:nomination_detail", args=[nomination.pk])),
    }
    counts = {}
    for name, (client, url) in requests.items():
        client.get(url)  # the token's first use is recorded once a minute: not counted
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        counts[name] = len(queries)
    return counts


def test_list_and_detail_queries_do_not_grow_with_the_nominations():
    small = _counts(*_world(4))
    large = _counts(*_world(60))
    assert large == small, (small, large)
    for name, most in MOST.items():
        assert small[name] <= most, (name, small[name])


def test_the_list_pages_in_the_database():
    coordinator, _nomination = _world(30)
    page = APIClient()
    page.force_login(coordinator.user)
    with CaptureQueriesContext(connection) as queries:
        response = page.get(reverse("candidates:coordinator_home"), {"page": 2})
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 5
    listing = [q["sql"] for q in queries if 'FROM "candidates_nomination"' in q["sql"]
               and "LIMIT" in q["sql"]]
    assert listing and listing[0].endswith("LIMIT 5 OFFSET 25")  # the rows of page 2 only
    mine = Nomination.objects.filter(university=coordinator.university).count()
    assert response.context["page"].paginator.count == mine == 30

