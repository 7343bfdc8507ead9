"""Who may open a page: the checks that every app's views share."""

from functools import wraps

from allauth.mfa.models import Authenticator
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from .models import User


def staff_required(view):
    """KITECH staff only: anonymous users go to the login page, everyone else gets a 403."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not request.user.is_kitech_staff:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def is_staff_account(user) -> bool:
    """The admin's and KITECH staff's accounts: they must sign in with a second factor."""
    return user.is_authenticated and (user.is_staff or user.role == User.Role.STAFF)


def has_second_factor(user) -> bool:
    return Authenticator.objects.filter(user_id=user.pk, type=Authenticator.Type.TOTP).exists()


def may_sign_in_by_code(user) -> bool:
    """Only accounts without a password (mentors) sign in by an emailed code: for the others the
    mailbox alone must not be a key. Staff never do, password or not."""
    return not user.has_usable_password() and not is_staff_account(user)
