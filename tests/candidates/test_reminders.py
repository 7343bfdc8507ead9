"""What coordinators are told and can do about what is still open: the reminder before a
nominations deadline, a new consent link on request, and the link sent to a corrected address."""

from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from candidates import services, tasks
from candidates.models import DeadlineReminder, Nomination
from ecocycle.mail import outbound_email_rendered
from ecocycle.models import AuditEntry, OutboundEmail
from programs.models import RoundMilestone
from tests.candidates.factories import (
    complete_nomination,
    consented_nomination,
    open_round_with_tracks,
    submitted_nomination,
)
from tests.candidates.test_outcomes import close_nominations
from tests.programs.factories import CoordinatorFactory, ProgramUniversityFactory

pytestmark = pytest.mark.django_db


def _token(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[1]


def _coordinator_in(intake_round, **kwargs):
    coordinator = CoordinatorFactory(**kwargs)
    ProgramUniversityFactory(program=intake_round.program, university=coordinator.university)
    return coordinator


def _deadline(intake_round):
    return RoundMilestone.objects.get(intake_round=intake_round,
                                      kind=RoundMilestone.Kind.NOMINATIONS_CLOSE).at


# --- the reminder before the deadline -----------------------------------------------------------

@pytest.fixture
def closing():
    """A round whose nominations close in three days, and a coordinator with a draft, a
    candidate without consent and one who consented."""
    intake_round = open_round_with_tracks(milestones__opened_days_ago=27)
    coordinator = _coordinator_in(intake_round, user__language="ko")
    return {
        "round": intake_round, "coordinator": coordinator,
        "draft": complete_nomination(coordinator=coordinator, intake_round=intake_round,
                                     documents=False, family_name="Drafted"),
        "waiting": submitted_nomination(coordinator=coordinator, intake_round=intake_round,
                                        family_name="Waiting"),
        "consented": consented_nomination(coordinator=coordinator, intake_round=intake_round,
                                          family_name="Consented"),
    }


def test_reminder_lists_drafts_and_missing_consent_and_is_sent_once(closing):
    coordinator = closing["coordinator"]
    assert services.deadline_reminders_send() == 1
    email = OutboundEmail.objects.get(topic="deadline_reminder")
    assert email.to == coordinator.user.email and email.language == "ko"
    for key in ("draft", "waiting"):
        nomination = closing[key]
        assert nomination.display_name in email.body_text
        url = settings.SITE_URL + reverse("candidates:nomination_detail", args=[nomination.pk])
        assert url in email.body_text and f'href="{url}"' in email.body_html
    assert closing["consented"].display_name not in email.body_text
    assert closing["waiting"].email in email.body_text
    reminder = DeadlineReminder.objects.get()
    assert (reminder.coordinator, reminder.intake_round) == (coordinator, closing["round"])
    assert (reminder.drafts, reminder.consent_missing) == (1, 1)
    assert reminder.deadline == _deadline(closing["round"])
    assert AuditEntry.objects.filter(action="coordinator_deadline_reminder").count() == 1
    # Safe to run twice: once per coordinator and round.
    assert services.deadline_reminders_send() == 0
    assert services.deadline_reminders_send(now=timezone.now() + timedelta(days=1)) == 0
    assert OutboundEmail.objects.filter(topic="deadline_reminder").count() == 1


def test_reminder_says_nothing_when_nothing_is_pending(closing):
    Nomination.objects.filter(pk=closing["waiting"].pk).update(consent_given_at=timezone.now())
    services.nomination_withdraw(actor=closing["coordinator"].user, nomination=closing["draft"])
    assert services.deadline_reminders_send() == 0
    assert not OutboundEmail.objects.filter(topic="deadline_reminder").exists()
    assert not DeadlineReminder.objects.exists()


def test_reminder_waits_for_its_days_and_stops_at_the_deadline(closing, settings):
    deadline = _deadline(closing["round"])
    settings.ECOCYCLE_DEADLINE_REMINDER_DAYS = 2
    assert services.deadline_reminders_send() == 0  # three days ahead: too early
    assert services.deadline_reminders_send(now=deadline + timedelta(minutes=1)) == 0
    assert services.deadline_reminders_send(now=deadline - timedelta(days=1)) == 1


def test_reminder_goes_to_every_coordinator_of_a_university_with_something_pending(closing):
    colleague = CoordinatorFactory(university=closing["coordinator"].university)
    elsewhere = _coordinator_in(closing["round"])
    consented_nomination(coordinator=elsewhere, intake_round=closing["round"])
    assert services.deadline_reminders_send() == 2
    sent_to = set(OutboundEmail.objects.filter(topic="deadline_reminder")
                  .values_list("to", flat=True))
    assert sent_to == {closing["coordinator"].user.email, colleague.user.email}


def test_reminder_task_command_and_schedule(closing):
    assert tasks.send_deadline_reminders.apply().get() == 1
    out = StringIO()
    call_command("send_deadline_reminders", stdout=out)
    assert "0 deadline reminder(s) queued" in out.getvalue()
    entry = settings.CELERY_BEAT_SCHEDULE["deadline-reminders"]
    assert entry["task"] == "candidates.tasks.send_deadline_reminders"


# --- a new consent link on request ------------------------------------------------------------

def test_resend_kills_the_old_link_sends_a_working_one_and_is_audited(client):
    nomination = submitted_nomination()
    old = _token(services.consent_link(nomination))
    client.force_login(nomination.created_by)
    response = client.post(reverse("candidates:nomination_consent_resend",
                                   args=[nomination.pk]), follow=True)
    assert "A new consent link was emailed" in response.content.decode()
    assert services.consent_check(old).state.value == "stale"
    emails = OutboundEmail.objects.filter(topic="consent_request", to=nomination.email)
    assert emails.count() == 2
    link = next(w for w in outbound_email_rendered(emails.latest("id"))[1].split()
                if "/consent/" in w)
    new = _token(link)
    assert services.consent_check(new).state.value == "valid"
    services.consent_confirm(token=new)
    entry = AuditEntry.objects.get(action="nomination_consent_resend")
    assert entry.actor == nomination.created_by and entry.target_id == str(nomination.pk)


def test_resend_refused_once_consent_is_given_or_nominations_closed():
    given = consented_nomination()
    with pytest.raises(ValidationError, match="already confirmed"):
        services.consent_resend(actor=given.created_by, nomination=given)
    waiting = submitted_nomination()
    close_nominations(waiting.intake_round)
    token = _token(services.consent_link(waiting))
    with pytest.raises(ValidationError, match="deadline"):
        services.consent_resend(actor=waiting.created_by, nomination=waiting)
    draft = complete_nomination()
    with pytest.raises(ValidationError, match="submitted"):
        services.consent_resend(actor=draft.created_by, nomination=draft)
    assert OutboundEmail.objects.filter(topic="consent_request").count() == 2  # the submissions
    assert services.consent_check(token).state.value == "valid"
    assert not AuditEntry.objects.filter(action="nomination_consent_resend").exists()


def test_resend_is_limited_per_day(settings):
    settings.ECOCYCLE_CONSENT_RESEND_PER_DAY = 2
    nomination = submitted_nomination()
    for _ in range(2):
        services.consent_resend(actor=nomination.created_by, nomination=nomination)
    with pytest.raises(ValidationError, match="2 times in the last 24 hours"):
        services.consent_resend(actor=nomination.created_by, nomination=nomination)
    assert OutboundEmail.objects.filter(topic="consent_request").count() == 3


def test_resend_button_refused_for_another_university(client):
    nomination = submitted_nomination()
    client.force_login(CoordinatorFactory().user)
    url = reverse("candidates:nomination_consent_resend", args=[nomination.pk])
    assert client.post(url).status_code == 404
    assert client.get(reverse("candidates:nomination_consent_resend",
                              args=[nomination.pk])).status_code == 405


# --- a corrected address ----------------------------------------------------------------------

def test_correcting_the_email_sends_the_consent_link_to_the_new_address(client):
    nomination = submitted_nomination(email="wrong@student.example")
    old = _token(services.consent_link(nomination))
    client.force_login(nomination.created_by)
    data = {name: getattr(nomination, name) for name in (
        "family_name", "given_names", "native_name", "phone", "candidate_language")}
    data.update(date_of_birth=nomination.date_of_birth.isoformat(), nationality="ID",
                email="right@student.example", passport_number=nomination.passport_number)
    response = client.post(reverse("candidates:nomination_edit", args=[nomination.pk, "person"]),
                           data)
    assert response.status_code == 302, response.content.decode()[:2000]
    email = OutboundEmail.objects.filter(topic="consent_request").latest("id")
    assert email.to == "right@student.example"
    assert services.consent_check(old).state.value == "stale"
    link = next(w for w in outbound_email_rendered(email)[1].split() if "/consent/" in w)
    assert services.consent_check(_token(link)).state.value == "valid"


def test_consent_is_asked_again_only_when_the_address_really_changes():
    nomination = consented_nomination(email="same@student.example")
    actor = nomination.created_by
    services.nomination_save(actor=actor, nomination=nomination,
                             data={"email": "SAME@student.example", "phone": "+62 1"})
    assert OutboundEmail.objects.filter(topic="consent_request").count() == 1
    services.nomination_save(actor=actor, nomination=nomination,
                             data={"email": "new@student.example"})
    nomination.refresh_from_db()
    # The consent came through the address now corrected: it is asked for again, there.
    assert nomination.consent_given_at is None
    assert OutboundEmail.objects.filter(topic="consent_request").latest("id").to == (
        "new@student.example")
    draft = complete_nomination()
    services.nomination_save(actor=draft.created_by, nomination=draft,
                             data={"email": "other@student.example"})
    assert OutboundEmail.objects.filter(topic="consent_request").count() == 2
