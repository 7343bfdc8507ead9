"""The round page's mentor search: a page that does not grow with candidates x mentors, the
staff-only JSON endpoint behind its script, and the short list that works without script."""

import re

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mentors import staff_views
from mentors.models import MentorAssignment
from mentors.selectors import MENTOR_OPTIONS_LIMIT
from programs.models import CoreTechnology
from tests.mentors.factories import MentorFactory, admitted_round

pytestmark = pytest.mark.django_db


def _page(client, intake_round, **params):
    url = reverse("staff_mentors:round_assignments", args=[intake_round.pk])
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    return response, len(queries)


def _options(client, intake_round, **params):
    return client.get(reverse("staff_mentors:mentor_options", args=[intake_round.pk]), params)


def test_page_queries_and_size_do_not_grow_with_candidates_times_mentors(client, staff_user,
                                                                        monkeypatch):
    monkeypatch.setattr(staff_views, "PAGE_SIZE", 5)
    client.force_login(staff_user)
    small, _ = admitted_round(6, seats=10)
    MentorFactory.create_batch(3)
    small_page, small_queries = _page(client, small)
    large, _ = admitted_round(10, seats=10)
    MentorFactory.create_batch(40)
    large_page, large_queries = _page(client, large)

    assert len(small_page.context["without"]) == len(large_page.context["without"]) == 5
    assert large_page.context["without_page"].paginator.count == 10
    assert large_queries == small_queries
    # Same rows, other names and numbers: within a few per cent, whatever the mentors.
    assert len(large_page.content) < len(small_page.content) * 1.03
    # No list of mentors until asked.
    assert "<option" not in large_page.content.decode().split('id="without-mentor"')[1]
    second, _ = _page(client, large, page=2)
    assert len(second.context["without"]) == 5
    assert not {n.pk for n in second.context["without"]} & {
        n.pk for n in large_page.context["without"]}


def test_page_loads_its_script_from_static_files_and_has_no_inline_script(client, staff_user):
    intake_round, _ = admitted_round(2)
    client.force_login(staff_user)
    html = _page(client, intake_round)[0].content.decode()
    script = f'<script src="{settings.STATIC_URL}js/mentor-search.js" defer></script>'
    assert script in html.replace('src="/static/', f'src="{settings.STATIC_URL}')
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert (settings.BASE_DIR / "static" / "js" / "mentor-search.js").exists()


def test_find_mentors_without_script_lists_best_fits_for_one_candidate(client, staff_user,
                                                                      monkeypatch):
    monkeypatch.setattr(staff_views, "SHORT_LIST_SIZE", 3)
    intake_round, nominations = admitted_round(3)
    mentors = MentorFactory.create_batch(5)
    client.force_login(staff_user)
    chosen = nominations[1]
    response, _ = _page(client, intake_round, candidate=chosen.pk)
    rows = {row.pk: row for row in response.context["without"]}
    assert len(rows[chosen.pk].options) == 3
    assert all(not getattr(rows[pk], "options", None) for pk in rows if pk != chosen.pk)
    html = response.content.decode().split('id="without-mentor"')[1]
    assert html.count("<option") == 3
    assert f'id="propose-{chosen.pk}" hidden' not in html
    assert f'id="propose-{nominations[0].pk}" hidden' in html

    named, _ = _page(client, intake_round, candidate=chosen.pk, q=mentors[4].full_name)
    row = next(r for r in named.context["without"] if r.pk == chosen.pk)
    assert [m.pk for m in row.options] == [mentors[4].pk]
    assert f'value="{mentors[4].full_name}"' in named.content.decode()  # what was typed is kept


def test_options_are_staff_only(client, request):
    intake_round, nominations = admitted_round(1)
    params = {"candidate": nominations[0].pk}
    response = _options(client, intake_round, **params)
    assert response.status_code == 302
    for who in ("coordinator_user", "mentor_user"):
        client.force_login(request.getfixturevalue(who))
        assert _options(client, intake_round, **params).status_code == 403


def test_options_share_a_language_have_a_seat_and_come_best_fit_first(client, staff_user):
    intake_round, nominations = admitted_round(2)
    candidate = nominations[0]  # speaks id, tested in English (IELTS)
    technology = CoreTechnology.objects.filter(program=intake_round.program).first()
    plain = MentorFactory(full_name="Dr. Plain", languages_spoken="en", travel_countries=[])
    best = MentorFactory(full_name="Dr. Best", languages_spoken="ko,id", travel_countries=["ID"])
    if technology is not None:
        best.expertise.add(technology)
    MentorFactory(full_name="Dr. Korean only", languages_spoken="ko")
    MentorFactory(full_name="Dr. Paused", is_active=False)
    full = MentorFactory(full_name="Dr. Full", capacity=1)
    MentorAssignment.objects.create(nomination=nominations[1], mentor=full,
                                    status=MentorAssignment.Status.INVITED)
    client.force_login(staff_user)
    response = _options(client, intake_round, candidate=candidate.pk)
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["id"] for r in results] == [best.pk, plain.pk]
    assert results[0]["fit"] > results[1]["fit"]
    assert results[0]["seats_left"] == 2 and "Dr. Best" in results[0]["label"]

    named = _options(client, intake_round, candidate=candidate.pk, q="plain").json()
    assert [r["id"] for r in named["results"]] == [plain.pk]


def test_options_are_bounded_and_scoped_to_the_round(client, staff_user):
    intake_round, nominations = admitted_round(1)
    _other_round, others = admitted_round(1)
    MentorFactory.create_batch(MENTOR_OPTIONS_LIMIT + 5)
    client.force_login(staff_user)
    response = _options(client, intake_round, candidate=nominations[0].pk, limit=500)
    assert len(response.json()["results"]) == MENTOR_OPTIONS_LIMIT
    assert len(_options(client, intake_round, candidate=nominations[0].pk,
                        limit=2).json()["results"]) == 2
    assert _options(client, intake_round, candidate=others[0].pk).status_code == 404
    assert _options(client, intake_round, candidate="x").status_code == 400
    assert _options(client, intake_round).status_code == 400
    assert "no-cache" in response["Cache-Control"]  # personal data: no shared copy


def test_options_issue_the_same_queries_for_more_mentors(client, staff_user):
    intake_round, nominations = admitted_round(1)
    MentorFactory.create_batch(3)
    client.force_login(staff_user)
    url = reverse("staff_mentors:mentor_options", args=[intake_round.pk])
    counts = []
    for more in (0, 30):
        MentorFactory.create_batch(more)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, {"candidate": nominations[0].pk}).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_mentor_list_comes_a_page_at_a_time_in_the_same_queries(client, staff_user,
                                                                monkeypatch):
    monkeypatch.setattr(staff_views, "PAGE_SIZE", 4)
    client.force_login(staff_user)
    url = reverse("staff_mentors:mentor_list")
    _round, nominations = admitted_round(5, seats=10)
    for nomination in nominations:  # full, and so near capacity: one mentee for one seat
        MentorAssignment.objects.create(mentor=MentorFactory(capacity=1), nomination=nomination,
                                        status=MentorAssignment.Status.ACCEPTED)
    with CaptureQueriesContext(connection) as small_queries:
        small = client.get(url)
    MentorFactory.create_batch(30, capacity=3)
    with CaptureQueriesContext(connection) as large_queries:
        large = client.get(url)
    assert len(large_queries) == len(small_queries)
    assert len(small.context["mentors"]) == len(large.context["mentors"]) == 4
    assert (large.context["total"], large.context["near_count"]) == (35, 5)
    html = large.content.decode()
    assert html.count('class="mentor') == 4 and "Page 1 of 9" in html
    near = client.get(url, {"near": "1", "page": 2})
    assert [m.near_capacity for m in near.context["mentors"]] == [True]
    assert near.context["mentors"][0].seats_left == 0
