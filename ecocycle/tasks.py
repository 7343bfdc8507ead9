"""Kernel tasks: sending the outbox. Thin: each calls one service."""

from celery import shared_task

from .mail import outbound_email_flush, outbound_email_send


@shared_task(ignore_result=True)
def send_outbound_email(email_id: int) -> None:
    outbound_email_send(email_id=email_id)


@shared_task(ignore_result=True)
def flush_outbound_email() -> int:
    return outbound_email_flush()
