"""Retired-scientist mentors and their assignments to admitted candidates."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from candidates.models import MatchRun, Nomination
from ecocycle.models import TimeStampedModel
from programs.models import CoreTechnology
from students.models import Enrolment


class Mentor(TimeStampedModel):
    """A retired Korean scientist who mentors candidates; may never log in at all."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="mentor", verbose_name=_("account"),
    )
    full_name = models.CharField(_("full name"), max_length=200)
    email = models.EmailField(_("email address"), unique=True)
    language = models.CharField(_("preferred language"), max_length=8,
                                choices=settings.LANGUAGES, default="ko")
    retired_from = models.CharField(_("institution retired from"), max_length=200, blank=True)
    expertise = models.ManyToManyField(CoreTechnology, blank=True, related_name="mentors",
                                       verbose_name=_("expertise (core technologies)"))
    keywords = models.CharField(_("expertise keywords"), max_length=300, blank=True,
                                help_text=_("Comma-separated."))
    languages_spoken = models.CharField(
        _("languages spoken"), max_length=100, default="ko,en",
        help_text=_("ISO 639-1 codes, comma-separated, e.g. ko,en,id."),
    )
    travel_countries = CountryField(_("countries willing to travel to"), multiple=True,
                                    blank=True)
    capacity = models.PositiveSmallIntegerField(_("most mentees at a time"), default=2)
    available_from = models.DateField(_("available from"), null=True, blank=True)
    available_until = models.DateField(_("available until"), null=True, blank=True)
    biography = models.TextField(_("short biography"), blank=True)
    is_active = models.BooleanField(_("active"), default=True,
                                    help_text=_("Paused mentors are not proposed."))
    # An alumnus who offered to mentor: the profile waits, paused, until staff confirm it.
    alumnus = models.OneToOneField(Enrolment, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="mentor_profile",
                                   verbose_name=_("alumnus of the program"))
    confirmed_at = models.DateTimeField(_("confirmed by staff"), null=True, blank=True)

    class Meta:
        verbose_name = _("mentor")
        verbose_name_plural = _("mentors")
        ordering = ["full_name"]

    def __str__(self) -> str:
        return self.full_name

    @property
    def language_codes(self) -> frozenset[str]:
        return frozenset(c.strip().lower() for c in self.languages_spoken.split(",") if c.strip())


class MentorAssignment(TimeStampedModel):
    """A mentor proposed for, invited to, or mentoring one admitted candidate."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        INVITED = "invited", _("Invited")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        EXPIRED = "expired", _("Expired")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    ACTIVE = (Status.PROPOSED, Status.INVITED, Status.ACCEPTED)

    nomination = models.ForeignKey(Nomination, on_delete=models.CASCADE,
                                   related_name="mentor_assignments",
                                   verbose_name=_("candidate"))
    mentor = models.ForeignKey(Mentor, on_delete=models.PROTECT, related_name="assignments",
                               verbose_name=_("mentor"))
    match_run = models.ForeignKey(MatchRun, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="mentor_assignments",
                                  verbose_name=_("proposed by run"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.PROPOSED, db_index=True)
    fit = models.DecimalField(_("fit"), max_digits=7, decimal_places=4, null=True, blank=True)
    fit_components = models.JSONField(_("fit components"), default=dict, blank=True)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+",
                                    verbose_name=_("proposed by (staff)"))
    invited_at = models.DateTimeField(_("invited"), null=True, blank=True)
    expires_at = models.DateTimeField(_("invitation expires"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminder sent"), null=True, blank=True)
    responded_at = models.DateTimeField(_("answered"), null=True, blank=True)
    decline_reason = models.TextField(_("reason for declining"), blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    withdraw_reason = models.TextField(_("reason for withdrawing"), blank=True)

    class Meta:
        verbose_name = _("mentor assignment")
        verbose_name_plural = _("mentor assignments")
        ordering = ["-created_at", "-id"]
        constraints = [
            # One live mentor per candidate, whatever races: proposed, invited or accepted.
            models.UniqueConstraint(
                fields=["nomination"],
                condition=models.Q(status__in=["proposed", "invited", "accepted"]),
                name="assignment_one_active_per_candidate",
            ),
        ]
        indexes = [models.Index(fields=["status", "expires_at"])]

    def __str__(self) -> str:
        return f"{self.mentor} → {self.nomination} ({self.status})"


class MentoringActivity(TimeStampedModel):
    """A meeting or a visit a mentor records for one of their accepted mentees."""

    class Mode(models.TextChoices):
        ONLINE = "online", _("Online")
        VISIT = "visit", _("Visit to the country")
        IN_KOREA = "in_korea", _("In person in Korea")

    assignment = models.ForeignKey(MentorAssignment, on_delete=models.CASCADE,
                                   related_name="activities", verbose_name=_("assignment"))
    date = models.DateField(_("date"))
    mode = models.CharField(_("mode"), max_length=10, choices=Mode.choices)
    notes = models.TextField(_("notes"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+",
                                    verbose_name=_("recorded by"))

    class Meta:
        verbose_name = _("mentoring activity")
        verbose_name_plural = _("mentoring log")
        ordering = ["-date", "-id"]

    def __str__(self) -> str:
        return f"{self.date} {self.get_mode_display()} ({self.assignment_id})"
