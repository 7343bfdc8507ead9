"""Staff actions do no work proportional to the round inside the request. "Run now" only notes
the request and queues the matching task: the same queries for a small and a larger round, and
no run before the worker takes it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from candidates.models import Cohort, MatchRun
from tests.candidates.factories import consented_round
from tests.programs.factories import close_nominations

pytestmark = pytest.mark.django_db


def _closed_round(n):
    intake_round, _nominations = consented_round(n, seats=10)
    close_nominations(intake_round)
    return intake_round


def _run_now(client, intake_round, capture):
    with capture(execute=False) as callbacks, CaptureQueriesContext(connection) as queries:
        response = client.post(reverse("staff_rounds:run_now", args=[intake_round.pk]))
    assert response.status_code == 302
    return callbacks, len(queries)


def test_run_now_only_queues_the_matching(client, staff_user,
                                          django_capture_on_commit_callbacks):
    warm_up, small, large = _closed_round(1), _closed_round(2), _closed_round(9)
    client.force_login(staff_user)
    _run_now(client, warm_up, django_capture_on_commit_callbacks)  # caches content types
    small_callbacks, small_queries = _run_now(client, small, django_capture_on_commit_callbacks)
    large_callbacks, large_queries = _run_now(client, large, django_capture_on_commit_callbacks)
    assert large_queries == small_queries
    # Besides the task, only the cycle figures' cache version moves on commit.
    small_callbacks, large_callbacks = (
        [c for c in callbacks if getattr(c, "__name__", "") != "cycle_figures_changed"]
        for callbacks in (small_callbacks, large_callbacks))
    assert len(small_callbacks) == len(large_callbacks) == 1
    assert not MatchRun.objects.exists()  # nothing matched inside the request
    assert Cohort.objects.get(intake_round=large).run_requested_at is not None

    large_callbacks[0]()  # the worker (eager in tests)
    assert MatchRun.objects.filter(intake_round=large).count() == 1
