"""The partner universities' coordinators and their invitations."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ecocycle.models import TimeStampedModel
from programs.models import IntakeRound, University


class Coordinator(TimeStampedModel):
    """A partner-university coordinator: a user account tied to exactly one university."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="coordinator",
        verbose_name=_("account"),
    )
    university = models.ForeignKey(
        University, on_delete=models.PROTECT, related_name="coordinators",
        verbose_name=_("university"),
    )
    timezone = models.CharField(_("time zone"), max_length=64, default="Asia/Jakarta")

    class Meta:
        verbose_name = _("university coordinator")
        verbose_name_plural = _("university coordinators")
        ordering = ["university__name", "user__email"]

    def __str__(self) -> str:
        return f"{self.user} ({self.university})"


class CoordinatorInvitation(TimeStampedModel):
    """Staff invite a coordinator by email; the emailed link lets them set a password."""

    email = models.EmailField(_("email address"))
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    university = models.ForeignKey(
        University, on_delete=models.CASCADE, related_name="invitations",
        verbose_name=_("university"),
    )
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default="en"
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
        verbose_name=_("invited by"),
    )
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("coordinator invitation")
        verbose_name_plural = _("coordinator invitations")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} → {self.university}"


class DeadlineReminder(models.Model):
    """The reminder a coordinator was sent before a round's nominations deadline: its record
    makes the reminder job safe to run twice (one per coordinator and round)."""

    coordinator = models.ForeignKey(Coordinator, on_delete=models.CASCADE,
                                    related_name="deadline_reminders",
                                    verbose_name=_("coordinator"))
    intake_round = models.ForeignKey(IntakeRound, on_delete=models.CASCADE,
                                     related_name="deadline_reminders",
                                     verbose_name=_("intake round"))
    deadline = models.DateTimeField(_("nominations deadline"))
    sent_at = models.DateTimeField(_("sent"))
    drafts = models.PositiveIntegerField(_("drafts not submitted"), default=0)
    consent_missing = models.PositiveIntegerField(_("candidates without consent"), default=0)

    class Meta:
        verbose_name = _("deadline reminder")
        verbose_name_plural = _("deadline reminders")
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(fields=["coordinator", "intake_round"],
                                    name="deadline_reminder_once_per_round"),
        ]

    def __str__(self) -> str:
        return f"{self.coordinator} · {self.intake_round}"
