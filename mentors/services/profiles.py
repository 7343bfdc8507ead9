"""Mentor profiles: created by staff (one by one or from a CSV), kept current by the mentor."""

from django.db import transaction
from django.utils.translation import gettext as _

from ecocycle.exceptions import DomainError
from ecocycle.models import User
from ecocycle.services import model_create, model_update, user_create

from ..models import Mentor

# What a mentor may change on their own page; the rest (name, email, retired from) is staff's.
SELF_EDITABLE_FIELDS = [
    "language", "expertise", "keywords", "languages_spoken", "travel_countries", "capacity",
    "available_from", "available_until", "biography", "is_active",
]


@transaction.atomic
def mentor_create(*, actor: User | None, data: dict) -> Mentor:
    """Create a mentor profile and, unless one exists, the mentor's account.

    The account has no password: a mentor signs in with a code emailed by allauth, or never
    signs in at all and answers invitations from their email.
    """
    data = dict(data)
    email = User.objects.normalize_email(data.get("email") or "").strip().lower()
    data["email"] = email
    if data.get("user") is None and email:
        user = User.objects.filter(email__iexact=email).first()
        if user is None and not Mentor.objects.filter(email=email).exists():
            user = user_create(actor=actor, email=email, role=User.Role.MENTOR,
                               full_name=data.get("full_name", ""),
                               language=data.get("language") or "ko")
        if user is not None and user.role == User.Role.MENTOR:
            data["user"] = user
    return model_create(model=Mentor, data=data, actor=actor)


@transaction.atomic
def mentor_update(*, actor: User | None, mentor: Mentor, data: dict,
                  self_service: bool = False) -> Mentor:
    """Change a profile. The mentor's own page may change only SELF_EDITABLE_FIELDS."""
    if self_service:
        data = {k: v for k, v in data.items() if k in SELF_EDITABLE_FIELDS}
    # Re-read under a row lock: a bound ModelForm has already changed the caller's instance, and
    # the audit entry must compare with what is stored.
    mentor = Mentor.objects.select_for_update().get(pk=mentor.pk)
    # Staff confirmation (mentor_confirm) is the only way in for an alumnus's offer: a mentor
    # may pause, but not confirm themselves.
    if (data.get("is_active") and not mentor.is_active and mentor.alumnus_id is not None
            and mentor.confirmed_at is None):
        raise DomainError({"is_active": _("Your profile stays paused until KITECH staff confirm "
                                          "it; they will write to you.")})
    mentor, _changed = model_update(instance=mentor, data=data, actor=actor)
    return mentor
