"""A coordinator nominates a candidate in the browser; the candidate confirms from the email."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from candidates.models import Nomination
from tests.candidates.factories import PDF_BYTES, open_round_with_tracks
from tests.kernel.factories import DEFAULT_PASSWORD
from tests.programs.factories import CoordinatorFactory, ProgramUniversityFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_coordinator_nominates_and_candidate_confirms(page, live_server, tmp_path):
    intake_round = open_round_with_tracks(n_tracks=3)
    technology = intake_round.program.core_technologies.create(name="Palm-oil transesterification")
    coordinator = CoordinatorFactory()
    ProgramUniversityFactory(program=intake_round.program, university=coordinator.university)

    page.goto("/accounts/login/")
    page.fill("input[name=login]", coordinator.user.email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("button[type=submit]")
    page.click("text=Nominations")
    page.click("text=Nominate a candidate")

    # 1. Person — first with a mistake, which the page explains and keeps the rest.
    page.fill("#id_family_name", "Santoso")
    page.fill("#id_given_names", "Dewi")
    page.fill("#id_date_of_birth", "2000-04-02")
    page.select_option("#id_nationality", "ID")
    page.fill("#id_email", "dewi@student")
    page.fill("#id_passport_number", "B1234567")
    page.select_option("#id_candidate_language", "id")
    page.click("button[name=save_next]")
    page.wait_for_selector("text=Enter a valid email address")
    assert page.input_value("#id_family_name") == "Santoso"
    page.fill("#id_email", "dewi@student.example")
    page.fill("#id_passport_number", "B1234567")
    page.click("button[name=save_next]")

    # 2. Studies with one related course.
    page.wait_for_selector("#id_major")
    page.select_option("#id_degree", "bachelor")
    page.select_option("#id_degree_status", "completed")
    page.fill("#id_major", "Chemical Engineering")
    page.fill("#id_institution", "Institut Teknologi Bandung")
    page.fill("#id_gpa", "3.55")
    page.select_option("#id_gpa_scale", "4.0")
    page.fill("#id_courses-0-name", "Reaction engineering")
    page.check(f"input[name=courses-0-technologies][value='{technology.pk}']")
    page.click("button[name=save_next]")

    # 3. Language.
    page.wait_for_selector("#id_language_test")
    page.select_option("#id_language_test", "ielts")
    page.fill("#id_language_score", "7.0")
    page.fill("#id_language_test_date", (timezone.localdate() - timedelta(days=60)).isoformat())
    page.click("button[name=save_next]")

    # 4. Interests and preferences.
    page.wait_for_selector("#id_research_interests")
    page.fill("#id_research_interests", "Heterogeneous catalysts for biodiesel.")
    page.fill("#id_university_rank", "1")
    page.select_option("#id_choice_1", index=1)
    page.click("button[name=save_next]")

    # 5. Documents, uploaded through the file input.
    page.wait_for_selector("#id_file")
    for kind in ["transcript", "cv", "language_certificate", "recommendation", "diploma"]:
        path = tmp_path / f"{kind}.pdf"
        path.write_bytes(PDF_BYTES)
        page.select_option("#id_kind", kind)
        page.set_input_files("#id_file", str(path))
        page.click("form.card button[type=submit]")
        page.wait_for_selector("text=Document uploaded")

    page.click("text=Review and submit")
    page.wait_for_selector("text=Everything required is there")
    page.click("#submit-nomination")
    page.wait_for_selector("text=Submitted.")
    nomination = Nomination.objects.get(family_name="Santoso")
    assert nomination.status == "submitted"

    # The candidate opens the link from the email and confirms.
    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/consent/\S+/", mail.outbox[0].body).group(0)
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    candidate = page.context.browser.new_context(base_url=live_server.url)
    candidate_page = candidate.new_page()
    candidate_page.goto(path)
    candidate_page.wait_for_selector("#confirm-consent")
    nomination.refresh_from_db()
    assert nomination.consent_given_at is None  # opening the link changed nothing
    candidate_page.click("#confirm-consent")
    candidate_page.wait_for_selector(".ok")
    nomination.refresh_from_db()
    assert nomination.consent_given_at is not None
    candidate.close()
