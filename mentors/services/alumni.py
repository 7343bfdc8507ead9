"""Alumni who offer to mentor the next cohort: a paused mentor profile for staff to confirm."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ecocycle.exceptions import DomainError
from ecocycle.models import User
from ecocycle.services import audit_entry_create
from students.models import AlumniOutcome, Enrolment

from .. import fit as mentor_fit
from ..models import Mentor
from .profiles import mentor_create


@transaction.atomic
def mentor_profile_from_alumnus(*, actor: User | None, enrolment: Enrolment) -> Mentor | None:
    """The alumnus's offer to mentor becomes a paused profile; None when there is nothing to do
    (no offer, a profile already, or a mentor with that address already)."""
    enrolment = Enrolment.objects.select_related(
        "nomination", "admission__track", "outcome").get(pk=enrolment.pk)
    outcome = getattr(enrolment, "outcome", None)
    if outcome is None or not outcome.offers_to_mentor:
        return None
    if Mentor.objects.filter(alumnus=enrolment).exists():
        return None
    nomination = enrolment.nomination
    existing = Mentor.objects.filter(email__iexact=nomination.email).first()
    if existing is not None:
        if existing.alumnus_id is None:
            existing.alumnus = enrolment
            existing.save(update_fields=["alumnus", "updated_at"])
            audit_entry_create(actor=actor, action="mentor_link_alumnus", target=existing,
                               after={"alumnus": enrolment.pk})
        return None
    track = enrolment.admission.track
    languages = mentor_fit.mentee_languages(nomination.candidate_language,
                                            nomination.language_test) | {"en"}
    return mentor_create(actor=actor, data={
        "full_name": nomination.display_name, "email": nomination.email,
        "language": nomination.candidate_language,
        "retired_from": outcome.organisation or str(track),
        "keywords": enrolment.thesis_title[:300],
        "languages_spoken": ",".join(sorted(languages)),
        "travel_countries": [str(nomination.nationality)] if nomination.nationality else [],
        "capacity": 1, "is_active": False, "alumnus": enrolment,
        "expertise": list(track.wanted_technologies.all()),
        "biography": _("UST-KITECH alumnus (%(track)s), now at %(organisation)s.") % {
            "track": track, "organisation": outcome.organisation or "—"},
    })


def alumni_mentor_profiles_create(*, now: datetime | None = None) -> int:
    """Every alumnus who offered to mentor and has no profile yet gets one. Safe to rerun."""
    offers = (AlumniOutcome.objects.filter(offers_to_mentor=True,
                                           enrolment__mentor_profile__isnull=True,
                                           enrolment__nomination__anonymised_at__isnull=True)
              .values_list("enrolment_id", flat=True).order_by("enrolment_id"))
    created = 0
    for enrolment in Enrolment.objects.filter(pk__in=list(offers)).order_by("id"):
        created += mentor_profile_from_alumnus(actor=None, enrolment=enrolment) is not None
    return created


@transaction.atomic
def mentor_confirm(*, actor: User, mentor: Mentor, now: datetime | None = None) -> Mentor:
    """Staff confirm an alumnus's profile: it becomes active and can be proposed."""
    mentor = Mentor.objects.select_for_update().get(pk=mentor.pk)
    if mentor.confirmed_at is not None:
        raise DomainError(_("%(mentor)s is confirmed already.") % {"mentor": mentor})
    mentor.confirmed_at, mentor.is_active = now or timezone.now(), True
    mentor.save(update_fields=["confirmed_at", "is_active", "updated_at"])
    audit_entry_create(actor=actor, action="mentor_confirm", target=mentor,
                       before={"is_active": False, "confirmed_at": None},
                       after={"is_active": True, "confirmed_at": mentor.confirmed_at})
    return mentor
