"""The composition's own records: the staff digests sent, and the scheduled jobs that failed."""

from django.conf import settings
from django.db import models
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _


class StaffDigest(models.Model):
    """One daily digest sent to KITECH staff, and the window of events it told them about.

    Each digest starts where the last one ended, so no event is told twice; one scheduled digest
    a day (by the date in TIME_ZONE), whatever the number of runs. A forced digest (by hand) is
    extra and consumes its window the same way.
    """

    created_at = models.DateTimeField(_("sent"), auto_now_add=True)
    day = models.DateField(_("day"))
    forced = models.BooleanField(_("sent by hand"), default=False)
    window_start = models.DateTimeField(_("events after"))
    window_end = models.DateTimeField(_("events until"))
    counts = models.JSONField(_("events per kind"), default=dict)
    recipients = models.PositiveIntegerField(_("staff emailed"), default=0)

    class Meta:
        verbose_name = _("staff digest")
        verbose_name_plural = _("staff digests")
        ordering = ["-window_end", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["day"], condition=models.Q(forced=False),
                                    name="staff_digest_once_a_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day:%Y-%m-%d} ({self.recipients})"


class JobFailure(models.Model):
    """A scheduled job that failed after its retries: kept for the staff digest and for staff to
    read the error."""

    job = models.CharField(_("job"), max_length=200)
    failed_at = models.DateTimeField(_("failed"), default=timezone.now, db_index=True)
    error = models.CharField(_("error"), max_length=500)
    traceback = models.TextField(_("traceback"), blank=True)

    class Meta:
        verbose_name = _("failed job")
        verbose_name_plural = _("failed jobs")
        ordering = ["-failed_at", "-id"]

    def __str__(self) -> str:
        # In the viewer's zone, named (the admin's headings and lists show it).
        when = formats.date_format(timezone.localtime(self.failed_at), "DATETIME_FORMAT") \
            if self.failed_at else ""
        return f"{self.job} {when}: {self.error}"


class JobRun(models.Model):
    """The last run of each scheduled job, one row per job: what /healthz and /metrics read.

    Written by the worker after every run of a task on the beat schedule (hub.jobs)."""

    job = models.CharField(_("job"), max_length=200, unique=True)
    last_started_at = models.DateTimeField(_("last started"), null=True, blank=True)
    last_succeeded_at = models.DateTimeField(_("last succeeded"), null=True, blank=True)
    last_failed_at = models.DateTimeField(_("last failed"), null=True, blank=True)
    last_outcome = models.CharField(_("last outcome"), max_length=10, blank=True)
    last_duration_ms = models.PositiveIntegerField(_("last duration (ms)"), default=0)
    successes = models.PositiveIntegerField(_("successes"), default=0)
    failures = models.PositiveIntegerField(_("failures"), default=0)

    class Meta:
        verbose_name = _("scheduled job")
        verbose_name_plural = _("scheduled jobs")
        ordering = ["job"]

    def __str__(self) -> str:
        return f"{self.job}: {self.last_outcome or '—'}"


def _export_upload_to(job: "ExportJob", filename: str) -> str:
    return f"exports/{job.intake_round_id}/{filename}"


class ExportJob(models.Model):
    """A staff export too large to build inside a request (an XLSX of a big round), built by a
    background task into a file in the default storage, and downloaded by the staff member who
    asked for it when ready. The page that shows it refreshes itself while it is being built."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting")
        RUNNING = "running", _("Being built")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    intake_round = models.ForeignKey("programs.IntakeRound", on_delete=models.CASCADE,
                                     related_name="+", verbose_name=_("intake round"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                     related_name="+", verbose_name=_("asked for by"))
    what = models.CharField(_("table"), max_length=20)
    fmt = models.CharField(_("format"), max_length=10, default="xlsx")
    language = models.CharField(_("language"), max_length=8)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.QUEUED)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_done = models.PositiveIntegerField(_("rows written"), default=0)
    file = models.FileField(_("file"), upload_to=_export_upload_to, blank=True, max_length=300)
    size = models.PositiveBigIntegerField(_("size (bytes)"), default=0)
    error = models.CharField(_("error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("asked for"), default=timezone.now, db_index=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["requested_by", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.what}.{self.fmt} ({self.get_status_display()})"

    @property
    def pending(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return min(99, 100 * self.rows_done // self.rows_total) if self.rows_total else 0
