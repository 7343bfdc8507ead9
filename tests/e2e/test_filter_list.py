"""A mentor narrows the 250 travel countries by typing, ticks one, and saves."""

import pytest

from mentors import services
from tests.e2e.pages import sign_in
from tests.kernel.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_mentor_filters_the_countries_ticks_one_and_saves(page):
    mentor = services.mentor_create(actor=None, data={
        "full_name": "Dr. Han Sung-min", "email": "han.mentor@retired.example", "language": "en",
        "languages_spoken": "ko,en", "travel_countries": ["ID"], "capacity": 3})
    mentor.user.set_password(DEFAULT_PASSWORD)
    mentor.user.save()
    sign_in(page, mentor.user, code=False)
    page.goto("/mentoring/profile/")
    countries = page.locator("#id_travel_countries label")
    assert countries.count() > 200

    page.fill("input[aria-label='Filter the countries']", "viet")
    visible = [text.strip() for text in countries.filter(visible=True).all_inner_texts()]
    # The ticked Indonesia stays in sight: a choice is never hidden by the filter.
    assert visible == ["Indonesia", "Vietnam"]
    page.check("#id_travel_countries input[value=VN]")

    page.fill("input[aria-label='Filter the countries']", "zzz")
    assert page.locator(".filter-list-empty").is_hidden()  # the ticked two still show
    page.fill("input[aria-label='Filter the countries']", "")
    assert countries.filter(visible=True).count() == countries.count()

    page.click("main button[type=submit]")
    page.wait_for_url("**/mentoring/")
    mentor.refresh_from_db()
    assert {str(country) for country in mentor.travel_countries} == {"ID", "VN"}
