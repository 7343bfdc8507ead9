"""Project-level pages: home (reads through the apps' selectors) and the health check."""

import os
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu import Connection

from ecocycle.mail import outbox_failing_since
from ecocycle.models import OutboundEmail
from programs.selectors import intake_round_list, program_list_active

from .jobs import NIGHTLY_JOB
from .models import JobRun

MAIL_FAILING_ALERT = timedelta(hours=1)


@require_GET
def home(request):
    context = {}
    user = request.user
    if user.is_authenticated:
        programs = program_list_active()
        coordinator = getattr(user, "coordinator", None) if user.is_coordinator else None
        if coordinator is not None:
            programs = programs.filter(participations__university=coordinator.university)
        context.update(
            coordinator=coordinator,
            programs=programs,
            rounds=intake_round_list(programs=programs),
        )
    return render(request, "hub/home.html", context)


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:
        return f"error: {error.__class__.__name__}"
    return "ok"


def _check_outbox() -> str:
    # Mail that has been failing for an hour is an outage staff must hear of, even though the
    # outbox keeps retrying for days.
    try:
        since = outbox_failing_since()
    except Exception as error:
        return f"error: {error.__class__.__name__}"
    if since is None or timezone.now() - since <= MAIL_FAILING_ALERT:
        return "ok"
    return f"error: mail failing for {(timezone.now() - since) // timedelta(minutes=1)} minutes"


def _check_backlog() -> tuple[str, int | None]:
    """Emails waiting to go out: more than ECOCYCLE_HEALTH_OUTBOX_MAX is a backlog the flush is
    not keeping up with."""
    try:
        pending = OutboundEmail.objects.filter(status=OutboundEmail.Status.PENDING).count()
    except Exception as error:
        return f"error: {error.__class__.__name__}", None
    if pending > settings.ECOCYCLE_HEALTH_OUTBOX_MAX:
        return f"error: {pending} emails pending", pending
    return "ok", pending


def _nightly_since() -> datetime | None:
    """The nightly job's last success; on a fresh install, when its record table was migrated
    (so a new site is healthy for its first ECOCYCLE_HEALTH_NIGHTLY_MAX_HOURS)."""
    last = JobRun.objects.filter(job=NIGHTLY_JOB).values_list("last_succeeded_at", flat=True)
    if last and last[0] is not None:
        return last[0]
    return (MigrationRecorder.Migration.objects.filter(app="hub", name="0002_job_run")
            .values_list("applied", flat=True).first())


def _check_nightly() -> tuple[str, float | None]:
    try:
        since = _nightly_since()
    except Exception as error:
        return f"error: {error.__class__.__name__}", None
    if since is None:
        return "error: no record of the nightly job", None
    hours = round((timezone.now() - since) / timedelta(hours=1), 1)
    if hours > settings.ECOCYCLE_HEALTH_NIGHTLY_MAX_HOURS:
        return f"error: nightly job last succeeded {hours} hours ago", hours
    return "ok", hours


def _check_broker() -> str:
    folders = getattr(settings, "CELERY_BROKER_FOLDERS", ())
    if folders:
        missing = [str(f) for f in folders if not os.access(Path(f), os.W_OK)]
        return "ok" if not missing else "error: broker folder not writable"
    try:
        # A fresh connection, not one from the pool: a pooled one can hide an outage.
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
    except Exception as error:
        return f"error: {error.__class__.__name__}"
    return "ok"


@never_cache
@require_GET
def healthz(request):
    backlog, pending = _check_backlog()
    nightly, hours = _check_nightly()
    checks = {"database": _check_database(), "broker": _check_broker(),
              "outbox": _check_outbox(), "outbox_backlog": backlog, "nightly": nightly}
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks,
         "outbox_pending": pending, "nightly_age_hours": hours},
        status=200 if healthy else 503,
    )
