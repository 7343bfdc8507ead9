"""Emailed links: signed, expiring, and dead as soon as the state they were sent for changes.

Every kind of link is one `LinkKind`, defined by the app that owns its object, next to the
service that emails it (``CONSENT_LINK = LinkKind(...)``); defining it registers it. This module
imports no app. A token carries the object's id and a fingerprint of the values the link
depends on, signed with the kind's purpose. Checking it gives one `LinkState`:

- INVALID: forged, mangled, or its object is gone;
- EXPIRED: older than the kind's lifetime, or past the object's own deadline;
- USED: dead because it was answered;
- STALE: dead because its object moved on (withdrawn, or sent again with a newer link);
- VALID: the page may take the answer.

Single use follows from the fingerprint: answering changes the state, so the link dies. Opening a
link changes nothing (email scanners open links); the answer is a POST to the kind's service,
which checks the token again under its row lock.

`link_page` turns a check into what the page shows and its status, and `links/dead.html` is the
one page for every dead link.
"""

import enum
import hmac
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.core import signing
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from .mail import SecretLink, absolute_url

T = TypeVar("T")


class LinkState(enum.Enum):
    VALID = "valid"
    INVALID = "invalid"
    EXPIRED = "expired"
    STALE = "stale"
    USED = "used"


@dataclass(frozen=True)
class DeadLinkText:
    """What the dead-link page says for one state of one kind, instead of the general words."""

    title: str
    body: str = ""
    action_url_name: str = ""
    action_label: str = ""


# What `links/dead.html` says for each dead state, unless the link's kind says it its own way.
DEAD_TEXT = {
    "invalid": DeadLinkText(_("This link is not valid"), _(
        "The link may be incomplete: copy the whole address from the email into your browser.")),
    "expired": DeadLinkText(_("This link has expired"), _(
        "For your protection, links are valid for a limited time.")),
    "withdrawn": DeadLinkText(_("This link was withdrawn"), _(
        "What it was sent for was withdrawn, so there is nothing to answer.")),
    "stale": DeadLinkText(_("This link is no longer valid"), _(
        "Things have changed since this email was sent. Please use the link in the most recent "
        "email from ecocycle.")),
    "used": DeadLinkText(_("This link was already used"), _(
        "Each link in an email from ecocycle works once.")),
}


def _never(obj: Any) -> bool:
    return False


def _always(obj: Any) -> bool:
    return True


def _no_deadline(obj: Any) -> None:
    return None


_KINDS: dict[str, "LinkKind"] = {}


@dataclass(frozen=True, eq=False)
class LinkKind(Generic[T]):
    """One kind of emailed link. Defining it registers it; two kinds never share a purpose.

    `purpose` is part of the signature: changing it, or what `fingerprint_parts` returns (the
    values, their order, their text), kills every link of the kind already emailed.
    """

    purpose: str
    url_name: str
    # The name of the setting that holds the token's life in days, read at every check.
    lifetime_setting: str
    # The values of the object's state whose change kills the link.
    fingerprint_parts: Callable[[T], Sequence[object]]
    # The object with what its page and service need, or None when it is gone.
    load: Callable[[int], T | None]
    # Whether the object still waits for the answer the link gives.
    awaiting: Callable[[T], bool] = _always
    # Why a dead link is dead: answered (USED), withdrawn (STALE, said as such), or past the
    # object's own deadline (EXPIRED); otherwise it was superseded (STALE).
    answered: Callable[[T], bool] = _never
    withdrawn: Callable[[T], bool] = _never
    deadline: Callable[[T], datetime | None] = _no_deadline
    # The reader's language, for the link's pages; None keeps the request's.
    language: Callable[[T], str] | None = None
    # Whether the link's own page shows the answer once given; if not, a used link is dead.
    answer_shown: bool = True
    # Its own words for some dead states (the keys of DEAD_TEXT).
    dead_text: Mapping[str, DeadLinkText] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = set(self.dead_text) - set(DEAD_TEXT)
        if unknown:
            raise ImproperlyConfigured(f"Link kind {self.purpose!r}: no dead state {unknown}.")
        if self.purpose in _KINDS:
            # The same salt would make each kind accept the other's tokens.
            raise ImproperlyConfigured(f"Two link kinds have the purpose {self.purpose!r}.")
        _KINDS[self.purpose] = self

    @property
    def salt(self) -> str:
        return f"ecocycle.link.{self.purpose}"

    @property
    def max_age_seconds(self) -> int:
        return getattr(settings, self.lifetime_setting) * 86400

    def fingerprint(self, obj: T) -> str:
        """A short keyed digest of the values the link depends on."""
        parts = self.fingerprint_parts(obj)
        joined = "\x1f".join("" if part is None else str(part) for part in parts)
        # The key salt names the module this began in; changing it kills every link sent.
        return salted_hmac("ecocycle.tokens.state", joined, algorithm="sha256").hexdigest()[:24]


def link_kinds() -> dict[str, LinkKind]:
    """Every registered kind, by purpose."""
    return dict(_KINDS)


@dataclass(frozen=True)
class LinkCheck(Generic[T]):
    state: LinkState
    # The object for every state but INVALID, so that a page can say what became of it.
    object: T | None = None


def link_make(kind: LinkKind[T], obj: T) -> str:
    return signing.dumps({"i": obj.pk, "s": kind.fingerprint(obj)}, salt=kind.salt)


def link_url(kind: LinkKind[T], obj: T) -> str:
    """The absolute address to email, built from the configured site URL."""
    return SecretLink(absolute_url(reverse(kind.url_name, args=[link_make(kind, obj)])))


def link_check(kind: LinkKind[T], token: str, *, now: datetime | None = None) -> LinkCheck[T]:
    """What a token points at, and whether it may still be answered. Changes nothing."""
    try:
        payload = signing.loads(token, salt=kind.salt, max_age=kind.max_age_seconds)
    except signing.SignatureExpired:
        object_id = _object_id(signing.loads(token, salt=kind.salt))
        return LinkCheck(LinkState.EXPIRED,
                         kind.load(object_id) if object_id is not None else None)
    except signing.BadSignature:
        return LinkCheck(LinkState.INVALID)
    object_id = _object_id(payload)
    obj = kind.load(object_id) if object_id is not None else None
    if obj is None:
        return LinkCheck(LinkState.INVALID)
    return LinkCheck(_state(kind, obj, str(payload.get("s", "")), now), obj)


def _state(kind: LinkKind[T], obj: T, fingerprint: str, now: datetime | None) -> LinkState:
    deadline = kind.deadline(obj)
    past_deadline = deadline is not None and deadline <= (now or timezone.now())
    current = hmac.compare_digest(fingerprint, kind.fingerprint(obj)) and kind.awaiting(obj)
    if current and not past_deadline:
        return LinkState.VALID
    if kind.answered(obj):
        return LinkState.USED
    if kind.withdrawn(obj):
        return LinkState.STALE
    if past_deadline:
        return LinkState.EXPIRED
    return LinkState.STALE


def _object_id(payload: Any) -> int | None:
    value = payload.get("i") if isinstance(payload, dict) else None
    return value if isinstance(value, int) else None


# --- the pages ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class LinkPage:
    """What a link's page shows: "valid", "used", or a dead state of DEAD_TEXT; and its status."""

    state: str
    status: int

    @property
    def dead(self) -> bool:
        return self.status != 200


def link_page(kind: LinkKind[T], check: LinkCheck[T]) -> LinkPage:
    """Valid and answered links open (200); a mangled one is not found (404); an expired,
    withdrawn or superseded one is gone (410)."""
    if check.state is LinkState.VALID:
        return LinkPage("valid", 200)
    if check.state is LinkState.USED:
        return LinkPage("used", 200 if kind.answer_shown else 410)
    if check.state is LinkState.INVALID:
        return LinkPage("invalid", 404)
    if check.state is LinkState.STALE and kind.withdrawn(check.object):
        return LinkPage("withdrawn", 410)
    return LinkPage(check.state.value, 410)


def link_dead_render(request: HttpRequest, kind: LinkKind, page: LinkPage) -> HttpResponse:
    text = kind.dead_text.get(page.state) or DEAD_TEXT[page.state]
    return render(request, "links/dead.html", {"state": page.state, "text": text},
                  status=page.status)


def link_language_activate(request: HttpRequest, kind: LinkKind[T], check: LinkCheck[T]) -> None:
    """Speak the reader's language on the link's page, unless they chose one with the switcher."""
    if kind.language is None or check.object is None:
        return
    language = kind.language(check.object)
    if (settings.LANGUAGE_COOKIE_NAME not in request.COOKIES
            and language in dict(settings.LANGUAGES)):
        translation.activate(language)
        request.LANGUAGE_CODE = language
