"""The mentoring log: meetings and visits a mentor records for an accepted mentee."""

from datetime import date, datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ecocycle.exceptions import DomainError
from ecocycle.models import User
from ecocycle.services import model_create

from ..models import MentorAssignment, MentoringActivity


@transaction.atomic
def mentoring_activity_record(
    *, actor: User, assignment: MentorAssignment, date: date, mode: str, notes: str = "",
    now: datetime | None = None,
) -> MentoringActivity:
    """Record one meeting or visit. Only for an accepted mentorship, by its mentor or staff."""
    if not actor.is_kitech_staff and assignment.mentor.user_id != actor.pk:
        raise DomainError(_("You can record meetings only for your own mentees."))
    if assignment.status != MentorAssignment.Status.ACCEPTED:
        raise DomainError(_("Meetings can be recorded once the mentorship is accepted."))
    if date > timezone.localdate(now or timezone.now()):
        raise DomainError({"date": _("The date cannot be in the future.")})
    return model_create(model=MentoringActivity, actor=actor, data={
        "assignment": assignment, "date": date, "mode": mode, "notes": (notes or "").strip(),
        "recorded_by": actor,
    })
