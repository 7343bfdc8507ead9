"""The partner universities' coordinators and their invitations."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ecocycle.models import TimeStampedModel
from programs.models import University


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
