"""Scheduled jobs of the students domain. Thin: each calls one service that is safe to run
twice; transient database or broker errors are retried a bounded number of times."""

import contextlib

from celery import shared_task
from django.db import OperationalError

from ecocycle.locks import JobBusy
from ecocycle.models import User

from .services.alumni import alumni_update_requests_send
from .services.careers import career_match_run

RETRY = {"autoretry_for": (ConnectionError, OperationalError), "retry_backoff": True,
         "max_retries": 3}


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=20 * 60, time_limit=25 * 60,
             **RETRY)
def run_career_matching(actor_id: int | None = None, trigger: str = "schedule") -> None:
    """The nightly run, or staff's "Run now" (`actor_id`, trigger "staff")."""
    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    # A run under way does the same work.
    with contextlib.suppress(JobBusy):
        career_match_run(trigger=trigger, actor=actor)


@shared_task(ignore_result=True, **RETRY)
def request_alumni_updates() -> int:
    return alumni_update_requests_send()
