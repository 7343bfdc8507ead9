"""An erasure removes every personal value at once, in one transaction (issue 14): what mentors
wrote about the candidate, and the mentor profile made from the candidate's own alumni offer."""

from datetime import date

import pytest
from django.urls import reverse

from ecocycle.models import AuditEntry, OutboundEmail, User
from mentors.models import Mentor, MentorAssignment, MentoringActivity
from mentors.services.alumni import mentor_profile_from_alumnus
from privacy.selectors import REMOVED, mentor_is_erased
from privacy.services import person_erase
from students.models import AlumniOutcome
from tests.candidates.factories import enrolled_round, submitted_nomination
from tests.mentors.factories import MentorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def alumnus():
    """An enrolled candidate with a mentor who wrote notes, and a profile from their own offer
    to mentor the next cohort."""
    _round, (enrolment,) = enrolled_round(1)
    nomination = enrolment.nomination
    mentor = MentorFactory(capacity=2)
    assignment = MentorAssignment.objects.create(
        mentor=mentor, nomination=nomination, status="declined",
        decline_reason=f"I cannot help {nomination.given_names}.")
    activity = MentoringActivity.objects.create(
        assignment=assignment, date="2026-11-01", mode="online",
        notes=f"{nomination.given_names} is worried about housing.")
    AlumniOutcome.objects.create(
        enrolment=enrolment, path="stayed_korea", organisation="Hanwha Ulsan",
        employer_type="large_company", country="KR", region="Ulsan", as_of=date.today(),
        offers_to_mentor=True)
    profile = mentor_profile_from_alumnus(actor=None, enrolment=enrolment)
    assert profile is not None and profile.user is not None
    return {"nomination": nomination, "activity": activity, "assignment": assignment,
            "profile": profile, "enrolment": enrolment}


def test_erasure_clears_what_mentors_wrote_at_once(alumnus, staff_user):
    person_erase(actor=staff_user, nomination=alumnus["nomination"], reason="Asked by email")
    alumnus["activity"].refresh_from_db()
    alumnus["assignment"].refresh_from_db()
    assert alumnus["activity"].notes == REMOVED
    assert alumnus["assignment"].decline_reason == REMOVED


def test_erasure_erases_the_mentor_profile_from_the_alumni_offer(alumnus, staff_user):
    nomination = alumnus["nomination"]
    email, name = nomination.email, nomination.display_name
    person_erase(actor=staff_user, nomination=nomination, reason="Asked by email")
    profile = Mentor.objects.select_related("user").get(pk=alumnus["profile"].pk)
    assert mentor_is_erased(profile)
    assert email not in (profile.email, profile.user.email)
    assert name not in (profile.full_name, profile.user.full_name)
    assert not profile.is_active and not profile.user.is_active
    assert not User.objects.filter(email__iexact=email).exists()
    assert AuditEntry.objects.filter(action="mentor_erase").count() == 1


def test_a_failing_mentor_erasure_leaves_the_person_untouched(alumnus, staff_user, monkeypatch):
    nomination = alumnus["nomination"]

    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("privacy.services.erasure.mentor_erase", broken)
    with pytest.raises(RuntimeError):
        person_erase(actor=staff_user, nomination=nomination, reason="Asked by email")
    nomination.refresh_from_db()
    assert nomination.anonymised_at is None and nomination.email
    alumnus["activity"].refresh_from_db()
    assert alumnus["activity"].notes != REMOVED


def test_the_privacy_page_shows_the_mentor_profile_that_goes_too(alumnus, client, staff_user):
    client.force_login(staff_user)
    page = client.get(reverse("staff_privacy:person", args=[alumnus["nomination"].pk]))
    body = page.content.decode()
    assert 'id="mentor-profile"' in body
    assert reverse("staff_privacy:mentor", args=[alumnus["profile"].pk]) in body


def test_erasure_drops_the_links_kept_for_an_unsent_email(staff_user):
    nomination = submitted_nomination(via_services=True)
    email = OutboundEmail.objects.filter(to=nomination.email).latest("id")
    assert email.links
    OutboundEmail.objects.filter(pk=email.pk).update(status=OutboundEmail.Status.FAILED)
    person_erase(actor=staff_user, nomination=nomination, reason="Asked by email")
    email.refresh_from_db()
    assert not email.links and email.body_text == REMOVED
