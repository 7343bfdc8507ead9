"""Staff pages for students: enrol, record steps one by one or in bulk, outcomes."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from candidates.models import CohortAdmission
from ecocycle.models import OutboundEmail
from students import views as student_views
from students.models import AlumniOutcome, Enrolment, ProgressMilestone
from tests.candidates.factories import admitted_round, enrolled_round

pytestmark = pytest.mark.django_db
LIST = reverse("staff_students:list")
TODAY = date.today()


def test_staff_enrol_admitted_candidates_in_bulk(client, staff_user):
    _round, _nominations = admitted_round(2)
    client.force_login(staff_user)
    page = client.get(LIST).content.decode()
    assert 'id="to-enrol"' in page
    admissions = list(CohortAdmission.objects.values_list("pk", flat=True))
    response = client.post(LIST, {"enrol": "1", "admissions": admissions,
                                  "enrol-semester": "2027 Spring",
                                  "enrol-enrolled_on": TODAY.isoformat()})
    assert response.status_code == 302
    assert Enrolment.objects.count() == 2


def test_bulk_step_refused_for_one_changes_nothing_and_keeps_the_choice(client, staff_user):
    _round, (first, second) = enrolled_round(2)
    second.status = Enrolment.Status.WITHDRAWN
    second.save()
    client.force_login(staff_user)
    response = client.post(LIST, {"record_step": "1", "students": [first.pk, second.pk],
                                  "step-kind": "leave_start", "step-on": TODAY.isoformat(),
                                  "step-note": "Family reasons"})
    page = response.content.decode()
    assert response.status_code == 400
    assert "Nothing was changed." in page and str(second.nomination) in page
    assert f'value="{first.pk}" aria-label="{first.nomination}" checked' in page
    assert "Family reasons" in page
    assert not ProgressMilestone.objects.filter(kind="leave_start").exists()


def test_bulk_step_for_all(client, staff_user, django_assert_max_num_queries):
    _round, enrolments = enrolled_round(3)
    client.force_login(staff_user)
    response = client.post(LIST, {"record_step": "1", "students": [e.pk for e in enrolments],
                                  "step-kind": "coursework", "step-on": TODAY.isoformat()})
    assert response.status_code == 302
    assert ProgressMilestone.objects.filter(kind="coursework").count() == 3
    with django_assert_max_num_queries(12):
        assert client.get(LIST).status_code == 200


def test_student_page_records_graduation_and_outcome(client, staff_user):
    _round, (enrolment,) = enrolled_round(1)
    url = reverse("staff_students:detail", args=[enrolment.pk])
    client.force_login(staff_user)
    bad = client.post(url, {"record_step": "1", "step-kind": "graduated",
                            "step-on": TODAY.isoformat()})
    assert bad.status_code == 400 and "thesis title" in bad.content.decode()
    client.post(url, {"record_step": "1", "step-kind": "graduated",
                      "step-on": (TODAY - timedelta(days=1)).isoformat(),
                      "step-thesis_title": "Zeolite catalysts"})
    enrolment.refresh_from_db()
    assert enrolment.status == "graduated" and enrolment.thesis_title == "Zeolite catalysts"
    response = client.post(url, {"outcome": "1", "outcome-path": "stayed_korea",
                                 "outcome-organisation": "Hanbit Precision",
                                 "outcome-employer_type": "sme", "outcome-region": "Ansan"})
    assert response.status_code == 302
    assert AlumniOutcome.objects.get().organisation == "Hanbit Precision"
    client.post(reverse("staff_students:request_update", args=[enrolment.pk]))
    assert OutboundEmail.objects.filter(topic="alumni_update_request",
                                        to=enrolment.nomination.email).exists()


@pytest.mark.parametrize("who", ["coordinator_user", "mentor_user"])
def test_students_pages_are_staff_only(client, request, who):
    _round, (enrolment,) = enrolled_round(1)
    client.force_login(request.getfixturevalue(who))
    assert client.get(LIST).status_code == 403
    assert client.get(reverse("staff_students:detail", args=[enrolment.pk])).status_code == 403


# --- work bounded by a page, whatever the size of the cohorts ----------------------------------

def test_admitted_not_enrolled_are_listed_a_page_at_a_time(client, staff_user, monkeypatch):
    monkeypatch.setattr(student_views, "PAGE_SIZE", 3)
    client.force_login(staff_user)
    admitted_round(2)
    small = client.get(LIST)
    admitted_round(8, seats=10)
    large = client.get(LIST)
    assert len(small.context["to_enrol"]) == 2
    assert len(large.context["to_enrol"]) == 3
    assert large.context["to_enrol"].paginator.count == 10
    assert large.content.decode().count('name="admissions"') == 3
    second = client.get(LIST, {"enrol_page": 2})
    assert {a.pk for a in second.context["to_enrol"]}.isdisjoint(
        {a.pk for a in large.context["to_enrol"]})


def test_page_queries_do_not_grow_with_the_admitted(client, staff_user, monkeypatch):
    monkeypatch.setattr(student_views, "PAGE_SIZE", 3)
    client.force_login(staff_user)
    admitted_round(3)
    with CaptureQueriesContext(connection) as small:
        client.get(LIST)
    admitted_round(8, seats=10)
    with CaptureQueriesContext(connection) as large:
        client.get(LIST)
    assert len(large) == len(small)


@pytest.mark.parametrize("action", ["enrol", "record_step"])
def test_more_than_a_page_of_students_at_once_is_refused(client, staff_user, monkeypatch,
                                                         action):
    monkeypatch.setattr(student_views, "PAGE_SIZE", 2)
    _round, enrolments = enrolled_round(3)
    admitted_round(3)
    client.force_login(staff_user)
    if action == "enrol":
        data = {"enrol": "1", "enrol-semester": "2027 Spring",
                "enrol-enrolled_on": TODAY.isoformat(),
                "admissions": list(CohortAdmission.objects.filter(enrolment__isnull=True)
                                   .values_list("pk", flat=True))}
    else:
        data = {"record_step": "1", "students": [e.pk for e in enrolments],
                "step-kind": "leave_start", "step-on": TODAY.isoformat()}
    before = (Enrolment.objects.count(), ProgressMilestone.objects.count())
    response = client.post(LIST, data)
    assert response.status_code == 400
    assert "at most 2 students at a time" in response.content.decode()
    assert (Enrolment.objects.count(), ProgressMilestone.objects.count()) == before
