"""A KITECH staff member refills a seat given back: on a 390 px phone they open the waves page,
propose the next wave, read who gets the seat and who moves up, approve after the confirmation,
and read a track's reserve list. The pages fit the phone and pass axe-core in every language."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.utils import timezone

from candidates import services
from candidates.models import Cohort, Offer
from tests.candidates.factories import admitted_round
from tests.e2e.pages import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_staff_propose_and_approve_a_wave_on_a_phone(page, staff_user, live_server):
    intake_round, (c0, c1, c2, c3) = admitted_round(4, seats=1, accepted=False)
    cohort = Cohort.objects.get(intake_round=intake_round)
    services.offers_make(cohort=cohort, wave=1, now=timezone.now())
    services.offer_decline(offer=Offer.objects.get(nomination=c0, status="pending"))
    page.set_viewport_size(PHONE)
    sign_in(page, staff_user)

    page.goto(f"/staff/rounds/{intake_round.pk}/wave/")
    page.click("#wave-propose")
    page.wait_for_selector("#wave-proposal")
    assert page.locator(f"#new-{c2.pk}").is_visible()
    assert page.locator(f"#moved-{c1.pk}").count() == 1
    assert page.locator(f"#row-{c3.pk}").count() == 1
    assert _fits(page)

    page.click("#wave-approve")
    page.wait_for_selector("#wave-confirm-counts")
    assert _fits(page)
    page.click("#wave-approve-submit")
    page.wait_for_selector("#wave-status")
    assert Offer.objects.get(nomination=c2, status="pending").wave == 2

    page.goto(f"/staff/rounds/{intake_round.pk}/reserve/")
    page.wait_for_selector("#reserve-list")
    assert _fits(page)

    # Every language: no sideways scroll on the phone and no axe-core violation.
    waves_path = f"/staff/rounds/{intake_round.pk}/wave/"
    services.offer_decline(offer=Offer.objects.get(nomination=c2, status="pending"))
    services.wave_propose(actor=staff_user, cohort=cohort)
    axe = Axe()
    for language in ("en", "ko", "id", "vi"):
        page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language,
                                   "url": live_server.url}])
        for path in (waves_path, f"{waves_path}approve/confirm/",
                     f"/staff/rounds/{intake_round.pk}/reserve/"):
            page.goto(path)
            assert page.get_attribute("html", "lang") == language
            assert _fits(page), f"{language} {path}"
            violations = axe.run(page).response["violations"]
            assert not violations, f"{language} {path}: {[v['id'] for v in violations]}"
