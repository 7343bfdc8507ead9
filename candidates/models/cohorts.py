"""A round's cohort: the proposal staff review, their overrides, and the admissions."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ecocycle.models import TimeStampedModel
from programs.models import DegreeTrack, IntakeRound

from .matching import MatchRun
from .nominations import Nomination


class Cohort(TimeStampedModel):
    """The cohort of a round: the proposal staff review and, once approved, its record."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        APPROVED = "approved", _("Approved")

    intake_round = models.OneToOneField(IntakeRound, on_delete=models.CASCADE,
                                        related_name="cohort", verbose_name=_("intake round"))
    match_run = models.ForeignKey(MatchRun, on_delete=models.PROTECT, related_name="+",
                                  null=True, blank=True, verbose_name=_("proposal from run"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.PROPOSED)
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+",
                                    verbose_name=_("approved by"))
    run_requested_at = models.DateTimeField(_("run requested"), null=True, blank=True)
    # The latest later wave of offers approved (0: none yet; the approval is the first wave),
    # and the proposal of the next one, which refills the seats given back
    # (candidates.services.waves).
    wave = models.PositiveSmallIntegerField(_("latest wave of offers approved"), default=0)
    wave_run = models.ForeignKey(MatchRun, on_delete=models.PROTECT, related_name="+",
                                 null=True, blank=True,
                                 verbose_name=_("proposal of the next wave"))

    class Meta:
        verbose_name = _("cohort")
        verbose_name_plural = _("cohorts")

    def __str__(self) -> str:
        return f"{self.intake_round} ({self.get_status_display()})"


class CohortOverride(models.Model):
    """Staff's correction of a proposal: move a candidate to another track, or exclude them.

    Kept across re-runs of the matching (the run applies it) until staff clear it.
    """

    class Kind(models.TextChoices):
        MOVE = "move", _("Move to another track")
        EXCLUDE = "exclude", _("Exclude from the cohort")

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="overrides",
                               verbose_name=_("cohort"))
    nomination = models.ForeignKey(Nomination, on_delete=models.CASCADE,
                                   related_name="overrides", verbose_name=_("candidate"))
    kind = models.CharField(_("override"), max_length=10, choices=Kind.choices)
    track = models.ForeignKey(DegreeTrack, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", verbose_name=_("degree track"))
    reason = models.TextField(_("reason"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("made by"))
    created_at = models.DateTimeField(_("made"), auto_now_add=True)
    cleared_at = models.DateTimeField(_("cleared"), null=True, blank=True)
    cleared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("cleared by"))

    class Meta:
        verbose_name = _("cohort override")
        verbose_name_plural = _("cohort overrides")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["nomination"], condition=models.Q(cleared_at=None),
                                    name="override_one_active_per_candidate"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.nomination}"


class CohortAdmission(models.Model):
    """A candidate admitted to a track when the cohort was approved: the decision of record."""

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="admissions",
                               verbose_name=_("cohort"))
    nomination = models.OneToOneField(Nomination, on_delete=models.CASCADE,
                                      related_name="admission", verbose_name=_("candidate"))
    track = models.ForeignKey(DegreeTrack, on_delete=models.PROTECT, related_name="admissions",
                              verbose_name=_("degree track"))
    created_at = models.DateTimeField(_("admitted"), auto_now_add=True)

    class Meta:
        verbose_name = _("admission")
        verbose_name_plural = _("admissions")
        ordering = ["cohort", "track", "nomination"]

    def __str__(self) -> str:
        return f"{self.nomination} → {self.track}"


class CohortNotification(models.Model):
    """The emails that tell a cohort decision (approval, or its withdrawal by a reopening),
    written to the outbox by a background job, batch by batch.

    The job keeps its place in `cursor` (the last placement, by id, whose candidate's email is
    in the outbox) and in `universities_done`, each written in the same transaction as the
    emails it covers: a job run twice, or killed half-way and run again, writes every email
    once. A withdrawal tells only whom the approval's emails had reached (`placements_upto`,
    `tell_universities`).
    """

    class Kind(models.TextChoices):
        APPROVED = "approved", _("Cohort approved")
        WITHDRAWN = "withdrawn", _("Result withdrawn")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Writing the emails")
        DONE = "done", _("All emails in the outbox")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Stopped: the decision was taken back")

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="notifications",
                               verbose_name=_("cohort"))
    kind = models.CharField(_("decision"), max_length=10, choices=Kind.choices)
    match_run = models.ForeignKey(MatchRun, on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("run told"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.QUEUED)
    placements_upto = models.BigIntegerField(_("placements told up to"), null=True, blank=True)
    tell_universities = models.BooleanField(_("tell the universities"), default=True)
    universities_done = models.BooleanField(_("universities told"), default=False)
    cursor = models.BigIntegerField(_("last placement told"), default=0)
    candidates = models.PositiveIntegerField(_("candidates to tell"), default=0)
    queued = models.PositiveIntegerField(_("emails in the outbox"), default=0)
    universities_queued = models.PositiveIntegerField(_("universities' emails in the outbox"),
                                                      default=0)
    error = models.CharField(_("error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    failed_at = models.DateTimeField(_("failed"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("cohort notification")
        verbose_name_plural = _("cohort notifications")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.cohort} ({self.get_status_display()})"

    @property
    def candidates_told(self) -> int:
        return self.queued - self.universities_queued

    @property
    def percent(self) -> int:
        """How far the candidates' emails have come (the universities' go first)."""
        return 100 * self.candidates_told // self.candidates if self.candidates else 100
