"""Mentor matching for admitted candidates: optimal, capacity-safe, never re-proposing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from candidates.models import MatchRun, Nomination
from hub.services import nightly_matching
from mentors.models import MentorAssignment
from mentors.services import matching, mentor_match_run
from tests.candidates.factories import enrolled_round, open_round_with_tracks
from tests.mentors.factories import MentorFactory, admitted_round

pytestmark = pytest.mark.django_db


def _admitted_round(n=4):
    return admitted_round(n)


def test_every_admitted_candidate_gets_a_mentor_within_capacity():
    intake_round, nominations = _admitted_round(4)
    busy = MentorFactory(capacity=1)
    roomy = MentorFactory(capacity=3)
    run = mentor_match_run(intake_round=intake_round, trigger="command")
    assert run.kind == MatchRun.Kind.MENTOR
    assert run.counts["proposed"] == 4
    proposed = MentorAssignment.objects.filter(status="proposed")
    assert set(proposed.values_list("nomination_id", flat=True)) == {n.pk for n in nominations}
    assert proposed.filter(mentor=busy).count() == 1
    assert proposed.filter(mentor=roomy).count() == 3
    assert all(a.fit_components["languages"] for a in proposed)


def test_no_shared_language_means_no_proposal():
    intake_round, _nominations = _admitted_round(1)
    MentorFactory(languages_spoken="ko,ja")  # the candidates speak id and en
    run = mentor_match_run(intake_round=intake_round, trigger="command")
    assert run.counts == {"candidates": 1, "mentors": 1, "pairs": 0, "proposed": 0,
                          "without_mentor": 1}


def test_a_declined_pair_is_never_proposed_again_and_accepted_ones_count():
    intake_round, nominations = _admitted_round(2)
    first, second = MentorFactory(capacity=2), MentorFactory(capacity=2)
    mentor_match_run(intake_round=intake_round, trigger="command")
    declined = MentorAssignment.objects.filter(nomination=nominations[0]).get()
    declined.status = MentorAssignment.Status.DECLINED
    declined.save()
    accepted = MentorAssignment.objects.filter(nomination=nominations[1]).get()
    accepted.status = MentorAssignment.Status.ACCEPTED
    accepted.save()
    mentor_match_run(intake_round=intake_round, trigger="schedule")
    again = MentorAssignment.objects.get(nomination=nominations[0], status="proposed")
    assert again.mentor != declined.mentor
    assert {first, second} == {declined.mentor, again.mentor} | {accepted.mentor}
    assert MentorAssignment.objects.filter(nomination=nominations[1]).count() == 1


def test_rerun_proposes_nothing_new():
    intake_round, _nominations = _admitted_round(3)
    MentorFactory(capacity=5)
    mentor_match_run(intake_round=intake_round, trigger="command")
    run = mentor_match_run(intake_round=intake_round, trigger="command")
    assert run.counts["candidates"] == 0 and run.counts["proposed"] == 0
    assert MentorAssignment.objects.count() == 3


def test_assignment_is_optimal_not_greedy():
    """Greedy would give the versatile mentor to the candidate it fits best and leave the other
    candidate, whom only that mentor can talk to, without anybody."""
    intake_round, (first, second) = _admitted_round(2)
    Nomination.objects.filter(pk=second.pk).update(candidate_language="vi", language_test="topik",
                                                   nationality="VN")
    versatile = MentorFactory(capacity=1, languages_spoken="ko,id", travel_countries=["ID"])
    indonesian = MentorFactory(capacity=1, languages_spoken="id", travel_countries=[])
    run = mentor_match_run(intake_round=intake_round, trigger="command")
    assert run.counts["proposed"] == 2
    assert MentorAssignment.objects.get(nomination=second).mentor == versatile
    assert MentorAssignment.objects.get(nomination=first).mentor == indonesian


def test_nightly_job_runs_mentors_for_approved_cohorts_only(django_assert_max_num_queries):
    _admitted_round(3)
    open_round_with_tracks()  # a round without an approved cohort
    MentorFactory(capacity=5)
    # The whole job: cohorts, offers lapsing, mentorships of places given up, mentors.
    with django_assert_max_num_queries(64):
        summary = nightly_matching(now=timezone.now() + timedelta(minutes=1))
    assert summary["mentor_proposals"] == 3
    assert nightly_matching()["mentor_proposals"] == 0


def test_an_unconfirmed_alumnus_profile_is_never_proposed_even_if_switched_on():
    _old_round, (enrolment,) = enrolled_round(1)
    waiting = MentorFactory(alumnus=enrolment, confirmed_at=None, is_active=True, capacity=5)
    intake_round, _nominations = _admitted_round(1)
    run = mentor_match_run(intake_round=intake_round, trigger="command")
    assert run.counts["mentors"] == 0
    assert not MentorAssignment.objects.filter(mentor=waiting).exists()
    waiting.confirmed_at = timezone.now()
    waiting.save(update_fields=["confirmed_at"])
    assert mentor_match_run(intake_round=intake_round, trigger="command").counts["proposed"] == 1


def test_proposals_are_checked_again_when_saved(monkeypatch):
    # Computed with no write transaction open: what staff did meanwhile wins.
    intake_round, nominations = _admitted_round(3)
    full = MentorFactory(capacity=1)
    roomy = MentorFactory(capacity=2)
    computed = matching._proposals

    def meanwhile(*args, **kwargs):
        result = computed(*args, **kwargs)
        assert len(result[0]) == 3
        MentorAssignment.objects.create(nomination=nominations[0], mentor=full,
                                        status=MentorAssignment.Status.INVITED)
        return result

    monkeypatch.setattr(matching, "_proposals", meanwhile)
    run = mentor_match_run(intake_round=intake_round, trigger="command")
    assert MentorAssignment.objects.filter(nomination=nominations[0]).count() == 1
    proposed = MentorAssignment.objects.filter(match_run=run)
    assert run.counts["proposed"] == proposed.count() >= 1
    assert not proposed.filter(mentor=full).exists()  # its one seat went meanwhile
    assert proposed.filter(mentor=roomy).count() <= 2
