"""What the candidate changes on their own page: their email address (confirmed through the new
address first), their phone, their documents while nominations are open, and their withdrawal.

The candidate has no account: every change is audited with no actor and the label CANDIDATE.
"""

import re
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ecocycle.exceptions import DomainError
from ecocycle.links import DeadLinkText, LinkCheck, LinkKind, LinkState, link_check, link_url
from ecocycle.mail import email_queue
from ecocycle.services import audit_entry_create

from ..models import (
    CandidateEmailChange,
    CohortAdmission,
    Coordinator,
    Nomination,
    NominationDocument,
    Offer,
)
from ._common import _locked, _now, nomination_derived_fields
from .candidate_page import candidate_page_link_email
from .consent import _consent_request
from .nominations import _duplicate_of, document_upload
from .offers import offer_vacate

CANDIDATE = "candidate (own page)"


def _ensure_open_to_changes(nomination: Nomination) -> None:
    if nomination.anonymised_at is not None:
        raise DomainError(_("The personal data of this nomination was removed."))
    if nomination.status == Nomination.Status.WITHDRAWN:
        raise DomainError(_("Your nomination was withdrawn, so it can no longer be changed."))


# --- the email address -------------------------------------------------------------------------

def _change_state(change: CandidateEmailChange) -> tuple:
    # Links already emailed carry these values' fingerprint: keep them and their order.
    nomination = change.nomination
    return (change.pk, change.new_email.lower(), change.confirmed_at,
            nomination.email_normalised, nomination.status, nomination.anonymised_at is None)


def _change_load(pk: int) -> CandidateEmailChange | None:
    return (CandidateEmailChange.objects
            .select_related("nomination__intake_round__program", "nomination__university")
            .filter(pk=pk).first())


CANDIDATE_EMAIL_LINK = LinkKind(
    purpose="candidate_email",
    url_name="candidate:email_confirm",
    lifetime_setting="ECOCYCLE_CANDIDATE_EMAIL_LINK_DAYS",
    fingerprint_parts=_change_state,
    load=_change_load,
    awaiting=lambda change: change.confirmed_at is None,
    answered=lambda change: change.confirmed_at is not None,
    withdrawn=lambda change: change.nomination.status == Nomination.Status.WITHDRAWN,
    language=lambda change: change.nomination.candidate_language,
    dead_text={
        "expired": DeadLinkText(gettext_lazy("This link has expired"), gettext_lazy(
            "Your email address was not changed. Open your page again and type the new address "
            "once more."), "candidate:link_request", gettext_lazy("Email me a new link")),
        "stale": DeadLinkText(gettext_lazy("This link is no longer valid"), gettext_lazy(
            "Your email address was not changed with this link: a newer change was asked for, "
            "or your address changed since."), "candidate:link_request",
            gettext_lazy("Email me a new link")),
    },
)


def candidate_email_check(token: str) -> LinkCheck[CandidateEmailChange]:
    return link_check(CANDIDATE_EMAIL_LINK, token)


def _email_clean(email: str) -> str:
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        raise DomainError({"email": _("Enter a valid email address, such as name@example.com.")}
                          ) from None
    if len(email) > CandidateEmailChange._meta.get_field("new_email").max_length:
        raise DomainError({"email": _("This email address is too long.")})
    return email


@transaction.atomic
def candidate_email_change_request(*, nomination: Nomination, email: str,
                                   now: datetime | None = None) -> CandidateEmailChange:
    """The candidate typed a new address: a link to confirm it goes to that address, and only
    following it replaces the old one. A pending request made before is replaced (its link dies).
    At most ECOCYCLE_CANDIDATE_EMAIL_CHANGES_PER_DAY a day: each is an email to any address."""
    now = _now(now)
    email = _email_clean(email)
    nomination = _locked(nomination)
    _ensure_open_to_changes(nomination)
    if email.lower() == nomination.email_normalised:
        raise DomainError({"email": _("This is already your email address.")})
    limit = settings.ECOCYCLE_CANDIDATE_EMAIL_CHANGES_PER_DAY
    if CandidateEmailChange.objects.filter(nomination=nomination,
                                           requested_at__gt=now - timedelta(days=1)
                                           ).count() >= limit:
        raise DomainError({"email": _(
            "You asked to change your email address %(count)s times in the last 24 hours, the "
            "most allowed. Try again tomorrow.") % {"count": limit}})
    CandidateEmailChange.objects.filter(nomination=nomination, confirmed_at__isnull=True).delete()
    change = CandidateEmailChange.objects.create(nomination=nomination, new_email=email,
                                                 requested_at=now)
    audit_entry_create(actor=None, actor_label=CANDIDATE, action="candidate_email_change_request",
                       target=nomination, after={"new_email": email})
    email_queue(to=email, template="candidate_email_confirm", topic="candidate_email_confirm",
                language=nomination.candidate_language,
                context={"nomination": nomination, "new_email": email,
                         "link": link_url(CANDIDATE_EMAIL_LINK, change),
                         "days": settings.ECOCYCLE_CANDIDATE_EMAIL_LINK_DAYS})
    return change


def _duplicate_refusal() -> DomainError:
    return DomainError(_(
        "This email address is already used by another nomination in this round, so it cannot "
        "replace yours. Your address was not changed; if this is unexpected, contact your "
        "university's coordinator."))


@transaction.atomic
def candidate_email_change_confirm(*, token: str, now: datetime | None = None) -> Nomination:
    """The candidate followed the link sent to the new address: it replaces the old one. The
    page links sent before die (their fingerprint holds the address); the new address gets a
    new one, and the old address is told. Refused if another nomination of the round uses the
    address."""
    now = _now(now)
    check = candidate_email_check(token)
    if check.state == LinkState.VALID:
        # Check again under the row lock: a second click may have been just ahead of this one.
        _locked(check.object.nomination)
        check = candidate_email_check(token)
    if check.state != LinkState.VALID:
        raise DomainError(_("This link is no longer valid."))
    change = check.object
    nomination = _locked(change.nomination)
    _ensure_open_to_changes(nomination)
    old_email = nomination.email
    nomination.email = change.new_email
    for name, value in nomination_derived_fields(nomination).items():
        setattr(nomination, name, value)
    if nomination.status == Nomination.Status.SUBMITTED and _duplicate_of(nomination) is not None:
        raise _duplicate_refusal()
    try:
        with transaction.atomic():
            nomination.save(update_fields=["email", "email_normalised", "passport_digest",
                                           "person_digest", "gpa_normalised", "updated_at"])
    except IntegrityError:
        # Another nomination took the address at the same moment.
        raise _duplicate_refusal() from None
    change.confirmed_at = now
    change.save(update_fields=["confirmed_at"])
    audit_entry_create(actor=None, actor_label=CANDIDATE, action="candidate_email_change",
                       target=nomination, before={"email": old_email},
                       after={"email": nomination.email})
    candidate_page_link_email(nomination)
    if old_email:
        email_queue(to=old_email, template="candidate_email_changed",
                    topic="candidate_email_changed", language=nomination.candidate_language,
                    context={"nomination": nomination, "new_email": nomination.email})
    if (nomination.status == Nomination.Status.SUBMITTED and nomination.consent_given_at is None
            and nomination.consent_requested_at is not None):
        # The consent link waits at the old address: ask again at the new one. A consent
        # already given stays: the candidate gave it, as they changed the address, through
        # the old address.
        _consent_request(nomination, actor=None, now=now, reset=True)
    return nomination


# --- the phone ---------------------------------------------------------------------------------

PHONE_CHARACTERS = re.compile(r"^\+?[0-9 ()./-]+$")
PHONE_DIGITS = (6, 15)  # E.164 numbers have at most 15 digits


@transaction.atomic
def candidate_phone_change(*, nomination: Nomination, phone: str,
                           now: datetime | None = None) -> Nomination:
    """The candidate corrects their phone number (or removes it)."""
    phone = " ".join((phone or "").split())
    digits = sum(ch.isdigit() for ch in phone)
    if phone and (not PHONE_CHARACTERS.match(phone)
                  or not PHONE_DIGITS[0] <= digits <= PHONE_DIGITS[1]
                  or len(phone) > Nomination._meta.get_field("phone").max_length):
        raise DomainError({"phone": _(
            "Enter a phone number of 6 to 15 digits, with the country code, such as "
            "+62 812 3456 7890. Only digits, spaces, +, -, ( ) and dots.")})
    nomination = _locked(nomination)
    _ensure_open_to_changes(nomination)
    if phone == nomination.phone:
        return nomination
    before = nomination.phone
    nomination.phone = phone
    nomination.save(update_fields=["phone", "updated_at"])
    audit_entry_create(actor=None, actor_label=CANDIDATE, action="candidate_phone_change",
                       target=nomination, before={"phone": before}, after={"phone": phone})
    return nomination


# --- documents ---------------------------------------------------------------------------------

def candidate_document_upload(*, nomination: Nomination, kind: str, file: UploadedFile,
                              now: datetime | None = None) -> NominationDocument:
    """The candidate adds or replaces a document, with the coordinator's checks (size, type by
    content) and only while the round takes nominations."""
    _ensure_open_to_changes(nomination)
    return document_upload(actor=None, actor_label=CANDIDATE, nomination=nomination, kind=kind,
                           file=file, now=now)


# --- withdrawal --------------------------------------------------------------------------------

@transaction.atomic
def candidate_withdraw(*, nomination: Nomination, reason: str = "",
                       now: datetime | None = None) -> Nomination:
    """The candidate withdraws their nomination, in any phase until they enrol. An open offer
    ends as withdrawn and its seat goes back to the round (as an admission without an offer
    does). The university's coordinators are emailed, each in their language; staff see the
    audit entry. Withdrawing twice changes nothing."""
    now = _now(now)
    reason = (reason or "").strip()
    if len(reason) > 500:
        raise DomainError({"reason": _("Keep the reason under 500 characters.")})
    nomination = _locked(nomination)
    if nomination.status == Nomination.Status.WITHDRAWN:
        return nomination
    if nomination.anonymised_at is not None or nomination.status != Nomination.Status.SUBMITTED:
        raise DomainError(_("This nomination cannot be withdrawn."))
    # Through the reverse relation: the students app builds on this one.
    if Nomination.objects.filter(pk=nomination.pk, enrolment__isnull=False).exists():
        raise DomainError(_(
            "You are enrolled already: to leave the program, contact UST-KITECH's student "
            "office."))
    offer = (Offer.objects.select_for_update().select_related("track")
             .filter(nomination=nomination, status__in=Offer.OPEN).first())
    track = None
    if offer is not None:
        track = offer.track
        offer_vacate(offer=offer, status=Offer.Status.WITHDRAWN, actor=None, now=now,
                     note=reason)
    else:
        admission = CohortAdmission.objects.select_related("track").filter(
            nomination=nomination).first()
        if admission is not None:
            track = admission.track
            admission.delete()
    nomination.status = Nomination.Status.WITHDRAWN
    nomination.withdrawn_at = now
    nomination.save(update_fields=["status", "withdrawn_at", "updated_at"])
    audit_entry_create(actor=None, actor_label=CANDIDATE, action="nomination_withdraw",
                       target=nomination, before={"status": Nomination.Status.SUBMITTED},
                       after={"status": nomination.status, "reason": reason,
                              "by_candidate": True, "seat_released": track is not None})
    coordinators = (Coordinator.objects.filter(university_id=nomination.university_id,
                                               user__is_active=True)
                    .select_related("user").order_by("user__email"))
    for coordinator in coordinators:
        email_queue(to=coordinator.user.email, language=coordinator.user.language,
                    template="candidate_withdrawn_university", topic="candidate_withdrawn",
                    context={"nomination": nomination, "reason": reason, "track": track,
                             "program": nomination.intake_round.program})
    return nomination
