"""Keyed digests of identifiers. (Emailed links, once here, are in `ecocycle.links`.)"""

import hashlib
import hmac

from django.conf import settings


def lookup_digest(value: str) -> str:
    """A keyed hash of an identifier, to find equal values without storing them in clear."""
    if not value:
        return ""
    key = settings.ECOCYCLE_LOOKUP_HASH_KEY.encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
