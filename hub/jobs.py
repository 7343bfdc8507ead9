"""The scheduled jobs' last runs: recorded by the worker after every run of a task on the beat
schedule, read by /healthz (is the nightly job alive?) and /metrics (durations and outcomes).

Celery's task_prerun/task_postrun signals, so every scheduled task is covered without each one
remembering to report; a task run by hand (`delay`) counts too, a management command does not.
"""

import logging
import time
from collections.abc import Iterable
from datetime import datetime, timedelta

from celery.signals import task_postrun, task_prerun
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from candidates.models import MatchRun

from .models import JobRun

logger = logging.getLogger(__name__)

NIGHTLY_JOB = "hub.tasks.nightly_matching"


def scheduled_task_names() -> set[str]:
    return {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}


def job_run_record(*, job: str, outcome: str, duration_ms: int,
                   now: datetime | None = None) -> JobRun:
    """Keep the outcome of one run of a scheduled job (success, failure or retry). Operational
    bookkeeping, not a change to anyone's data: no audit entry (the flush runs every 2 minutes);
    a failure after its retries is kept in JobFailure and audited there."""
    now = now or timezone.now()
    with transaction.atomic():
        run, _ = JobRun.objects.select_for_update().get_or_create(job=job)
        run.last_started_at = now - timedelta(milliseconds=duration_ms)
        run.last_outcome = outcome
        run.last_duration_ms = duration_ms
        if outcome == "success":
            run.last_succeeded_at = now
            run.successes += 1
        elif outcome == "failure":
            run.last_failed_at = now
            run.failures += 1
        run.save()
    return run


_started: dict[str, float] = {}


def _started_at(task_id=None, task=None, **kwargs) -> None:
    if task_id and task is not None and task.name in scheduled_task_names():
        _started[task_id] = time.monotonic()


def _finished(task_id=None, task=None, state=None, **kwargs) -> None:
    started = _started.pop(task_id, None) if task_id else None
    if started is None or task is None:
        return
    outcome = {"SUCCESS": "success", "RETRY": "retry"}.get(state or "", "failure")
    try:
        job_run_record(job=task.name, outcome=outcome,
                       duration_ms=int((time.monotonic() - started) * 1000))
    except Exception:
        # A database that is down cannot keep the record; the task's own outcome stands.
        logger.exception("Could not record the run of %s.", task.name)


def job_signals_connect() -> None:
    task_prerun.connect(_started_at, weak=False, dispatch_uid="hub_job_run_prerun")
    task_postrun.connect(_finished, weak=False, dispatch_uid="hub_job_run_postrun")


class JobRunCollector(Collector):
    """Each scheduled job's last success, last duration and runs by outcome, from JobRun."""

    def collect(self) -> Iterable[GaugeMetricFamily]:
        success = GaugeMetricFamily("ecocycle_job_last_success_timestamp_seconds",
                                    "When the scheduled job last succeeded (Unix time).",
                                    labels=["job"])
        duration = GaugeMetricFamily("ecocycle_job_last_duration_seconds",
                                     "How long the scheduled job's last run took.", labels=["job"])
        runs = GaugeMetricFamily("ecocycle_job_runs", "Runs of the scheduled job, by outcome.",
                                 labels=["job", "outcome"])
        for run in JobRun.objects.all():
            if run.last_succeeded_at is not None:
                success.add_metric([run.job], run.last_succeeded_at.timestamp())
            duration.add_metric([run.job], run.last_duration_ms / 1000)
            runs.add_metric([run.job, "success"], run.successes)
            runs.add_metric([run.job, "failure"], run.failures)
        yield from (success, duration, runs)


class MatchRunCollector(Collector):
    """Match runs by kind and status, and the sizes (counts) of each kind's latest good run."""

    def collect(self) -> Iterable[GaugeMetricFamily]:
        runs = GaugeMetricFamily("ecocycle_match_runs", "Match runs kept, by kind and status.",
                                 labels=["kind", "status"])
        for row in MatchRun.objects.values("kind", "status").annotate(n=Count("id")).order_by():
            runs.add_metric([row["kind"], row["status"]], row["n"])
        yield runs
        size = GaugeMetricFamily("ecocycle_match_run_size",
                                 "The latest succeeded run of each kind: its counts by name.",
                                 labels=["kind", "count"])
        duration = GaugeMetricFamily("ecocycle_match_run_duration_seconds",
                                     "The latest succeeded run of each kind: its duration.",
                                     labels=["kind"])
        latest = (MatchRun.objects.filter(status=MatchRun.Status.SUCCEEDED)
                  .values("kind").annotate(last=Max("id")).values_list("last", flat=True))
        for run in MatchRun.objects.filter(pk__in=list(latest)).only("kind", "counts",
                                                                    "duration_ms"):
            for name, value in sorted((run.counts or {}).items()):
                if isinstance(value, int | float) and not isinstance(value, bool):
                    size.add_metric([run.kind, name], value)
            duration.add_metric([run.kind], run.duration_ms / 1000)
        yield from (size, duration)
