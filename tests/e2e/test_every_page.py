"""Every page of every role, in a real browser: no axe-core violation in en, ko, id and vi at
1366 px, and no sideways scrolling on a 390 px phone.

The pages come from tests/routes.py, which walks config.urls: a new route fails here until PAGES
(with the roles that see it) or NOT_PAGES names it. axe-core comes bundled with
axe-playwright-python; nothing is downloaded while the tests run.
"""

from io import StringIO

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from candidates import selectors, services
from ecocycle.models import User
from tests.routes import (
    PAGE_VARIANTS,
    PAGES,
    ROLES,
    is_page,
    path_of,
    round_proposed,
    route_name,
    routes,
)

pytestmark = pytest.mark.django_db(transaction=True)

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
AXE_LANGUAGES = ("en", "ko", "id", "vi")
PHONE_LANGUAGES = ("en", "ko", "id", "vi")
AXE = Axe()


def _pages_by_role() -> dict[str, list[tuple[str, str]]]:
    """role -> [(route name, path)], in the order of config.urls."""
    by_role: dict[str, list[tuple[str, str]]] = {role: [] for role in ROLES}
    named = set()
    for route, pattern, namespace in routes():
        name = route_name(route, pattern, namespace)
        named.add(name)
        if not is_page(name):
            continue
        paths = PAGE_VARIANTS[name]() if name in PAGE_VARIANTS else [
            path_of(route, pattern, namespace)]
        for role in PAGES[name]:
            by_role[role] += [(name, path) for path in paths]
    assert not set(PAGES) - named, f"PAGES names routes that are gone: {set(PAGES) - named}"
    return by_role


def _context(browser, live_server, role: str, language: str, viewport: dict):
    """A browser signed in as the role's demo account, speaking the language."""
    context = browser.new_context(base_url=live_server.url, viewport=viewport, locale="en-GB")
    context.set_default_timeout(15_000)
    cookies = [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}]
    if ROLES[role]:
        client = Client()
        client.force_login(User.objects.get(email=ROLES[role]))
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        cookies.append({"name": settings.SESSION_COOKIE_NAME, "value": session,
                        "url": live_server.url})
    context.add_cookies(cookies)
    return context


def _axe_findings(page) -> list[str]:
    findings = []
    for violation in AXE.run(page).response["violations"]:
        nodes = violation["nodes"]
        targets = "; ".join(" ".join(map(str, node["target"])) for node in nodes[:3])
        why = " ".join(nodes[0].get("failureSummary", "").split())[:200]
        findings.append(f"  {violation['impact']}: {violation['id']} ({violation['help']}) "
                        f"x{len(nodes)} at {targets}\n    {why}")
    return findings


def _visit(page, path: str, where: str) -> None:
    response = page.goto(path)
    assert response is not None and response.status < 500, f"{where}: {response.status}"


@pytest.fixture
def demo(db):
    call_command("seed_demo", stdout=StringIO())
    # A what-if with one seat on every track, computed, so its comparison is visited too.
    intake_round = round_proposed()
    whatif = services.whatif_request(
        actor=User.objects.get(email=ROLES["staff"]), intake_round=intake_round,
        seats={rt.track_id: 1 for rt in selectors.whatif_round_tracks(intake_round)},
        weights=selectors.scoring_weights_get_for_round(intake_round))
    services.whatif_compute(whatif=whatif)
    whatif.refresh_from_db()
    assert whatif.status == whatif.Status.DONE and whatif.counts["changed"]


def test_no_page_of_any_role_has_an_axe_violation_in_any_language(demo, browser, live_server):
    report = []
    for role, pages in _pages_by_role().items():
        for language in AXE_LANGUAGES:
            context = _context(browser, live_server, role, language, DESKTOP)
            page = context.new_page()
            for name, path in pages:
                _visit(page, path, f"{role} {language} {path}")
                findings = _axe_findings(page)
                if findings:
                    report.append(f"{role} {language} {name} {path}:\n" + "\n".join(findings))
            context.close()
    assert not report, "axe-core violations:\n" + "\n".join(report)


# Apart from the axe test, so that each says what it found on its own.
def test_no_page_of_any_role_scrolls_sideways_on_a_phone(demo, browser, live_server):
    overflowing = []
    for role, pages in _pages_by_role().items():
        for language in PHONE_LANGUAGES:
            context = _context(browser, live_server, role, language, PHONE)
            page = context.new_page()
            for name, path in pages:
                _visit(page, path, f"{role} {language} {path}")
                width = page.evaluate("document.documentElement.scrollWidth")
                if width > PHONE["width"]:
                    overflowing.append(f"{role} {language} {name} {path}: {width} px wide")
            context.close()
    assert not overflowing, "Wider than a 390 px phone:\n" + "\n".join(overflowing)
