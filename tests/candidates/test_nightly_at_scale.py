"""The nightly job's eligibility and cohort steps at two data sizes: the same number of queries
whatever the number of nominations, and the bulk re-check agreeing with the rules applied to
one nomination at a time (issue 16)."""

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from candidates import eligibility
from candidates.models import (
    EligibilityPolicy,
    Nomination,
    NominationCourse,
    NominationPreference,
    NominationScore,
)
from candidates.services import cohort_match_run, eligibility_recheck
from programs.models import CoreTechnology, DegreeTrack, RoundTrack
from tests.candidates.factories import open_round_with_tracks
from tests.programs.factories import ProgramUniversityFactory, close_nominations

pytestmark = pytest.mark.django_db

LEVELS = ["masters", "masters", "doctoral", "integrated"]
TESTS = [("ielts", [5.5, 6.5, 7.5]), ("toefl_ibt", [70, 90, 110]), ("topik", [3, 5]),
         ("none", [None]), ("", [None])]


def _round_of(n: int, *, seed: int, varied: bool):
    """A round of `n` submitted, consented nominations, bulk-inserted. `varied`: every rule has
    nominations on both sides of it (GPA, language test, score and date, degree, courses and
    their technologies, ranked tracks of every level); otherwise all pass."""
    rng = random.Random(seed)
    intake_round = open_round_with_tracks(n_tracks=0)
    program = intake_round.program
    EligibilityPolicy.objects.filter(program=program).update(
        min_gpa=Decimal("3.00"), min_ielts=Decimal("6.5"), min_toefl_ibt=80,
        min_topik=None if varied else 4, min_related_courses=1)
    technologies = [CoreTechnology.objects.create(program=program, name=f"Technology {i}")
                    for i in range(4)]
    tracks = [DegreeTrack.objects.create(
        program=program, level=LEVELS[i % 4] if varied else "masters", major=f"Major {i}",
        department="Chemistry", campus="ulsan", supervisor_name="Dr. Lee",
        supervisor_email=f"s{i}@example.test") for i in range(6)]
    for track in tracks:
        track.wanted_technologies.add(technologies[track.pk % 4])
        RoundTrack.objects.create(intake_round=intake_round, track=track, seats=max(1, n // 8))
    university = ProgramUniversityFactory(program=program, nomination_quota=10_000).university
    today, now = timezone.localdate(), timezone.now()
    rows = []
    for i in range(n):
        test, scores = rng.choice(TESTS) if varied else TESTS[0]
        rows.append(Nomination(
            intake_round=intake_round, university=university, status="submitted",
            family_name=f"Scale{i}", given_names="Ana" if i % 2 else "",
            date_of_birth=date(1999, 1, 1), nationality="ID", email=f"s{seed}-{i}@example.test",
            email_normalised=f"s{seed}-{i}@example.test",
            degree=rng.choice(["bachelor", "master"]) if varied else "master",
            degree_status="completed", major="Chemistry", institution="ITB", gpa_scale="4.0",
            gpa_normalised=(rng.choice([None, Decimal("2.50"), Decimal("3.00"), Decimal("3.75")])
                            if varied else Decimal("3.50") + Decimal(i % 40) / 100),
            language_test=test, language_score=rng.choice(scores) if varied else 7.5,
            language_test_date=today - timedelta(days=rng.choice([100, 800]) if varied else 100),
            research_interests="catalysts", university_rank=i + 1,
            submitted_at=now - timedelta(seconds=i), consent_given_at=now, is_eligible=True,
            eligibility_reasons=[]))
    nominations = Nomination.objects.bulk_create(rows)
    NominationPreference.objects.bulk_create(
        NominationPreference(nomination=nomination, track=track, rank=rank)
        for nomination in nominations
        for rank, track in enumerate(rng.sample(tracks, rng.randint(0, 3) if varied else 3), 1))
    courses = NominationCourse.objects.bulk_create(
        NominationCourse(nomination=nomination, name=f"Course {k}")
        for nomination in nominations for k in range(rng.randint(0, 2) if varied else 1))
    links = NominationCourse.technologies.through
    links.objects.bulk_create(
        links(nominationcourse_id=course.pk, coretechnology_id=technology.pk)
        for course in courses
        for technology in rng.sample(technologies, rng.randint(0, 2) if varied else 1))
    return intake_round


def test_the_bulk_recheck_gives_each_nomination_its_own_verdict():
    intake_round = _round_of(120, seed=1, varied=True)
    changed = eligibility_recheck()
    policy = EligibilityPolicy.objects.get(program=intake_round.program)
    today = timezone.localdate()
    verdicts = set()
    for nomination in Nomination.objects.filter(intake_round=intake_round):
        result = eligibility.evaluate(nomination, policy, today=today)
        assert (nomination.is_eligible, nomination.eligibility_reasons) == (
            result.eligible, result.reasons), nomination.pk
        verdicts.add(result.eligible)
        verdicts.update(r["code"] for r in result.reasons)
    # Every rule was met on both sides.
    assert verdicts >= {True, False, "gpa_missing", "gpa_low", "language_none",
                        "language_not_accepted", "language_low", "language_expired",
                        "courses_few", "degree_track", "no_track_left", "no_preferences"}
    assert changed == Nomination.objects.filter(intake_round=intake_round,
                                                is_eligible=False).count() + sum(
        1 for n in Nomination.objects.filter(intake_round=intake_round, is_eligible=True)
        if n.eligibility_reasons)
    assert eligibility_recheck() == 0


def _measure(django_assert_max_num_queries, work, limit):
    ContentType.objects.clear_cache()
    with django_assert_max_num_queries(limit) as measured:
        work()
    return len(measured.captured_queries)


def test_recheck_queries_stay_the_same_from_20_to_400_nominations(
        django_assert_max_num_queries):
    def recheck(intake_round):
        # Every verdict changes, at both sizes: the same work per nomination.
        EligibilityPolicy.objects.filter(program=intake_round.program).update(min_gpa=4)
        assert eligibility_recheck(intake_round=intake_round) > 0

    small, large = _round_of(20, seed=2, varied=False), _round_of(400, seed=3, varied=False)
    assert (_measure(django_assert_max_num_queries, lambda: recheck(small), 20)
            == _measure(django_assert_max_num_queries, lambda: recheck(large), 20))


def test_cohort_run_queries_stay_the_same_from_20_to_180_nominations(
        django_assert_max_num_queries):
    def run(intake_round):
        close_nominations(intake_round)
        proposal = cohort_match_run(intake_round=intake_round, trigger="command")
        assert proposal.counts["candidates"] == Nomination.objects.filter(
            intake_round=intake_round).count()
        assert NominationScore.objects.filter(nomination__intake_round=intake_round).count() \
            == 3 * proposal.counts["candidates"]

    small, large = _round_of(20, seed=4, varied=False), _round_of(180, seed=5, varied=False)
    assert (_measure(django_assert_max_num_queries, lambda: run(small), 45)
            == _measure(django_assert_max_num_queries, lambda: run(large), 45))
