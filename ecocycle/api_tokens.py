"""REST API tokens: django-rest-knox's hashed, expiring tokens, with their last use recorded and
a stamp of the owner's password, so that every door that sets a password (allauth's pages, a
reset, the admin, a command) kills the tokens made under the old one."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .api_auth import password_stamp
from .exceptions import DomainError
from .models import ApiToken, User
from .services import audit_entry_create

MAX_TOKENS_PER_USER = 5


def api_token_list(*, user: User) -> QuerySet[ApiToken]:
    """The user's live tokens, newest first: neither expired nor made under an old password."""
    return (ApiToken.objects.filter(user=user, password_stamp=password_stamp(user))
            .filter(expiry__gt=timezone.now()).order_by("-created"))


@transaction.atomic
def api_token_create(*, actor: User | None, user: User) -> str:
    """A new token for `user`; returns the key, which is stored only as a hash and so can be
    shown only this once."""
    User.objects.select_for_update().filter(pk=user.pk).first()  # one creator at a time
    if api_token_list(user=user).count() >= MAX_TOKENS_PER_USER:
        raise DomainError(_("You already have %(count)d API tokens. Revoke one you no longer "
                            "use first.") % {"count": MAX_TOKENS_PER_USER})
    token, key = ApiToken.objects.create(
        user=user, expiry=timedelta(days=settings.ECOCYCLE_API_TOKEN_TTL_DAYS),
        password_stamp=password_stamp(user))
    audit_entry_create(actor=actor, action="api_token_create", target=user,
                       after={"token": token.token_key[:8] + "…", "expiry": token.expiry})
    return key


@transaction.atomic
def api_token_revoke(*, actor: User | None, user: User, digest: str | None = None) -> int:
    """Revoke one of `user`'s tokens (by digest), or all of them; another user's token is never
    touched. Returns how many were revoked."""
    tokens = ApiToken.objects.filter(user=user)
    if digest is not None:
        tokens = tokens.filter(digest=digest)
    prefixes = [key[:8] + "…" for key in tokens.values_list("token_key", flat=True)]
    deleted, _rows = tokens.delete()
    if deleted:
        audit_entry_create(actor=actor, action="api_token_revoke", target=user,
                           before={"tokens": prefixes})
    return deleted
