"""A KITECH staff member finds a mentor for an admitted candidate on the round's mentor page:
typing a name fetches the best fits (the page's script), proposing invites the mentor; with
script off, Find mentors lists the best fits from the server."""

import pytest

from mentors.models import MentorAssignment
from tests.e2e.pages import sign_in
from tests.mentors.factories import MentorFactory, admitted_round

pytestmark = pytest.mark.django_db(transaction=True)



def test_staff_search_a_mentor_as_they_type_and_propose(page, staff_user):
    intake_round, nominations = admitted_round(2)
    MentorFactory(full_name="Dr. Kim Seo-yeon", languages_spoken="ko,en")
    wanted = MentorFactory(full_name="Dr. Park Ji-ho", languages_spoken="ko,en")
    MentorFactory(full_name="Dr. Korean Only", languages_spoken="ko")
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, staff_user)
    page.goto(f"/staff/mentors/rounds/{intake_round.pk}/")
    candidate = nominations[0]
    form = page.locator(f"#propose-{candidate.pk}")
    assert form.is_hidden()

    page.fill(f"#mentor-q-{candidate.pk}", "park")
    form.wait_for(state="visible")
    options = page.locator(f"#propose-mentor-{candidate.pk} option")
    assert options.count() == 1 and "Dr. Park Ji-ho" in options.first.inner_text()
    form.locator("button[type=submit]").click()
    page.wait_for_selector("text=the invitation is being emailed")
    assignment = MentorAssignment.objects.get(nomination=candidate)
    assert assignment.mentor == wanted and assignment.proposed_by == staff_user
    assert errors == []


def test_without_script_find_mentors_lists_the_best_fits(browser, live_server, staff_user):
    intake_round, nominations = admitted_round(1)
    MentorFactory(full_name="Dr. Lee Min-jun", languages_spoken="ko,en")
    MentorFactory(full_name="Dr. Korean Only", languages_spoken="ko")
    context = browser.new_context(base_url=live_server.url, locale="en-GB",
                                  java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, staff_user)
        page.goto(f"/staff/mentors/rounds/{intake_round.pk}/")
        candidate = nominations[0]
        page.locator(f"#candidate-{candidate.pk} .mentor-search button").click()
        select = page.locator(f"#propose-mentor-{candidate.pk}")
        select.wait_for(state="visible")
        assert [o.strip() for o in select.locator("option").all_inner_texts()] == [
            "Dr. Lee Min-jun (ko,en) — 2 seats left"]
        page.locator(f"#propose-{candidate.pk} button[type=submit]").click()
        page.wait_for_selector("text=the invitation is being emailed")
        assert MentorAssignment.objects.filter(nomination=candidate).count() == 1
    finally:
        context.close()
