"""Reads of the candidates domain that pages, exports and services share."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from candidates import scoring, selectors, services
from candidates.models import Cohort, CohortAdmission, MatchRun, ScoringPolicy
from students import services as student_services
from tests.candidates.factories import (
    admitted_round,
    complete_nomination,
    open_round_with_tracks,
)
from tests.candidates.factories import (
    consented_nomination as consented,
)
from tests.programs.factories import CoordinatorFactory, UniversityFactory, close_nominations

pytestmark = pytest.mark.django_db


def _funnel(intake_round) -> dict[str, int]:
    return {key: count for key, _label, count in selectors.round_overview(intake_round)["funnel"]}


def test_the_funnel_counts_the_enrolled_students_of_approved_admissions():
    intake_round, _nominations = admitted_round(3)
    assert _funnel(intake_round)["approved"] == 3
    assert _funnel(intake_round)["enrolled"] == 0
    admissions = list(CohortAdmission.objects.filter(cohort__intake_round=intake_round)
                      .select_related("track", "cohort").order_by("id"))
    for count, admission in enumerate(admissions[:2], start=1):
        student_services.enrolment_create(actor=None, admission=admission, semester="2027 Spring",
                                  enrolled_on=date.today() - timedelta(days=1))
        funnel = _funnel(intake_round)
        assert (funnel["approved"], funnel["enrolled"]) == (3, count)


def test_the_funnel_counts_no_students_of_another_round():
    intake_round, _nominations = admitted_round(1)
    other, _others = admitted_round(1)
    admission = CohortAdmission.objects.select_related("track", "cohort").get(
        cohort__intake_round=other)
    student_services.enrolment_create(actor=None, admission=admission, semester="2027 Spring",
                              enrolled_on=date.today())
    assert _funnel(intake_round)["enrolled"] == 0
    assert _funnel(other)["enrolled"] == 1


def test_cohort_get_for_round():
    intake_round = open_round_with_tracks(n_tracks=1)
    assert selectors.cohort_get_for_round(intake_round) is None
    consented(intake_round=intake_round)
    close_nominations(intake_round)
    services.cohort_match_run(intake_round=intake_round, trigger="command")
    cohort = selectors.cohort_get_for_round(intake_round)
    assert cohort == Cohort.objects.get(intake_round=intake_round)
    assert cohort.match_run == MatchRun.objects.get(intake_round=intake_round)


def test_scoring_weights_are_the_programs_or_the_defaults():
    intake_round = open_round_with_tracks(n_tracks=1)
    assert selectors.scoring_weights_get_for_round(intake_round) == scoring.DEFAULT_WEIGHTS
    ScoringPolicy.objects.create(program=intake_round.program, weight_gpa=90, weight_language=10,
                                 weight_coursework=0, weight_interests=0,
                                 weight_university_rank=0)
    assert selectors.scoring_weights_get_for_round(intake_round) == {
        "gpa": 90, "language": 10, "coursework": 0, "interests": 0, "university_rank": 0}


def test_run_state_reads_two_rows(django_assert_num_queries):
    intake_round = open_round_with_tracks(n_tracks=1)
    with django_assert_num_queries(2):
        state = selectors.cohort_run_state(intake_round)
    assert state == selectors.CohortRunState(running=False, latest_run=None)
    consented(intake_round=intake_round)
    close_nominations(intake_round)
    run = services.cohort_match_run(intake_round=intake_round, trigger="command").run
    assert selectors.cohort_run_state(intake_round).latest_run == run
    assert not selectors.cohort_run_state(intake_round).running
    Cohort.objects.update(run_requested_at=run.started_at + timedelta(seconds=1))
    assert selectors.cohort_run_state(intake_round).running
    # A request older than the time limit was lost: no longer shown as running.
    Cohort.objects.update(run_requested_at=timezone.now() - selectors.RUN_REQUEST_TIMEOUT)
    MatchRun.objects.update(started_at=timezone.now() - 2 * selectors.RUN_REQUEST_TIMEOUT)
    assert not selectors.cohort_run_state(intake_round).running


def test_required_documents_follow_the_language_test():
    with_test = complete_nomination(documents=False)
    without = complete_nomination(documents=False, language_test="none")
    assert "language_certificate" in selectors.required_documents(with_test)
    assert "language_certificate" not in selectors.required_documents(without)


def test_coordinator_list_for_university_holds_active_accounts_only():
    university = UniversityFactory()
    active = CoordinatorFactory(university=university)
    inactive = CoordinatorFactory(university=university)
    inactive.user.is_active = False
    inactive.user.save()
    CoordinatorFactory()
    assert selectors.coordinator_list_for_university(university) == [active]
