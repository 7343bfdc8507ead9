"""The candidate's consent: the emailed link, its page's confirmation, reminders."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from ecocycle.exceptions import DomainError
from ecocycle.mail import absolute_url, email_queue
from ecocycle.models import User
from ecocycle.services import (
    audit_entry_create,
)
from ecocycle.tokens import (
    LinkCheck,
    LinkState,
    link_token_check,
    link_token_make,
    state_fingerprint,
)

from ..models import (
    Nomination,
    NominationPreference,
)
from ._common import (
    CONSENT_PURPOSE,
    _locked,
    _now,
)

# --- consent -----------------------------------------------------------------------------------

def _consent_fingerprint(nomination: Nomination) -> str:
    preferences = list(
        NominationPreference.objects.filter(nomination=nomination).order_by("rank")
        .values_list("track_id", flat=True)
    )
    return state_fingerprint(nomination.pk, nomination.status, nomination.consent_requested_at,
                             nomination.consent_given_at, preferences)


def consent_link(nomination: Nomination) -> str:
    token = link_token_make(purpose=CONSENT_PURPOSE, object_id=nomination.pk,
                            fingerprint=_consent_fingerprint(nomination))
    return absolute_url(reverse("candidates:consent", args=[token]))


def _consent_request(
    nomination: Nomination, *, actor: User | None, now: datetime, reset: bool = False,
    reminder: bool = False,
) -> None:
    if reset or nomination.consent_requested_at is None:
        changes = {"consent_requested_at": now, "consent_given_at": None,
                   "consent_reminded_at": None}
        Nomination.objects.filter(pk=nomination.pk).update(**changes)
        for name, value in changes.items():
            setattr(nomination, name, value)
        audit_entry_create(actor=actor, action="nomination_consent_request", target=nomination,
                           after={"consent_requested_at": now, "reset": reset})
    preferences = list(nomination.preferences.select_related("track").order_by("rank"))
    email_queue(
        to=nomination.email, language=nomination.candidate_language,
        template="consent_reminder" if reminder else "consent_request",
        topic="consent_reminder" if reminder else "consent_request",
        context={"nomination": nomination, "preferences": preferences,
                 "link": consent_link(nomination),
                 "days": settings.ECOCYCLE_CONSENT_LINK_DAYS,
                 "program": nomination.intake_round.program,
                 "university": nomination.university},
    )


def consent_check(token: str) -> tuple[LinkCheck, Nomination | None]:
    """What a consent link points at, and whether it may still be used."""
    def current(object_id):
        nomination = Nomination.objects.filter(pk=object_id).first()
        return _consent_fingerprint(nomination) if nomination else None

    check = link_token_check(
        purpose=CONSENT_PURPOSE, token=token, current_fingerprint=current,
        max_age_seconds=settings.ECOCYCLE_CONSENT_LINK_DAYS * 86400,
    )
    nomination = None
    if check.object_id is not None:
        nomination = (
            Nomination.objects.select_related("intake_round__program", "university")
            .prefetch_related("preferences__track", "documents", "courses").filter(
                pk=check.object_id).first()
        )
    if check.state == LinkState.VALID and nomination.status != Nomination.Status.SUBMITTED:
        check = LinkCheck(LinkState.STALE, check.object_id)
    return check, nomination


@transaction.atomic
def consent_confirm(*, token: str, now: datetime | None = None) -> Nomination:
    """The candidate confirms consent and their preferences. Works once per request."""
    now = _now(now)
    check, nomination = consent_check(token)
    if check.state == LinkState.VALID:
        # Check again under the row lock: a second click may have been just ahead of this one.
        _locked(nomination)
        check, nomination = consent_check(token)
    if check.state != LinkState.VALID:
        raise DomainError(_("This link is no longer valid."))
    Nomination.objects.filter(pk=nomination.pk).update(consent_given_at=now)
    nomination.consent_given_at = now
    audit_entry_create(actor=None, actor_label="candidate (consent link)",
                       action="nomination_consent_give", target=nomination,
                       before={"consent_given_at": None}, after={"consent_given_at": now})
    return nomination


def consent_reminders_send(*, now: datetime | None = None) -> int:
    """Remind candidates who have not answered after a few days; once per request. Idempotent."""
    now = _now(now)
    due = Nomination.objects.filter(
        status=Nomination.Status.SUBMITTED, consent_given_at__isnull=True,
        consent_reminded_at__isnull=True,
        consent_requested_at__lte=now - timedelta(days=settings.ECOCYCLE_CONSENT_REMINDER_DAYS),
    ).select_related("intake_round__program", "university")
    sent = 0
    for nomination in due:
        with transaction.atomic():
            updated = Nomination.objects.filter(pk=nomination.pk,
                                                consent_reminded_at__isnull=True).update(
                consent_reminded_at=now)
            if not updated:
                continue
            _consent_request(nomination, actor=None, now=now, reminder=True)
            sent += 1
    return sent
