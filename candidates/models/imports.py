"""CSV imports of nominations run by a background job: the uploaded file, how far the job got,
and what it found."""

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ecocycle.models import TimeStampedModel
from programs.models import IntakeRound, University


def import_upload_to(instance: "NominationImportJob", filename: str) -> str:
    # A random name: the coordinator's file name is kept in a column, never in the path.
    return f"imports/nominations/{secrets.token_hex(16)}.csv"


class NominationImportJob(TimeStampedModel):
    """One upload of a CSV file of nominations by a university's coordinator, imported all or
    nothing by a job (candidates.imports.nomination_import_job_run).

    `rows_checked` and `rows_imported` are written as the job goes, so that the page can show
    how far it got; `errors` holds every problem found, as [row, column, message]."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting to start")
        CHECKING = "checking", _("Checking the rows")
        IMPORTING = "importing", _("Importing")
        DONE = "done", _("Imported")
        REJECTED = "rejected", _("Not imported: the file has problems")
        FAILED = "failed", _("Stopped before it finished")

    intake_round = models.ForeignKey(IntakeRound, on_delete=models.CASCADE,
                                     related_name="nomination_imports",
                                     verbose_name=_("intake round"))
    university = models.ForeignKey(University, on_delete=models.CASCADE,
                                   related_name="nomination_imports",
                                   verbose_name=_("university"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="+",
                                     verbose_name=_("uploaded by"))
    file = models.FileField(_("file"), upload_to=import_upload_to, max_length=200)
    file_name = models.CharField(_("file name"), max_length=255, blank=True)
    # The uploader's language: the job's messages are written in it.
    language = models.CharField(_("language"), max_length=8, default="en")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.QUEUED)
    rows_total = models.PositiveIntegerField(_("rows in the file"), default=0)
    rows_checked = models.PositiveIntegerField(_("rows checked"), default=0)
    rows_imported = models.PositiveIntegerField(_("rows imported"), default=0)
    errors = models.JSONField(_("problems"), default=list, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    # Written with every step of progress: a running job whose heartbeat stopped was killed.
    heartbeat_at = models.DateTimeField(_("last progress"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("nomination import")
        verbose_name_plural = _("nomination imports")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["university", "intake_round", "-created_at"])]

    def __str__(self) -> str:
        return f"Import #{self.pk} {self.file_name} ({self.status})"
