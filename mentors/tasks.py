"""The nightly job (cohorts, then mentors). Thin: it calls one service that is safe to rerun."""

from celery import shared_task
from django.db import OperationalError

from . import services


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=50 * 60, time_limit=55 * 60,
             autoretry_for=(ConnectionError, OperationalError), retry_backoff=True,
             max_retries=3)
def nightly_matching() -> dict:
    return services.nightly_matching()
