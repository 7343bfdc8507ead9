"""A candidate's personal data erased on request, everything at once (see `persons` for what is
removed and kept).

One transaction covers the nomination and what belongs to it, what mentors wrote about the
person (assignment reasons, meeting notes), and the mentor profile made from the person's own
alumni offer together with its account: a failure anywhere leaves all of it as it was.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from candidates.models import Nomination
from ecocycle.models import User
from ecocycle.services import audit_entry_create

from ..selectors import person_mentor_profiles
from .mentors import mentor_erase
from .persons import _apply, _plan, reason_required


@transaction.atomic
def person_erase(*, actor: User, nomination: Nomination, reason: str,
                 now: datetime | None = None) -> Nomination:
    """Anonymise one nomination on the person's request, whatever its state (see the module's
    notes for what is kept); admitted, enrolled and graduated candidates keep their statistical
    rows. A mentor profile made from the person's alumni offer is erased with them
    ("mentor_erase", same reason). Erasing an anonymised nomination again changes nothing.
    """
    reason = reason_required(reason)
    now = now or timezone.now()
    locked = Nomination.objects.select_for_update().get(pk=nomination.pk)
    if locked.anonymised_at is not None:
        return locked
    # Read before the nomination loses its enrolment's link to the profile's address.
    profiles = list(person_mentor_profiles(locked))
    plan = _plan([locked])
    _apply(plan, now)
    for profile in profiles:
        mentor_erase(actor=actor, mentor=profile, reason=reason, now=now)
    audit_entry_create(actor=actor, action="person_erase", target=locked,
                       after={"reason": reason, "counts": plan.counts(),
                              "mentor_profiles": [profile.pk for profile in profiles]})
    return locked
