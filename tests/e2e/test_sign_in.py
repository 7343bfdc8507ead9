import pytest

from tests.kernel.factories import DEFAULT_PASSWORD, StaffFactory, totp_code
from tests.programs.factories import IntakeRoundFactory, ProgramUniversityFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _sign_in(page, email):
    page.goto("/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("button[type=submit]")


def test_staff_signs_in_switches_to_korean_and_opens_the_admin(page, staff_user):
    IntakeRoundFactory(program=ProgramUniversityFactory(program__name="Palm oil").program,
                       name="2027 Spring")
    _sign_in(page, staff_user.email)
    # Staff give the code of their authenticator app too.
    page.fill("input[name=code]", totp_code())
    page.click("button[type=submit]")
    page.wait_for_selector("text=Welcome")
    assert page.locator("td", has_text="2027 Spring").count() == 1

    page.select_option("#language-select", "ko")
    page.click("form.language input[type=submit]")
    page.wait_for_selector("text=입학 차수")
    assert page.locator("html").get_attribute("lang") == "ko"

    page.click("main a[href='/admin/']")
    page.wait_for_url("**/admin/")
    assert page.locator("#site-name").count() == 1


def test_wrong_password_keeps_the_email_and_says_why(page, coordinator_user):
    page.goto("/accounts/login/")
    page.fill("input[name=login]", coordinator_user.email)
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    page.wait_for_selector("text=not correct")
    assert page.input_value("input[name=login]") == coordinator_user.email


def test_staff_without_a_second_factor_sets_one_up_before_anything_else(page):
    staff = StaffFactory(totp=False)
    _sign_in(page, staff.email)
    # Sent to the set-up, which asks for the password again first.
    page.wait_for_selector("input[name=password]")
    assert "Staff accounts need a second factor" in page.inner_text("main")
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("main button[type=submit]")
    secret = page.input_value("#authenticator_secret")
    page.fill("input[name=code]", totp_code(secret))
    page.click("main button[type=submit]")
    page.wait_for_url("**/recovery-codes/")
    page.goto("/staff/cycle/")
    assert page.url.endswith("/staff/cycle/")
