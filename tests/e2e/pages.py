"""Steps that many browser journeys share."""

from django.core.cache import cache

from tests.kernel.factories import DEFAULT_PASSWORD, totp_code


def sign_in(page, user, *, code: bool = True) -> None:
    """Sign in with the password, then, for staff (`code`), the authenticator app's code."""
    page.goto("/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    # The login form's button: without script the language form shows its own.
    page.click("form[action='/accounts/login/'] button[type=submit]")
    if code:
        # allauth refuses a code used before within its window, remembered in the cache by user
        # id; an earlier test's staff member (the same id after the flush) may have used it.
        cache.clear()
        page.fill("input[name=code]", totp_code())
        page.click("main button[type=submit]")
    page.wait_for_selector("text=Welcome")
