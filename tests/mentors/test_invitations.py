"""Mentor invitations: the emailed link, every bad link, the answer, reminders and expiry."""

import re
import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from ecocycle.mail import outbound_email_rendered
from ecocycle.models import AuditEntry, OutboundEmail
from hub.services import nightly_matching
from mentors import services
from mentors.models import MentorAssignment
from tests.mentors.factories import MentorFactory, admitted_round
from tests.programs.factories import CoordinatorFactory

pytestmark = pytest.mark.django_db
Status = MentorAssignment.Status
LINK = re.compile(r"https?://\S+/mentoring/invitations/[^/\s]+/")


def _invited(n=1, *, capacity=3, language="en", **mentor_fields):
    """An approved cohort whose candidates were invited by the nightly job to one mentor."""
    intake_round, nominations = admitted_round(n)
    CoordinatorFactory(university=nominations[0].university)
    mentor = MentorFactory(capacity=capacity, language=language, **mentor_fields)
    summary = nightly_matching(now=timezone.now())
    assert summary["mentor_invitations_sent"] == n
    return intake_round, nominations, mentor


def _link_of(assignment) -> str:
    """The link in the invitation email sent for `assignment`."""
    for email in OutboundEmail.objects.filter(topic="mentor_invitation",
                                              to=assignment.mentor.email).order_by("-id"):
        link = LINK.search(outbound_email_rendered(email)[1]).group(0)
        if services.invitation_check(_token(link)).object.pk == assignment.pk:
            return link
    raise AssertionError(f"no invitation email for {assignment}")


def _path(link: str) -> str:
    return link.split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def _token(link: str) -> str:
    return link.rstrip("/").rsplit("/", 1)[1]


def test_nightly_job_turns_every_proposal_into_an_emailed_invitation():
    _round, nominations, mentor = _invited(2)
    assignments = MentorAssignment.objects.filter(mentor=mentor)
    assert {a.status for a in assignments} == {Status.INVITED}
    for assignment in assignments:
        assert assignment.expires_at - assignment.invited_at == timedelta(days=14)
    emails = OutboundEmail.objects.filter(topic="mentor_invitation")
    assert emails.count() == 2 and {e.to for e in emails} == {mentor.email}
    email = emails.first()
    assert email.body_html and "<a href=" in email.body_html
    assert LINK.search(outbound_email_rendered(email)[2])
    texts = " ".join(e.body_text for e in emails)
    assert all(n.university.name in texts and n.family_name.upper() in texts.upper()
               for n in nominations)
    assert AuditEntry.objects.filter(action="mentor_assignment_invite").count() == 2
    # A second night invites nobody again.
    assert nightly_matching()["mentor_invitations_sent"] == 0
    assert OutboundEmail.objects.filter(topic="mentor_invitation").count() == 2


def test_opening_the_link_changes_nothing(client):
    _round, _nominations, mentor = _invited()
    assignment = MentorAssignment.objects.get(mentor=mentor)
    audits = AuditEntry.objects.count()
    for _ in range(3):
        response = client.get(_path(_link_of(assignment)))
        assert response.status_code == 200
        assert b'id="accept"' in response.content and b'id="decline"' in response.content
    assignment.refresh_from_db()
    assert assignment.status == Status.INVITED and assignment.responded_at is None
    assert AuditEntry.objects.count() == audits


def test_accept_tells_candidate_and_university_and_the_link_then_shows_the_answer(client):
    _round, (nomination,), mentor = _invited()
    assignment = MentorAssignment.objects.get(mentor=mentor)
    path = _path(_link_of(assignment))
    response = client.post(path, {"answer": "accept"})
    assert response.status_code == 200
    assert b'data-state="accepted"' in response.content
    assignment.refresh_from_db()
    assert assignment.status == Status.ACCEPTED and assignment.responded_at
    assert OutboundEmail.objects.filter(topic="mentor_introduction_candidate",
                                        to=nomination.email).exists()
    assert OutboundEmail.objects.filter(topic="mentor_introduction_university").exists()
    entry = AuditEntry.objects.get(action="mentor_assignment_accept")
    assert entry.actor is None and entry.actor_label == "mentor (invitation link)"
    # Reused: the page shows the final answer, no buttons, and a second POST changes nothing.
    again = client.get(path)
    assert b'data-state="accepted"' in again.content and b'id="accept"' not in again.content
    client.post(path, {"answer": "decline"})
    assignment.refresh_from_db()
    assert assignment.status == Status.ACCEPTED
    assert AuditEntry.objects.filter(action__startswith="mentor_assignment_").exclude(
        action="mentor_assignment_invite").count() == 1


def test_decline_keeps_the_reason_and_the_mentor_is_never_proposed_again(client):
    _round, (nomination,), mentor = _invited()
    assignment = MentorAssignment.objects.get(mentor=mentor)
    path = _path(_link_of(assignment))
    response = client.post(path, {"answer": "decline", "reason": "Travelling until March."})
    assert b'data-state="declined"' in response.content
    assignment.refresh_from_db()
    assert assignment.status == Status.DECLINED
    assert assignment.decline_reason == "Travelling until March."
    # Next night: the only mentor declined, so nobody is proposed ...
    assert nightly_matching()["mentor_proposals"] == 0
    # ... and once another mentor exists, the candidate goes to them.
    other = MentorFactory(capacity=2, language="en")
    summary = nightly_matching()
    assert summary["mentor_proposals"] == 1 and summary["mentor_invitations_sent"] == 1
    live = MentorAssignment.objects.get(nomination=nomination, status=Status.INVITED)
    assert live.mentor == other
    assert MentorAssignment.objects.filter(nomination=nomination, mentor=mentor).count() == 1


def test_tampered_link_shows_a_clear_page_and_changes_nothing(client):
    _round, _nominations, mentor = _invited()
    assignment = MentorAssignment.objects.get(mentor=mentor)
    link = _link_of(assignment)
    token = _token(link)
    tampered = token[:-3] + ("abc" if not token.endswith("abc") else "xyz")
    path = reverse("mentors:invitation", args=[tampered])
    assert client.get(path).status_code == 404
    response = client.post(path, {"answer": "accept"})
    assert response.status_code == 404
    assert b'data-state="invalid"' in response.content
    assignment.refresh_from_db()
    assert assignment.status == Status.INVITED


def test_expired_link_shows_a_clear_page_and_changes_nothing(client, monkeypatch):
    _round, _nominations, mentor = _invited()
    assignment = MentorAssignment.objects.get(mentor=mentor)
    path = _path(_link_of(assignment))
    # Past the invitation's expiry, the job has not run yet: the link is expired already.
    MentorAssignment.objects.filter(pk=assignment.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1))
    response = client.post(path, {"answer": "accept"})
    assert response.status_code == 410 and b'data-state="expired"' in response.content
    assignment.refresh_from_db()
    assert assignment.status == Status.INVITED
    # And once the job has expired it, the same page.
    assert services.invitations_expire() == 1
    assert b'data-state="expired"' in client.get(path).content


def test_a_token_older_than_its_life_is_expired(client, settings):
    _round, _nominations, mentor = _invited()
    assignment = MentorAssignment.objects.get(mentor=mentor)
    path = _path(_link_of(assignment))
    settings.ECOCYCLE_MENTOR_LINK_DAYS = 0  # every token is now older than its life
    response = client.get(path)
    assert response.status_code == 410 and b'data-state="expired"' in response.content


def test_an_answered_invitations_link_past_its_life_is_expired(client, settings):
    # The link's life bounds what it shows, the answer as much as the question.
    _round, _nominations, mentor = _invited()
    path = _path(_link_of(MentorAssignment.objects.get(mentor=mentor)))
    assert b'data-state="accepted"' in client.post(path, {"answer": "accept"}).content
    settings.ECOCYCLE_MENTOR_LINK_DAYS = -1
    response = client.get(path)
    assert response.status_code == 410 and b'data-state="expired"' in response.content


def test_withdrawn_assignment_kills_the_link(client, staff_user):
    _round, _nominations, mentor = _invited()
    assignment = MentorAssignment.objects.get(mentor=mentor)
    path = _path(_link_of(assignment))
    services.assignment_withdraw(actor=staff_user, assignment=assignment,
                                 reason="The candidate deferred admission.")
    response = client.post(path, {"answer": "accept"})
    assert response.status_code == 410 and b'data-state="withdrawn"' in response.content
    assignment.refresh_from_db()
    assert assignment.status == Status.WITHDRAWN
    assert OutboundEmail.objects.filter(topic="mentor_withdrawn", to=mentor.email).exists()


def test_withdrawing_an_accepted_mentor_tells_candidate_and_university_in_their_languages(
        staff_user):
    _round, (nomination,), mentor = _invited()
    CoordinatorFactory(university=nomination.university, user__language="ko")
    assignment = MentorAssignment.objects.get(mentor=mentor)
    services.invitation_answer(token=_token(_link_of(assignment)), accept=True)
    services.assignment_withdraw(actor=staff_user, assignment=assignment,
                                 reason="The mentor moved abroad.")
    (candidate,) = OutboundEmail.objects.filter(topic="mentor_withdrawn_candidate")
    assert candidate.to == nomination.email and candidate.language == "id"
    assert nomination.candidate_language == "id"
    assert "Yth." in candidate.body_text and mentor.full_name in candidate.body_text
    assert mentor.full_name in candidate.subject and "Yth." in candidate.body_html
    coordinators = {e.to: e for e in OutboundEmail.objects.filter(
        topic="mentor_withdrawn_university")}
    expected = {c.user.email: c.user.language for c in nomination.university.coordinators.all()}
    assert {to: e.language for to, e in coordinators.items()} == expected
    assert set(expected.values()) == {"en", "ko"}
    korean = next(e for e in coordinators.values() if e.language == "ko")
    assert "관계자 여러분께" in korean.body_text  # Dear colleagues at ...
    assert nomination.display_name in korean.body_text and mentor.full_name in korean.body_text
    # The staff's reason is theirs: it is not sent to the candidate or the university.
    assert all("moved abroad" not in e.body_text for e in [candidate, *coordinators.values()])
    assert OutboundEmail.objects.filter(topic="mentor_withdrawn", to=mentor.email).exists()


def test_withdrawing_a_pending_invitation_tells_only_the_mentor(staff_user):
    _round, _nominations, mentor = _invited()
    assignment = MentorAssignment.objects.get(mentor=mentor)
    services.assignment_withdraw(actor=staff_user, assignment=assignment, reason="Reassigned.")
    assert list(OutboundEmail.objects.filter(topic__startswith="mentor_withdrawn")
                .values_list("topic", "to")) == [("mentor_withdrawn", mentor.email)]


def test_reinvited_assignment_kills_the_old_link(client):
    _round, _nominations, mentor = _invited()
    assignment = MentorAssignment.objects.get(mentor=mentor)
    path = _path(_link_of(assignment))
    MentorAssignment.objects.filter(pk=assignment.pk).update(
        invited_at=timezone.now() + timedelta(seconds=1))
    response = client.get(path)
    assert response.status_code == 410 and b'data-state="stale"' in response.content


def test_withdraw_needs_a_reason(staff_user):
    _round, _nominations, mentor = _invited()
    assignment = MentorAssignment.objects.get(mentor=mentor)
    with pytest.raises(ValidationError) as error:
        services.assignment_withdraw(actor=staff_user, assignment=assignment, reason=" ")
    assert "reason" in error.value.message_dict


def test_accept_is_refused_when_the_mentor_is_full(client):
    _round, _nominations, mentor = _invited(2, capacity=2)
    first, second = MentorAssignment.objects.filter(mentor=mentor).order_by("id")
    mentor.capacity = 1
    mentor.save()
    assert client.post(_path(_link_of(first)), {"answer": "accept"}).status_code == 200
    second_link = services.invitation_link(second)
    response = client.post(_path(second_link), {"answer": "accept"})
    assert response.status_code == 200
    assert b'data-state="valid"' in response.content  # still answerable: decline is possible
    assert "the most you said you can take" in response.content.decode()
    second.refresh_from_db()
    assert second.status == Status.INVITED


def test_reminder_is_sent_once_after_a_few_days_and_force_reminds_all(settings):
    _round, _nominations, _mentor = _invited(2)
    now = timezone.now()
    assert services.invitation_reminders_send(now=now) == 0  # too early
    later = now + timedelta(days=settings.ECOCYCLE_MENTOR_REMINDER_DAYS, minutes=1)
    assert services.invitation_reminders_send(now=later) == 2
    assert services.invitation_reminders_send(now=later) == 0  # idempotent
    assert services.invitation_reminders_send(now=later + timedelta(days=1)) == 0
    reminders = OutboundEmail.objects.filter(topic="mentor_reminder")
    assert reminders.count() == 2
    assert services.invitation_reminders_send(now=later, force=True) == 2
    assert OutboundEmail.objects.filter(topic="mentor_reminder").count() == 4


def test_the_reminders_link_works(client, settings):
    _round, _nominations, mentor = _invited()
    services.invitation_reminders_send(force=True)
    email = OutboundEmail.objects.get(topic="mentor_reminder")
    path = _path(LINK.search(outbound_email_rendered(email)[1]).group(0))
    assert client.post(path, {"answer": "accept"}).status_code == 200
    assert MentorAssignment.objects.get(mentor=mentor).status == Status.ACCEPTED


def test_expiry_is_idempotent_and_sends_the_candidate_back_to_matching():
    _round, (nomination,), _mentor = _invited()
    other = MentorFactory(capacity=2, language="en")
    later = timezone.now() + timedelta(days=15)
    assert services.invitations_expire(now=later) == 1
    assert services.invitations_expire(now=later) == 0
    assert AuditEntry.objects.filter(action="mentor_assignment_expire").count() == 1
    summary = nightly_matching(now=later)
    assert summary["mentor_invitations_sent"] == 1
    live = MentorAssignment.objects.get(nomination=nomination, status=Status.INVITED)
    assert live.mentor == other


def test_send_mentor_reminders_command(capsys):
    _invited(2)
    call_command("send_mentor_reminders")
    assert "Reminders sent: 0" in capsys.readouterr().out
    call_command("send_mentor_reminders", "--force")
    out = capsys.readouterr().out
    assert "Reminders sent: 2" in out and "Invitations expired: 0" in out


def test_manual_proposal_sends_an_invitation_and_respects_the_rules(staff_user):
    _round, (nomination,), mentor = _invited()
    assignment = MentorAssignment.objects.get(mentor=mentor)
    other = MentorFactory(capacity=1, language="ko")
    with pytest.raises(ValidationError, match="already has a mentor"):
        services.assignment_propose(actor=staff_user, nomination=nomination, mentor=other)
    services.assignment_withdraw(actor=staff_user, assignment=assignment, reason="Reassigned.")
    with pytest.raises(ValidationError, match="not asked again"):
        services.assignment_propose(actor=staff_user, nomination=nomination, mentor=mentor)
    proposed = services.assignment_propose(actor=staff_user, nomination=nomination, mentor=other)
    assert proposed.status == Status.INVITED and proposed.proposed_by == staff_user
    assert OutboundEmail.objects.filter(topic="mentor_invitation", to=other.email,
                                        language="ko").exists()


def test_invitation_email_and_page_speak_the_mentors_language(client):
    _round, _nominations, mentor = _invited(language="ko")
    assignment = MentorAssignment.objects.get(mentor=mentor)
    email = OutboundEmail.objects.get(topic="mentor_invitation")
    assert email.language == "ko"
    assert "멘토" in email.subject and "멘토" in email.body_text
    page = client.get(_path(_link_of(assignment))).content.decode()
    assert "수락" in page and "거절" in page  # Accept, Decline


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections")
@pytest.mark.django_db(transaction=True)
def test_two_accepts_at_the_same_moment_never_exceed_capacity():
    _round, _nominations, mentor = _invited(2, capacity=2)
    mentor.capacity = 1
    mentor.save()
    tokens = [_token(services.invitation_link(a))
              for a in MentorAssignment.objects.filter(mentor=mentor).order_by("id")]
    barrier, results = threading.Barrier(2), []

    def accept(token):
        try:
            barrier.wait(timeout=10)
            services.invitation_answer(token=token, accept=True)
            results.append("accepted")
        except ValidationError as error:
            results.append(" ".join(error.messages))
        finally:
            connection.close()  # the proxy resolves to this thread's own connection

    threads = [threading.Thread(target=accept, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 2 and results.count("accepted") == 1
    assert any("the most you said you can take" in result for result in results)
    assert MentorAssignment.objects.filter(mentor=mentor, status=Status.ACCEPTED).count() == 1


@pytest.mark.parametrize(("language", "word"), [("id", "mentor"), ("vi", "hướng dẫn"),
                                                ("ko", "멘토"), ("en", "mentor")])
def test_the_candidate_learns_of_their_mentor_in_their_language(client, language, word):
    _round, (nomination,), mentor = _invited()
    nomination.candidate_language = language
    nomination.save(update_fields=["candidate_language"])
    client.post(_path(_link_of(MentorAssignment.objects.get(mentor=mentor))),
                {"answer": "accept"})
    email = OutboundEmail.objects.get(topic="mentor_introduction_candidate")
    assert email.language == language and word in email.body_text.lower()
    if language != "en":
        assert "Meet your mentor" not in email.subject
        assert "We are glad to introduce" not in email.body_text
