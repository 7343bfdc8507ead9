"""The monthly retention job. Thin: it calls one service that is safe to run twice."""

import contextlib

from celery import shared_task
from django.db import OperationalError

from ecocycle.locks import JobBusy

from .services import retention_apply

RETRY = {"autoretry_for": (ConnectionError, OperationalError), "retry_backoff": True,
         "max_retries": 3}


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=20 * 60, time_limit=25 * 60,
             **RETRY)
def apply_retention() -> None:
    with contextlib.suppress(JobBusy):
        retention_apply(dry_run=False)
