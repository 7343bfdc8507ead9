"""Scoring and cohort matching runs: the policy, the scores, each run's placements and tracks."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ecocycle.models import TimeStampedModel
from programs.models import DegreeTrack, IntakeRound, Program

from .nominations import Nomination


class ScoringPolicy(TimeStampedModel):
    """How a program's degree tracks rank candidates: the weight of each criterion."""

    program = models.OneToOneField(
        Program, on_delete=models.CASCADE, related_name="scoring_policy", verbose_name=_("program")
    )
    weight_gpa = models.PositiveSmallIntegerField(_("weight of the normalised GPA"), default=35)
    weight_language = models.PositiveSmallIntegerField(_("weight of the language score"),
                                                       default=15)
    weight_coursework = models.PositiveSmallIntegerField(
        _("weight of the coursework fit"), default=25,
        help_text=_("Share of the track's wanted core technologies the completed courses cover."),
    )
    weight_interests = models.PositiveSmallIntegerField(
        _("weight of the research-interest fit"), default=15,
        help_text=_("Words shared by the research interests and the track's wanted background."),
    )
    weight_university_rank = models.PositiveSmallIntegerField(
        _("weight of the university's own rank"), default=10
    )

    class Meta:
        verbose_name = _("scoring policy")
        verbose_name_plural = _("scoring policies")

    def __str__(self) -> str:
        return str(self.program)

    def weights(self) -> dict[str, int]:
        return {"gpa": self.weight_gpa, "language": self.weight_language,
                "coursework": self.weight_coursework, "interests": self.weight_interests,
                "university_rank": self.weight_university_rank}


class NominationScore(models.Model):
    """A nomination's score for one track it ranked, with the parts it is made of."""

    # No database-level foreign keys: scores are derived, rewritten every night by the hundred
    # thousand, and the row-by-row key checks were most of that write's time (issue 16). Django
    # still deletes them with their nomination or track, and the erasure lists them.
    nomination = models.ForeignKey(Nomination, on_delete=models.CASCADE, related_name="scores",
                                   verbose_name=_("nomination"), db_constraint=False)
    track = models.ForeignKey(DegreeTrack, on_delete=models.CASCADE, related_name="scores",
                              verbose_name=_("degree track"), db_constraint=False)
    total = models.DecimalField(_("score"), max_digits=7, decimal_places=4)
    components = models.JSONField(_("components"), default=dict)
    computed_at = models.DateTimeField(_("computed"))

    class Meta:
        verbose_name = _("score")
        verbose_name_plural = _("scores")
        constraints = [
            models.UniqueConstraint(fields=["nomination", "track"], name="score_unique_pair"),
        ]

    def __str__(self) -> str:
        return f"{self.nomination} → {self.track}: {self.total}"


class MatchRun(models.Model):
    """One run of a matching job: what went in (digest), what came out, how long it took."""

    class Kind(models.TextChoices):
        COHORT = "cohort", _("Cohort")
        MENTOR = "mentor", _("Mentor")
        CAREER = "career", _("Career")

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("Nightly schedule")
        STAFF = "staff", _("Staff")
        COMMAND = "command", _("Command")

    class Status(models.TextChoices):
        # A cohort run writing its placements in short transactions: nothing shows it, and a
        # run left staging by a crash is deleted by the next run of its round.
        STAGING = "staging", _("Being written")
        SUCCEEDED = "succeeded", _("Succeeded")
        SUPERSEDED = "superseded", _("Superseded")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    # None for career runs, which take every student close to graduation, whatever the round.
    intake_round = models.ForeignKey(IntakeRound, on_delete=models.CASCADE, null=True, blank=True,
                                     related_name="match_runs", verbose_name=_("intake round"))
    trigger = models.CharField(_("trigger"), max_length=10, choices=Trigger.choices)
    triggered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="+",
                                     verbose_name=_("triggered by"))
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    input_digest = models.CharField(_("input digest"), max_length=64, blank=True)
    output_digest = models.CharField(_("output digest"), max_length=64, blank=True)
    counts = models.JSONField(_("counts"), default=dict)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("match run")
        verbose_name_plural = _("match runs")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["intake_round", "kind", "status"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} {self.intake_round} ({self.status})"


class Placement(models.Model):
    """A nomination's outcome in a cohort run: the track it was placed in, or why not."""

    match_run = models.ForeignKey(MatchRun, on_delete=models.CASCADE, related_name="placements",
                                  verbose_name=_("match run"))
    nomination = models.ForeignKey(Nomination, on_delete=models.CASCADE,
                                   related_name="placements", verbose_name=_("nomination"))
    track = models.ForeignKey(DegreeTrack, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="placements", verbose_name=_("degree track"))
    choice_rank = models.PositiveSmallIntegerField(_("candidate's rank of the track"), null=True,
                                                   blank=True)
    score = models.DecimalField(_("score"), max_digits=7, decimal_places=4, null=True,
                                blank=True)
    reasons = models.JSONField(_("why not placed"), default=list, blank=True)

    class Meta:
        verbose_name = _("placement")
        verbose_name_plural = _("placements")
        ordering = ["match_run", "track", "-score"]
        constraints = [
            models.UniqueConstraint(fields=["match_run", "nomination"],
                                    name="placement_unique_nomination"),
        ]

    def __str__(self) -> str:
        return f"{self.nomination} → {self.track or '—'}"


class MatchRunTrack(models.Model):
    """A track's figures in a cohort run: seats, how many were placed, and its cut-off."""

    match_run = models.ForeignKey(MatchRun, on_delete=models.CASCADE, related_name="track_results",
                                  verbose_name=_("match run"))
    track = models.ForeignKey(DegreeTrack, on_delete=models.PROTECT, related_name="+",
                              verbose_name=_("degree track"))
    seats = models.PositiveIntegerField(_("seats"))
    placed = models.PositiveIntegerField(_("placed"))
    applicants = models.PositiveIntegerField(_("candidates who ranked it"))
    cutoff_rank = models.PositiveIntegerField(_("cut-off rank"), null=True, blank=True)
    cutoff_score = models.DecimalField(_("cut-off score"), max_digits=7, decimal_places=4,
                                       null=True, blank=True)

    class Meta:
        verbose_name = _("track result")
        verbose_name_plural = _("track results")
        constraints = [
            models.UniqueConstraint(fields=["match_run", "track"], name="run_track_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.track}: {self.placed}/{self.seats}"
