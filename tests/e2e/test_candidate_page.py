"""On a phone: the candidate opens their page from the consent email, corrects their email address
(confirmed through the new address), confirms consent at the new address, and later accepts the
offer of a place."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from candidates import services
from candidates.models import Cohort, Nomination, Offer
from candidates.services.candidate_page import candidate_page_link
from tests.candidates.factories import admitted_round, round_decide, submitted_nomination

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}


def _path(link: str) -> str:
    return "/" + link.split("://", 1)[1].split("/", 1)[1]


def _link(to: str, pattern: str) -> str:
    bodies = [m.body for m in mail.outbox if m.to == [to]]
    found = [re.search(pattern, body) for body in reversed(bodies)]
    return _path(next(match for match in found if match).group(0))


def _fits(page) -> None:
    width, inner = page.evaluate("() => [document.documentElement.scrollWidth, "
                                 "window.innerWidth]")
    assert width <= inner, f"{page.url} scrolls sideways: {width} > {inner}"


def test_the_candidate_corrects_their_email_and_accepts_the_offer(browser, live_server,
                                                                  settings):
    settings.SITE_URL = live_server.url
    nomination = submitted_nomination(via_services=True, candidate_language="en",
                                      email="dewi@typo.example")
    context = browser.new_context(base_url=live_server.url, locale="en-GB", viewport=PHONE)
    context.set_default_timeout(15_000)
    page = context.new_page()

    # The consent email carries the link to the candidate's own page.
    old_page = _link("dewi@typo.example", r"https?://\S+/candidate/\S+/")
    page.goto(old_page)
    page.wait_for_selector("#timeline")
    _fits(page)
    page.click("text=Change my email address")
    page.fill("#email-form input[name=email]", "dewi@student.example")
    page.click("#email-form button[type=submit]")
    page.wait_for_selector("text=Open it to confirm the new address")
    nomination.refresh_from_db()
    assert nomination.email == "dewi@typo.example"

    # The link sent to the new address makes it the candidate's.
    page.goto(_link("dewi@student.example", r"https?://\S+/candidate/email/\S+/"))
    page.click("#confirm-email")
    page.wait_for_selector("#email-confirm[data-state=confirmed]")
    _fits(page)
    nomination.refresh_from_db()
    assert nomination.email == "dewi@student.example"
    page.goto(old_page)
    page.wait_for_selector("#dead-link")

    # Consent was still missing: it is asked for again at the new address.
    page.goto(_link("dewi@student.example", r"https?://\S+/consent/\S+/"))
    page.click("#confirm-consent")
    page.wait_for_selector(".ok")

    # Later the round decides and the candidate is offered a place.
    round_decide(nomination.intake_round)
    services.offers_make(cohort=Cohort.objects.get(intake_round=nomination.intake_round),
                         wave=1, now=timezone.now())
    new_page = _link("dewi@student.example",
                     r"https?://\S+/candidate/(?!email/)[^/\s]+/")
    page.goto(new_page)
    page.wait_for_selector("#offer")
    _fits(page)
    page.click("#offer-accept")
    page.wait_for_selector("#offer-accept-confirm")
    _fits(page)
    assert Offer.objects.get(nomination=nomination).status == "pending"
    page.click("#offer-accept-confirm")
    page.wait_for_selector("text=You accepted the place")
    _fits(page)
    assert Offer.objects.get(nomination=nomination).status == "accepted"
    assert Nomination.objects.get(pk=nomination.pk).status == "submitted"
    context.close()


@pytest.mark.parametrize("language", ["ko", "id", "vi"])
def test_the_candidates_pages_fit_a_phone_in_their_language_without_axe_violations(
        browser, live_server, language):
    intake_round, (nomination,) = admitted_round(1, accepted=False)
    Nomination.objects.filter(pk=nomination.pk).update(candidate_language=language)
    services.offers_make(cohort=Cohort.objects.get(intake_round=intake_round), wave=1,
                         now=timezone.now())
    nomination.refresh_from_db()
    offer = Offer.objects.get(nomination=nomination)
    token = _path(candidate_page_link(nomination)).rstrip("/").rsplit("/", 1)[1]
    context = browser.new_context(base_url=live_server.url, viewport=PHONE)
    page = context.new_page()
    for path in (reverse("candidate:page", args=[token]),
                 reverse("candidate:withdraw", args=[token]),
                 reverse("candidate:offer_answer", args=[token, offer.pk, "decline"]),
                 reverse("candidate:link_request")):
        page.goto(path)
        if path != reverse("candidate:link_request"):
            assert page.get_attribute("html", "lang") == language
        _fits(page)
        violations = Axe().run(page).response["violations"]
        assert not violations, (path, [(v["id"], v["nodes"][0]["target"]) for v in violations])
    context.close()
