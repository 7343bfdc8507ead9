"""The composition's own records: the staff digests sent, and the scheduled jobs that failed."""

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
