"""Offers and their answers: made in bulk when a cohort (or a later wave) is approved, accepted
or declined by the candidate, or ended by the deadline, a withdrawal or staff.

An offer that ends without being taken up gives its seat back: the candidate's admission is
deleted in the same transaction, so the admissions always count the seats held.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ecocycle.exceptions import DomainError
from ecocycle.models import User
from ecocycle.services import audit_entry_create

from ..models import Cohort, CohortAdmission, Offer

CANDIDATE = "candidate (own page)"


def offer_deadline(*, cohort: Cohort, now: datetime) -> datetime:
    """When offers made at `now` must be answered: the round's number of days later."""
    return now + timedelta(days=cohort.intake_round.offer_response_days)


def offers_make(*, cohort: Cohort, wave: int, now: datetime,
                nomination_ids: Iterable[int] | None = None) -> int:
    """Offer each admitted candidate of the cohort (or those of `nomination_ids`) their
    admission's track, answer due by the round's deadline: one INSERT … SELECT whatever the
    cohort's size. A candidate who already holds an open offer is skipped. Call inside the
    transaction that admits them; returns how many offers were made."""
    offer, admission = Offer._meta.db_table, CohortAdmission._meta.db_table
    deadline = offer_deadline(cohort=cohort, now=now)
    params: list = [wave, Offer.Status.PENDING, now, deadline, cohort.pk]
    only = ""
    if nomination_ids is not None:
        ids = list(nomination_ids)
        if not ids:
            return 0
        only = f" AND a.nomination_id IN ({', '.join(['%s'] * len(ids))})"
        params += ids
    params += list(Offer.OPEN)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {offer} (cohort_id, nomination_id, track_id, wave, status, made_at, "
            "deadline, decline_reason, decline_note) "
            "SELECT a.cohort_id, a.nomination_id, a.track_id, %s, %s, %s, %s, '', '' "
            f"FROM {admission} a WHERE a.cohort_id = %s{only} AND NOT EXISTS (SELECT 1 FROM "
            f"{offer} o WHERE o.nomination_id = a.nomination_id AND o.status IN (%s, %s))",
            params)
        return cursor.rowcount


def _locked(offer: Offer) -> Offer:
    return (Offer.objects.select_for_update().select_related(
        "nomination", "track", "cohort__intake_round").get(pk=offer.pk))


def _pending_check(offer: Offer, now: datetime) -> None:
    if offer.status != Offer.Status.PENDING:
        raise DomainError(_("This offer was already answered (%(status)s).") % {
            "status": offer.get_status_display()})
    if offer.deadline <= now:
        raise DomainError(_("The deadline to answer this offer has passed."))


@transaction.atomic
def offer_accept(*, offer: Offer, actor: User | None = None,
                 now: datetime | None = None) -> Offer:
    """The candidate accepts the place (or staff record an acceptance received another way).
    Refused once the offer was answered or its deadline has passed."""
    now = now or timezone.now()
    offer = _locked(offer)
    _pending_check(offer, now)
    offer.status, offer.responded_at = Offer.Status.ACCEPTED, now
    offer.recorded_by = actor
    offer.save(update_fields=["status", "responded_at", "recorded_by"])
    audit_entry_create(actor=actor, actor_label=None if actor else CANDIDATE,
                       action="offer_accept", target=offer.nomination,
                       before={"offer": offer.pk, "status": Offer.Status.PENDING},
                       after={"status": offer.status, "track": offer.track_id})
    return offer


@transaction.atomic
def offer_decline(*, offer: Offer, reason: str = "", note: str = "",
                  actor: User | None = None, now: datetime | None = None) -> Offer:
    """The candidate declines the place, with an optional reason; the seat goes back to the
    round. Staff record a decline received another way with `actor` (an accepted offer too)."""
    now = now or timezone.now()
    offer = _locked(offer)
    if actor is not None and offer.status == Offer.Status.ACCEPTED:
        pass  # staff may record that an accepted place is given up after all
    else:
        _pending_check(offer, now)
    if reason and reason not in Offer.DeclineReason.values:
        raise DomainError({"reason": _("Choose one of the reasons offered, or none.")})
    note = (note or "").strip()
    if len(note) > Offer._meta.get_field("decline_note").max_length:
        raise DomainError({"note": _("Keep the note under 500 characters.")})
    offer_vacate(offer=offer, status=Offer.Status.DECLINED, actor=actor, now=now,
                 reason=reason, note=note)
    return offer


def offer_vacate(*, offer: Offer, status: str, actor: User | None, now: datetime,
                 reason: str = "", note: str = "", action: str = "") -> None:
    """End an open offer without its place being taken up (`status` one of Offer.VACATING):
    the admission is deleted, which gives the seat back. Call inside a transaction holding the
    offer's row lock; audited on the nomination."""
    if status not in Offer.VACATING:
        raise ValueError(status)
    before = offer.status
    offer.status, offer.responded_at, offer.recorded_by = status, now, actor
    offer.decline_reason, offer.decline_note = reason, note
    offer.save(update_fields=["status", "responded_at", "recorded_by", "decline_reason",
                              "decline_note"])
    CohortAdmission.objects.filter(nomination_id=offer.nomination_id,
                                   cohort_id=offer.cohort_id).delete()
    audit_entry_create(actor=actor, actor_label=None if actor else CANDIDATE,
                       action=action or f"offer_{status}", target=offer.nomination,
                       before={"offer": offer.pk, "status": before},
                       after={"status": status, "track": offer.track_id, "reason": reason,
                              "note": note})
