"""Staff exports too large to build inside a request: an XLSX of a large round's cohort or tracks
is built by a background task into a file in the default storage, and the staff member who asked
for it downloads it when it is ready.

A request only records the job and queues the task after commit (`export_job_request`); the
task claims it once and writes the sheet a row at a time, saving its progress every few
thousand rows (`export_job_build`). Safe to run twice: only a queued job (or one whose worker
died) is claimed. Each member keeps their EXPORT_KEEP newest exports; older ones, and files past
EXPORT_MAX_AGE, are deleted with their files when they ask for a new one.
"""

import logging
import tempfile
from datetime import timedelta

from django.core.files import File
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone, translation

from candidates.models import Placement
from candidates.selectors import EXPORT_TABLES, cohort_get_for_round
from ecocycle.exports import xlsx_write
from ecocycle.models import User
from ecocycle.services import audit_entry_create
from programs.models import IntakeRound

from .models import ExportJob

logger = logging.getLogger(__name__)

# Tables of up to this many rows are built in the request (well under a second); larger ones by
# the background job.
XLSX_INLINE_ROWS = 5000
# The tables whose size grows with the round (one row per candidate).
LARGE_TABLES = ("cohort", "tracks")
EXPORT_KEEP = 5
EXPORT_MAX_AGE = timedelta(days=1)
# A job queued or running for longer than this is taken for lost (its worker died): asking again
# queues a new one, and the task may claim it again.
EXPORT_STALE_AFTER = timedelta(minutes=30)
PROGRESS_EVERY = 2000


def export_rows_estimate(*, intake_round: IntakeRound, what: str) -> int:
    """How many rows the table has: the candidates of the cohort's current run and its
    admissions outside it (one count). Small tables (the universities') count as none."""
    if what not in LARGE_TABLES:
        return 0
    cohort = cohort_get_for_round(intake_round)
    if cohort is None or cohort.match_run_id is None:
        return 0
    runs = Placement.objects.filter(match_run_id=cohort.match_run_id)
    if what == "tracks":
        runs = runs.filter(track__isnull=False)
    # An admission without a placement in the run is a row of its own.
    outside = cohort.admissions.exclude(Exists(Placement.objects.filter(
        match_run_id=cohort.match_run_id, nomination_id=OuterRef("nomination_id"))))
    return runs.order_by().values("pk").union(outside.order_by().values("pk"), all=True).count()


def export_job_list_for_user(user: User, intake_round: IntakeRound | None = None):
    """A staff member's own exports, newest first: nobody else's file is offered to them."""
    jobs = ExportJob.objects.filter(requested_by=user).select_related("intake_round__program")
    if intake_round is not None:
        jobs = jobs.filter(intake_round=intake_round)
    return jobs.order_by("-created_at", "-id")


def _prune(user: User) -> None:
    old = Q(created_at__lt=timezone.now() - EXPORT_MAX_AGE)
    keep = list(export_job_list_for_user(user).values_list("pk", flat=True)[:EXPORT_KEEP])
    doomed = list(ExportJob.objects.filter(requested_by=user).filter(old | ~Q(pk__in=keep))
                  .exclude(status__in=[ExportJob.Status.QUEUED, ExportJob.Status.RUNNING],
                           created_at__gte=timezone.now() - EXPORT_STALE_AFTER))
    names = [job.file.name for job in doomed if job.file]
    ExportJob.objects.filter(pk__in=[job.pk for job in doomed]).delete()
    if names:
        storage = ExportJob._meta.get_field("file").storage

        def remove():
            for name in names:
                storage.delete(name)

        transaction.on_commit(remove)


@transaction.atomic
def export_job_request(*, actor: User, intake_round: IntakeRound, what: str,
                       fmt: str = "xlsx") -> ExportJob:
    """A staff member asks for a large export: their job for the same table still being built,
    or a new one queued after commit. The request is audited on the round (personal data leaves
    the platform)."""
    from .tasks import build_export  # noqa: PLC0415  (hub.tasks imports this module)

    if what not in EXPORT_TABLES:
        raise ValueError(what)
    pending = export_job_list_for_user(actor, intake_round).filter(
        what=what, fmt=fmt, status__in=[ExportJob.Status.QUEUED, ExportJob.Status.RUNNING],
        created_at__gte=timezone.now() - EXPORT_STALE_AFTER).first()
    if pending is not None:
        return pending
    job = ExportJob.objects.create(
        intake_round=intake_round, requested_by=actor, what=what, fmt=fmt,
        language=translation.get_language() or "en",
        rows_total=export_rows_estimate(intake_round=intake_round, what=what))
    audit_entry_create(actor=actor, action="export_job_request", target=intake_round,
                       after={"table": what, "format": fmt})
    _prune(actor)
    build_export.delay_on_commit(job.pk)
    return job


def _claim(job_id: int) -> bool:
    claimable = Q(status=ExportJob.Status.QUEUED) | Q(
        status=ExportJob.Status.RUNNING,
        started_at__lt=timezone.now() - EXPORT_STALE_AFTER)
    return bool(ExportJob.objects.filter(claimable, pk=job_id).update(
        status=ExportJob.Status.RUNNING, started_at=timezone.now(), rows_done=0))


def export_job_build(*, job_id: int) -> ExportJob | None:
    """Build a queued export into its file. Holds no transaction while it writes (it only
    reads; each progress note is its own short UPDATE). A failure is stored on the job (the
    page says so) and raised again. None when there was nothing to claim."""
    if not _claim(job_id):
        return None
    job = ExportJob.objects.select_related("intake_round").get(pk=job_id)

    def progress(rows: int) -> None:
        ExportJob.objects.filter(pk=job.pk).update(rows_done=rows)

    try:
        with translation.override(job.language), tempfile.TemporaryFile() as sheet:
            table = EXPORT_TABLES[job.what](job.intake_round)
            rows = xlsx_write(table, sheet, progress=progress, every=PROGRESS_EVERY)
            size = sheet.tell()
            sheet.seek(0)
            job.file.save(f"ecocycle-{job.intake_round_id}-{job.what}-{job.pk}.{job.fmt}",
                          File(sheet), save=False)
    except Exception as error:
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.FAILED, error=str(error)[:500], finished_at=timezone.now())
        raise
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportJob.Status.DONE, file=job.file.name, size=size, rows_done=rows,
        rows_total=rows, finished_at=timezone.now())
    job.refresh_from_db()
    return job

