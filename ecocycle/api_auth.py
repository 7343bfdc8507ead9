"""Authentication of REST API tokens. Kept apart from ecocycle.api_tokens because DRF imports
its authentication classes while rest_framework.views loads, before our exceptions module can."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox.auth import TokenAuthentication
from rest_framework import exceptions
from rest_framework.throttling import UserRateThrottle

from .models import ApiToken, User

# Recording every request's use would make every API call a write.
LAST_USE_RESOLUTION = timedelta(minutes=1)
_STAMP_SALT = "ecocycle.api_tokens.password_stamp"


def password_stamp(user: User, *, secret: str | None = None) -> str:
    """A keyed hash of the user's password hash: it changes whenever the password does."""
    return salted_hmac(_STAMP_SALT, user.password, secret=secret, algorithm="sha256").hexdigest()


def _stamp_matches(token: ApiToken) -> bool:
    # Retired keys still count, so that rotating SECRET_KEY does not kill every token.
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return any(constant_time_compare(token.password_stamp, password_stamp(token.user, secret=s))
               for s in secrets)



class ApiTokenAuthentication(TokenAuthentication):
    """knox's authentication, refusing tokens made under an earlier password and recording the
    last use (at most once a minute per token)."""

    def validate_user(self, auth_token: ApiToken):
        answer = super().validate_user(auth_token)  # refuses inactive users
        if not _stamp_matches(auth_token):
            auth_token.delete()
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        now = timezone.now()
        if auth_token.last_used_at is None or now - auth_token.last_used_at > LAST_USE_RESOLUTION:
            ApiToken.objects.filter(pk=auth_token.pk).update(last_used_at=now)
            auth_token.last_used_at = now
        return answer


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """The schema's security scheme for our tokens: unchanged for clients (a `Token` header)."""

    target_class = ApiTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey", "in": "header", "name": "Authorization",
            "description": 'Token-based authentication with required prefix "Token". Tokens '
                           "are made on the account page and expire.",
        }


class ApiRateThrottle(UserRateThrottle):
    """At most ECOCYCLE_API_RATE requests per user (or per address, before sign-in): a runaway
    script gets 429s with a Retry-After instead of slowing everyone down."""

    def get_rate(self) -> str:
        return settings.ECOCYCLE_API_RATE
