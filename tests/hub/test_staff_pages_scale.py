"""The staff pages that must not grow with the round: the same SQL queries for a small and a
larger round (the round overview, the cohort review sorted, filtered and paged in the database,
the audit log, the mentors pages and the streamed cohort and tracks CSVs), and the review's
order and filters as the database computes them."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from candidates import services
from candidates.models import Cohort, Placement
from ecocycle.services import audit_entry_create
from programs.models import RoundTrack
from tests.candidates.factories import consented_nomination, open_round_with_tracks, round_decide
from tests.programs.factories import (
    CoordinatorFactory,
    ProgramUniversityFactory,
    close_nominations,
)

pytestmark = pytest.mark.django_db


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        assert response.status_code == 200, url
        if response.streaming:
            b"".join(response.streaming_content)
    return len(queries)


def _round_pages(intake_round) -> list[str]:
    rid = intake_round.pk
    review = reverse("staff_rounds:cohort_review", args=[rid])
    audit = reverse("staff_rounds:audit_log", args=[rid])
    return [
        reverse("staff_rounds:round_overview", args=[rid]),
        review, f"{review}?sort=score", f"{review}?sort=candidate&status=placed",
        f"{review}?sort=university&status=placed&page=2", f"{review}?sort=rank&status=unplaced",
        f"{review}?status=overridden",
        audit, f"{audit}?what=nomination_submit&page=2",
        reverse("staff_rounds:export", args=[rid, "cohort", "csv"]),
        reverse("staff_rounds:export", args=[rid, "tracks", "csv"]),
        reverse("staff_rounds:export", args=[rid, "cohort", "xlsx"]),
    ]


def _consented_round(n: int, *, seats: int):
    """`n` consented candidates of three universities for three tracks."""
    intake_round = open_round_with_tracks(n_tracks=3)
    RoundTrack.objects.filter(intake_round=intake_round).update(seats=seats)
    coordinators = [CoordinatorFactory() for _ in range(3)]
    for coordinator in coordinators:
        ProgramUniversityFactory(program=intake_round.program,
                                 university=coordinator.university, nomination_quota=100)
    nominations = [consented_nomination(intake_round=intake_round,
                                        coordinator=coordinators[i % 3],
                                        gpa=f"{3.0 + (i % 10) / 10:.1f}") for i in range(n)]
    return intake_round, nominations


def _matched(n: int):
    intake_round, nominations = _consented_round(n, seats=2)
    close_nominations(intake_round)
    services.cohort_match_run(intake_round=intake_round, trigger="command")
    for nomination in nominations:  # a long log: pages of it
        for _ in range(3):
            audit_entry_create(actor=None, action="nomination_submit", target=nomination)
    return intake_round


def test_round_pages_issue_the_same_queries_for_a_larger_round(client, staff_user,
                                                                 monkeypatch):
    monkeypatch.setattr("hub.round_views.REVIEW_PAGE_SIZE", 3)
    monkeypatch.setattr("hub.round_views.AUDIT_PAGE_SIZE", 5)
    client.force_login(staff_user)
    warm_up, small, large = _matched(2), _matched(8), _matched(24)
    for url in _round_pages(warm_up):
        _queries(client, url)  # content types, sessions
    small_counts = [_queries(client, url) for url in _round_pages(small)]
    large_counts = [_queries(client, url) for url in _round_pages(large)]
    assert large_counts == small_counts
    assert max(large_counts) <= 25


def test_mentor_pages_issue_the_same_queries_for_a_larger_round(client, staff_user):
    client.force_login(staff_user)

    def admitted(n):
        intake_round, _ = _consented_round(n, seats=n)
        round_decide(intake_round)
        return intake_round

    def pages(intake_round):
        return [reverse("staff_mentors:mentor_list"),
                reverse("staff_mentors:round_assignments", args=[intake_round.pk])]

    warm_up, small, large = admitted(1), admitted(3), admitted(12)
    for url in pages(warm_up):
        _queries(client, url)
    assert [_queries(client, url) for url in pages(large)] == [
        _queries(client, url) for url in pages(small)]


def _review(client, intake_round, **query):
    url = reverse("staff_rounds:cohort_review", args=[intake_round.pk])
    return client.get(url, query)


def test_review_sorts_filters_and_pages_in_the_database(client, staff_user, monkeypatch):
    monkeypatch.setattr("hub.round_views.REVIEW_PAGE_SIZE", 4)
    intake_round = _matched(10)
    client.force_login(staff_user)
    run = Cohort.objects.get(intake_round=intake_round).match_run_id
    placements = Placement.objects.filter(match_run_id=run).select_related("track")

    def every_page(**query):
        rows, page = [], 1
        while True:
            response = _review(client, intake_round, page=page, **query)
            rows += response.context["rows"]
            if not response.context["page"].has_next():
                return rows
            page += 1

    by_score = every_page(sort="score")
    assert [r["nomination_id"] for r in by_score] == [
        p.nomination_id for p in sorted(placements, key=lambda p: (
            p.score is None, -(p.score or 0), p.nomination_id))]
    by_track = every_page()
    names = [str(r["track"]) if r["track"] else None for r in by_track]
    placed = [n for n in names if n is not None]
    assert placed == sorted(placed) and names[len(placed):] == [None] * (len(names) - len(placed))
    by_name = every_page(sort="candidate")
    assert [r["name"].lower() for r in by_name] == sorted(r["name"].lower() for r in by_name)
    unplaced = every_page(status="unplaced")
    assert {r["nomination_id"] for r in unplaced} == {
        p.nomination_id for p in placements if p.track_id is None}
    by_rank = every_page(sort="rank", status="placed")
    assert [r["choice_rank"] for r in by_rank] == sorted(r["choice_rank"] for r in by_rank)
