"""Staff pages for students: enrol, record steps one by one or in bulk, outcomes."""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from candidates.models import CohortAdmission
from ecocycle.models import OutboundEmail
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
