"""The whole journey of the offers on a 390 px phone, every link taken from the email that
carries it: a candidate opens their page from the consent email, corrects their email address
(confirmed through the new address) and gives consent there; staff approve the cohort of one
track with two seats; the first candidate accepts the offer emailed to the new address, the
second declines with a reason; staff see the third on the track's reserve list, propose and
approve the second wave; the third candidate receives its offer and accepts; the coordinator
sees each outcome."""

import re

import pytest
from django.core import mail

from candidates import services
from candidates.models import Cohort, CohortAdmission, Nomination, Offer
from programs import services as program_services
from programs.models import RoundTrack
from tests.candidates.factories import (
    consented_nomination,
    open_round_with_tracks,
    submitted_nomination,
)
from tests.e2e.pages import sign_in
from tests.programs.factories import CoordinatorFactory

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
PAGE_LINK = r"https?://\S+/candidate/(?!email/)[^/\s]+/"


def _path(link: str) -> str:
    return "/" + link.split("://", 1)[1].split("/", 1)[1]


def _emails(to: str, topic_words: str = "") -> list:
    """The messages sent to `to` (whose subject holds `topic_words`), oldest first."""
    return [m for m in mail.outbox if m.to == [to] and topic_words in m.subject]


def _link(to: str, pattern: str) -> str:
    """The path of the newest link matching `pattern` in an email sent to `to`."""
    for message in reversed(_emails(to)):
        found = re.search(pattern, message.body)
        if found:
            return _path(found.group(0))
    raise AssertionError(f"no email to {to} carries {pattern}: "
                         f"{[m.subject for m in _emails(to)]}")


def _fits(page) -> None:
    width, inner = page.evaluate("() => [document.documentElement.scrollWidth, "
                                 "window.innerWidth]")
    assert width <= inner, f"{page.url} scrolls sideways: {width} > {inner}"


def _phone(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="en-GB", viewport=PHONE)
    context.set_default_timeout(15_000)
    return context, context.new_page()


def _offer(nomination) -> Offer:
    return Offer.objects.filter(nomination=nomination).order_by("-made_at", "-id").first()


def test_offers_are_answered_and_a_seat_given_back_goes_to_the_reserve(browser, live_server,
                                                                        settings, staff_user):
    settings.SITE_URL = live_server.url
    intake_round = open_round_with_tracks(n_tracks=1, name="2027 Autumn")
    RoundTrack.objects.filter(intake_round=intake_round).update(seats=2)
    track = intake_round.tracks.get()
    coordinator = CoordinatorFactory()
    x = submitted_nomination(via_services=True, intake_round=intake_round,
                             coordinator=coordinator, candidate_language="en", gpa="3.9",
                             given_names="Dewi", family_name="Xanthe", email="dewi@typo.example")
    y = consented_nomination(via_services=True, intake_round=intake_round,
                             coordinator=coordinator, candidate_language="en", gpa="3.7",
                             given_names="Minh", family_name="Yen", email="minh@student.example")
    z = consented_nomination(via_services=True, intake_round=intake_round,
                             coordinator=coordinator, candidate_language="en", gpa="3.2",
                             given_names="Budi", family_name="Zainal",
                             email="budi@student.example")

    # 1. X opens their page from the consent email and corrects their email address.
    x_context, x_page = _phone(browser, live_server)
    old_link = _link("dewi@typo.example", PAGE_LINK)
    x_page.goto(old_link)
    x_page.wait_for_selector("#timeline")
    assert x_page.inner_text("#current-email") == "dewi@typo.example"
    assert "Waiting for your confirmation" in x_page.inner_text("li[data-step=consent]")
    _fits(x_page)
    x_page.click("text=Change my email address")
    x_page.fill("#email-form input[name=email]", "dewi@student.example")
    x_page.click("#email-form button[type=submit]")
    x_page.wait_for_selector("text=Open it to confirm the new address")
    _fits(x_page)
    x.refresh_from_db()
    assert x.email == "dewi@typo.example"

    # The link sent to the new address makes it X's; the page's old link dies with the old one.
    x_page.goto(_link("dewi@student.example", r"https?://\S+/candidate/email/\S+/"))
    assert "dewi@student.example" in x_page.inner_text("main")
    _fits(x_page)
    x_page.click("#confirm-email")
    x_page.wait_for_selector("#email-confirm[data-state=confirmed]")
    _fits(x_page)
    x.refresh_from_db()
    assert x.email == "dewi@student.example"
    x_page.goto(old_link)
    x_page.wait_for_selector("#dead-link")

    # Consent was still missing: it is asked for again at the new address, and given.
    x_page.goto(_link("dewi@student.example", r"https?://\S+/consent/\S+/"))
    _fits(x_page)
    x_page.click("#confirm-consent")
    x_page.wait_for_selector(".ok")
    assert Nomination.objects.get(pk=x.pk).consent_given_at is not None

    # 2. Nominations close and the matching runs (services); staff approve in the browser.
    program_services.intake_round_close_nominations(actor=staff_user, intake_round=intake_round,
                                                    reason="Every university has nominated.")
    services.cohort_match_run(intake_round=intake_round, trigger="command", actor=staff_user)
    staff_context, staff_page = _phone(browser, live_server)
    sign_in(staff_page, staff_user)
    staff_page.goto(f"/staff/rounds/{intake_round.pk}/")
    staff_page.click("#approve-cohort")
    staff_page.wait_for_selector("#approve-confirm")
    assert "2 candidates will be admitted; 1 will not be admitted." in staff_page.inner_text(
        "#approve-confirm")
    staff_page.click("#confirm-approve")
    staff_page.wait_for_selector("#approved-note")
    assert set(CohortAdmission.objects.values_list("nomination_id", flat=True)) == {x.pk, y.pk}
    # The background job wrote the emails: the offer goes to X's new address only.
    assert not [m for m in _emails("dewi@typo.example") if "Congratulations" in m.body]
    assert [m for m in _emails("dewi@student.example") if "Congratulations" in m.body]

    # 3. X accepts on their page, from the approval email sent to the new address.
    x_page.goto(_link("dewi@student.example", PAGE_LINK))
    x_page.wait_for_selector("#offer")
    assert f"You are offered a place in {track}" in x_page.inner_text("#offer")
    _fits(x_page)
    x_page.click("#offer-accept")
    x_page.wait_for_selector("#offer-accept-confirm")
    _fits(x_page)
    x_page.click("#offer-accept-confirm")
    x_page.wait_for_selector("text=You accepted the place")
    assert x_page.locator("#offer").count() == 0
    assert "Accepted" in x_page.inner_text("li[data-step=offer]")
    _fits(x_page)
    assert _offer(x).status == Offer.Status.ACCEPTED
    x_context.close()

    # 4. Y declines on their page, giving the reason.
    y_context, y_page = _phone(browser, live_server)
    y_page.goto(_link("minh@student.example", PAGE_LINK))
    y_page.wait_for_selector("#offer")
    _fits(y_page)
    y_page.click("#offer-decline")
    y_page.wait_for_selector("#offer-decline-confirm")
    _fits(y_page)
    y_page.select_option("#offer-form select[name=reason]", "other_offer")
    y_page.fill("#offer-form textarea[name=note]", "A scholarship in Japan.")
    y_page.click("#offer-decline-confirm")
    y_page.wait_for_selector("text=You declined the place")
    step = y_page.inner_text("li[data-step=offer]")
    assert "Declined" in step and "Reason: I accepted another offer" in step
    _fits(y_page)
    declined = _offer(y)
    assert (declined.status, declined.decline_reason, declined.decline_note) == (
        Offer.Status.DECLINED, "other_offer", "A scholarship in Japan.")
    assert not CohortAdmission.objects.filter(nomination=y).exists()
    y_context.close()

    # 5. Staff see the seat given back and Z first on the track's reserve list, then propose
    #    the second wave, review it and approve it after its confirmation.
    staff_page.click("nav.tabs >> text=Waves and reserve")
    staff_page.wait_for_selector("#wave-status")
    given_back = staff_page.locator(f"#wave-tracks tr[data-track='{track.pk}'] td")
    assert [given_back.nth(i).inner_text() for i in (1, 2, 3)] == ["2", "1", "1"]
    _fits(staff_page)
    staff_page.click(f"#wave-tracks tr[data-track='{track.pk}'] >> text=Reserve list")
    staff_page.wait_for_selector("#reserve-list")
    rows = staff_page.locator("#reserve-list tbody tr")
    assert rows.count() == 1
    assert rows.first.get_attribute("id") == f"reserve-{z.pk}"
    assert rows.first.locator("td").first.inner_text() == "1"
    assert "Budi ZAINAL" in rows.first.inner_text()
    _fits(staff_page)

    staff_page.click("nav.tabs >> text=Waves and reserve")
    staff_page.click("#wave-propose")
    staff_page.wait_for_selector("#wave-proposal")
    assert "Proposed wave 2" in staff_page.inner_text("#proposal-title")
    assert "Budi ZAINAL" in staff_page.inner_text(f"#new-{z.pk}")
    assert staff_page.locator("#wave-new tbody tr").count() == 1
    assert "No pending offer moves up." in staff_page.inner_text("#wave-moved")
    _fits(staff_page)
    staff_page.click("#wave-approve")
    staff_page.wait_for_selector("#wave-confirm-counts")
    counts = staff_page.inner_text("#wave-confirm-counts")
    assert "1 new offer of a seat given back" in counts
    assert "1 candidate is emailed" in counts
    _fits(staff_page)
    staff_page.click("#wave-approve-submit")
    staff_page.wait_for_selector("text=The wave is approved")
    assert Cohort.objects.get(intake_round=intake_round).wave == 2
    staff_page.goto(f"/staff/rounds/{intake_round.pk}/reserve/")
    assert "Nobody is waiting for this track." in staff_page.inner_text("#reserve-list")
    staff_context.close()

    # 6. Z receives the wave's offer, opens their page from it and accepts.
    (wave_email,) = [m for m in _emails("budi@student.example")
                     if "A place has become free" in m.body]
    assert str(track) in wave_email.body
    z_context, z_page = _phone(browser, live_server)
    z_page.goto(_link("budi@student.example", PAGE_LINK))
    z_page.wait_for_selector("#offer")
    assert f"You are offered a place in {track}" in z_page.inner_text("#offer")
    assert "(wave 2)" in z_page.inner_text("li[data-step=offer]")
    _fits(z_page)
    z_page.click("#offer-accept")
    z_page.click("#offer-accept-confirm")
    z_page.wait_for_selector("text=You accepted the place")
    _fits(z_page)
    accepted = _offer(z)
    assert (accepted.status, accepted.wave) == (Offer.Status.ACCEPTED, 2)
    z_context.close()

    # 7. The coordinator sees each outcome on their pages, and was told of the second wave.
    summary = [m for m in _emails(coordinator.user.email) if "(wave 2)" in m.body]
    assert len(summary) == 1 and "Budi ZAINAL" in summary[0].body
    coordinator_context, coordinator_page = _phone(browser, live_server)
    sign_in(coordinator_page, coordinator.user, code=False)
    coordinator_page.goto("/nominations/")
    table = coordinator_page.locator("#nominations")
    expected = {"Dewi XANTHE": "Offer accepted", "Minh YEN": "Offer declined",
                "Budi ZAINAL": "Offer accepted"}
    for name, label in expected.items():
        row = table.locator("tbody tr", has_text=name)
        assert row.locator(".status").inner_text() == label, name
    assert (f"{track} (reason: I accepted another offer)"
            in table.locator("tbody tr", has_text="Minh YEN").inner_text())
    _fits(coordinator_page)

    coordinator_page.select_option("select[name=outcome]", "offer_accepted")
    coordinator_page.click("form.filters button[type=submit]")
    coordinator_page.wait_for_url("**outcome=offer_accepted**")
    assert coordinator_page.locator("#nominations tbody tr").count() == 2

    for nomination, label in ((x, "Offer accepted"), (y, "Offer declined"),
                              (z, "Offer accepted")):
        coordinator_page.goto(f"/nominations/{nomination.pk}/")
        outcome = coordinator_page.inner_text("#outcome")
        assert label in outcome and str(track) in outcome, (nomination, outcome)
        # Z's place was one given back: offered in the second wave, and the coordinator sees it.
        assert ("(wave 2)" in outcome) == (nomination == z), (nomination, outcome)
        assert coordinator_page.locator("#read-only").is_visible()
        _fits(coordinator_page)
    coordinator_context.close()
