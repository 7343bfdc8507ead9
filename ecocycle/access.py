"""Who may open a page: the checks that every app's views share."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied


def staff_required(view):
    """KITECH staff only: anonymous users go to the login page, everyone else gets a 403."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not request.user.is_kitech_staff:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper
