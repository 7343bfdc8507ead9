"""Staff's what-ifs: a cohort proposal with other seats and weights, computed by a task and kept
beside the round's current run so that its page reads a stored result."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ecocycle.models import TimeStampedModel
from programs.models import IntakeRound

from .matching import MatchRun


class WhatIfRun(TimeStampedModel):
    """One what-if of a round: what staff asked for, against which state of the round, and what
    would change. Only the candidates whose outcome changes are kept (bounded by the seats, not
    by the number of nominations)."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    intake_round = models.ForeignKey(IntakeRound, on_delete=models.CASCADE,
                                     related_name="whatif_runs", verbose_name=_("intake round"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="+",
                                     verbose_name=_("requested by"))
    seats = models.JSONField(_("seats per track"), default=dict)
    weights = models.JSONField(_("scoring weights"), default=dict)
    params_digest = models.CharField(_("parameters digest"), max_length=64)
    base_run = models.ForeignKey(MatchRun, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+", verbose_name=_("current run"))
    # The current run's input digest with what changed since (overrides, nominations): a
    # repeated what-if is only reused while this is the same.
    base_digest = models.CharField(_("input digest"), max_length=64)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.QUEUED)
    tracks = models.JSONField(_("track figures"), default=list, blank=True)
    changes = models.JSONField(_("changed candidates"), default=list, blank=True)
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("what-if")
        verbose_name_plural = _("what-ifs")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["intake_round", "params_digest", "base_digest"])]

    def __str__(self) -> str:
        return f"What-if #{self.pk} {self.intake_round} ({self.status})"

    @property
    def pending(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)
