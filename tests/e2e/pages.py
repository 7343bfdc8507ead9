"""Steps that many browser journeys share."""

from tests.kernel.factories import DEFAULT_PASSWORD, totp_code


def sign_in(page, user, *, code: bool = True) -> None:
    """Sign in with the password, then, for staff (`code`), the authenticator app's code."""
    page.goto("/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    # The login form's button: without script the language form shows its own.
    page.click("form[action='/accounts/login/'] button[type=submit]")
    if code:
        page.fill("input[name=code]", totp_code())
        page.click("main button[type=submit]")
    page.wait_for_selector("text=Welcome")
