"""A new email address the candidate typed on their own page, waiting for its confirmation
through the link sent to it."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from .nominations import Nomination


class CandidateEmailChange(models.Model):
    """The address replaces the nomination's only once the link sent to it is followed: a typo
    never cuts the candidate off. A newer request replaces a pending one (its link dies)."""

    nomination = models.ForeignKey(Nomination, on_delete=models.CASCADE,
                                   related_name="email_changes", verbose_name=_("candidate"))
    new_email = models.EmailField(_("new email address"))
    requested_at = models.DateTimeField(_("requested"))
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)

    class Meta:
        verbose_name = _("email change")
        verbose_name_plural = _("email changes")
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"{self.nomination_id}: {self.new_email}"
