"""Offers and their answers: made in bulk when a cohort (or a later wave) is approved, accepted
or declined by the candidate, or ended by the deadline, a withdrawal or staff.

An offer that ends without being taken up gives its seat back: the candidate's admission is
deleted in the same transaction, so the admissions always count the seats held.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ecocycle.exceptions import DomainError
from ecocycle.mail import email_queue
from ecocycle.models import User
from ecocycle.services import audit_entry_create
from programs.calendar import moment
from programs.models import MAX_OFFER_RESPONSE_DAYS

from ..models import Cohort, CohortAdmission, Offer
from .candidate_page import candidate_page_link, candidate_time_zone

CANDIDATE = "candidate (own page)"
# The audit's actor for what the scheduled jobs do by themselves.
OFFER_JOB = "offer deadlines job"
# Offers a scheduled job ends or reminds per transaction.
OFFER_JOB_BATCH = 200


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
    # As the ORM stores them: SQLite compares datetimes as text, and the driver's own form of an
    # aware datetime ("…+00:00") would not compare with the ORM's.
    adapt = connection.ops.adapt_datetimefield_value
    params: list = [wave, Offer.Status.PENDING, adapt(now), adapt(deadline), cohort.pk]
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
    return (Offer.objects.select_for_update(of=("self",)).select_related(
        "nomination", "track", "cohort__intake_round__program").get(pk=offer.pk))


def offer_email(*, offer: Offer, template: str, context: dict | None = None) -> None:
    """Tell the candidate about their offer by email (`templates/email/<template>/`): in their
    language, the deadline in their time zone, with the link to their page where they answer.
    Inside the change's transaction. Nothing for a nomination whose personal data is removed."""
    nomination = offer.nomination
    if nomination.anonymised_at is not None or not nomination.email:
        return
    language = nomination.candidate_language
    with timezone.override(candidate_time_zone(nomination)), translation.override(language):
        deadline = moment(offer.deadline)
    intake_round = offer.cohort.intake_round
    email_queue(to=nomination.email, template=template, language=language, topic=template,
                context={"nomination": nomination, "offer": offer, "track": offer.track,
                         "intake_round": intake_round, "program": intake_round.program,
                         "deadline": deadline, "page_link": candidate_page_link(nomination),
                         **(context or {})})


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
    offer_email(offer=offer, template="offer_accepted",
                context={"recorded_by_staff": actor is not None})
    return offer


@transaction.atomic
def offer_decline(*, offer: Offer, reason: str = "", note: str = "",
                  actor: User | None = None, now: datetime | None = None) -> Offer:
    """The candidate declines the place, with an optional reason; the seat goes back to the
    round. Staff record a decline received another way with `actor` (an accepted offer too)."""
    now = now or timezone.now()
    offer = _locked(offer)
    if actor is not None and offer.status == Offer.Status.ACCEPTED:
        # Staff may record that an accepted place is given up after all, before enrolment.
        _not_enrolled_check(offer)
    else:
        _pending_check(offer, now)
    if reason and reason not in Offer.DeclineReason.values:
        raise DomainError({"reason": _("Choose one of the reasons offered, or none.")})
    note = (note or "").strip()
    if len(note) > Offer._meta.get_field("decline_note").max_length:
        raise DomainError({"note": _("Keep the note under 500 characters.")})
    offer_vacate(offer=offer, status=Offer.Status.DECLINED, actor=actor, now=now,
                 reason=reason, note=note)
    offer_email(offer=offer, template="offer_declined",
                context={"recorded_by_staff": actor is not None})
    return offer


def offer_vacate(*, offer: Offer, status: str, actor: User | None, now: datetime,
                 reason: str = "", note: str = "", action: str = "",
                 actor_label: str = CANDIDATE) -> None:
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
    audit_entry_create(actor=actor, actor_label=None if actor else actor_label,
                       action=action or f"offer_{status}", target=offer.nomination,
                       before={"offer": offer.pk, "status": before},
                       after={"status": status, "track": offer.track_id, "reason": reason,
                              "note": note})


NOTE_LENGTH = Offer._meta.get_field("decline_note").max_length


def _staff_reason(reason: str, *, missing: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError({"reason": missing})
    if len(reason) > NOTE_LENGTH:
        raise DomainError({"reason": _("Keep the reason under 500 characters.")})
    return reason


@transaction.atomic
def offer_extend(*, actor: User, offer: Offer, deadline: datetime, reason: str,
                 now: datetime | None = None) -> Offer:
    """Staff give one candidate more time to answer: a later deadline, in the future and at most
    MAX_OFFER_RESPONSE_DAYS days from now, for a reason kept in the audit (the candidate is
    emailed the new deadline, not the reason, which may speak of them). A pending offer only,
    also one whose deadline has passed but which the nightly job has not lapsed yet. The
    reminder goes again before the new deadline."""
    now = now or timezone.now()
    reason = _staff_reason(reason, missing=_("Give the reason for the extension."))
    offer = _locked(offer)
    if offer.status != Offer.Status.PENDING:
        raise DomainError(_("Only an offer waiting for the candidate's answer can be extended; "
                            "this one is: %(status)s.") % {"status": offer.get_status_display()})
    if deadline <= now:
        raise DomainError({"deadline": _("The new deadline must be in the future.")})
    if deadline <= offer.deadline:
        raise DomainError({"deadline": _("The new deadline must be later than the current one "
                                         "(%(date)s).") % {"date": moment(offer.deadline)}})
    if deadline > now + timedelta(days=MAX_OFFER_RESPONSE_DAYS):
        raise DomainError({"deadline": _("The new deadline can be at most %(days)s days from "
                                         "now.") % {"days": MAX_OFFER_RESPONSE_DAYS}})
    before = offer.deadline
    offer.deadline, offer.reminded_at = deadline, None
    offer.save(update_fields=["deadline", "reminded_at"])
    audit_entry_create(actor=actor, action="offer_extend", target=offer.nomination,
                       before={"offer": offer.pk, "deadline": before.isoformat()},
                       after={"deadline": deadline.isoformat(), "reason": reason})
    offer_email(offer=offer, template="offer_extended")
    return offer


def _not_enrolled_check(offer: Offer) -> None:
    """Refuse to end an accepted place once the student is enrolled: they leave through their
    progress (a withdrawal from the studies), and their admission is kept."""
    # Through the reverse relation: candidates does not import the students app.
    if CohortAdmission.objects.filter(nomination_id=offer.nomination_id,
                                      cohort_id=offer.cohort_id,
                                      enrolment__isnull=False).exists():
        raise DomainError(_("%(name)s is enrolled already: record their withdrawal from the "
                            "studies instead.") % {"name": offer.nomination})


@transaction.atomic
def offer_no_show(*, actor: User, offer: Offer, reason: str,
                  now: datetime | None = None) -> Offer:
    """Staff record that a candidate who accepted did not take up the place (they did not come,
    or said so another way): the seat goes back to the round. Before enrolment only: an enrolled
    student leaves through their progress (a withdrawal from the studies)."""
    now = now or timezone.now()
    reason = _staff_reason(reason, missing=_("Give the reason for recording a no-show."))
    offer = _locked(offer)
    if offer.status != Offer.Status.ACCEPTED:
        raise DomainError(_("Only an accepted offer can be recorded as not taken up; this one "
                            "is: %(status)s.") % {"status": offer.get_status_display()})
    _not_enrolled_check(offer)
    offer_vacate(offer=offer, status=Offer.Status.NO_SHOW, actor=actor, now=now, note=reason,
                 action="offer_no_show")
    offer_email(offer=offer, template="offer_no_show")
    return offer


def _job_batch(filters: dict, batch_size: int) -> list[Offer]:
    """The next offers the job may act on. Under the transaction's row locks, skipping those a
    copy of the job running at the same time (or a candidate answering) holds: two copies never
    act on the same offer, and an offer already acted on no longer matches `filters`."""
    return list(Offer.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("nomination", "track", "cohort__intake_round__program")
                .filter(**filters).order_by("deadline", "id")[:batch_size])


def offers_lapse(*, now: datetime | None = None, batch_size: int = OFFER_JOB_BATCH) -> int:
    """The nightly job: every pending offer whose deadline has passed lapses, its seat goes back
    to the round, and the candidate is told. Safe to run twice, also at once (row locks, skip
    locked); each batch is its own transaction. How many lapsed."""
    now = now or timezone.now()
    lapsed = 0
    while True:
        with transaction.atomic():
            batch = _job_batch({"status": Offer.Status.PENDING, "deadline__lte": now},
                               batch_size)
            for offer in batch:
                offer_vacate(offer=offer, status=Offer.Status.LAPSED, actor=None, now=now,
                             action="offer_lapse", actor_label=OFFER_JOB)
                offer_email(offer=offer, template="offer_lapsed")
        lapsed += len(batch)
        if len(batch) < batch_size:
            return lapsed


def offers_remind(*, now: datetime | None = None, batch_size: int = OFFER_JOB_BATCH) -> int:
    """Remind each candidate whose offer is still unanswered ECOCYCLE_OFFER_REMINDER_DAYS before
    its deadline, once per offer (`reminded_at`; an extension clears it). An offer made less
    than a day ago is not reminded: its own email just told the deadline. Safe to run twice,
    also at once. How many reminded."""
    now = now or timezone.now()
    window = timedelta(days=settings.ECOCYCLE_OFFER_REMINDER_DAYS)
    reminded = 0
    while True:
        with transaction.atomic():
            batch = _job_batch({"status": Offer.Status.PENDING, "reminded_at__isnull": True,
                                "deadline__gt": now, "deadline__lte": now + window,
                                "made_at__lte": now - timedelta(days=1)}, batch_size)
            for offer in batch:
                offer.reminded_at = now
                offer_email(offer=offer, template="offer_reminder")
            Offer.objects.bulk_update(batch, ["reminded_at"])
        reminded += len(batch)
        if len(batch) < batch_size:
            return reminded


def offers_cancel(*, cohort: Cohort, now: datetime) -> int:
    """The cohort's result is taken back (reopened): its pending offers are cancelled, one
    statement. Inside the reopening's transaction, which deletes the admissions and is audited
    with the cohort; the candidates are told by the reopening's emails."""
    return Offer.objects.filter(cohort=cohort, status=Offer.Status.PENDING).update(
        status=Offer.Status.CANCELLED, responded_at=now)
