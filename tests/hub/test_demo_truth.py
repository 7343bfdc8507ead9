"""The demo world tells the truth: coursework fit follows the courses the seeded candidates took,
and "near capacity" is flagged only on the mentors it describes (issue 15)."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from candidates.models import NominationCourse, NominationScore, Placement
from mentors.models import MentorAssignment
from mentors.selectors import NEAR_CAPACITY_PERCENT, mentor_list_with_load
from tests.mentors.factories import MentorFactory, admitted_round
from tests.worlds import module_world, reads_world

pytestmark = pytest.mark.django_db

Status = MentorAssignment.Status

_built, demo = module_world(lambda: call_command("seed_demo", stdout=StringIO()), name="demo")


def _covered(nomination_ids) -> dict[int, set[int]]:
    covered: dict[int, set[int]] = {pk: set() for pk in nomination_ids}
    for nomination_id, technology_id in NominationCourse.technologies.through.objects.filter(
            nominationcourse__nomination_id__in=nomination_ids).values_list(
            "nominationcourse__nomination_id", "coretechnology_id"):
        covered[nomination_id].add(technology_id)
    return covered


@reads_world
def test_seeded_coursework_fit_follows_the_courses_taken(demo):
    scores = list(NominationScore.objects.select_related("track").prefetch_related(
        "track__wanted_technologies"))
    assert scores
    covered = _covered({s.nomination_id for s in scores})
    fits = []
    for score in scores:
        wanted = {t.pk for t in score.track.wanted_technologies.all()}
        expected = len(covered[score.nomination_id] & wanted) / len(wanted)
        assert score.components["coursework"] == pytest.approx(expected)
        fits.append(score.components["coursework"])
    # For the track each candidate was placed on: most took courses in what it wants, some not.
    placed = [NominationScore.objects.get(nomination=p.nomination_id, track=p.track_id)
              for p in Placement.objects.filter(track__isnull=False)]
    good = [s for s in placed if s.components["coursework"] > 0]
    poor = [s for s in placed if s.components["coursework"] == 0]
    assert poor and len(good) > 2 * len(poor)


@reads_world
def test_courses_covering_a_track_score_higher_on_fit_than_courses_that_do_not(demo):
    by_track: dict[int, list[NominationScore]] = {}
    for score in NominationScore.objects.all():
        by_track.setdefault(score.track_id, []).append(score)
    compared = 0
    for scores in by_track.values():
        covered = _covered({s.nomination_id for s in scores})
        wanted = set(scores[0].track.wanted_technologies.values_list("pk", flat=True))
        fitting = [s for s in scores if covered[s.nomination_id] >= wanted]
        missing = [s for s in scores if not covered[s.nomination_id] & wanted]
        for good in fitting:
            for poor in missing:
                assert good.components["coursework"] > poor.components["coursework"]
                compared += 1
    assert compared  # the demo has both kinds of candidate on the same track


@reads_world
def test_seeded_mentors_are_near_capacity_only_where_true(demo, client, staff_user):
    mentors = list(mentor_list_with_load())
    for mentor in mentors:
        load = mentor.accepted + mentor.pending
        truth = (mentor.is_active and load >= 1
                 and load * 100 >= mentor.capacity * NEAR_CAPACITY_PERCENT)
        assert mentor.near_capacity == truth, mentor.full_name
    assert not any(m.near_capacity for m in mentors if m.accepted + m.pending == 0)
    assert any(m.near_capacity for m in mentors)
    assert any(not m.near_capacity for m in mentors if m.is_active)
    client.force_login(staff_user)
    html = client.get(reverse("staff_mentors:mentor_list")).content.decode()
    assert 'id="near-capacity-legend"' in html and f"{NEAR_CAPACITY_PERCENT}%" in html


def _assign(mentor, nominations, status):
    for nomination in nominations:
        MentorAssignment.objects.create(mentor=mentor, nomination=nomination, status=status)


def test_near_capacity_means_most_seats_taken_and_at_least_one_mentee():
    _round, nominations = admitted_round(9, seats=10)
    idle = MentorFactory(capacity=1)
    busy = MentorFactory(capacity=5)
    _assign(busy, nominations[:3], Status.ACCEPTED)
    _assign(busy, nominations[3:4], Status.INVITED)
    half = MentorFactory(capacity=5)
    _assign(half, nominations[4:7], Status.ACCEPTED)
    full = MentorFactory(capacity=2)
    _assign(full, nominations[7:9], Status.ACCEPTED)
    rows = {m.pk: m for m in mentor_list_with_load()}
    assert not rows[idle.pk].near_capacity  # one seat left, but nobody to mentor yet
    assert rows[busy.pk].near_capacity  # 4 of 5 seats: 80%
    assert not rows[half.pk].near_capacity  # 3 of 5 seats: 60%
    assert rows[full.pk].near_capacity
    near = {m.pk for m in mentor_list_with_load(near_only=True)}
    assert near == {busy.pk, full.pk}
