"""A KITECH staff member runs a round from its overview: closes nominations early, runs the
matching, reads on the confirmation page what approving will do, and approves. The partner
university's coordinator then follows each nominee's outcome, in Vietnamese, and can no longer
edit. On a 390 px phone, as on a desk."""

import pytest
from django.core import mail

from candidates import services
from candidates.models import Cohort, MatchRun
from ecocycle.models import AuditEntry
from programs.models import IntakeRound, RoundTrack
from tests.candidates.factories import open_round_with_tracks, submitted_nomination
from tests.e2e.pages import sign_in
from tests.kernel.factories import DEFAULT_PASSWORD, UserFactory
from tests.programs.factories import CoordinatorFactory

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}


def _consented(**kwargs):
    nomination = submitted_nomination(**kwargs)
    token = services.consent_link(nomination).rstrip("/").rsplit("/", 1)[1]
    return services.consent_confirm(token=token)


def _fits(page) -> bool:
    """No horizontal scrolling: the page is no wider than the screen."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _coordinator_sees_the_outcomes(browser, live_server, coordinator, nominations):
    context = browser.new_context(base_url=live_server.url, locale="vi-VN", viewport=PHONE)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.fill("input[name=login]", coordinator.user.email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("button[type=submit]")
    page.goto("/nominations/")
    page.wait_for_selector("#nominations")
    assert page.get_attribute("html", "lang") == "vi"
    codes = [page.locator("#nominations .status[class*=outcome-]").nth(i).get_attribute("class")
             for i in range(len(nominations))]
    assert sorted(code.split("outcome-")[1] for code in codes) == [
        "not_placed", "offered", "offered", "offered"]
    assert _fits(page)
    for nomination in nominations:
        page.goto(f"/nominations/{nomination.pk}/")
        page.wait_for_selector("#outcome")
        assert page.locator("#read-only").is_visible()
        assert page.locator("nav.tabs").count() == 0
        assert page.locator(f"form[action$='/nominations/{nomination.pk}/withdraw/']").count() == 0
        page.goto(f"/nominations/{nomination.pk}/edit/person/")
        page.wait_for_selector("#read-only")
        assert page.locator("#id_family_name").count() == 0
        assert _fits(page)
    context.close()


def test_staff_close_nominations_run_the_matching_confirm_and_approve(page, staff_user, browser,
                                                                      live_server):
    intake_round = open_round_with_tracks(n_tracks=3, name="2027 Spring")
    RoundTrack.objects.filter(intake_round=intake_round).update(seats=1)
    coordinator = CoordinatorFactory(user=UserFactory(language="vi"))
    nominations = [
        _consented(intake_round=intake_round, coordinator=coordinator, gpa=gpa,
                   candidate_language=language)
        for gpa, language in [("3.9", "id"), ("3.7", "vi"), ("3.5", "id"), ("3.3", "en")]]
    mail.outbox.clear()
    page.set_viewport_size(PHONE)

    sign_in(page, staff_user)

    # The overview shows the calendar: nominations open, today after their opening.
    page.goto(f"/staff/rounds/{intake_round.pk}/")
    page.wait_for_selector("#timeline")
    assert "Current phase: Nominations open" in page.inner_text("#time-zone")
    assert page.locator("#timeline li[aria-current=step]").get_attribute(
        "data-milestone") == "nominations_open"
    assert page.locator("#run-now").count() == 0
    assert "the matching runs once they have closed" in page.inner_text("#run-note")
    assert _fits(page)

    # Close nominations early, first without a reason, which the form refuses.
    page.click("#close-nominations summary")
    page.fill("#close-nominations-reason", " ")
    page.evaluate("document.getElementById('close-nominations-reason').removeAttribute("
                  "'required')")
    page.click("#close-nominations-submit")
    page.wait_for_selector("#close-nominations .form-errors")
    assert "Give the reason" in page.inner_text("#close-nominations .form-errors")
    page.fill("#close-nominations-reason", "Every university has used its quota")
    page.click("#close-nominations-submit")
    page.wait_for_selector("text=Nominations for 2027 Spring are closed.")
    assert IntakeRound.objects.get(pk=intake_round.pk).phase == IntakeRound.Phase.SCREENING
    assert AuditEntry.objects.filter(action="intake_round_close_nominations").count() == 1
    assert page.locator("#timeline li[aria-current=step]").get_attribute(
        "data-milestone") == "nominations_close"
    assert page.locator("#close-nominations-note").count() == 1
    assert _fits(page)

    # Run the matching; the task runs once the request is committed.
    page.click("#run-now")
    page.wait_for_selector("text=A matching run was requested")
    page.goto(f"/staff/rounds/{intake_round.pk}/")
    page.wait_for_selector("#changes")
    assert MatchRun.objects.filter(intake_round=intake_round).count() == 1

    # Approving asks first, saying what will happen.
    page.click("#approve-cohort")
    page.wait_for_selector("#approve-confirm")
    assert page.inner_text("#approve-counts") == (
        "3 candidates will be admitted; 1 will not be admitted.")
    assert page.locator("#approve-tracks tbody tr[data-track]").count() == 3
    languages = page.locator("#approve-candidate-emails tbody tr")
    assert {row.get_attribute("data-language") for row in languages.all()} == {"id", "vi", "en"}
    assert f"{coordinator.user.email} (Vietnamese)" in page.inner_text(
        "#approve-university-emails")
    assert "5 emails will be sent" in page.inner_text("#approve-confirm")
    assert Cohort.objects.get(intake_round=intake_round).status == Cohort.Status.PROPOSED
    assert mail.outbox == []
    assert _fits(page)

    page.click("#confirm-approve")
    page.wait_for_selector("#approved-note")
    assert f"Approved by {staff_user.get_full_name()}" in page.inner_text("#approved-note")
    cohort = Cohort.objects.get(intake_round=intake_round)
    assert cohort.status == Cohort.Status.APPROVED and cohort.admissions.count() == 3
    recipients = {address for message in mail.outbox for address in message.to}
    assert {n.email for n in nominations} | {coordinator.user.email} == recipients

    # The university follows every nominee's outcome; nothing can be edited any more.
    _coordinator_sees_the_outcomes(browser, live_server, coordinator, nominations)
