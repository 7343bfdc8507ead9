from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from candidates import services, tasks
from candidates.models import Cohort, EligibilityPolicy, Nomination
from ecocycle.models import AuditEntry, JobLock, OutboundEmail
from tests.candidates.factories import open_round_with_tracks, submitted_nomination
from tests.programs.factories import close_nominations

pytestmark = pytest.mark.django_db


def test_recheck_eligibility_follows_a_policy_change_and_is_idempotent(
    django_assert_max_num_queries,
):
    nominations = [submitted_nomination() for _ in range(3)]
    assert all(n.is_eligible for n in nominations)
    audited_before = AuditEntry.objects.filter(action="nomination_eligibility").count()
    for program_id in {n.intake_round.program_id for n in nominations}:
        EligibilityPolicy.objects.filter(program_id=program_id).update(min_gpa=3.9)
    with django_assert_max_num_queries(12):
        assert tasks.recheck_eligibility() == 3
    assert not Nomination.objects.filter(is_eligible=True).exists()
    reasons = Nomination.objects.first().eligibility_reasons
    assert reasons[0]["code"] == "gpa_low"
    assert AuditEntry.objects.filter(action="nomination_eligibility").count() == audited_before + 3
    assert tasks.recheck_eligibility() == 0


def _policies(nominations):
    return EligibilityPolicy.objects.filter(
        program_id__in={n.intake_round.program_id for n in nominations})


def test_recheck_queries_do_not_grow_with_nominations(django_assert_max_num_queries,
                                                      django_assert_num_queries):
    # At each size every verdict changes, so that both runs do the same work per nomination.
    first = [submitted_nomination() for _ in range(3)]
    _policies(first).update(min_gpa=3.9)
    with django_assert_max_num_queries(12) as measured:
        assert tasks.recheck_eligibility() == 3
    added = [submitted_nomination() for _ in range(5)]
    _policies(first).update(min_gpa=3.0)
    _policies(added).update(min_gpa=3.9)
    with django_assert_num_queries(len(measured.captured_queries)):
        assert tasks.recheck_eligibility() == 8


def test_consent_reminder_command_is_idempotent(capsys):
    nomination = submitted_nomination()
    Nomination.objects.filter(pk=nomination.pk).update(
        consent_requested_at=timezone.now() - timedelta(days=4))
    call_command("send_consent_reminders")
    call_command("send_consent_reminders")
    assert "1 consent reminder(s)" in capsys.readouterr().out
    assert OutboundEmail.objects.filter(topic="consent_reminder").count() == 1


def test_language_certificate_expiring_after_submit_is_caught_at_night():
    nomination = submitted_nomination()
    Nomination.objects.filter(pk=nomination.pk).update(
        language_test_date=timezone.localdate() - timedelta(days=740))
    call_command("recheck_eligibility")
    nomination.refresh_from_db()
    assert nomination.is_eligible is False
    assert {r["code"] for r in nomination.eligibility_reasons} == {"language_expired"}


@pytest.mark.parametrize("refusal", [
    # PostgreSQL takes an advisory lock instead, which the test's own connection would reenter.
    pytest.param("busy", marks=pytest.mark.skipif(connection.vendor == "postgresql",
                                                  reason="holds the lease of SQLite")),
    "refused",
])
def test_a_run_request_that_cannot_run_is_answered(refusal, staff_user):
    intake_round = close_nominations(open_round_with_tracks())
    services.cohort_run_request(actor=staff_user, intake_round=intake_round)
    if refusal == "busy":
        JobLock.objects.create(name=f"cohort-match-{intake_round.pk}", holder="another",
                               expires_at=timezone.now() + timedelta(minutes=5))
    else:
        Cohort.objects.filter(intake_round=intake_round).update(status=Cohort.Status.APPROVED)

    tasks.run_cohort_matching(intake_round.pk, staff_user.pk)

    assert Cohort.objects.get(intake_round=intake_round).run_requested_at is None
    assert AuditEntry.objects.get(action="cohort_run_request_clear").after == {"reason": refusal}
