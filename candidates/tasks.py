"""Scheduled and on-demand jobs of the candidates domain.

Thin: each calls one service that is safe to run twice. Transient database or broker errors are
retried a bounded number of times; a time limit stops a runaway job (its transaction rolls back).
"""

import logging

from celery import shared_task
from celery.contrib.django.task import DjangoTask
from django.contrib.auth import get_user_model
from django.db import OperationalError

from ecocycle.exceptions import DomainError
from ecocycle.locks import JobBusy
from programs.models import IntakeRound

from . import services
from .models import WhatIfRun

logger = logging.getLogger(__name__)

RETRY = {"autoretry_for": (ConnectionError, OperationalError), "retry_backoff": True,
         "max_retries": 3}


@shared_task(ignore_result=True, **RETRY)
def send_consent_reminders() -> int:
    return services.consent_reminders_send()


@shared_task(ignore_result=True, **RETRY)
def send_deadline_reminders() -> int:
    return services.deadline_reminders_send()


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=20 * 60, time_limit=25 * 60,
             **RETRY)
def follow_up_offers() -> dict:
    """Every morning: offers past their deadline lapse, then the reminders before a deadline go
    out (each safe to run twice, also beside the nightly job's lapse)."""
    return {"lapsed": services.offers_lapse(), "reminded": services.offers_remind()}


@shared_task(ignore_result=True, **RETRY)
def prune_superseded_runs() -> int:
    return services.superseded_runs_prune()


@shared_task(ignore_result=True, **RETRY)
def recheck_eligibility() -> int:
    return services.eligibility_recheck()


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=20 * 60, time_limit=25 * 60,
             **RETRY)
def run_cohort_matching(round_id: int, actor_id: int | None = None) -> None:
    """Staff's "run now": match one round. A run already under way makes this one a no-op."""
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    intake_round = IntakeRound.objects.get(pk=round_id)
    try:
        services.cohort_match_run(intake_round=intake_round,
                                  trigger="staff" if actor else "command", actor=actor)
    except (JobBusy, DomainError) as refusal:
        # Another run is under way, or the cohort is approved: nothing to do, nothing to retry;
        # the request is answered so that the dashboard stops showing it as running.
        services.cohort_run_request_clear(
            intake_round=intake_round,
            reason="busy" if isinstance(refusal, JobBusy) else "refused")



class CohortNotificationTask(DjangoTask):
    """Once its retries are spent, the notification is marked failed: the round's page and the
    staff digest show it, and a later run carries on where it stopped."""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        try:
            services.cohort_notification_fail(notification_id=args[0], error=exc)
        except Exception:
            logger.exception("Could not record the failure of cohort notification %s.", args[0])


@shared_task(base=CohortNotificationTask, ignore_result=True, acks_late=True,
             soft_time_limit=20 * 60, time_limit=25 * 60, **RETRY)
def send_cohort_notification(notification_id: int) -> None:
    """The emails of a cohort decision into the outbox (safe to run twice: a cursor)."""
    services.cohort_notification_send(notification_id=notification_id)


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=20 * 60, time_limit=25 * 60)
def resume_cohort_notifications() -> int:
    """Every 10 minutes: decisions' emails whose job did not finish are carried on."""
    return len(services.cohort_notifications_resume())


# No automatic retry: a failed what-if is stored as failed, and asking again queues a new one.
@shared_task(ignore_result=True, acks_late=True, soft_time_limit=10 * 60, time_limit=12 * 60)
def compute_whatif(whatif_id: int) -> None:
    """Staff's what-if: compute it and store the result. Gone (pruned) or done: nothing to do."""
    whatif = WhatIfRun.objects.select_related("intake_round").filter(pk=whatif_id).first()
    if whatif is not None:
        services.whatif_compute(whatif=whatif)


@shared_task(ignore_result=True, **RETRY)
def send_candidate_page_links(email: str) -> int:
    """The public "email me my link" page's request: the lookup and the emails, off the page."""
    return services.candidate_page_links_send(email=email)


# No automatic retry: a job that fails is marked failed, and its page offers to run it again.
# acks_late: a worker that dies hands the job to another, which takes it once it is stale.
@shared_task(ignore_result=True, acks_late=True, soft_time_limit=10 * 60, time_limit=12 * 60)
def run_nomination_import(job_id: int) -> None:
    """A coordinator's CSV import of nominations, all or nothing (candidates.imports)."""
    from .imports import nomination_import_job_run  # noqa: PLC0415  (imports needs tasks)

    nomination_import_job_run(job_id=job_id)
