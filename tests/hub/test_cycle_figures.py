"""The public /cycle/ page and the staff's cycle figures are read from the cache (issue 16): the
database counts the cycle again only when the report is old, or a while after what it counts
changed; never once per visitor."""

from unittest import mock

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from candidates.models import Nomination
from hub import cycle_figures
from tests.candidates.factories import submitted_nomination

pytestmark = pytest.mark.django_db


def _nominated(client) -> int:
    """The nominations the public page counts, over its program rows."""
    response = client.get(reverse("cycle:public"))
    assert response.status_code == 200
    return sum(entry["row"].figures.nominated for entry in response.context["program_rows"])


@pytest.fixture
def clock():
    """hub.cycle_figures' clock, moved by hand."""
    now = [1_000_000.0]
    with mock.patch.object(cycle_figures.time, "time", side_effect=lambda: now[0]):
        yield now


def test_visitors_are_served_from_the_cache(client, clock):
    for _ in range(3):
        submitted_nomination()
    assert _nominated(client) == 3
    with CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            assert _nominated(client) == 3
    assert len(queries) == 0


def test_a_change_shows_after_the_minimum_age_and_anything_after_the_maximum(
        client, clock, django_capture_on_commit_callbacks):
    nomination = submitted_nomination()
    assert _nominated(client) == 1
    with django_capture_on_commit_callbacks(execute=True):
        submitted_nomination(intake_round=nomination.intake_round)  # saved: the version moves
    clock[0] += cycle_figures.CYCLE_FIGURES_MIN_AGE - 1
    assert _nominated(client) == 1  # a burst of changes is counted once, a little later
    clock[0] += 2
    assert _nominated(client) == 2
    # A bulk write sends no signal: the maximum age shows it.
    Nomination.objects.filter(pk=nomination.pk).update(status=Nomination.Status.DRAFT)
    clock[0] += cycle_figures.CYCLE_FIGURES_MAX_AGE - 1
    assert _nominated(client) == 2
    clock[0] += 2
    assert _nominated(client) == 1


def test_while_another_process_counts_the_last_report_is_served(client, clock):
    submitted_nomination()
    assert _nominated(client) == 1
    clock[0] += cycle_figures.CYCLE_FIGURES_MAX_AGE + 1
    submitted_nomination()
    key = cycle_figures._key(None, None)
    assert cache.add(f"{key}:counting", 1)  # another process is counting
    with CaptureQueriesContext(connection) as queries:
        assert _nominated(client) == 1
    assert len(queries) == 0
    cache.delete(f"{key}:counting")
    assert _nominated(client) == 2


def test_the_staff_dashboard_says_when_its_figures_were_counted(client, staff_user, clock):
    submitted_nomination()
    client.force_login(staff_user)
    url = reverse("staff_cycle:dashboard")
    first = client.get(url)
    assert first.status_code == 200 and first.context["figures"].nominated == 1
    assert b'id="cycle-counted-at"' in first.content
    submitted_nomination()
    assert client.get(url).context["figures"].nominated == 1  # cached, for this scope too
    export = client.get(reverse("staff_cycle:export"))
    assert export.status_code == 200
    clock[0] += cycle_figures.CYCLE_FIGURES_MAX_AGE + 1
    assert client.get(url).context["figures"].nominated == 2
