"""Alumni outcomes: recorded by staff, updated by the alumnus through the yearly link (same link
rules as the mentors'), and an offer to mentor that becomes a profile for staff to confirm."""

import re
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertTemplateUsed

from ecocycle.mail import outbound_email_rendered
from ecocycle.models import AuditEntry, OutboundEmail
from hub.services import nightly_matching
from mentors.models import Mentor
from mentors.services import alumni_mentor_profiles_create, mentor_confirm
from students import services as student_services
from tests.candidates.factories import enrolled_round

pytestmark = pytest.mark.django_db
LINK = re.compile(r"https?://\S+(/alumni/update/[^/\s]+/)")


def _graduate(staff_user=None, **outcome):
    _round, (enrolment,) = enrolled_round(1)
    # Pages for the alumnus speak their language; these tests read them in English.
    enrolment.nomination.candidate_language = "en"
    enrolment.nomination.save(update_fields=["candidate_language"])
    student_services.enrolment_record(actor=staff_user, enrolment=enrolment, kind="graduated",
                              on=date.today() - timedelta(days=30),
                              values={"thesis_title": "Catalysts for palm-oil biodiesel"})
    data = {"path": "stayed_korea", "organisation": "Hanbit Precision", "employer_type": "sme",
            "region": "Ansan", **outcome}
    return student_services.alumni_outcome_record(actor=staff_user, enrolment=enrolment, data=data)


def _requested_link(outcome) -> str:
    assert student_services.alumni_update_requests_send(force=True) >= 1
    email = OutboundEmail.objects.filter(topic="alumni_update_request").latest("id")
    return LINK.search(outbound_email_rendered(email)[1]).group(1)


def test_staff_record_an_outcome_and_it_is_audited(staff_user):
    outcome = _graduate(staff_user)
    assert outcome.country == "KR" and outcome.employer_type == "sme"
    entry = AuditEntry.objects.get(action="alumni_outcome_create")
    assert entry.actor == staff_user and entry.after["organisation"] == "Hanbit Precision"
    student_services.alumni_outcome_record(actor=staff_user, enrolment=outcome.enrolment, data={
        "path": "returned_home", "organisation": "PT Energi Hijau", "country": "ID",
        "cooperating_company_name": "Hanbit Precision Indonesia"})
    update = AuditEntry.objects.get(action="alumni_outcome_update")
    assert update.before["path"] == "stayed_korea" and update.after["path"] == "returned_home"


def test_an_outcome_needs_a_graduate_and_the_facts(staff_user):
    _round, (enrolment,) = enrolled_round(1)
    with pytest.raises(ValidationError, match="has not graduated"):
        student_services.alumni_outcome_record(actor=staff_user, enrolment=enrolment,
                                       data={"path": "other"})
    with pytest.raises(ValidationError) as error:
        _graduate(staff_user, employer_type="")
    assert "employer_type" in error.value.message_dict


def test_yearly_requests_are_sent_once_a_year():
    _graduate()
    now = timezone.now()
    assert student_services.alumni_update_requests_send(now=now) == 1
    assert student_services.alumni_update_requests_send(now=now) == 0
    assert student_services.alumni_update_requests_send(now=now + timedelta(days=200)) == 0
    assert student_services.alumni_update_requests_send(now=now + timedelta(days=366)) == 1


def test_the_link_shows_without_changing_and_saves_once(client):
    outcome = _graduate()
    path = _requested_link(outcome)
    before = AuditEntry.objects.count()
    page = client.get(path)
    assert page.status_code == 200 and b'data-state="valid"' in page.content
    assert b"Hanbit Precision" in page.content  # the form shows what is held
    assert AuditEntry.objects.count() == before
    response = client.post(path, {"path": "returned_home", "organisation": "PT Energi Hijau",
                                  "country": "ID", "region": "Bandung",
                                  "cooperating_company_name": "Hanbit Precision Indonesia"})
    assert b'data-state="saved"' in response.content
    outcome.refresh_from_db()
    assert outcome.path == "returned_home" and outcome.updated_by_alumnus_at
    entry = AuditEntry.objects.get(action="alumni_outcome_update")
    assert entry.actor is None and entry.actor_label == "alumnus (update link)"
    # Used once: the page says it was answered, and another POST changes nothing.
    again = client.post(path, {"path": "other"})
    assert b'data-state="answered"' in again.content
    outcome.refresh_from_db()
    assert outcome.path == "returned_home"


def test_bad_input_on_the_link_page_keeps_what_was_typed(client):
    outcome = _graduate()
    path = _requested_link(outcome)
    response = client.post(path, {"path": "stayed_korea", "organisation": "Daehan Casting",
                                  "employer_type": "", "region": "Incheon"})
    page = response.content.decode()
    assert response.status_code == 200 and "Choose the type of employer in Korea." in page
    assert "Daehan Casting" in page and "Incheon" in page
    outcome.refresh_from_db()
    assert outcome.organisation == "Hanbit Precision"


@pytest.mark.parametrize("spoil", ["tamper", "expire", "staff_change"])
def test_spoilt_links_change_nothing(client, settings, staff_user, spoil):
    outcome = _graduate()
    path = _requested_link(outcome)
    if spoil == "tamper":
        path = path[:-4] + ("abc/" if not path.endswith("abc/") else "xyz/")
        expected, code = b'data-state="invalid"', 404
    elif spoil == "expire":
        settings.ECOCYCLE_ALUMNI_LINK_DAYS = 0
        expected, code = b'data-state="expired"', 410
    else:
        student_services.alumni_outcome_record(actor=staff_user, enrolment=outcome.enrolment, data={
            "path": "stayed_korea", "organisation": "KITECH",
            "employer_type": "research_institute"})
        expected, code = b'data-state="stale"', 410
    response = client.post(path, {"path": "other"})
    assert response.status_code == code and expected in response.content
    assertTemplateUsed(response, "links/dead.html")
    outcome.refresh_from_db()
    assert outcome.path == "stayed_korea"


def test_an_offer_to_mentor_becomes_a_paused_profile_for_staff_to_confirm(client, staff_user):
    outcome = _graduate()
    path = _requested_link(outcome)
    response = client.post(path, {"path": "returned_home", "organisation": "PT Energi Hijau",
                                  "country": "ID", "offers_to_mentor": "on"})
    assert b"offering to mentor" in response.content
    mentor = Mentor.objects.get(alumnus=outcome.enrolment)
    assert mentor.is_active is False and mentor.confirmed_at is None
    assert mentor.email == outcome.enrolment.nomination.email
    assert alumni_mentor_profiles_create() == 0  # nothing twice
    # Paused until confirmed: not proposed by the nightly matching.
    assert nightly_matching()["alumni_mentor_profiles"] == 0
    confirmed = mentor_confirm(actor=staff_user, mentor=mentor)
    assert confirmed.is_active and confirmed.confirmed_at
    with pytest.raises(ValidationError, match="confirmed already"):
        mentor_confirm(actor=staff_user, mentor=mentor)


def test_an_offer_recorded_by_staff_gets_its_profile_from_the_nightly_job(staff_user):
    outcome = _graduate(staff_user, offers_to_mentor=True)
    assert nightly_matching()["alumni_mentor_profiles"] == 1
    assert Mentor.objects.filter(alumnus=outcome.enrolment, is_active=False).exists()


def test_update_page_speaks_the_alumnus_language(client):
    outcome = _graduate()
    nomination = outcome.enrolment.nomination
    nomination.candidate_language = "vi"
    nomination.save(update_fields=["candidate_language"])
    path = _requested_link(outcome)
    assert OutboundEmail.objects.filter(topic="alumni_update_request").latest("id").language == "vi"
    page = client.get(path).content.decode()
    assert "Where are you now?" not in page
    assert reverse("alumni:update", args=["x"]).startswith("/alumni/update/")


def test_staff_confirm_an_alumnus_mentor_from_the_mentor_list(client, staff_user):
    outcome = _graduate(staff_user, offers_to_mentor=True)
    alumni_mentor_profiles_create()
    mentor = Mentor.objects.get(alumnus=outcome.enrolment)
    client.force_login(staff_user)
    page = client.get(reverse("staff_mentors:mentor_list")).content.decode()
    assert 'id="alumni-to-confirm"' in page and mentor.full_name in page
    response = client.post(reverse("staff_mentors:mentor_confirm", args=[mentor.pk]))
    assert response.status_code == 302
    mentor.refresh_from_db()
    assert mentor.is_active and mentor.confirmed_at
    assert AuditEntry.objects.filter(action="mentor_confirm", actor=staff_user).exists()
