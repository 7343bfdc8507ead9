"""Staff's what-if: the request queues it, a task computes it once and stores what changes, the
page shows the stored result a page of changed candidates at a time."""

from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from candidates import selectors, services, tasks
from candidates.models import MatchRun, WhatIfRun
from candidates.services import whatif as whatif_services
from programs.models import RoundTrack
from tests.candidates.factories import consented_nomination, consented_round

pytestmark = pytest.mark.django_db

CRITERIA = ["gpa", "language", "coursework", "interests", "university_rank"]


def _matched(n=6, *, seats=1, n_tracks=2):
    intake_round, _none = consented_round(n=0, seats=seats, n_tracks=n_tracks)
    nominations = [consented_nomination(intake_round=intake_round, gpa=f"3.{9 - i % 10}")
                   for i in range(n)]
    # Matched as it will be once nominations have closed: the round may grow afterwards.
    services.cohort_match_run(intake_round=intake_round, trigger="command",
                              now=intake_round.nominations_close_at + timedelta(minutes=1))
    return intake_round, nominations


def _params(intake_round, *, seats=3, weight="1"):
    params = {f"weight_{name}": weight for name in CRITERIA}
    for track_id in RoundTrack.objects.filter(intake_round=intake_round).values_list(
            "track_id", flat=True):
        params[f"seats_{track_id}"] = str(seats)
    return params


def _url(intake_round):
    return reverse("staff_rounds:whatif", args=[intake_round.pk])


def _request(client, intake_round, params, capture):
    with capture(execute=True):
        response = client.post(_url(intake_round), params)
    assert response.status_code == 302
    return WhatIfRun.objects.filter(intake_round=intake_round).first(), response


def test_the_request_queues_the_whatif_and_computes_nothing(client, staff_user):
    intake_round, _nominations = _matched(n=4)
    client.force_login(staff_user)
    counts = []
    with mock.patch.object(tasks.compute_whatif, "delay_on_commit") as delay, \
            mock.patch.object(whatif_services, "cohort_propose",
                              side_effect=AssertionError("computed in the request")):
        for size in (4, 24):  # 4, then 28 nominations: the same number of queries
            for i in range(size):
                consented_nomination(intake_round=intake_round, gpa=f"3.{i % 10}")
            with CaptureQueriesContext(connection) as queries:
                response = client.post(_url(intake_round), _params(intake_round))
            assert response.status_code == 302
            counts.append(len(queries))
            whatif = WhatIfRun.objects.filter(intake_round=intake_round).first()
            assert whatif.status == WhatIfRun.Status.QUEUED
            delay.assert_called_with(whatif.pk)
            html = client.get(response.url).content.decode()
            assert 'id="running"' in html and "computing" in html
            # Without JavaScript a link refreshes it; with it, the static script polls.
            assert f'href="{response.url}" id="whatif-refresh"' in html
            assert "js/round_overview.js" in html and "<script>" not in html
    assert counts[0] == counts[1], counts
    assert delay.call_count == 2


def test_the_task_stores_what_cohort_propose_and_whatif_compare_give(
    client, staff_user, django_capture_on_commit_callbacks,
):
    intake_round, _nominations = _matched(n=6, seats=1)
    client.force_login(staff_user)
    runs = MatchRun.objects.count()
    whatif, _response = _request(client, intake_round, _params(intake_round, seats=2),
                                 django_capture_on_commit_callbacks)
    assert whatif.status == WhatIfRun.Status.DONE and whatif.finished_at is not None
    seats = {int(k): v for k, v in whatif.seats.items()}
    proposal = services.cohort_propose(intake_round=intake_round, seats=seats,
                                       weights=whatif.weights)
    expected = selectors.whatif_compare(intake_round, proposal)
    changed = [[row["nomination"].pk, getattr(row["current_track"], "pk", None),
                getattr(row["whatif_track"], "pk", None)]
               for row in expected["rows"] if row["changed"]]
    assert changed and whatif.changes == changed
    assert whatif.counts == {"changed": expected["changed"], "placed_now": expected["placed_now"],
                             "placed_whatif": expected["placed_whatif"],
                             "candidates": proposal.counts["candidates"]}
    figures = {row["track_id"]: row["whatif"] for row in whatif.tracks}
    assert figures == {t: {"seats": f["seats"], "placed": f["placed"],
                           "cutoff_score": None if f["cutoff_score"] is None
                           else str(f["cutoff_score"])}
                       for t, f in proposal.tracks.items()}
    assert MatchRun.objects.count() == runs  # a dry run: no matching run saved


def test_the_page_lists_only_changed_candidates_25_at_a_time(
    client, staff_user, django_capture_on_commit_callbacks,
):
    # Nobody has a seat now; with seats for all, all thirty would be placed: thirty change.
    intake_round, nominations = _matched(n=30, seats=0, n_tracks=1)
    late = consented_nomination(intake_round=intake_round)  # after the run: takes part too
    client.force_login(staff_user)
    whatif, response = _request(client, intake_round, _params(intake_round, seats=40),
                                django_capture_on_commit_callbacks)
    assert whatif.counts["changed"] == 31
    first = client.get(response.url)
    html = first.content.decode()
    assert first.context["page"].paginator.count == 31
    assert len(first.context["page"].object_list) == 25
    assert "31 candidates would change." in html
    assert 'id="running"' not in html
    second = client.get(f"{response.url}&page=2")
    assert len(second.context["page"].object_list) == 6
    shown = {row["nomination"].pk for page in (first, second)
             for row in page.context["page"].object_list}
    assert shown == {n.pk for n in nominations} | {late.pk}
    assert all(row["whatif_track"] is not None and row["current_track"] is None
               for row in second.context["page"].object_list)


def test_the_page_leaves_out_candidates_whose_outcome_stays(
    client, staff_user, django_capture_on_commit_callbacks,
):
    intake_round, nominations = _matched(n=4, seats=4, n_tracks=1)
    client.force_login(staff_user)
    # Seats for everyone, now and in the what-if: other weights move nobody.
    whatif, response = _request(client, intake_round, _params(intake_round, seats=4),
                                django_capture_on_commit_callbacks)
    page = client.get(response.url)
    assert whatif.counts["changed"] == 0 and whatif.changes == []
    assert page.context["page"].paginator.count == 0
    assert nominations[0].display_name not in page.content.decode()


def test_the_same_whatif_for_the_same_run_is_reused(
    client, staff_user, django_capture_on_commit_callbacks,
):
    intake_round, _nominations = _matched(n=4)
    client.force_login(staff_user)
    first, _response = _request(client, intake_round, _params(intake_round),
                                django_capture_on_commit_callbacks)
    with mock.patch.object(tasks.compute_whatif, "delay_on_commit") as delay:
        again, response = _request(client, intake_round, _params(intake_round),
                                   django_capture_on_commit_callbacks)
    assert again.pk == first.pk and not delay.called
    assert response.url.endswith(f"?whatif={first.pk}")
    assert WhatIfRun.objects.count() == 1
    # Other weights are another what-if; so is the same one once the round has been run again.
    other, _response = _request(client, intake_round, _params(intake_round, weight="2"),
                                django_capture_on_commit_callbacks)
    assert other.pk != first.pk
    services.cohort_match_run(intake_round=intake_round, trigger="command",
                              now=intake_round.nominations_close_at + timedelta(minutes=5))
    rerun, _response = _request(client, intake_round, _params(intake_round),
                                django_capture_on_commit_callbacks)
    assert rerun.pk not in (first.pk, other.pk)


def test_only_a_few_whatifs_are_kept_per_round(client, staff_user,
                                                django_capture_on_commit_callbacks):
    intake_round, _nominations = _matched(n=3)
    other_round, _others = _matched(n=3)
    client.force_login(staff_user)
    _request(client, other_round, _params(other_round), django_capture_on_commit_callbacks)
    for weight in range(1, whatif_services.WHATIF_KEEP + 3):
        _request(client, intake_round, _params(intake_round, weight=str(weight)),
                 django_capture_on_commit_callbacks)
    kept = WhatIfRun.objects.filter(intake_round=intake_round)
    assert kept.count() == whatif_services.WHATIF_KEEP
    assert kept.first().weights["gpa"] == whatif_services.WHATIF_KEEP + 2  # the newest stays
    assert WhatIfRun.objects.filter(intake_round=other_round).count() == 1


def test_a_whatif_is_shown_in_its_own_round_only(client, staff_user,
                                                 django_capture_on_commit_callbacks):
    intake_round, _nominations = _matched(n=3)
    other_round, _others = _matched(n=3)
    client.force_login(staff_user)
    whatif, _response = _request(client, intake_round, _params(intake_round),
                                 django_capture_on_commit_callbacks)
    assert client.get(_url(other_round), {"whatif": whatif.pk}).status_code == 404
    assert client.get(_url(other_round), {"whatif": whatif.pk, "format": "json"}
                      ).status_code == 404


def test_the_status_answers_while_computing_and_after(client, staff_user,
                                                      django_capture_on_commit_callbacks):
    intake_round, _nominations = _matched(n=3)
    client.force_login(staff_user)
    with mock.patch.object(tasks.compute_whatif, "delay_on_commit"):
        whatif, _response = _request(client, intake_round, _params(intake_round),
                                     django_capture_on_commit_callbacks)
    status = {"whatif": whatif.pk, "format": "json"}
    assert client.get(_url(intake_round), status).json() == {"running": True}
    tasks.compute_whatif.delay(whatif.pk)
    assert client.get(_url(intake_round), status).json() == {"running": False}
    tasks.compute_whatif.delay(whatif.pk)  # safe to run twice: the stored result stays
    whatif.refresh_from_db()
    assert whatif.status == WhatIfRun.Status.DONE


def test_a_failed_whatif_says_so_and_is_computed_again(client, staff_user,
                                                        django_capture_on_commit_callbacks):
    intake_round, _nominations = _matched(n=3)
    client.force_login(staff_user)
    with mock.patch.object(whatif_services, "cohort_propose", side_effect=RuntimeError("boom")), \
            pytest.raises(RuntimeError):
        _request(client, intake_round, _params(intake_round), django_capture_on_commit_callbacks)
    failed = WhatIfRun.objects.get()
    assert failed.status == WhatIfRun.Status.FAILED
    page = client.get(_url(intake_round), {"whatif": failed.pk})
    assert "could not be computed" in page.content.decode()
    again, _response = _request(client, intake_round, _params(intake_round),
                                django_capture_on_commit_callbacks)
    assert again.pk != failed.pk and again.status == WhatIfRun.Status.DONE


@pytest.mark.parametrize("who", ["plain_user", "coordinator_user", "mentor_user"])
def test_only_staff_may_ask_for_a_whatif(client, who, request):
    intake_round, _nominations = _matched(n=3)
    client.force_login(request.getfixturevalue(who))
    with mock.patch.object(tasks.compute_whatif, "delay_on_commit") as delay:
        response = client.post(_url(intake_round), _params(intake_round))
    assert response.status_code == 403
    assert not delay.called and not WhatIfRun.objects.exists()
    assert client.get(_url(intake_round)).status_code == 403


def test_a_whatif_lost_by_its_worker_is_queued_again(client, staff_user,
                                                     django_capture_on_commit_callbacks):
    intake_round, _nominations = _matched(n=3)
    client.force_login(staff_user)
    with mock.patch.object(tasks.compute_whatif, "delay_on_commit"):
        lost, _response = _request(client, intake_round, _params(intake_round),
                                   django_capture_on_commit_callbacks)
        again, _response = _request(client, intake_round, _params(intake_round),
                                    django_capture_on_commit_callbacks)
    assert again.pk == lost.pk  # still queued, not yet taken for lost
    WhatIfRun.objects.filter(pk=lost.pk).update(
        created_at=lost.created_at - whatif_services.WHATIF_STALE_AFTER - timedelta(minutes=1))
    fresh, _response = _request(client, intake_round, _params(intake_round),
                                django_capture_on_commit_callbacks)
    assert fresh.pk != lost.pk and fresh.status == WhatIfRun.Status.DONE


def test_a_whatif_after_the_round_was_matched_again_says_so(client, staff_user,
                                                            django_capture_on_commit_callbacks):
    intake_round, _nominations = _matched(n=3)
    client.force_login(staff_user)
    _whatif, response = _request(client, intake_round, _params(intake_round),
                                 django_capture_on_commit_callbacks)
    assert 'id="whatif-stale"' not in client.get(response.url).content.decode()
    services.cohort_match_run(intake_round=intake_round, trigger="command",
                              now=intake_round.nominations_close_at + timedelta(minutes=5))
    assert 'id="whatif-stale"' in client.get(response.url).content.decode()
