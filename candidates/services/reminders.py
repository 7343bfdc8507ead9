"""Coordinators reminded before a round's nominations deadline of what is still to do there:
drafts not submitted, and candidates who have not confirmed consent."""

from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse

from ecocycle.mail import absolute_url, email_queue
from ecocycle.services import audit_entry_create
from programs.models import IntakeRound, RoundMilestone

from ..models import Coordinator, DeadlineReminder, Nomination
from ._common import _now


def _rounds_closing(now: datetime) -> dict[int, IntakeRound]:
    """The rounds taking nominations now whose deadline comes within the reminder's days."""
    ahead = timedelta(days=settings.ECOCYCLE_DEADLINE_REMINDER_DAYS)
    closing = RoundMilestone.objects.filter(kind=RoundMilestone.Kind.NOMINATIONS_CLOSE,
                                            at__gt=now, at__lte=now + ahead)
    rounds = (IntakeRound.objects.filter(pk__in=closing.values("intake_round_id"))
              .select_related("program").prefetch_related("milestones"))
    return {r.pk: r for r in rounds if r.phase_at(now) == IntakeRound.Phase.NOMINATIONS}


def _pending(round_ids) -> dict[tuple[int, int], list[Nomination]]:
    """The drafts and the submitted nominations without consent, per (round, university)."""
    pending = defaultdict(list)
    nominations = (
        Nomination.objects.filter(intake_round_id__in=round_ids)
        .filter(Q(status=Nomination.Status.DRAFT)
                | Q(status=Nomination.Status.SUBMITTED, consent_given_at__isnull=True))
        .defer("passport_number")
        .order_by("intake_round_id", "university_id", "status", "family_name", "id")
    )
    for nomination in nominations:
        pending[nomination.intake_round_id, nomination.university_id].append(nomination)
    return pending


def deadline_reminders_send(*, now: datetime | None = None) -> int:
    """Email each coordinator, ECOCYCLE_DEADLINE_REMINDER_DAYS before a round's nominations
    deadline, their university's drafts not yet submitted and candidates who have not confirmed
    consent there, each with a link to its page. Returns how many were sent.

    Once per coordinator and round (each reminder is recorded in its own transaction); nothing
    to a coordinator with nothing pending. Safe to run twice, or beside another copy.
    """
    now = _now(now)
    rounds = _rounds_closing(now)
    if not rounds:
        return 0
    pending = _pending(rounds.keys())
    coordinators = defaultdict(list)
    for coordinator in Coordinator.objects.filter(
            university_id__in={university for _round, university in pending},
            user__is_active=True).select_related("user", "university").order_by("id"):
        coordinators[coordinator.university_id].append(coordinator)
    done = set(DeadlineReminder.objects.filter(intake_round_id__in=rounds.keys())
               .values_list("coordinator_id", "intake_round_id"))
    sent = 0
    for (round_id, university_id), nominations in pending.items():
        for coordinator in coordinators[university_id]:
            if (coordinator.pk, round_id) not in done:
                sent += _deadline_remind(coordinator=coordinator, intake_round=rounds[round_id],
                                         nominations=nominations, now=now)
    return sent


@transaction.atomic
def _deadline_remind(*, coordinator: Coordinator, intake_round: IntakeRound,
                     nominations: list[Nomination], now: datetime) -> int:
    drafts = [n for n in nominations if n.status == Nomination.Status.DRAFT]
    waiting = [n for n in nominations if n.status == Nomination.Status.SUBMITTED]
    deadline = intake_round.nominations_close_at
    # The unique record decides, even against a copy of the job running at the same moment.
    _reminder, created = DeadlineReminder.objects.get_or_create(
        coordinator=coordinator, intake_round=intake_round,
        defaults={"deadline": deadline, "sent_at": now, "drafts": len(drafts),
                  "consent_missing": len(waiting)})
    if not created:
        return 0
    audit_entry_create(actor=None, action="coordinator_deadline_reminder", target=coordinator,
                       after={"intake_round": intake_round.pk, "drafts": len(drafts),
                              "consent_missing": len(waiting)})

    def rows(group):
        return [{"nomination": n, "url": absolute_url(
            reverse("candidates:nomination_detail", args=[n.pk]))} for n in group]

    email_queue(
        to=coordinator.user.email, language=coordinator.user.language,
        template="deadline_reminder",
        context={"coordinator": coordinator, "university": coordinator.university,
                 "intake_round": intake_round, "program": intake_round.program,
                 "deadline": deadline, "drafts": rows(drafts), "waiting": rows(waiting),
                 "home_url": absolute_url(reverse("candidates:coordinator_home"))},
    )
    return 1
