"""The staff digest: sent only when something needs attention, each event once, every link works."""

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from candidates import services as candidate_services
from ecocycle.models import AuditEntry, OutboundEmail
from hub import digest
from hub.models import JobFailure, StaffDigest
from hub.services import StaffDigestResult, nightly_matching, staff_digest_send
from hub.tasks import nightly_matching as nightly_matching_task
from hub.tasks import send_staff_digest
from mentors import services as mentor_services
from mentors.models import MentorAssignment
from programs.models import RoundMilestone
from tests.candidates.factories import (
    complete_nomination,
    enrolled_round,
    open_round_with_tracks,
    submitted_nomination,
)
from tests.kernel.factories import MentorUserFactory, StaffFactory
from tests.mentors.factories import MentorFactory, admitted_round
from tests.programs.factories import CoordinatorFactory

pytestmark = pytest.mark.django_db

ALL_KINDS = {digest.DUPLICATES, digest.MENTOR_DECLINED, digest.MENTOR_EXPIRED,
             digest.CONSENT_MISSING, digest.ALUMNI_MENTORS, digest.JOB_FAILURES,
             digest.CANDIDATE_WITHDREW}


def _duplicate_refused():
    intake_round = open_round_with_tracks()
    submitted_nomination(intake_round=intake_round, passport_number="D7654321")
    other = CoordinatorFactory()
    second = complete_nomination(coordinator=other, intake_round=intake_round,
                                 passport_number="D7654321", email="twice@student.example")
    with pytest.raises(ValidationError, match="cannot be nominated again"):
        candidate_services.nomination_submit(actor=other.user, nomination=second)
    return second


def _consent_missing_near_the_deadline():
    """A round whose nominations close in 2.5 days, with one nominee who has not consented."""
    now = timezone.now()
    intake_round = open_round_with_tracks(milestones={
        RoundMilestone.Kind.NOMINATIONS_OPEN: now - timedelta(days=20),
        RoundMilestone.Kind.NOMINATIONS_CLOSE: now + timedelta(days=2, hours=12),
        RoundMilestone.Kind.MATCHING: now + timedelta(days=10),
        RoundMilestone.Kind.DECISIONS: now + timedelta(days=20),
        RoundMilestone.Kind.ENROLMENT: now + timedelta(days=90),
    })
    return submitted_nomination(intake_round=intake_round)


def _mentor_declined_and_expired():
    intake_round, _nominations = admitted_round(2)
    mentor = MentorFactory(capacity=2, language="en")
    nightly_matching()
    declined, expired = MentorAssignment.objects.filter(mentor=mentor).order_by("id")
    mentor_services.invitation_answer(
        token=mentor_services.invitation_link(declined).rstrip("/").rsplit("/", 1)[1],
        accept=False, reason="Abroad until June.")
    MentorAssignment.objects.filter(pk=expired.pk).update(
        expires_at=timezone.now() - timedelta(minutes=5))
    assert mentor_services.invitations_expire() == 1
    return intake_round


def _candidate_withdrew():
    nomination = submitted_nomination()
    return candidate_services.candidate_withdraw(nomination=nomination, reason="Family")


def _alumnus_offered_to_mentor():
    _round, (enrolment,) = enrolled_round(1)
    return MentorFactory(alumnus=enrolment, is_active=False, full_name="Dewi ALUMNA")


def _nightly_job_failed(monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("hub.services.nightly_cohort_matching", broken)
    # As a worker runs it: the error is kept in the result, not raised to the caller.
    result = nightly_matching_task.apply(throw=False)
    assert result.failed() and isinstance(result.result, RuntimeError)
    monkeypatch.undo()


def _busy_day(monkeypatch):
    """One event of every kind, all within the last day."""
    _duplicate_refused()
    _consent_missing_near_the_deadline()
    _mentor_declined_and_expired()
    _alumnus_offered_to_mentor()
    _candidate_withdrew()
    _nightly_job_failed(monkeypatch)


def _digests():
    return OutboundEmail.objects.filter(topic="staff_digest")


def _path(url: str) -> str:
    assert url.startswith(settings.SITE_URL + "/")
    return url[len(settings.SITE_URL):]


def test_nothing_is_sent_on_a_quiet_day(staff_user):
    result = staff_digest_send()
    assert result.status == StaffDigestResult.QUIET
    assert not _digests().exists() and not StaffDigest.objects.exists()


def test_a_failed_nightly_job_is_recorded(monkeypatch):
    _nightly_job_failed(monkeypatch)
    failure = JobFailure.objects.get()
    assert failure.job == "nightly_matching"
    assert failure.error == "RuntimeError: the database went away"
    assert "Traceback" in failure.traceback
    assert AuditEntry.objects.filter(action="job_failure_record").count() == 1


def test_each_kind_of_event_appears_once_with_a_working_link(client, monkeypatch):
    staff = StaffFactory(is_superuser=False, language="en")
    _busy_day(monkeypatch)
    result = staff_digest_send()
    assert result.status == StaffDigestResult.SENT and result.recipients == 1
    kinds = [line.kind for line in result.lines]
    assert sorted(kinds) == sorted(ALL_KINDS)  # one line per kind: each event in one round here
    assert all(line.count == 1 for line in result.lines)
    (email,) = _digests()
    assert email.to == staff.email and email.language == "en"
    assert "7 things need your attention" in email.subject
    client.force_login(staff)  # staff, not a superuser: every link opens for plain staff too
    for line in result.lines:
        assert line.url in email.body_text and f'href="{line.url}"' in email.body_html
        response = client.get(_path(line.url))
        assert response.status_code == 200, line
        # The page shows what the line is about: the person (the job), or the round.
        shown = (line.names[0].split(" (")[0].split(" ")[0]
                 if line.kind != digest.CONSENT_MISSING else line.round_name.split(" — ")[-1])
        assert shown in response.content.decode(), (line, shown)
    text = email.body_text
    assert "1 duplicate nomination was refused: " in text
    assert "1 mentor invitation was declined in " in text
    assert "1 mentor invitation expired unanswered in " in text
    assert "1 candidate of " in text and "has not confirmed consent" in text
    assert "1 candidate of " in text and "withdrew on their own page" in text
    assert "1 alumnus offered to mentor and waits for your confirmation: Dewi ALUMNA" in text
    assert "1 scheduled job failed: nightly_matching " in text
    assert "RuntimeError: the database went away" in text
    # The next day, none of these is told again.
    tomorrow = staff_digest_send(now=timezone.now() + timedelta(days=1))
    assert tomorrow.status == StaffDigestResult.QUIET and _digests().count() == 1


def test_the_digest_speaks_each_staff_members_language(monkeypatch):
    StaffFactory(language="ko", full_name="김 직원")
    _duplicate_refused()
    assert staff_digest_send().status == StaffDigestResult.SENT
    (email,) = _digests()
    assert email.language == "ko"
    assert "김 직원 님께" in email.body_text  # Dear ..., from the Korean catalogue


def test_running_twice_the_same_day_sends_once_and_loses_nothing(staff_user):
    _duplicate_refused()
    now = timezone.now()
    assert staff_digest_send(now=now).status == StaffDigestResult.SENT
    end_of_day = timezone.localtime(now).replace(hour=23, minute=59, second=59)
    later = min(now + timedelta(hours=1), end_of_day)
    assert staff_digest_send(now=later).status == StaffDigestResult.ALREADY_SENT
    assert staff_digest_send(now=now).status == StaffDigestResult.ALREADY_SENT
    assert _digests().count() == 1 and StaffDigest.objects.count() == 1
    # What happens after today's digest is told tomorrow, once.
    second = _duplicate_refused()
    tomorrow = staff_digest_send(now=now + timedelta(days=1))
    assert tomorrow.status == StaffDigestResult.SENT
    (line,) = tomorrow.lines
    assert line.kind == digest.DUPLICATES and line.count == 1
    assert second.display_name in line.names[0]
    assert _digests().count() == 2
    window = StaffDigest.objects.order_by("window_end")
    assert window[0].window_end == window[1].window_start == now
    entry = AuditEntry.objects.filter(action="staff_digest_send").latest("id")
    assert entry.after["counts"] == {digest.DUPLICATES: 1} and entry.after["recipients"] == 1


def test_a_staff_member_who_unticked_it_and_everyone_else_gets_nothing():
    wants = StaffFactory()
    StaffFactory(wants_staff_digest=False)
    coordinator = CoordinatorFactory()
    mentor = MentorUserFactory()
    assert coordinator.user.wants_staff_digest and mentor.wants_staff_digest  # the default
    _duplicate_refused()
    result = staff_digest_send()
    assert result.recipients == 1
    assert list(_digests().values_list("to", flat=True)) == [wants.email]


def test_account_page_checkbox_saves_and_is_audited(client, staff_user, coordinator):
    url = reverse("candidates:account")
    client.force_login(staff_user)
    page = client.get(url).content.decode()
    assert 'name="wants_staff_digest"' in page and "checked" in page
    response = client.post(url, {"staff_digest": "1"})  # the box unticked
    assert response.status_code == 302
    staff_user.refresh_from_db()
    assert staff_user.wants_staff_digest is False
    entry = AuditEntry.objects.get(action="user_staff_digest_set")
    assert entry.actor == staff_user
    assert (entry.before, entry.after) == ({"wants_staff_digest": True},
                                           {"wants_staff_digest": False})
    assert re.search(r'name="wants_staff_digest" value="1" id="wants-staff-digest">',
                     client.get(url).content.decode())
    client.post(url, {"staff_digest": "1", "wants_staff_digest": "1"})
    staff_user.refresh_from_db()
    assert staff_user.wants_staff_digest is True
    # Coordinators are not offered it, and posting it changes nothing for them.
    client.force_login(coordinator.user)
    assert 'name="wants_staff_digest"' not in client.get(url).content.decode()
    client.post(url, {"staff_digest": "1"})
    coordinator.user.refresh_from_db()
    assert coordinator.user.wants_staff_digest is True
    assert AuditEntry.objects.filter(action="user_staff_digest_set").count() == 2


def test_the_command_prints_what_it_did(capsys, staff_user):
    call_command("send_staff_digest")
    assert "No digest sent: nothing needs attention." in capsys.readouterr().out
    _duplicate_refused()
    call_command("send_staff_digest")
    out = capsys.readouterr().out
    assert "Digest sent to 1 staff member(s)" in out
    assert "duplicates: 1" in out and "Emails sent from the outbox: " in out
    call_command("send_staff_digest")
    assert "No digest sent: already sent today." in capsys.readouterr().out
    _duplicate_refused()
    call_command("send_staff_digest", "--force")
    assert "Digest sent to 1 staff member(s)" in capsys.readouterr().out
    assert StaffDigest.objects.filter(forced=True).count() == 1


def test_the_digest_reads_a_fixed_number_of_queries(monkeypatch, django_assert_max_num_queries):
    _busy_day(monkeypatch)
    _duplicate_refused()
    _consent_missing_near_the_deadline()
    now = timezone.now()
    with django_assert_max_num_queries(8):
        lines = digest.staff_digest_lines(since=now - timedelta(days=1), until=now)
    assert {line.kind for line in lines} == ALL_KINDS
    assert sum(line.count for line in lines if line.kind == digest.DUPLICATES) == 2
    assert len([line for line in lines if line.kind == digest.CONSENT_MISSING]) == 2


def test_the_daily_beat_entry_runs_the_digest_task(staff_user):
    assert settings.CELERY_BEAT_SCHEDULE["staff-digest"]["task"] == send_staff_digest.name
    assert send_staff_digest.delay().get() == StaffDigestResult.QUIET
    _duplicate_refused()
    assert send_staff_digest.delay().get() == StaffDigestResult.SENT
    assert _digests().count() == 1
