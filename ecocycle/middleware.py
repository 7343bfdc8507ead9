"""Speak the signed-in user's preferred language unless they picked another with the switcher;
keep staff without a second factor out of every page but its set-up."""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.utils import translation
from django.utils.translation import gettext as _

from .access import has_second_factor, is_staff_account


class UserLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None and user.is_authenticated
            and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES
            and user.language in dict(settings.LANGUAGES)
        ):
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        return self.get_response(request)


# Pages a staff member without a second factor may still open: allauth's own (sign-in, sign-out,
# re-authentication, two-factor set-up), the language switch, static files and the health check.
SECOND_FACTOR_EXEMPT_PREFIXES = ("/accounts/", "/i18n/", "/static/", "/healthz")
STAFF_SECOND_FACTOR_SESSION_KEY = "ecocycle_staff_second_factor"


class StaffSecondFactorMiddleware:
    """A staff member without an authenticator app is sent to set one up and can do nothing else.

    Whoever controls a staff mailbox can reset the password; with a second factor that is not
    enough. Once enrolled, allauth asks for the code at every sign-in. The check is made at
    sign-in (`second_factor_remember`) or on the first page after, and remembered in the session
    for this user, so that staff pages cost no extra query; staff cannot remove their
    authenticator (ecocycle.accounts.StaffMFAAdapter).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None and is_staff_account(user)
            and not request.path_info.startswith(SECOND_FACTOR_EXEMPT_PREFIXES)
            and request.session.get(STAFF_SECOND_FACTOR_SESSION_KEY) != user.pk
        ):
            if not has_second_factor(user):
                if request.method == "GET":
                    messages.warning(request, _(
                        "Staff accounts need a second factor: set up an authenticator app "
                        "to continue."))
                return redirect("mfa_activate_totp")
            request.session[STAFF_SECOND_FACTOR_SESSION_KEY] = user.pk
        return self.get_response(request)


def second_factor_remember(sender, request, user, **kwargs) -> None:
    """On user_logged_in (connected in EcocycleConfig.ready): an enrolled staff member's session
    remembers it, so their first page costs no query either."""
    session = getattr(request, "session", None)
    if session is not None and is_staff_account(user) and has_second_factor(user):
        session[STAFF_SECOND_FACTOR_SESSION_KEY] = user.pk
