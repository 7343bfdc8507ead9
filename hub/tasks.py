"""The nightly job. Thin: it calls one service that is safe to rerun."""

from celery import shared_task
from django.db import OperationalError

from .services import nightly_matching as nightly_matching_run

RETRY = {"autoretry_for": (ConnectionError, OperationalError), "retry_backoff": True,
         "max_retries": 3}


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=50 * 60, time_limit=55 * 60,
             **RETRY)
def nightly_matching() -> dict:
    return nightly_matching_run()
