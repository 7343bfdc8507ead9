"""A mentor's data exported or erased on request, like a candidate's (privacy.services).

Erasing a mentor:

* removed: the full name (becomes "Removed mentor #<id>"), the email (a unique address at a
  reserved domain that never receives mail), the institution retired from, expertise keywords,
  biography and availability dates; the mentor's own words in their assignments (reason for
  declining) and mentoring log (notes), and staff's reason for withdrawing an assignment; the
  account's name and email, its verified addresses and API tokens;
* kept, for statistics: the profile row (inactive), its language, languages spoken,
  expertise (core technologies), travel countries and capacity, every assignment (candidate,
  status, fit, dates) and every meeting (date and mode); the account row, deactivated;
* emails and the audit trail: as for a candidate (pending emails to them deleted, the others
  scrubbed, their name replaced in emails to others; audit entries kept but anonymised, also
  where they acted).
"""

from datetime import datetime
from typing import Any

from allauth.account.models import EmailAddress
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ecocycle.exceptions import DomainError
from ecocycle.models import ApiToken, User
from ecocycle.services import audit_entry_create
from mentors.models import Mentor, MentorAssignment, MentoringActivity

from ..selectors import (
    REMOVED,
    REMOVED_EMAIL_DOMAIN,
    _mentor_audit_entries,
    _mentor_audit_targets,
    audit_entries_json,
    emails_json,
    mentor_is_erased,
    row_json,
)
from .persons import audit_trail_anonymise, outbound_emails_anonymise

EXPORT_FORMAT = "ecocycle-mentor-export/1"
MENTOR_PERSONAL_AUDIT_FIELDS = frozenset({
    "full_name", "email", "retired_from", "keywords", "biography", "available_from",
    "available_until", "reason", "decline_reason", "withdraw_reason", "notes",
})


def mentor_label(mentor_id: int) -> str:
    return f"Removed mentor #{mentor_id}"


def mentor_export(*, actor: User, mentor: Mentor) -> dict[str, Any]:
    """Everything held about the mentor, as JSON-serialisable data. Audited ("mentor_export")."""
    mentor = Mentor.objects.select_related("user").prefetch_related("expertise").get(pk=mentor.pk)
    user = mentor.user
    assignments = MentorAssignment.objects.filter(mentor=mentor).order_by("created_at", "id")
    activities = MentoringActivity.objects.filter(assignment__mentor=mentor).order_by("date", "id")
    data = {
        "format": EXPORT_FORMAT,
        "exported_at": timezone.now().isoformat(),
        "mentor": {**row_json(mentor),
                   "expertise": sorted(t.name for t in mentor.expertise.all())},
        "account": None if user is None else {
            "email": user.email, "full_name": user.full_name, "role": user.role,
            "language": user.language, "is_active": user.is_active,
            "date_joined": user.date_joined.isoformat(),
            "last_login": user.last_login.isoformat() if user.last_login else None,
        },
        "assignments": [row_json(a, exclude={"mentor"}) for a in assignments],
        "mentoring_log": [row_json(a) for a in activities],
        "emails": emails_json(mentor.email),
        "audit_trail": audit_entries_json(_mentor_audit_entries(mentor)),
    }
    with transaction.atomic():
        audit_entry_create(actor=actor, action="mentor_export", target=mentor,
                           after={"format": EXPORT_FORMAT})
    return data


@transaction.atomic
def mentor_erase(*, actor: User, mentor: Mentor, reason: str,
                 now: datetime | None = None) -> Mentor:
    """Anonymise and deactivate a mentor and their account on request (see the module's
    notes); assignments stay for statistics. Erasing an erased mentor changes nothing."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError({"reason": _(
            "Give the reason for erasing this person's data, for example when and how they "
            "asked for it.")})
    locked = Mentor.objects.select_for_update(of=("self",)).select_related("user").get(pk=mentor.pk)
    if mentor_is_erased(locked):
        return locked
    now = now or timezone.now()
    label = mentor_label(locked.pk)
    old_email, old_names = locked.email, [locked.full_name]
    user = locked.user
    if user is not None:
        old_names.append(user.full_name)
    targets = _mentor_audit_targets(locked)
    outbound_emails_anonymise(
        addresses=[old_email, *([user.email] if user else [])], names=old_names, label=label)
    audit_trail_anonymise(targets=targets, label=label, fields=MENTOR_PERSONAL_AUDIT_FIELDS,
                          actors=[user] if user else [])
    placeholder = f"removed-mentor-{locked.pk}@{REMOVED_EMAIL_DOMAIN}"
    Mentor.objects.filter(pk=locked.pk).update(
        full_name=label, email=placeholder, retired_from="", keywords="", biography="",
        available_from=None, available_until=None, is_active=False, updated_at=now)
    MentorAssignment.objects.filter(mentor=locked).exclude(decline_reason="").update(
        decline_reason=REMOVED)
    MentorAssignment.objects.filter(mentor=locked).exclude(withdraw_reason="").update(
        withdraw_reason=REMOVED)
    MentoringActivity.objects.filter(assignment__mentor=locked).exclude(notes="").update(
        notes=REMOVED)
    if user is not None:
        user.email = f"removed-user-{user.pk}@{REMOVED_EMAIL_DOMAIN}"
        user.full_name, user.is_active = label, False
        user.set_unusable_password()
        user.save(update_fields=["email", "full_name", "is_active", "password"])
        EmailAddress.objects.filter(user=user).delete()
        ApiToken.objects.filter(user=user).delete()
    locked.refresh_from_db()
    audit_entry_create(actor=actor, action="mentor_erase", target=locked,
                       after={"reason": reason[:2000]})
    return locked


@transaction.atomic
def mentee_notes_anonymise() -> int:
    """What mentors wrote about candidates whose data was removed: decline and withdraw
    reasons, meeting notes. Retention and erasure clear them at once; the nightly job catches
    what was written afterwards. Safe to run twice."""
    gone = MentorAssignment.objects.filter(nomination__anonymised_at__isnull=False)
    changed = gone.exclude(decline_reason__in=["", REMOVED]).update(decline_reason=REMOVED)
    changed += gone.exclude(withdraw_reason__in=["", REMOVED]).update(withdraw_reason=REMOVED)
    changed += MentoringActivity.objects.filter(
        assignment__nomination__anonymised_at__isnull=False).exclude(
        notes__in=["", REMOVED]).update(notes=REMOVED)
    return changed
