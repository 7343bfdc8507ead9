"""Signed, expiring links that die when the state they guard changes.

A token carries the id of a record and a fingerprint of the state it was made for. Reading it
tells apart a forged or mangled token (INVALID), an old one (EXPIRED), and one whose record has
moved on since — answered, withdrawn, re-requested (STALE). Single use follows: answering changes
the state, so the same link is STALE afterwards.
"""

import enum
import hashlib
import hmac
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.utils.crypto import salted_hmac


class LinkState(enum.Enum):
    VALID = "valid"
    EXPIRED = "expired"
    INVALID = "invalid"
    STALE = "stale"


@dataclass(frozen=True)
class LinkCheck:
    state: LinkState
    object_id: int | None = None


def state_fingerprint(*parts: object) -> str:
    """A short keyed digest of the values a link depends on."""
    joined = "\x1f".join("" if part is None else str(part) for part in parts)
    return salted_hmac("ecocycle.tokens.state", joined, algorithm="sha256").hexdigest()[:24]


def link_token_make(*, purpose: str, object_id: int, fingerprint: str) -> str:
    return signing.dumps({"i": object_id, "s": fingerprint}, salt=f"ecocycle.link.{purpose}")


def link_token_check(
    *, purpose: str, token: str, max_age_seconds: int, current_fingerprint
) -> LinkCheck:
    """Check a token; `current_fingerprint(object_id)` gives the state now, or None if gone."""
    try:
        payload = signing.loads(token, salt=f"ecocycle.link.{purpose}", max_age=max_age_seconds)
    except signing.SignatureExpired:
        try:
            payload = signing.loads(token, salt=f"ecocycle.link.{purpose}")
        except signing.BadSignature:
            return LinkCheck(LinkState.INVALID)
        return LinkCheck(LinkState.EXPIRED, _object_id(payload))
    except signing.BadSignature:
        return LinkCheck(LinkState.INVALID)
    object_id = _object_id(payload)
    if object_id is None:
        return LinkCheck(LinkState.INVALID)
    now = current_fingerprint(object_id)
    if now is None:
        return LinkCheck(LinkState.INVALID)
    if not hmac.compare_digest(str(payload.get("s", "")), now):
        return LinkCheck(LinkState.STALE, object_id)
    return LinkCheck(LinkState.VALID, object_id)


def _object_id(payload) -> int | None:
    value = payload.get("i") if isinstance(payload, dict) else None
    return value if isinstance(value, int) else None


def lookup_digest(value: str) -> str:
    """A keyed hash of an identifier, to find equal values without storing them in clear."""
    if not value:
        return ""
    key = settings.ECOCYCLE_LOOKUP_HASH_KEY.encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
