"""The nightly job and the staff digest. Thin: each calls one service that is safe to rerun."""

import logging

from celery import Task, shared_task
from django.db import OperationalError

from .export_jobs import export_job_build
from .services import job_failure_record, staff_digest_send
from .services import nightly_matching as nightly_matching_run

logger = logging.getLogger(__name__)

RETRY = {"autoretry_for": (ConnectionError, OperationalError), "retry_backoff": True,
         "max_retries": 3}


class RecordedFailureTask(Task):
    """A scheduled job whose failure, once its retries are spent, is kept for the staff digest."""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        try:
            job_failure_record(job=self.name.rsplit(".", 1)[-1], error=exc,
                               traceback=str(einfo)[-20000:])
        except Exception:
            # A database that is down cannot keep the record; the original error is still raised.
            logger.exception("Could not record the failure of %s.", self.name)


@shared_task(base=RecordedFailureTask, ignore_result=True, acks_late=True,
             soft_time_limit=50 * 60, time_limit=55 * 60, **RETRY)
def nightly_matching() -> dict:
    return nightly_matching_run()


@shared_task(base=RecordedFailureTask, ignore_result=True, **RETRY)
def send_staff_digest() -> str:
    return staff_digest_send().status


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=20 * 60, time_limit=25 * 60)
def build_export(job_id: int) -> str | None:
    """A staff member's large export. Not retried: a failure is stored on the job, whose page
    says so, and asking again queues a new one."""
    job = export_job_build(job_id=job_id)
    return job.status if job else None
