"""Scheduled jobs of the candidates domain. Thin: each calls one service that is safe to rerun."""

from celery import shared_task

from . import services


@shared_task(ignore_result=True, autoretry_for=(ConnectionError,), retry_backoff=True,
             max_retries=3)
def send_consent_reminders() -> int:
    return services.consent_reminders_send()


@shared_task(ignore_result=True, autoretry_for=(ConnectionError,), retry_backoff=True,
             max_retries=3)
def recheck_eligibility() -> int:
    return services.eligibility_recheck()
