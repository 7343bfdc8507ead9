"""Where graduates went: outcomes kept by staff and by alumni through a yearly emailed link.

The link follows the rules of every emailed link here: signed, expiring, single use (it dies
once the outcome is updated or a newer request is sent), and opening it changes nothing; the
update is a POST. An alumnus may offer to mentor or to be a partner-side contact; the mentors
domain turns an offer to mentor into a paused mentor profile for staff to confirm.
"""

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ecocycle.exceptions import DomainError
from ecocycle.links import DeadLinkText, LinkCheck, LinkKind, LinkState, link_check, link_url
from ecocycle.mail import email_queue
from ecocycle.models import User
from ecocycle.services import audit_entry_create, instance_snapshot

from ..models import AlumniOutcome, Enrolment

ALUMNUS_LABEL = "alumnus (update link)"
OUTCOME_FIELDS = ["path", "organisation", "employer_type", "country", "region",
                  "cooperating_company", "cooperating_company_name", "as_of",
                  "offers_to_mentor", "offers_partner_contact"]


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _check(data: Mapping[str, Any]) -> None:
    """The rules every door applies to an outcome."""
    path = data.get("path")
    if path not in AlumniOutcome.Path.values:
        raise DomainError({"path": _("Choose where the graduate went.")})
    if path == AlumniOutcome.Path.STAYED and not data.get("employer_type"):
        raise DomainError({"employer_type": _("Choose the type of employer in Korea.")})
    if path != AlumniOutcome.Path.OTHER and not (data.get("organisation") or "").strip():
        raise DomainError({"organisation": _("Give the name of the employer or organisation.")})


@transaction.atomic
def alumni_outcome_record(
    *, actor: User | None, enrolment: Enrolment, data: Mapping[str, Any],
    actor_label: str | None = None, now: datetime | None = None,
) -> AlumniOutcome:
    """Create or update a graduate's outcome. Only graduates have one."""
    now = _now(now)
    enrolment = Enrolment.objects.select_for_update().select_related("nomination").get(
        pk=enrolment.pk)
    if enrolment.status != Enrolment.Status.GRADUATED:
        raise DomainError(_("%(name)s has not graduated: record the graduation first.") % {
            "name": enrolment.nomination})
    values = {k: v for k, v in data.items() if k in OUTCOME_FIELDS}
    values.setdefault("as_of", timezone.localdate(now))
    if values.get("path") == AlumniOutcome.Path.STAYED and not values.get("country"):
        values["country"] = "KR"
    _check(values)
    outcome = AlumniOutcome.objects.select_for_update().filter(enrolment=enrolment).first()
    before = instance_snapshot(outcome, OUTCOME_FIELDS) if outcome else None
    if outcome is None:
        outcome = AlumniOutcome(enrolment=enrolment)
    for name, value in values.items():
        setattr(outcome, name, value)
    if actor_label == ALUMNUS_LABEL:
        outcome.updated_by_alumnus_at = now
    outcome.full_clean()
    outcome.save()
    after = instance_snapshot(outcome, OUTCOME_FIELDS)
    audit_entry_create(actor=actor, actor_label=actor_label,
                       action="alumni_outcome_create" if before is None else
                       "alumni_outcome_update", target=outcome, before=before, after=after)
    return outcome


# --- the yearly update link --------------------------------------------------------------------

def _update_state(outcome: AlumniOutcome) -> tuple:
    # Links already emailed carry these values' fingerprint: keep them and their order.
    return (outcome.pk, outcome.update_requested_at, outcome.updated_by_alumnus_at,
            outcome.updated_at)


def _update_load(pk: int) -> AlumniOutcome | None:
    return (AlumniOutcome.objects.select_related(
        "enrolment__nomination__university", "enrolment__nomination__intake_round__program",
        "enrolment__admission__track", "cooperating_company")
        .filter(pk=pk).first())


def _answered(outcome: AlumniOutcome) -> bool:
    """The alumnus has answered the latest request (staff's own edits are not an answer)."""
    return bool(outcome.updated_by_alumnus_at) and (
        outcome.update_requested_at is None
        or outcome.updated_by_alumnus_at >= outcome.update_requested_at)


ALUMNI_UPDATE_LINK = LinkKind(
    purpose="alumni-update",
    url_name="alumni:update",
    lifetime_setting="ECOCYCLE_ALUMNI_LINK_DAYS",
    fingerprint_parts=_update_state,
    load=_update_load,
    answered=_answered,
    language=lambda outcome: outcome.enrolment.nomination.candidate_language,
    dead_text={
        "expired": DeadLinkText(gettext_lazy("This link has expired"), gettext_lazy(
            "For your protection, links are valid for a limited time. We will send you a new "
            "one next year, or write to KITECH staff.")),
        "stale": DeadLinkText(gettext_lazy("This link is no longer valid"), gettext_lazy(
            "Your information has changed since this email was sent. Please use the link in "
            "the most recent email from ecocycle.")),
    },
)


def alumni_update_link(outcome: AlumniOutcome) -> str:
    return link_url(ALUMNI_UPDATE_LINK, outcome)


def alumni_update_check(token: str) -> LinkCheck[AlumniOutcome]:
    return link_check(ALUMNI_UPDATE_LINK, token)


@transaction.atomic
def alumni_update_submit(*, token: str, data: Mapping[str, Any],
                         now: datetime | None = None) -> AlumniOutcome:
    """The alumnus answers from the emailed link. Works once."""
    check = alumni_update_check(token)
    if check.state != LinkState.VALID:
        raise DomainError(_("This link is no longer valid."))
    # Re-check under the lock: a second click may have been just ahead of this one.
    AlumniOutcome.objects.select_for_update().filter(pk=check.object.pk).first()
    check = alumni_update_check(token)
    if check.state != LinkState.VALID:
        raise DomainError(_("This link is no longer valid."))
    return alumni_outcome_record(actor=None, actor_label=ALUMNUS_LABEL,
                                 enrolment=check.object.enrolment, data=data, now=now)


def _request(outcome: AlumniOutcome, now: datetime) -> None:
    """Email the update link; the caller has just set update_requested_at (its claim)."""
    outcome.refresh_from_db()
    nomination = outcome.enrolment.nomination
    audit_entry_create(actor=None, action="alumni_update_request", target=outcome,
                       after={"update_requested_at": now.isoformat()})
    email_queue(to=nomination.email, language=nomination.candidate_language,
                template="alumni_update_request",
                context={"nomination": nomination, "outcome": outcome,
                         "program": nomination.intake_round.program,
                         "link": alumni_update_link(outcome),
                         "days": settings.ECOCYCLE_ALUMNI_LINK_DAYS})


def alumni_update_requests_send(*, now: datetime | None = None, force: bool = False) -> int:
    """Ask every graduate not asked (nor heard from) for ECOCYCLE_ALUMNI_UPDATE_DAYS where they
    are now. Safe to run twice: a second run finds nobody due."""
    now = _now(now)
    since = now - timedelta(days=settings.ECOCYCLE_ALUMNI_UPDATE_DAYS)
    due = AlumniOutcome.objects.filter(enrolment__nomination__anonymised_at__isnull=True)
    if not force:
        due = due.filter(
            Q(update_requested_at__isnull=True) | Q(update_requested_at__lte=since),
            Q(updated_by_alumnus_at__isnull=True) | Q(updated_by_alumnus_at__lte=since))
    sent = 0
    for outcome in due.select_related("enrolment__nomination__intake_round__program").order_by(
            "id"):
        with transaction.atomic():
            claim = AlumniOutcome.objects.filter(pk=outcome.pk)
            if not force:
                claim = claim.filter(Q(update_requested_at__isnull=True)
                                     | Q(update_requested_at__lte=since))
            # The conditional update is the claim: a copy running beside this one skips it.
            if not claim.update(update_requested_at=now):
                continue
            _request(outcome, now)
            sent += 1
    return sent


@transaction.atomic
def alumni_update_request(*, actor: User, outcome: AlumniOutcome,
                          now: datetime | None = None) -> AlumniOutcome:
    """Staff send the update link now (a new link: the previous one dies)."""
    now = _now(now)
    AlumniOutcome.objects.filter(pk=outcome.pk).update(update_requested_at=now)
    outcome = AlumniOutcome.objects.select_related(
        "enrolment__nomination__intake_round__program").get(pk=outcome.pk)
    _request(outcome, now)
    return outcome
