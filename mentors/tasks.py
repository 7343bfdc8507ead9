"""The daily invitation follow-up (the nightly job is the composition's: hub.tasks).

Thin: each calls one service that is safe to rerun.
"""

from celery import shared_task
from django.db import OperationalError

from . import services

RETRY = {"autoretry_for": (ConnectionError, OperationalError), "retry_backoff": True,
         "max_retries": 3}


@shared_task(ignore_result=True, **RETRY)
def send_mentor_reminders() -> dict:
    return services.mentor_follow_up()
