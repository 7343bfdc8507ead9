"""A mentor's data exported or erased on request, and the staff pages for it.

The mentors' privacy URLs are not in the project's urls.py yet (its owner includes them at
/staff/privacy/mentors/); this module is its own URLconf, the project's plus that include.
"""

import json

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse
from django.utils import timezone

from ecocycle.exceptions import DomainError
from ecocycle.models import AuditEntry, OutboundEmail
from hub.services import nightly_matching
from mentors.models import Mentor, MentorAssignment, MentoringActivity
from mentors.services import assignment_answer, mentor_create, mentoring_activity_record
from mentors.services.invitations import assignment_propose
from privacy.selectors import REMOVED, REMOVED_EMAIL_DOMAIN, mentor_is_erased
from privacy.services import mentor_erase, mentor_export, mentor_label, person_erase
from tests.mentors.factories import MentorFactory, admitted_round

pytestmark = pytest.mark.django_db


@pytest.fixture
def mentoring(staff_user):
    """A mentor with an account who accepted one candidate and logged a meeting."""
    _round, nominations = admitted_round(2)
    mentor = mentor_create(actor=staff_user, data={
        "full_name": "Dr. Park Ji-hoon", "email": "park.jihoon@retired.example",
        "language": "ko", "languages_spoken": "ko,en,id", "travel_countries": ["ID"],
        "capacity": 2, "retired_from": "KITECH Ulsan", "biography": "Forty years of casting.",
        "keywords": "casting, moulding"})
    assignment = assignment_propose(actor=staff_user, nomination=nominations[0], mentor=mentor)
    assignment = assignment_answer(actor=mentor.user, assignment=assignment, accept=True)
    activity = mentoring_activity_record(actor=mentor.user, assignment=assignment,
                                         date=timezone.localdate(), mode="online",
                                         notes="Talked about the move to Ulsan")
    mentor.refresh_from_db()
    return {"mentor": mentor, "assignment": assignment, "activity": activity,
            "nomination": nominations[0]}


def _audit_about(mentor) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(target_type__model="mentor",
                                          target_id=str(mentor.pk)).order_by("id"))


def test_erase_requires_a_reason(mentoring, staff_user):
    mentor = mentoring["mentor"]

    with pytest.raises(DomainError) as raised:
        mentor_erase(actor=staff_user, mentor=mentor, reason="")

    assert "reason" in raised.value.message_dict
    mentor.refresh_from_db()
    assert mentor.full_name == "Dr. Park Ji-hoon" and mentor.user.is_active


def test_erase_anonymises_and_deactivates_but_keeps_the_assignments(mentoring, staff_user):
    mentor, assignment = mentoring["mentor"], mentoring["assignment"]
    user = mentor.user
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    entries = [(e.pk, e.action, e.created_at) for e in _audit_about(mentor)]
    assert entries

    erased = mentor_erase(actor=staff_user, mentor=mentor, reason="Letter of 2 June")

    assert mentor_is_erased(erased)
    assert erased.full_name == mentor_label(mentor.pk)
    assert erased.email.endswith("@" + REMOVED_EMAIL_DOMAIN)
    assert erased.retired_from == erased.biography == erased.keywords == ""
    assert not erased.is_active
    assert erased.languages_spoken == "ko,en,id" and erased.capacity == 2  # statistics
    user.refresh_from_db()
    assert not user.is_active and not user.has_usable_password()
    assert user.email.endswith("@" + REMOVED_EMAIL_DOMAIN) and user.full_name == erased.full_name
    assert not EmailAddress.objects.filter(user=user).exists()
    kept = MentorAssignment.objects.get(pk=assignment.pk)
    assert kept.status == MentorAssignment.Status.ACCEPTED and kept.mentor_id == mentor.pk
    assert kept.activities.get().notes == REMOVED

    # The audit trail is kept, anonymised, also where the mentor acted.
    assert [(e.pk, e.action, e.created_at) for e in _audit_about(mentor)][:len(entries)] == entries
    everything = AuditEntry.objects.exclude(action="mentor_erase")
    dump = json.dumps([[e.target_repr, e.actor_label, e.before, e.after] for e in everything])
    for value in ("Dr. Park Ji-hoon", "park.jihoon@retired.example", "KITECH Ulsan",
                  "Forty years of casting.", "Talked about the move to Ulsan"):
        assert value not in dump
    by_mentor = AuditEntry.objects.filter(actor=user)
    assert by_mentor.exists()
    assert set(by_mentor.values_list("actor_label", flat=True)) == {mentor_label(mentor.pk)}
    erase_entry = AuditEntry.objects.get(action="mentor_erase")
    assert erase_entry.actor == staff_user and erase_entry.after == {"reason": "Letter of 2 June"}


def test_erase_removes_the_mentor_from_emails(mentoring, staff_user):
    mentor, nomination = mentoring["mentor"], mentoring["nomination"]
    to_mentor = OutboundEmail.objects.filter(to=mentor.email)
    assert to_mentor.exists()
    introductions = list(OutboundEmail.objects.filter(to=nomination.email,
                                                      body_text__contains="Dr. Park Ji-hoon")
                         .values_list("pk", flat=True))
    assert introductions

    mentor_erase(actor=staff_user, mentor=mentor, reason="Letter of 2 June")

    assert not OutboundEmail.objects.filter(to__iexact="park.jihoon@retired.example").exists()
    for email in OutboundEmail.objects.filter(pk__in=introductions):
        assert "Dr. Park Ji-hoon" not in email.body_text + email.body_html + email.subject
        assert "park.jihoon@retired.example" not in email.body_text + email.body_html
        assert mentor_label(mentor.pk) in email.body_text


def test_erasing_twice_changes_nothing(mentoring, staff_user):
    mentor = mentoring["mentor"]
    mentor_erase(actor=staff_user, mentor=mentor, reason="Letter of 2 June")
    mentor_erase(actor=staff_user, mentor=mentor, reason="again")
    assert AuditEntry.objects.filter(action="mentor_erase").count() == 1


def test_a_mentor_without_an_account_can_be_erased(staff_user):
    mentor = MentorFactory(full_name="Dr. Lee No-Account")
    erased = mentor_erase(actor=staff_user, mentor=mentor, reason="Phone call, 1 June")
    assert erased.full_name == mentor_label(mentor.pk) and erased.user is None


def test_export_contains_the_mentors_data(mentoring, staff_user):
    mentor = mentoring["mentor"]

    data = mentor_export(actor=staff_user, mentor=mentor)

    json.dumps(data)
    assert data["mentor"]["full_name"] == "Dr. Park Ji-hoon"
    assert data["mentor"]["email"] == "park.jihoon@retired.example"
    assert data["account"]["email"] == "park.jihoon@retired.example"
    assert [a["status"] for a in data["assignments"]] == ["accepted"]
    assert data["mentoring_log"][0]["notes"] == "Talked about the move to Ulsan"
    assert {e["topic"] for e in data["emails"]} >= {"mentor_invitation"}
    assert any(e["action"] == "mentor_create" for e in data["audit_trail"])
    entry = AuditEntry.objects.get(action="mentor_export")
    assert entry.actor == staff_user and "park" not in json.dumps(entry.after)


# --- pages --------------------------------------------------------------------------------------

PAGES = [("staff_privacy:mentor_search", []), ("staff_privacy:mentor", [1])]
ACTIONS = [("staff_privacy:mentor_export", [1]), ("staff_privacy:mentor_erase", [1])]


@pytest.mark.parametrize(("name", "args"), PAGES + ACTIONS)
def test_pages_are_for_kitech_staff_only(client, coordinator_user, name, args):
    url = reverse(name, args=args)
    assert client.get(url).status_code == 302
    client.force_login(coordinator_user)
    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403


def test_search_finds_mentors_and_the_tabs_link_both_ways(client, staff_user, mentoring):
    mentor = mentoring["mentor"]
    client.force_login(staff_user)

    response = client.get(reverse("staff_privacy:mentor_search"), {"q": "park jihoon"})

    text = response.content.decode()
    assert response.status_code == 200
    assert reverse("staff_privacy:mentor", args=[mentor.pk]) in text
    assert reverse("staff_privacy:retention") in text
    candidates_page = client.get(reverse("staff_privacy:search")).content.decode()
    assert reverse("staff_privacy:mentor_search") in candidates_page


def test_mentor_page_export_and_erase(client, staff_user, mentoring):
    mentor = mentoring["mentor"]
    client.force_login(staff_user)

    page = client.get(reverse("staff_privacy:mentor", args=[mentor.pk]))
    assert page.status_code == 200 and "park.jihoon@retired.example" in page.content.decode()

    export = client.post(reverse("staff_privacy:mentor_export", args=[mentor.pk]))
    assert export.status_code == 200 and "attachment" in export["Content-Disposition"]
    assert json.loads(export.content)["mentor"]["full_name"] == "Dr. Park Ji-hoon"
    assert client.get(reverse("staff_privacy:mentor_export", args=[mentor.pk])).status_code \
        == 405

    url = reverse("staff_privacy:mentor_erase", args=[mentor.pk])
    refused = client.post(url, {"reason": "Letter of 2 June"})
    assert refused.status_code == 400
    assert "Letter of 2 June" in refused.content.decode()
    assert Mentor.objects.get(pk=mentor.pk).full_name == "Dr. Park Ji-hoon"

    done = client.post(url, {"reason": "Letter of 2 June", "confirm": "on"})
    assert done.status_code == 302
    assert mentor_is_erased(Mentor.objects.get(pk=mentor.pk))
    assert "nothing is left to erase" in client.get(done["Location"]).content.decode()


def test_the_nightly_job_clears_what_mentors_wrote_about_an_erased_candidate(staff_user):
    _round, (nomination,) = admitted_round(1)
    MentorFactory(capacity=2)
    nightly_matching()
    assignment = MentorAssignment.objects.get(nomination=nomination)
    MentorAssignment.objects.filter(pk=assignment.pk).update(status="accepted")
    MentoringActivity.objects.create(assignment=assignment, date="2026-11-01", mode="online",
                                     notes=f"{nomination.given_names} is worried about housing.")
    person_erase(actor=staff_user, nomination=nomination, reason="The person asked.")
    # The erasure cleared the notes itself; the job catches what is written afterwards.
    assert MentoringActivity.objects.get().notes == "[removed]"
    assert nightly_matching()["mentee_notes_removed"] == 0
    MentoringActivity.objects.update(notes="Written after the erasure.")
    assert nightly_matching()["mentee_notes_removed"] == 1
    assert MentoringActivity.objects.get().notes == "[removed]"
    assert nightly_matching()["mentee_notes_removed"] == 0
