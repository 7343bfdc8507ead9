"""Offers: the place an approved cohort (or a later wave) offers each admitted candidate, the
date by which they answer, and the answer."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from programs.models import DegreeTrack

from .cohorts import Cohort
from .nominations import Nomination


class Offer(models.Model):
    """A place offered to a candidate in a track, with its response deadline.

    A candidate has at most one open offer (pending or accepted) at a time; the offers that
    ended stay as the history of the nomination. While an offer is open the candidate holds an
    admission (`CohortAdmission`) in its track: an offer that ends without being taken up
    (declined, lapsed, withdrawn, no-show) gives the seat back by deleting the admission, so
    that the admissions always count the seats held.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the candidate's answer")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        LAPSED = "lapsed", _("Lapsed: not answered by the deadline")
        WITHDRAWN = "withdrawn", _("Candidate withdrew")
        NO_SHOW = "no_show", _("Did not take up the place")
        SUPERSEDED = "superseded", _("Replaced by an offer in a track ranked higher")
        CANCELLED = "cancelled", _("Taken back with the cohort's result")

    class DeclineReason(models.TextChoices):
        OTHER_OFFER = "other_offer", _("I accepted another offer")
        PERSONAL = "personal", _("Personal reasons")
        FUNDING = "funding", _("Funding")
        VISA = "visa", _("Visa")
        OTHER = "other", _("Other")

    # The statuses in which the candidate holds the seat.
    OPEN = (Status.PENDING, Status.ACCEPTED)
    # The statuses that give a seat back to the round, to be offered again in a later wave.
    VACATING = (Status.DECLINED, Status.LAPSED, Status.WITHDRAWN, Status.NO_SHOW)

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="offers",
                               verbose_name=_("cohort"))
    nomination = models.ForeignKey(Nomination, on_delete=models.CASCADE, related_name="offers",
                                   verbose_name=_("candidate"))
    track = models.ForeignKey(DegreeTrack, on_delete=models.PROTECT, related_name="offers",
                              verbose_name=_("degree track"))
    wave = models.PositiveSmallIntegerField(_("wave"), default=1)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices,
                              default=Status.PENDING)
    made_at = models.DateTimeField(_("offered"))
    deadline = models.DateTimeField(_("answer due by"))
    reminded_at = models.DateTimeField(_("reminder sent"), null=True, blank=True)
    responded_at = models.DateTimeField(_("answered"), null=True, blank=True)
    decline_reason = models.CharField(_("reason for declining"), max_length=12,
                                      choices=DeclineReason.choices, blank=True)
    decline_note = models.CharField(_("note"), max_length=500, blank=True)
    # Staff who recorded an answer received another way (None: the candidate's own answer).
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+",
                                    verbose_name=_("recorded by"))

    class Meta:
        verbose_name = _("offer")
        verbose_name_plural = _("offers")
        ordering = ["cohort", "-made_at", "-id"]
        indexes = [
            models.Index(fields=["cohort", "status"]),
            # The nightly lapse job and the reminders look up pending offers by deadline.
            models.Index(fields=["status", "deadline"]),
        ]
        constraints = [
            models.UniqueConstraint(fields=["nomination"],
                                    condition=models.Q(status__in=["pending", "accepted"]),
                                    name="offer_one_open_per_candidate"),
        ]

    def __str__(self) -> str:
        return f"{self.nomination} → {self.track} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN
