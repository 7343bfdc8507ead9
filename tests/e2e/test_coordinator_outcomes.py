"""A coordinator on a phone follows their nominees' outcomes after the round was decided."""

import pytest

from candidates.models import CohortAdmission
from tests.candidates.factories import (
    complete_nomination,
    consented_nomination,
    open_round_with_tracks,
    submitted_nomination,
)
from tests.candidates.test_outcomes import decide
from tests.kernel.factories import DEFAULT_PASSWORD
from tests.programs.factories import CoordinatorFactory, ProgramUniversityFactory

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}


def _fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_coordinator_sees_each_outcome_on_a_phone_and_cannot_edit(browser, live_server):
    intake_round = open_round_with_tracks(n_tracks=1)
    intake_round.round_tracks.update(seats=1)
    coordinator = CoordinatorFactory()
    ProgramUniversityFactory(program=intake_round.program, university=coordinator.university)
    admitted = consented_nomination(coordinator=coordinator, intake_round=intake_round,
                                    gpa="3.90", family_name="Admitted")
    consented_nomination(coordinator=coordinator, intake_round=intake_round, gpa="3.20",
                         family_name="Unplaced")
    submitted_nomination(coordinator=coordinator, intake_round=intake_round,
                         family_name="Silent")
    complete_nomination(coordinator=coordinator, intake_round=intake_round, documents=False,
                        family_name="Drafted")
    decide(intake_round)
    track = CohortAdmission.objects.get(nomination=admitted).track

    context = browser.new_context(base_url=live_server.url, locale="en-GB", viewport=PHONE)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.fill("input[name=login]", coordinator.user.email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("button[type=submit]")
    page.goto("/nominations/")
    table = page.locator("#nominations")
    # Admitted: offered a place, which the candidate has yet to answer.
    for label in ("Offered a place", "Not placed", "Consent never given", "Draft"):
        assert table.get_by_text(label, exact=True).count() == 1, label
    assert _fits_the_screen(page)

    page.select_option("select[name=outcome]", "not_placed")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**outcome=not_placed**")
    assert page.locator("#nominations tbody tr").count() == 1
    assert "UNPLACED" in page.locator("#nominations").inner_text()

    page.click("#nominations >> text=UNPLACED")
    page.wait_for_selector("#outcome")
    assert "full, and ranked this candidate below its cut-off" in page.inner_text("#outcome")
    assert page.locator("#read-only").is_visible()
    assert page.locator("nav.tabs").count() == 0
    assert page.get_by_text("Withdraw", exact=True).count() == 0
    assert _fits_the_screen(page)

    page.goto(f"/nominations/{admitted.pk}/")
    assert track.major in page.inner_text("#outcome")
    page.goto(f"/nominations/{admitted.pk}/edit/person/")
    page.wait_for_selector("#read-only")
    assert page.locator("#id_family_name").count() == 0
    context.close()
