"""Speak the signed-in user's preferred language unless they picked another with the switcher,
and show times in their time zone; keep staff without a second factor out of every page but its
set-up; answer a write that found the database busy with a page that says to try again."""

import sys
import zoneinfo

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views import defaults

from .access import has_second_factor, is_staff_account
from .exceptions import RETRY_AFTER_SECONDS, database_busy_message
from .writes import database_busy


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


class UserTimeZoneMiddleware:
    """Shows every time in the viewer's time zone, admin included: a coordinator's is their
    own (Coordinator.timezone, reached through the `coordinator` relation, so the kernel
    imports no app); staff's, mentors' and anyone else's is settings.TIME_ZONE (Asia/Seoul).
    The date-time formats name the zone (config/formats). A coordinator's zone is read at
    sign-in (`time_zone_remember`) and kept in the session, so a page costs no extra query."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone = request_time_zone(request)
        if zone is None:
            # A page may switch to its reader's zone (the candidate's page): never past the
            # request, into whatever the thread runs next.
            timezone.deactivate()
            try:
                return self.get_response(request)
            finally:
                timezone.deactivate()
        with timezone.override(zone):
            return self.get_response(request)


TIME_ZONE_SESSION_KEY = "ecocycle_time_zone"


def request_time_zone(request) -> str | None:
    """The signed-in viewer's zone; None (the default, settings.TIME_ZONE) for anyone else."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    if getattr(user, "role", None) != "coordinator":
        return settings.TIME_ZONE
    session = getattr(request, "session", None)
    remembered = session.get(TIME_ZONE_SESSION_KEY) if session is not None else None
    if remembered and remembered[0] == user.pk and _known_zone(remembered[1]):
        return remembered[1]
    zone = user_time_zone(user)
    if session is not None:
        session[TIME_ZONE_SESSION_KEY] = [user.pk, zone]
    return zone


def time_zone_remember(sender, request, user, **kwargs) -> None:
    """On user_logged_in (connected in EcocycleConfig.ready): a coordinator's session keeps
    their zone; signing in again picks up a change."""
    session = getattr(request, "session", None)
    if session is not None and getattr(user, "role", None) == "coordinator":
        session[TIME_ZONE_SESSION_KEY] = [user.pk, user_time_zone(user)]


def user_time_zone(user) -> str:
    """The zone a user reads times in: a coordinator's own, settings.TIME_ZONE otherwise."""
    zone = None
    if getattr(user, "role", None) == "coordinator":
        try:
            zone = user.coordinator.timezone
        except ObjectDoesNotExist:
            zone = None
    return zone if zone and _known_zone(zone) else settings.TIME_ZONE


def _known_zone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        return False
    return True


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


class DatabaseBusyMiddleware:
    """A page whose write found the database busy past its short wait answers 503 with a page
    in the user's language that says to try again and keeps what they entered (a form posting
    it again), instead of a server error. The API answers the same in JSON
    (ecocycle.exceptions.api_exception_handler); `server_error` catches what fails outside a
    view (the session's save)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if database_busy(exception):
            return database_busy_response(request)
        return None


# Never sent back: the user types these again.
_NOT_KEPT = ("csrfmiddlewaretoken", "password")


def database_busy_response(request) -> HttpResponse:
    if request.path.startswith("/api/"):  # outside a DRF view (its handler answers the same)
        response = JsonResponse({"detail": database_busy_message()}, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    kept = [(name, value) for name, values in request.POST.lists()
            if not any(word in name.lower() for word in _NOT_KEPT) for value in values] \
        if request.method == "POST" else []
    response = render(request, "busy.html", {
        "message": database_busy_message(), "method": request.method, "kept": kept,
        "files_dropped": bool(request.FILES), "retry_after": RETRY_AFTER_SECONDS,
    }, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def server_error(request) -> HttpResponse:
    """handler500: the busy page when what failed was the database's write lock (outside any
    view, e.g. saving the session), Django's plain server error otherwise."""
    error = sys.exc_info()[1]
    if error is not None and database_busy(error):
        return database_busy_response(request)
    return defaults.server_error(request)
