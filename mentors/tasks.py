"""The nightly job (cohorts, then mentors) and the daily invitation follow-up.

Thin: each calls one service that is safe to rerun.
"""

from celery import shared_task
from django.db import OperationalError

from . import services

RETRY = {"autoretry_for": (ConnectionError, OperationalError), "retry_backoff": True,
         "max_retries": 3}


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=50 * 60, time_limit=55 * 60,
             **RETRY)
def nightly_matching() -> dict:
    return services.nightly_matching()


@shared_task(ignore_result=True, **RETRY)
def send_mentor_reminders() -> dict:
    return services.mentor_follow_up()
