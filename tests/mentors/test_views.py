"""The signed-in mentor's page: own invitations and mentees only, answers, the mentoring log,
the profile; and signing in with an emailed code."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from ecocycle.models import AuditEntry, User
from hub.services import nightly_matching
from mentors import services
from mentors.models import MentorAssignment, MentoringActivity
from tests.candidates.factories import enrolled_round
from tests.mentors.factories import MentorFactory, admitted_round

pytestmark = pytest.mark.django_db
Status = MentorAssignment.Status


def _mentor_with_account(**fields):
    mentor = services.mentor_create(actor=None, data={
        "full_name": fields.pop("full_name", "Dr. Han Sung-min"),
        "email": fields.pop("email", "han.mentor@retired.example"),
        "language": fields.pop("language", "en"), "languages_spoken": "ko,en",
        "travel_countries": ["ID"], "capacity": 3, **fields})
    return mentor


def _invited_to(mentor, n=2):
    intake_round, nominations = admitted_round(n)
    nightly_matching(now=timezone.now())
    assert MentorAssignment.objects.filter(mentor=mentor, status=Status.INVITED).count() == n
    return intake_round, nominations


def test_mentor_create_makes_a_passwordless_mentor_account():
    mentor = _mentor_with_account()
    assert mentor.user.role == User.Role.MENTOR
    assert not mentor.user.has_usable_password()
    assert mentor.user.email == "han.mentor@retired.example"


def test_mentor_page_shows_own_invitations_only(client, django_assert_max_num_queries):
    mentor = _mentor_with_account()
    _invited_to(mentor, 2)
    other = _mentor_with_account(full_name="Dr. Other", email="other.mentor@retired.example")
    client.force_login(other.user)
    response = client.get(reverse("mentors:home"))
    assert response.status_code == 200
    assert "No invitations are waiting." in response.content.decode()
    client.force_login(mentor.user)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("mentors:home"))
    page = response.content.decode()
    assert page.count('id="assignment-') == 2


def test_a_mentor_cannot_answer_or_log_for_another_mentors_assignment(client):
    mentor = _mentor_with_account()
    _invited_to(mentor, 1)
    assignment = MentorAssignment.objects.get(mentor=mentor)
    other = _mentor_with_account(full_name="Dr. Other", email="other.mentor@retired.example")
    client.force_login(other.user)
    answer = client.post(reverse("mentors:assignment_answer", args=[assignment.pk]),
                         {"answer": "accept"})
    assert answer.status_code == 404
    assert client.get(reverse("mentors:activity_new", args=[assignment.pk])).status_code == 404
    assignment.refresh_from_db()
    assert assignment.status == Status.INVITED


@pytest.mark.parametrize("who", ["coordinator_user", "staff_user", "plain_user"])
def test_only_mentors_reach_the_mentor_page(client, request, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("mentors:home")).status_code == 403


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(reverse("mentors:home"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_mentor_accepts_on_their_page_and_logs_a_meeting(client):
    mentor = _mentor_with_account()
    _invited_to(mentor, 1)
    assignment = MentorAssignment.objects.get(mentor=mentor)
    client.force_login(mentor.user)
    response = client.post(reverse("mentors:assignment_answer", args=[assignment.pk]),
                           {"answer": "accept"}, follow=True)
    assert "you now mentor" in response.content.decode()
    assignment.refresh_from_db()
    assert assignment.status == Status.ACCEPTED
    assert AuditEntry.objects.get(action="mentor_assignment_accept").actor == mentor.user

    url = reverse("mentors:activity_new", args=[assignment.pk])
    future = (timezone.localdate() + timedelta(days=2)).isoformat()
    response = client.post(url, {"date": future, "mode": "visit", "notes": "Visit to ITB."})
    assert response.status_code == 200
    assert "cannot be in the future" in response.content.decode()
    assert 'value="Visit to ITB."' in response.content.decode() or "Visit to ITB." in (
        response.content.decode())  # what was typed is kept
    today = timezone.localdate().isoformat()
    response = client.post(url, {"date": today, "mode": "visit", "notes": "Visit to ITB."},
                           follow=True)
    assert "The meeting was recorded." in response.content.decode()
    activity = MentoringActivity.objects.get()
    assert activity.mode == "visit" and activity.recorded_by == mentor.user
    assert "Visit to ITB." in client.get(reverse("mentors:home")).content.decode()


def test_meetings_need_an_accepted_mentorship():
    mentor = _mentor_with_account()
    _invited_to(mentor, 1)
    assignment = MentorAssignment.objects.get(mentor=mentor)
    with pytest.raises(Exception, match="once the mentorship is accepted"):
        services.mentoring_activity_record(actor=mentor.user, assignment=assignment,
                                           date=timezone.localdate(), mode="online")


def test_mentor_keeps_their_profile_current(client):
    mentor = _mentor_with_account()
    client.force_login(mentor.user)
    url = reverse("mentors:profile")
    assert client.get(url).status_code == 200
    bad = client.post(url, {"language": "en", "languages_spoken": ["ko", "en"], "capacity": 2,
                            "available_from": "2027-03-01", "available_until": "2027-01-01",
                            "keywords": "catalysis", "biography": "Thirty years at KITECH."})
    page = bad.content.decode()
    assert "must not be before its start" in page and "Thirty years at KITECH." in page
    good = client.post(url, {"language": "en", "languages_spoken": ["ko", "en", "id"],
                             "travel_countries": ["ID", "VN"], "capacity": 4,
                             "keywords": "catalysis", "biography": "Thirty years at KITECH.",
                             "is_active": "on"})
    assert good.status_code == 302
    mentor.refresh_from_db()
    assert mentor.language_codes == {"ko", "en", "id"}
    assert {str(c) for c in mentor.travel_countries} == {"ID", "VN"}
    assert mentor.capacity == 4 and mentor.language == "en"
    entry = AuditEntry.objects.filter(action="mentor_update").latest("id")
    assert entry.actor == mentor.user and entry.after["capacity"] == 4


def test_travel_countries_are_checkboxes_a_typed_filter_narrows(client):
    """About 250 countries: no Ctrl-click list but checkboxes in a scroll box. The filter box
    is hidden until static/js/filter-list.js shows it, so without script the plain list stays."""
    mentor = _mentor_with_account()
    client.force_login(mentor.user)
    html = client.get(reverse("mentors:profile")).content.decode()
    assert '<select name="travel_countries"' not in html
    box = re.search(r'<fieldset class="filter-list-group">(.*?)</fieldset>', html, re.S)
    assert box, "the travel countries' filterable list"
    checkboxes = re.findall(r'<input type="checkbox" name="travel_countries" value="(\w+)"[^>]*>',
                            box.group(1))
    assert len(checkboxes) > 200 and "VN" in checkboxes
    assert re.search(r'value="ID"[^>]*checked', box.group(1))  # the factory's one country
    assert re.search(r'<input type="search"[^>]*hidden', box.group(1))
    legend = '<legend class="visually-hidden">Countries you are willing to travel to</legend>'
    assert legend in box.group(1)
    assert '<script src="/static/js/filter-list.js" defer></script>' in html


def test_pausing_keeps_a_mentor_out_of_the_next_matching(client):
    mentor = _mentor_with_account()
    client.force_login(mentor.user)
    client.post(reverse("mentors:profile"), {"language": "ko", "languages_spoken": ["ko", "en"],
                                             "capacity": 3, "keywords": "", "biography": ""})
    mentor.refresh_from_db()
    assert mentor.is_active is False
    admitted_round(1)
    assert nightly_matching()["mentor_proposals"] == 0


def test_mentor_signs_in_with_a_code_sent_by_email(client, django_capture_on_commit_callbacks):
    mentor = _mentor_with_account()
    # The code goes through the outbox, sent on commit.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_request_login_code"), {"email": mentor.email})
    assert response.status_code == 302
    code = re.search(r"^\s*([A-Z0-9]{4}-[A-Z0-9]{4})\s*$", mail.outbox[-1].body, re.M).group(1)
    response = client.post(reverse("account_confirm_login_code"), {"code": code})
    assert response.status_code == 302
    assert client.get(reverse("mentors:home")).status_code == 200


def test_a_mentor_without_account_still_answers_by_link(client):
    _intake_round, _nominations = admitted_round(1)
    mentor = MentorFactory(capacity=1, language="en")  # no account at all
    nightly_matching()
    assignment = MentorAssignment.objects.get(mentor=mentor)
    link = services.invitation_link(assignment)
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    assert client.post(path, {"answer": "accept"}).status_code == 200
    assignment.refresh_from_db()
    assert assignment.status == Status.ACCEPTED


def _profile_post(client, **extra):
    return client.post(reverse("mentors:profile"), {
        "language": "en", "languages_spoken": ["ko", "en"], "capacity": 3, "keywords": "",
        "biography": "", **extra})


def test_an_alumnus_waiting_for_confirmation_cannot_switch_themselves_on(client, staff_user):
    _round, (enrolment,) = enrolled_round(1)
    mentor = _mentor_with_account(alumnus=enrolment, is_active=False)
    client.force_login(mentor.user)
    response = _profile_post(client, is_active="on")
    assert response.status_code == 200
    assert "until KITECH staff confirm" in response.content.decode()
    mentor.refresh_from_db()
    assert mentor.is_active is False
    with pytest.raises(ValidationError):
        services.mentor_update(actor=None, mentor=mentor, data={"is_active": True})
    # Pausing stays allowed, and once confirmed the mentor may pause and resume.
    assert _profile_post(client).status_code == 302
    services.mentor_confirm(actor=staff_user, mentor=mentor)
    assert _profile_post(client).status_code == 302
    mentor.refresh_from_db()
    assert mentor.is_active is False
    assert _profile_post(client, is_active="on").status_code == 302
    mentor.refresh_from_db()
    assert mentor.is_active is True
