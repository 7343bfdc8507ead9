"""The candidate's consent: the emailed link, its page's confirmation, reminders, a new link
sent by the coordinator or to a corrected address."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ecocycle.exceptions import DomainError
from ecocycle.links import DeadLinkText, LinkCheck, LinkKind, LinkState, link_check, link_url
from ecocycle.mail import email_queue
from ecocycle.models import AuditEntry, User
from ecocycle.services import (
    audit_entry_create,
)

from ..models import (
    Nomination,
    NominationPreference,
)
from ._common import (
    _locked,
    _now,
    nominations_open_check,
)
from .candidate_page import candidate_page_link

# --- consent -----------------------------------------------------------------------------------

def _consent_state(nomination: Nomination) -> tuple:
    # Links already emailed carry these values' fingerprint: keep them and their order.
    preferences = list(
        NominationPreference.objects.filter(nomination=nomination).order_by("rank")
        .values_list("track_id", flat=True)
    )
    return (nomination.pk, nomination.status, nomination.consent_requested_at,
            nomination.consent_given_at, preferences)


def _consent_load(pk: int) -> Nomination | None:
    return (
        Nomination.objects.select_related("intake_round__program", "university")
        .prefetch_related("preferences__track", "documents", "courses").filter(pk=pk).first()
    )


CONSENT_LINK = LinkKind(
    purpose="consent",
    url_name="candidates:consent",
    lifetime_setting="ECOCYCLE_CONSENT_LINK_DAYS",
    fingerprint_parts=_consent_state,
    load=_consent_load,
    awaiting=lambda nomination: nomination.status == Nomination.Status.SUBMITTED,
    answered=lambda nomination: nomination.consent_given_at is not None,
    withdrawn=lambda nomination: nomination.status == Nomination.Status.WITHDRAWN,
    language=lambda nomination: nomination.candidate_language,
    dead_text={
        "expired": DeadLinkText(gettext_lazy("This link has expired"), gettext_lazy(
            "For your protection, links are valid for a limited time. Ask your university's "
            "coordinator to send you a new one.")),
        "withdrawn": DeadLinkText(gettext_lazy("This nomination was withdrawn"), gettext_lazy(
            "Your university has withdrawn this nomination, so there is nothing to confirm. "
            "Contact your university's coordinator if this is unexpected.")),
        "stale": DeadLinkText(gettext_lazy("This link is no longer valid"), gettext_lazy(
            "The nomination has changed since this link was sent, and a newer email has been "
            "sent to you. Please use the link in the most recent email.")),
    },
)


def consent_link(nomination: Nomination) -> str:
    return link_url(CONSENT_LINK, nomination)


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
                 "page_link": candidate_page_link(nomination),
                 "days": settings.ECOCYCLE_CONSENT_LINK_DAYS,
                 "program": nomination.intake_round.program,
                 "university": nomination.university},
    )


def consent_check(token: str) -> LinkCheck[Nomination]:
    """What a consent link points at, and whether it may still be used."""
    return link_check(CONSENT_LINK, token)


@transaction.atomic
def consent_confirm(*, token: str, now: datetime | None = None) -> Nomination:
    """The candidate confirms consent and their preferences. Works once per request."""
    now = _now(now)
    check = consent_check(token)
    if check.state == LinkState.VALID:
        # Check again under the row lock: a second click may have been just ahead of this one.
        _locked(check.object)
        check = consent_check(token)
    if check.state != LinkState.VALID:
        raise DomainError(_("This link is no longer valid."))
    nomination = check.object
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


def _consent_resends_since(nomination: Nomination, since: datetime) -> int:
    return AuditEntry.objects.filter(
        action="nomination_consent_resend", target_type__app_label="candidates",
        target_type__model="nomination", target_id=str(nomination.pk), created_at__gte=since,
    ).count()


@transaction.atomic
def consent_resend(*, actor: User, nomination: Nomination,
                   now: datetime | None = None) -> Nomination:
    """The coordinator sends the candidate a new consent link; the earlier one dies.

    Only while consent is missing and the round takes nominations, and a few times a day at
    most (ECOCYCLE_CONSENT_RESEND_PER_DAY): each is an email to the candidate.
    """
    now = _now(now)
    nomination = _locked(nomination)
    if nomination.status != Nomination.Status.SUBMITTED:
        raise DomainError(_("Only a submitted nomination asks the candidate for consent."))
    if nomination.consent_given_at is not None:
        raise DomainError(_("The candidate has already confirmed consent."))
    nominations_open_check(intake_round=nomination.intake_round, now=now)
    limit = settings.ECOCYCLE_CONSENT_RESEND_PER_DAY
    if _consent_resends_since(nomination, now - timedelta(days=1)) >= limit:
        raise DomainError(_(
            "A new consent link was already sent %(count)s times in the last 24 hours. Ask the "
            "candidate to look for it in their spam folder, or check the email address."
        ) % {"count": limit})
    # A new request time changes the link's fingerprint: the link emailed before is dead.
    _consent_request(nomination, actor=actor, now=now, reset=True)
    audit_entry_create(actor=actor, action="nomination_consent_resend", target=nomination,
                       after={"to": nomination.email})
    return nomination


def consent_request_after_email_change(
    *, actor: User | None, nomination: Nomination, old_email: str,
    now: datetime | None = None,
) -> bool:
    """After the candidate's address was corrected on a submitted nomination, ask for consent
    at the new address with a new link (the one sent to the old address dies). Call inside the
    transaction of the change. Returns whether a link was sent.

    A consent already given is asked for again: it came through the address now corrected, so
    it may not have been the candidate's.
    """
    if nomination.status != Nomination.Status.SUBMITTED or not nomination.email:
        return False
    if (old_email or "").strip().lower() == nomination.email.strip().lower():
        return False
    _consent_request(nomination, actor=actor, now=_now(now), reset=True)
    return True
