"""Under the strict Content-Security-Policy, the pages with JavaScript still work and the browser
reports no violation: the round overview's poll, the language switcher, Swagger UI."""

import pytest
from django.utils import timezone

from candidates.models import Cohort
from tests.candidates.factories import open_round_with_tracks
from tests.e2e.pages import sign_in
from tests.programs.factories import close_nominations

pytestmark = pytest.mark.django_db(transaction=True)

# Collects every violation the page reports, beside what the console says about them.
WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


def _watch(page):
    console = []
    page.on("console", lambda message: console.append(message.text))
    page.add_init_script(WATCH_VIOLATIONS)
    return console


def _violations(page, console):
    reported = page.evaluate("window.__cspViolations")
    said = [text for text in console if "Content Security Policy" in text]
    return reported + said


def test_round_overview_polls_a_requested_run_without_a_violation(page, staff_user):
    intake_round = open_round_with_tracks(n_tracks=2, name="2027 Spring")
    close_nominations(intake_round)
    cohort = Cohort.objects.create(intake_round=intake_round, run_requested_at=timezone.now())
    console = _watch(page)
    sign_in(page, staff_user)

    page.goto(f"/staff/rounds/{intake_round.pk}/")
    page.wait_for_selector("#running")
    header = page.evaluate("() => fetch(location.href).then(r => r.headers.get("
                           "'content-security-policy'))")
    assert "script-src 'self'" in header and "unsafe-inline" not in header
    # The run finishes: the script's next poll (every 3 s) sees it and reloads the page.
    Cohort.objects.filter(pk=cohort.pk).update(run_requested_at=None)
    page.wait_for_selector("#running", state="detached", timeout=12_000)
    assert _violations(page, console) == []

    # The language switcher applies the language its button sends.
    page.select_option("#language-select", "ko")
    page.click("form.language input[type=submit]")
    page.wait_for_selector("html[lang=ko]")
    assert _violations(page, console) == []


def test_swagger_ui_renders_without_a_violation(page, staff_user):
    console = _watch(page)
    sign_in(page, staff_user)
    page.goto("/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock", timeout=20_000)
    assert _violations(page, console) == []


def test_the_admin_works_without_a_violation(page, staff_user):
    console = _watch(page)
    sign_in(page, staff_user)
    page.goto("/admin/programs/intakeround/add/")
    page.wait_for_selector("#intakeround_form")
    page.goto("/admin/ecocycle/auditentry/")
    page.wait_for_selector("#changelist")
    assert _violations(page, console) == []
