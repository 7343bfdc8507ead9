"""Every page fits a 390 x 844 phone, in English, Korean and Vietnamese, for every role: nothing
scrolls sideways (wide tables scroll inside their own box). A keyboard alone reaches the content
through the skip link and picks any language, which applies only when its button is pressed.

The demo world (seed_demo) is built per test: a live server's test commits, so a module's world
(tests/worlds.py) cannot be shared with it. Screenshots of three pages in Korean and Vietnamese
are written to var/screenshots/ (git-ignored) for a person to look at.
"""

from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.management import call_command

from candidates.models import Cohort, Nomination
from candidates.services import consent_link
from ecocycle.models import User
from mentors.models import Mentor, MentorAssignment
from mentors.services import invitation_link
from programs.models import IntakeRound
from students.models import AlumniOutcome, Enrolment
from students.services import alumni_update_link
from tests.e2e.pages import sign_in
from tests.kernel.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
LANGUAGES = ["en", "ko", "vi"]
SCREENSHOTS = settings.BASE_DIR / "var" / "screenshots"
COORDINATOR, MENTOR = "coordinator@itb.test", "mentor@kitech.test"
SECTIONS = ["person", "studies", "language", "preferences", "documents"]


@pytest.fixture
def demo(db):
    call_command("seed_demo", stdout=StringIO())
    # The demo's people sign in with the tests' password and start in English.
    for user in User.objects.filter(email__in=[COORDINATOR, MENTOR]):
        user.set_password(DEFAULT_PASSWORD)
        user.language = "en"
        user.save()


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="en-GB", viewport=PHONE)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/")  # A page of the site, which a language cookie is then set for.
    yield page
    context.close()


def _path(url: str) -> str:
    return urlsplit(str(url)).path


def _use_language(page, language: str) -> None:
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language,
                               "domain": urlsplit(page.url).hostname, "path": "/"}])


# The Korean words (runs of Hangul) whose letters do not all sit on one line.
BROKEN_KOREAN_WORDS = """() => {
  const broken = [], walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (const word of node.data.matchAll(/[\\uac00-\\ud7a3]{2,}/g)) {
      const tops = new Set();
      for (let i = word.index; i < word.index + word[0].length; i++) {
        const range = document.createRange();
        range.setStart(node, i);
        range.setEnd(node, i + 1);
        const box = range.getBoundingClientRect();
        if (box.height) { tops.add(Math.round(box.top)); }
      }
      if (tops.size > 1) { broken.push(word[0]); }
    }
  }
  return broken;
}"""


def _assert_fits(page, path: str, language: str) -> None:
    response = page.goto(path)
    assert response.ok, f"{path}: {response.status}"
    assert page.locator("html").get_attribute("lang") == language, path
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{path} in {language} is {widths[0]} px wide on a phone"
    if language == "ko":
        assert page.evaluate(BROKEN_KOREAN_WORDS) == [], f"{path}: Korean words broken"


def _assert_all_fit(page, paths: list[str], *, shots: dict[str, str] | None = None) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for language in LANGUAGES:
        _use_language(page, language)
        for path in paths:
            _assert_fits(page, path, language)
            if language != "en" and path in (shots or {}):
                page.screenshot(path=SCREENSHOTS / f"{shots[path]}-{language}.png", full_page=True)


def _coordinators_pages() -> list[str]:
    draft = Nomination.objects.filter(university__coordinators__user__email=COORDINATOR,
                                      status=Nomination.Status.DRAFT).first()
    submitted = Nomination.objects.filter(university__coordinators__user__email=COORDINATOR,
                                          status=Nomination.Status.SUBMITTED).first()
    round_id = draft.intake_round_id
    return ["/", "/nominations/", f"/nominations/{draft.pk}/", f"/nominations/{submitted.pk}/",
            f"/nominations/rounds/{round_id}/new/", f"/nominations/rounds/{round_id}/import/",
            "/account/", *(f"/nominations/{draft.pk}/edit/{section}/" for section in SECTIONS)]


def _links() -> list[str]:
    """Live emailed links: consent, a mentor's invitation, an alumnus's update."""
    waiting = Nomination.objects.filter(status=Nomination.Status.SUBMITTED,
                                        consent_given_at__isnull=True).first()
    invited = MentorAssignment.objects.filter(status=MentorAssignment.Status.INVITED).first()
    return [_path(consent_link(waiting)), _path(invitation_link(invited)),
            _path(alumni_update_link(AlumniOutcome.objects.first()))]


def test_a_coordinators_pages_and_the_emailed_links_fit_a_phone(demo, phone):
    consent, invitation, alumni_update = _links()
    _assert_all_fit(phone, ["/", "/cycle/", "/accounts/login/", "/accounts/password/reset/",
                            consent, invitation, alumni_update], shots={consent: "consent"})

    _use_language(phone, "en")
    sign_in(phone, User.objects.get(email=COORDINATOR), code=False)
    pages = _coordinators_pages()
    _assert_all_fit(phone, pages, shots={pages[-4]: "coordinator-studies"})
    # On the phone the list's own action is on screen, not past its right edge.
    _use_language(phone, "en")
    phone.goto("/nominations/")
    action = phone.locator("main a", has_text="Nominate a candidate").first
    box = action.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]


def test_a_mentors_pages_fit_a_phone(demo, phone):
    sign_in(phone, User.objects.get(email=MENTOR), code=False)
    accepted = MentorAssignment.objects.filter(mentor__email=MENTOR,
                                               status=MentorAssignment.Status.ACCEPTED)
    logs = [f"/mentoring/assignments/{pk}/log/" for pk in accepted.values_list("pk", flat=True)[:1]]
    _assert_all_fit(phone, ["/", "/mentoring/", "/mentoring/profile/", "/account/", *logs])


def _staff_pages() -> list[str]:
    proposed = IntakeRound.objects.filter(cohort__status=Cohort.Status.PROPOSED).first().pk
    approved = IntakeRound.objects.filter(cohort__status=Cohort.Status.APPROVED).first().pk
    mentor = Mentor.objects.first().pk
    nomination = Nomination.objects.exclude(status=Nomination.Status.DRAFT).first().pk
    return [
        "/", "/staff/", f"/staff/rounds/{proposed}/", f"/staff/rounds/{proposed}/cohort/",
        f"/staff/rounds/{proposed}/whatif/", f"/staff/rounds/{proposed}/audit/",
        f"/staff/rounds/{proposed}/approve/confirm/", f"/staff/rounds/{approved}/",
        f"/staff/rounds/{approved}/cohort/", "/staff/mentors/", "/staff/mentors/import/",
        f"/staff/mentors/{mentor}/", f"/staff/mentors/rounds/{approved}/", "/staff/students/",
        f"/staff/students/{Enrolment.objects.first().pk}/", "/staff/careers/", "/staff/cycle/",
        "/staff/privacy/", "/staff/privacy/?q=a", f"/staff/privacy/nominations/{nomination}/",
        "/staff/privacy/retention/", "/staff/privacy/mentors/?q=a",
        f"/staff/privacy/mentors/{mentor}/", "/admin/ecocycle/auditentry/", "/account/",
    ]


def test_the_staff_pages_fit_a_phone(demo, phone, staff_user):
    sign_in(phone, staff_user)
    pages = _staff_pages()
    _assert_all_fit(phone, pages, shots={pages[2]: "staff-round-overview"})


def test_the_skip_link_is_the_first_tab_stop_and_leads_to_the_content(phone):
    phone.goto("/accounts/login/")
    phone.keyboard.press("Tab")
    focused = phone.evaluate("() => [document.activeElement.className, "
                             "document.activeElement.textContent.trim()]")
    assert focused == ["skip-link", "Skip to content"]
    phone.keyboard.press("Enter")
    assert phone.evaluate("() => document.activeElement.id") == "content"
    # The next Tab goes on from the content, past the header's links.
    phone.keyboard.press("Tab")
    assert phone.evaluate("() => !!document.activeElement.closest('main')")


def test_a_keyboard_reaches_any_language_and_nothing_reloads_until_the_button(phone):
    phone.goto("/accounts/login/")
    phone.evaluate("() => { window.notReloaded = true; }")
    phone.focus("#language-select")
    while phone.eval_on_selector("#language-select", "select => select.value") != "vi":
        phone.keyboard.press("ArrowDown")
        phone.wait_for_timeout(200)
        assert phone.evaluate("() => window.notReloaded === true"), "the page reloaded"
        assert phone.locator("html").get_attribute("lang") == "en"
    phone.keyboard.press("Tab")
    assert phone.evaluate("() => document.activeElement.type") == "submit"
    phone.keyboard.press("Enter")
    phone.wait_for_selector("html[lang=vi]")
    assert phone.evaluate("() => window.notReloaded === undefined")
