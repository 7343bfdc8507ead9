"""Candidates and their nominations, and the coordinators who submit them."""

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
