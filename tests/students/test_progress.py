"""Student progress: every state change and its audit entry; bulk updates all or nothing."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError

from candidates import services
from candidates.models import Cohort, CohortAdmission
from ecocycle.models import AuditEntry
from students import services as student_services
from students.models import Enrolment, ProgressMilestone
from tests.candidates.factories import admitted_round, enrolled_round

pytestmark = pytest.mark.django_db
Status = Enrolment.Status
Kind = ProgressMilestone.Kind
TODAY = date.today()


def _audits(enrolment, action):
    return AuditEntry.objects.filter(action=action, target_id=str(enrolment.pk))


def test_enrolment_takes_campus_and_supervisor_from_the_track(staff_user):
    _round, (nomination,) = admitted_round(1)
    admission = CohortAdmission.objects.select_related("track").get(nomination=nomination)
    enrolment = student_services.enrolment_create(actor=staff_user, admission=admission,
                                          semester="2027 Spring", enrolled_on=TODAY)
    assert enrolment.status == Status.ENROLLED
    assert enrolment.campus == admission.track.campus
    assert enrolment.supervisor_name == admission.track.supervisor_name
    assert enrolment.milestones.get().kind == Kind.ENROLLED
    entry = _audits(enrolment, "enrolment_create").get()
    assert entry.actor == staff_user and entry.after["semester"] == "2027 Spring"
    with pytest.raises(ValidationError, match="already enrolled"):
        student_services.enrolment_create(actor=staff_user, admission=admission,
                                  semester="2027 Spring", enrolled_on=TODAY)


def test_an_enrolled_cohort_cannot_be_reopened(staff_user):
    intake_round, _enrolments = enrolled_round(1)
    with pytest.raises(ValidationError, match="enrolled already"):
        services.cohort_reopen(actor=staff_user, cohort=Cohort.objects.get(
            intake_round=intake_round), reason="A mistake.")


@pytest.mark.parametrize(("steps", "status"), [
    ([Kind.COURSEWORK_COMPLETED], Status.ENROLLED),
    ([Kind.THESIS_SUBMITTED], Status.ENROLLED),
    ([Kind.LEAVE_STARTED], Status.ON_LEAVE),
    ([Kind.LEAVE_STARTED, Kind.LEAVE_ENDED], Status.ENROLLED),
    ([Kind.LEAVE_STARTED, Kind.WITHDRAWN], Status.WITHDRAWN),
    ([Kind.WITHDRAWN], Status.WITHDRAWN),
    ([Kind.COURSEWORK_COMPLETED, Kind.THESIS_SUBMITTED, Kind.GRADUATED], Status.GRADUATED),
])
def test_each_step_moves_the_status_and_is_audited(staff_user, steps, status):
    _round, (enrolment,) = enrolled_round(1)
    for offset, kind in enumerate(steps):
        student_services.enrolment_record(
            actor=staff_user, enrolment=enrolment, kind=kind,
            on=TODAY - timedelta(days=len(steps) - offset), note=f"step {offset}",
            values={"thesis_title": "Solid acid catalysts for palm-oil biodiesel"})
        entry = _audits(enrolment, f"enrolment_{kind}").get()
        assert entry.actor == staff_user and entry.after["note"] == f"step {offset}"
    enrolment.refresh_from_db()
    assert enrolment.status == status
    assert list(enrolment.milestones.values_list("kind", flat=True)) == [Kind.ENROLLED, *steps]
    if status == Status.GRADUATED:
        assert enrolment.graduated_on == TODAY - timedelta(days=1)
        assert enrolment.degree_awarded == enrolment.admission.track.level
        assert _audits(enrolment, "enrolment_graduated").get().before["status"] == "enrolled"


@pytest.mark.parametrize(("first", "then", "message"), [
    (Kind.WITHDRAWN, Kind.LEAVE_STARTED, "withdrawn"),
    (Kind.WITHDRAWN, Kind.GRADUATED, "withdrawn"),
    (Kind.LEAVE_STARTED, Kind.GRADUATED, "on leave"),
    (Kind.COURSEWORK_COMPLETED, Kind.COURSEWORK_COMPLETED, "already recorded"),
    (None, Kind.LEAVE_ENDED, "cannot be recorded now"),
])
def test_steps_out_of_order_are_refused_and_change_nothing(staff_user, first, then, message):
    _round, (enrolment,) = enrolled_round(1)
    if first:
        student_services.enrolment_record(actor=staff_user, enrolment=enrolment, kind=first,
                                  on=TODAY - timedelta(days=2))
    before = (ProgressMilestone.objects.count(), AuditEntry.objects.count())
    with pytest.raises(ValidationError, match=message):
        student_services.enrolment_record(actor=staff_user, enrolment=enrolment, kind=then,
                                          on=TODAY, values={"thesis_title": "T"})
    assert (ProgressMilestone.objects.count(), AuditEntry.objects.count()) == before


def test_dates_must_be_real(staff_user):
    _round, (enrolment,) = enrolled_round(1)
    with pytest.raises(ValidationError, match="future"):
        student_services.enrolment_record(actor=staff_user, enrolment=enrolment,
                                  kind=Kind.COURSEWORK_COMPLETED, on=TODAY + timedelta(days=1))
    with pytest.raises(ValidationError, match="before the enrolment"):
        student_services.enrolment_record(actor=staff_user, enrolment=enrolment,
                                  kind=Kind.COURSEWORK_COMPLETED,
                                  on=enrolment.enrolled_on - timedelta(days=1))


def test_graduation_needs_a_thesis_title(staff_user):
    _round, (enrolment,) = enrolled_round(1)
    with pytest.raises(ValidationError, match="thesis title"):
        student_services.enrolment_record(actor=staff_user, enrolment=enrolment,
                                          kind=Kind.GRADUATED, on=TODAY)


def test_bulk_update_applies_to_all(staff_user):
    _round, enrolments = enrolled_round(3)
    student_services.enrolment_record_many(actor=staff_user, enrolments=enrolments,
                                   kind=Kind.COURSEWORK_COMPLETED, on=TODAY, note="Spring term")
    assert set(Enrolment.objects.values_list("status", flat=True)) == {Status.ENROLLED}
    assert ProgressMilestone.objects.filter(kind=Kind.COURSEWORK_COMPLETED).count() == 3
    assert AuditEntry.objects.filter(action="enrolment_coursework").count() == 3


def test_bulk_update_is_all_or_nothing(staff_user):
    _round, (first, second, third) = enrolled_round(3)
    student_services.enrolment_record(actor=staff_user, enrolment=second, kind=Kind.WITHDRAWN,
                              on=TODAY)
    before = (ProgressMilestone.objects.count(), AuditEntry.objects.count())
    with pytest.raises(ValidationError) as error:
        student_services.enrolment_record_many(actor=staff_user, enrolments=[first, second, third],
                                       kind=Kind.LEAVE_STARTED, on=TODAY)
    messages = error.value.messages
    assert messages[0] == "Nothing was changed."
    assert any(str(second.nomination) in m and "withdrawn" in m for m in messages)
    assert (ProgressMilestone.objects.count(), AuditEntry.objects.count()) == before
    assert set(Enrolment.objects.filter(pk__in=[first.pk, third.pk]).values_list(
        "status", flat=True)) == {Status.ENROLLED}


def test_details_change_without_touching_the_status(staff_user):
    _round, (enrolment,) = enrolled_round(1)
    student_services.enrolment_update(actor=staff_user, enrolment=enrolment, data={
        "expected_graduation": TODAY + timedelta(days=200), "career_wish": "return_home",
        "status": "graduated"})
    enrolment.refresh_from_db()
    assert enrolment.status == Status.ENROLLED and enrolment.career_wish == "return_home"
    assert _audits(enrolment, "enrolment_update").get().after["career_wish"] == "return_home"
