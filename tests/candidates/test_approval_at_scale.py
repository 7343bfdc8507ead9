"""Approval that is quick and whole: the request commits the decision of record with a bounded
number of statements; the emails are written by a job that, run twice or killed half-way and
run again, leaves exactly one email per person; the round's page and the staff digest show how
far it came."""

import io
from collections import Counter
from datetime import timedelta
from types import SimpleNamespace
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation

from bench.cohort_approve import build_proposed_round
from candidates import services
from candidates.models import (
    Cohort,
    CohortAdmission,
    CohortNotification,
    Coordinator,
    Nomination,
    Offer,
    Placement,
)
from candidates.services import cohort_notices
from candidates.services.candidate_page import candidate_page_link, candidate_time_zone
from candidates.tasks import resume_cohort_notifications, send_cohort_notification
from ecocycle.exceptions import DomainError
from ecocycle.mail import email_queue
from ecocycle.models import OutboundEmail
from hub.digest import JOB_FAILURES, staff_digest_lines
from programs.calendar import moment
from programs.models import RoundTrack

pytestmark = pytest.mark.django_db

Status = CohortNotification.Status


def _proposed(n: int) -> Cohort:
    return build_proposed_round(n, n_tracks=20, n_universities=10)


def _everyone(cohort: Cohort) -> Counter:
    """Whom the approval must tell: each candidate of the run and each coordinator, once."""
    candidates = Placement.objects.filter(match_run_id=cohort.match_run_id).values_list(
        "nomination__email", flat=True)
    coordinators = Coordinator.objects.values_list("user__email", flat=True)
    return Counter([*candidates, *coordinators])


def _outbox(topics=("cohort_candidate_result", "cohort_university_summary")) -> Counter:
    return Counter(OutboundEmail.objects.filter(topic__in=topics).values_list("to", flat=True))


def _approve(client, cohort):
    url = reverse("staff_rounds:cohort_approve", args=[cohort.intake_round_id])
    return client.post(url, {"confirm": "yes", "run": str(cohort.match_run_id)})


def test_the_approve_request_issues_the_same_statements_whatever_the_cohort_size(
    client, staff_user, django_assert_max_num_queries,
):
    client.force_login(staff_user)
    counts = []
    for size in (1000, 3000):
        cohort = _proposed(size)
        ContentType.objects.clear_cache()  # as a fresh process: the audit entry reads it
        with django_assert_max_num_queries(30) as measured:
            response = _approve(client, cohort)
        assert response.status_code == 302
        counts.append(len(measured.captured_queries))
        cohort.refresh_from_db()
        assert cohort.status == Cohort.Status.APPROVED
        placed = Placement.objects.filter(match_run_id=cohort.match_run_id, track__isnull=False)
        assert CohortAdmission.objects.filter(cohort=cohort).count() == placed.count() > 0
        assert set(CohortAdmission.objects.filter(cohort=cohort).values_list(
            "nomination_id", "track_id")) == set(placed.values_list("nomination_id", "track_id"))
        # No email is rendered in the request: the job queued on commit writes them.
        notification = cohort.notifications.get()
        assert (notification.status, notification.candidates) == (Status.QUEUED, size)
    assert not OutboundEmail.objects.exists()
    assert counts[0] == counts[1]


def test_the_seat_and_admissibility_checks_still_refuse_in_the_request(staff_user):
    cohort = _proposed(200)
    track_id = Placement.objects.filter(match_run_id=cohort.match_run_id,
                                        track__isnull=False).values_list("track_id",
                                                                         flat=True).first()
    RoundTrack.objects.filter(intake_round=cohort.intake_round).filter(track_id=track_id).update(seats=1)
    with pytest.raises(DomainError, match="would admit"):
        services.cohort_approve(actor=staff_user, cohort=cohort)
    RoundTrack.objects.filter(intake_round=cohort.intake_round).update(seats=1000)
    stale = Placement.objects.filter(match_run_id=cohort.match_run_id,
                                     track__isnull=False).first().nomination
    Nomination.objects.filter(pk=stale.pk).update(consent_given_at=None)
    with pytest.raises(DomainError, match="can no longer be admitted") as refused:
        services.cohort_approve(actor=staff_user, cohort=cohort)
    assert stale.display_name in str(refused.value)
    assert not CohortAdmission.objects.exists() and not CohortNotification.objects.exists()


def _killed_after(batches: int):
    """email_queue_many that dies (as a killed worker would) on its `batches`+1-th call."""
    real, calls = cohort_notices.email_queue_many, []

    def dying(emails):
        calls.append(len(emails))
        if len(calls) > batches:
            raise RuntimeError("worker killed")
        return real(emails)
    return mock.patch.object(cohort_notices, "email_queue_many", side_effect=dying)


def test_the_job_killed_half_way_and_run_again_leaves_one_email_per_person(staff_user):
    cohort = _proposed(1200)
    services.cohort_approve(actor=staff_user, cohort=cohort)
    notification = cohort.notifications.get()
    with _killed_after(4), pytest.raises(RuntimeError):
        services.cohort_notification_send(notification_id=notification.pk, batch_size=100)
    notification.refresh_from_db()
    # The universities' batch and three of the candidates': the fourth rolled back whole.
    assert notification.candidates_told == 300 and notification.universities_queued == 10
    assert sum(_outbox().values()) == 310

    services.cohort_notification_send(notification_id=notification.pk, batch_size=100)
    services.cohort_notification_send(notification_id=notification.pk, batch_size=100)
    assert _outbox() == _everyone(cohort)
    assert set(_outbox().values()) == {1}
    notification.refresh_from_db()
    assert (notification.status, notification.queued) == (Status.DONE, 1210)


def test_a_failed_job_is_shown_on_the_page_and_in_the_digest_and_carries_on(
    client, staff_user, django_capture_on_commit_callbacks,
):
    cohort = _proposed(300)
    started = timezone.now()
    services.cohort_approve(actor=staff_user, cohort=cohort)
    notification = cohort.notifications.get()
    with _killed_after(1):
        # As a worker runs it (eager mode's propagation skips the failure handler).
        send_cohort_notification.apply(args=[notification.pk], throw=False)
    notification.refresh_from_db()
    assert notification.status == Status.FAILED and "worker killed" in notification.error

    client.force_login(staff_user)
    html = client.get(reverse("staff_rounds:round_overview",
                              args=[cohort.intake_round_id])).content.decode()
    assert 'id="cohort-emails-progress"' in html and "worker killed" in html
    assert f"{notification.candidates_told} of 300 candidates" in html

    lines = [line for line in staff_digest_lines(since=started,
                                                 until=timezone.now() + timedelta(seconds=1))
             if line.kind == JOB_FAILURES]
    assert len(lines) == 1 and "worker killed" in lines[0].names[0]

    with django_capture_on_commit_callbacks(execute=True):
        send_cohort_notification.delay(notification.pk)
    notification.refresh_from_db()
    assert notification.status == Status.DONE and _outbox() == _everyone(cohort)
    html = client.get(reverse("staff_rounds:round_overview",
                              args=[cohort.intake_round_id])).content.decode()
    assert "All 310 emails are in the outbox." in html


def test_each_email_is_the_one_rendered_for_the_person_alone(staff_user):
    cohort = _proposed(40)
    Nomination.objects.filter(intake_round=cohort.intake_round).update(
        given_names="Zoë <&>", candidate_language="ko")
    services.cohort_approve(actor=staff_user, cohort=cohort)
    services.cohort_notification_send(notification_id=cohort.notifications.get().pk)
    intake_round = cohort.intake_round
    placements = Placement.objects.filter(match_run_id=cohort.match_run_id).select_related(
        "nomination", "track")
    for placement in (placements.filter(track__isnull=False).first(),
                      placements.filter(track__isnull=True).first()):
        nomination = placement.nomination
        written = OutboundEmail.objects.get(to=nomination.email)
        offer = Offer.objects.filter(nomination=nomination).first()
        if offer is not None:
            # The deadline as the candidate reads it, and their page's link.
            with timezone.override(candidate_time_zone(nomination)), \
                    translation.override(nomination.candidate_language):
                offer = SimpleNamespace(deadline=moment(offer.deadline))
        alone = email_queue(to="alone@example.test", language=nomination.candidate_language,
                            template="cohort_candidate_result",
                            context={"nomination": nomination, "intake_round": intake_round,
                                     "program": intake_round.program, "track": placement.track,
                                     "admitted": placement.track_id is not None,
                                     "offer": offer,
                                     "page_link": candidate_page_link(nomination) if offer else ""})
        assert "Zoë &lt;&amp;&gt;" in written.body_html and "Zoë <&>" in written.body_text
        assert (written.subject, written.body_text, written.body_html, written.language) == (
            alone.subject, alone.body_text, alone.body_html, alone.language)


def test_a_reopening_during_the_approvals_emails_stops_them_and_tells_only_those_told(
    staff_user, django_capture_on_commit_callbacks,
):
    cohort = _proposed(500)
    services.cohort_approve(actor=staff_user, cohort=cohort)
    approval = cohort.notifications.get()
    with _killed_after(3), pytest.raises(RuntimeError):
        services.cohort_notification_send(notification_id=approval.pk, batch_size=100)
    told = _outbox()
    assert sum(told.values()) == 10 + 200
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.cohort_reopen(actor=staff_user, cohort=cohort, reason="Seats change")
    approval.refresh_from_db()
    assert approval.status == Status.CANCELLED
    withdrawn = _outbox(("cohort_result_withdrawn_candidate",
                         "cohort_result_withdrawn_university"))
    assert withdrawn == told
    # The stopped job, run again (a retry already queued), writes nothing more.
    services.cohort_notification_send(notification_id=approval.pk)
    assert _outbox() == told


def test_the_command_carries_on_the_unfinished_jobs(staff_user):
    cohort = _proposed(250)
    services.cohort_approve(actor=staff_user, cohort=cohort)
    with _killed_after(2), pytest.raises(RuntimeError):
        services.cohort_notification_send(notification_id=cohort.notifications.get().pk,
                                          batch_size=100)
    out = io.StringIO()
    call_command("send_cohort_notifications", stdout=out)
    assert "260 emails in the outbox" in out.getvalue()
    assert _outbox() == _everyone(cohort) and set(_outbox().values()) == {1}
    out = io.StringIO()
    call_command("send_cohort_notifications", stdout=out)
    assert out.getvalue() == ""


def test_the_periodic_task_carries_on_a_job_whose_worker_died(staff_user):
    assert "candidates.tasks.resume_cohort_notifications" in {
        entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    cohort = _proposed(120)
    services.cohort_approve(actor=staff_user, cohort=cohort)
    with _killed_after(1), pytest.raises(RuntimeError):
        services.cohort_notification_send(notification_id=cohort.notifications.get().pk,
                                          batch_size=50)
    assert resume_cohort_notifications.apply().get() == 1
    assert _outbox() == _everyone(cohort) and set(_outbox().values()) == {1}
    assert resume_cohort_notifications.apply().get() == 0


def test_the_reopen_request_issues_the_same_statements_whatever_the_cohort_size(
    client, staff_user, django_assert_max_num_queries,
):
    client.force_login(staff_user)
    counts = []
    for size in (500, 1500):
        cohort = _proposed(size)
        services.cohort_approve(actor=staff_user, cohort=cohort)
        services.cohort_notification_send(notification_id=cohort.notifications.get().pk)
        url = reverse("staff_rounds:cohort_reopen", args=[cohort.intake_round_id])
        ContentType.objects.clear_cache()
        with django_assert_max_num_queries(30) as measured:
            assert client.post(url, {"reason": "Seats change"}).status_code == 302
        counts.append(len(measured.captured_queries))
        cohort.refresh_from_db()
        assert cohort.status == Cohort.Status.PROPOSED
        assert not CohortAdmission.objects.filter(cohort=cohort).exists()
        withdrawal = cohort.notifications.get(kind=CohortNotification.Kind.WITHDRAWN)
        assert (withdrawal.status, withdrawal.candidates) == (Status.QUEUED, size)
    # No email is rendered in the request: the job queued on commit writes them.
    assert not _outbox(("cohort_result_withdrawn_candidate", "cohort_result_withdrawn_university"))
    assert counts[0] == counts[1]
