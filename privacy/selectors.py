"""Reads of data protection: who a person is and what is held about them, the retention job's
list, and the plain-JSON form of records for exports. Staff pages and the services read here."""

from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Lower
from django.http import Http404
from django.utils import timezone

from candidates.models import (
    CandidateEmailChange,
    CohortAdmission,
    CohortOverride,
    DuplicateAttempt,
    Nomination,
    NominationCourse,
    NominationDocument,
    NominationPreference,
    NominationScore,
    Offer,
    Placement,
)
from ecocycle.models import AuditEntry, OutboundEmail
from mentors.models import Mentor, MentorAssignment, MentoringActivity
from programs.models import RoundMilestone
from students.models import AlumniOutcome, CareerProposal, Enrolment, ProgressMilestone

REMOVED = "[removed]"


# Reserved top-level domain (RFC 2606): an address there can never receive mail.
REMOVED_EMAIL_DOMAIN = "removed.invalid"


# Rows per query where lists of ids or names go into one statement (SQLite's expression depth).
CHUNK = 50


def _chunks(items: Sequence, size: int = CHUNK) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _audit_entries(keys: Iterable[tuple[int, str]]) -> list[AuditEntry]:
    """The entries about the given (content type id, record id) pairs, in a few queries."""
    by_type: dict[int, list[str]] = defaultdict(list)
    for content_type_id, target_id in dict.fromkeys(keys):
        by_type[content_type_id].append(target_id)
    entries = []
    for content_type_id, ids in by_type.items():
        for chunk in _chunks(ids, 500):
            entries += AuditEntry.objects.filter(target_type_id=content_type_id,
                                                 target_id__in=list(chunk))
    return entries


# Every row that belongs to a nomination, two levels deep: (model, its link to the parent,
# the rows that belong to it in turn). Listed here rather than found from model metadata, so
# that what an erasure reaches is read in one place; a test checks that no app added a row
# that belongs to a nomination without adding it here. A SET_NULL link (a mentor who is an
# alumnus) lives on its own and is not listed.
OWNED_BY_NOMINATION: tuple = (
    (NominationPreference, "nomination", ()),
    (NominationCourse, "nomination", ()),
    (NominationDocument, "nomination", ()),
    (DuplicateAttempt, "nomination", ()),
    (NominationScore, "nomination", ()),
    (Placement, "nomination", ()),
    (CohortOverride, "nomination", ()),
    (Offer, "nomination", ()),
    (CandidateEmailChange, "nomination", ()),
    (CohortAdmission, "nomination", ((Enrolment, "admission", ()),)),
    (Enrolment, "nomination", ((ProgressMilestone, "enrolment", ()),
                               (CareerProposal, "enrolment", ()),
                               (AlumniOutcome, "enrolment", ()))),
    (MentorAssignment, "nomination", ((MentoringActivity, "assignment", ()),)),
)


def _owned_rows(nomination_ids: Sequence[int]) -> dict[tuple[int, str], int]:
    """(content type id, record id) of every row that belongs to the nominations, mapped to the
    nomination. A fixed number of queries whatever the number of nominations."""
    owner: dict[tuple[int, str], int] = {}
    frontier: list[tuple[tuple, dict[Any, int]]] = [
        (OWNED_BY_NOMINATION, {pk: pk for pk in nomination_ids})]
    while frontier:
        owned, ids = frontier.pop(0)
        if not ids:
            continue
        for model, link, children in owned:
            content_type = ContentType.objects.get_for_model(model, for_concrete_model=False)
            found: dict[Any, int] = {}
            for chunk in _chunks(list(ids), 500):
                for pk, parent in model._default_manager.filter(
                        **{f"{link}__in": list(chunk)}).values_list("pk", f"{link}_id"):
                    found[pk] = ids[parent]
            for pk, nomination_id in found.items():
                owner.setdefault((content_type.pk, str(pk)), nomination_id)
            if children:
                frontier.append((children, found))
    return owner


def _retention_days() -> int:
    return int(settings.ECOCYCLE_RETENTION_DAYS)


def retention_due(*, now: datetime | None = None) -> QuerySet[Nomination]:
    """Nominations without an admission whose round's decisions are older than the retention
    period, not yet anonymised: drafts, withdrawn and refused alike. Annotated `decisions_at`.

    An admitted candidate (a CohortAdmission) is never in it; neither is a round without a
    decisions milestone.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=_retention_days())
    decisions = RoundMilestone.objects.filter(
        intake_round=OuterRef("intake_round"), kind=RoundMilestone.Kind.DECISIONS,
    ).values("at")[:1]
    return (
        Nomination.objects.filter(anonymised_at__isnull=True, admission__isnull=True)
        .annotate(decisions_at=Subquery(decisions))
        .filter(decisions_at__lte=cutoff)
        .select_related("intake_round", "university")
        .order_by("intake_round_id", "university_id", "id")
    )


def person_get(pk: int) -> Nomination:
    """The nomination whose person the staff page is about, with what the page shows."""
    nomination = Nomination.objects.select_related("intake_round__program", "university").filter(
        pk=pk).first()
    if nomination is None:
        raise Http404
    return nomination


def mentor_get(pk: int) -> Mentor:
    mentor = Mentor.objects.select_related("user").filter(pk=pk).first()
    if mentor is None:
        raise Http404
    return mentor


def person_search(*, query: str, limit: int = 50) -> QuerySet[Nomination]:
    """Nominations whose names or email match every word of `query` ("#12" finds by id)."""
    query = (query or "").strip()
    base = Nomination.objects.select_related(
        "intake_round__program", "university", "admission").order_by("family_name", "id")
    if query.lstrip("#").isdigit():
        return base.filter(pk=int(query.lstrip("#")))[:limit]
    words = query.split()
    if not words or len(query) < 2:
        return base.none()
    condition = Q()
    for word in words[:6]:
        condition &= (Q(family_name__icontains=word) | Q(given_names__icontains=word)
                      | Q(native_name__icontains=word) | Q(email__icontains=word))
    return base.filter(condition)[:limit]


def person_nominations(nomination: Nomination) -> QuerySet[Nomination]:
    """The person's other nominations (same passport, email, or name and date of birth)."""
    same = Q(pk__in=[])
    for name in ("passport_digest", "person_digest", "email_normalised"):
        value = getattr(nomination, name)
        if value:
            same |= Q(**{name: value})
    return (Nomination.objects.filter(same).exclude(pk=nomination.pk)
            .select_related("intake_round", "university").order_by("id"))


def person_mentor_profiles(nomination: Nomination) -> QuerySet[Mentor]:
    """Mentor profiles made from the person's own alumni offer (not erased yet): an erasure of
    the person erases them too."""
    return (Mentor.objects.filter(alumnus__nomination=nomination)
            .exclude(email__endswith="@" + REMOVED_EMAIL_DOMAIN)
            .select_related("user").order_by("id"))


def person_held(nomination: Nomination) -> dict[str, int]:
    """How much is held about the person: counts for the staff page."""
    return {
        "documents": nomination.documents.count(),
        "emails": OutboundEmail.objects.annotate(to_lower=Lower("to")).filter(
            to_lower=nomination.email.strip().lower()).count() if nomination.email else 0,
        "audit_entries": len(_audit_entries(
            [(ContentType.objects.get_for_model(Nomination).pk, str(nomination.pk)),
             *_owned_rows([nomination.pk])])),
    }


def _json(value: Any) -> Any:
    """A field value as plain JSON."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.fields.files.FieldFile):
        return value.name or None
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_json(v) for v in value]
    if hasattr(value, "code") and hasattr(value, "name"):  # a country
        return value.code or None
    return str(value)


def row_json(instance: models.Model, *, exclude: Collection[str] = ()) -> dict[str, Any]:
    """A record's stored values as plain JSON: concrete fields (foreign keys as ids)."""
    row: dict[str, Any] = {"id": instance.pk}
    for model_field in instance._meta.concrete_fields:
        if model_field.primary_key or model_field.name in exclude:
            continue
        key = model_field.attname if model_field.is_relation else model_field.name
        row[key] = _json(model_field.value_from_object(instance))
    return row


def audit_entries_json(entries: Iterable[AuditEntry]) -> list[dict[str, Any]]:
    return [{"when": _json(e.created_at), "who": e.actor_label, "action": e.action,
             "record": e.target_repr, "record_type": e.target_type.model,
             "record_id": e.target_id, "before": _json(e.before), "after": _json(e.after)}
            for e in sorted(entries, key=lambda e: (e.created_at, e.pk))]


def emails_json(address: str) -> list[dict[str, Any]]:
    if not address:
        return []
    rows = OutboundEmail.objects.annotate(to_lower=Lower("to")).filter(
        to_lower=address.strip().lower()).order_by("created_at", "id")
    return [{"topic": e.topic, "to": e.to, "language": e.language, "subject": e.subject,
             "status": e.status, "queued": _json(e.created_at), "sent": _json(e.sent_at)}
            for e in rows]


def _nomination_json(n: Nomination) -> dict[str, Any]:
    """The nomination and what hangs on it, prefetched by person_export."""
    return {
        "nomination": {
            **row_json(n, exclude={"passport_digest", "person_digest", "email_normalised"}),
            "program": n.intake_round.program.name, "intake_round": n.intake_round.name,
            "university_name": n.university.name,
        },
        "preferences": [{"rank": p.rank, "track_id": p.track_id, "track": str(p.track)}
                        for p in n.preferences.all()],
        "courses": [{"name": c.name, "grade": c.grade,
                     "technologies": sorted(t.name for t in c.technologies.all())}
                    for c in n.courses.all()],
        "documents": [{"kind": d.kind, "file_name": d.original_name,
                       "content_type": d.content_type, "size": d.size, "sha256": d.sha256,
                       "uploaded": _json(d.created_at)} for d in n.documents.all()],
        "scores": [{"track_id": s.track_id, "track": str(s.track), "total": _json(s.total),
                    "components": _json(s.components), "computed": _json(s.computed_at)}
                   for s in n.scores.all()],
        "placements": [row_json(p, exclude={"nomination"}) for p in n.placements.all()],
        "overrides": [row_json(o, exclude={"nomination"}) for o in n.overrides.all()],
        "duplicate_refusals": [row_json(d, exclude={"nomination"})
                               for d in n.duplicate_attempts.all()],
    }


def _enrolment_json(n: Nomination) -> dict[str, Any] | None:
    enrolment = Enrolment.objects.filter(nomination=n).prefetch_related(
        "milestones", "career_proposals__company").select_related("outcome").first()
    if enrolment is None:
        return None
    outcome = getattr(enrolment, "outcome", None)
    return {
        **row_json(enrolment, exclude={"nomination"}),
        "milestones": [row_json(m, exclude={"enrolment"}) for m in enrolment.milestones.all()],
        "career_proposals": [{**row_json(c, exclude={"enrolment"}),
                              "company_name": str(c.company)}
                             for c in enrolment.career_proposals.all()],
        "alumni_outcome": row_json(outcome, exclude={"enrolment"}) if outcome else None,
    }


# --- mentors ---------------------------------------------------------------------------------

def mentor_is_erased(mentor: Mentor) -> bool:
    return mentor.email.endswith("@" + REMOVED_EMAIL_DOMAIN)


def mentor_search(*, query: str, limit: int = 50) -> QuerySet[Mentor]:
    """Mentors whose name or email match every word of `query`."""
    query = (query or "").strip()
    base = Mentor.objects.select_related("user").order_by("full_name", "id")
    if query.lstrip("#").isdigit():
        return base.filter(pk=int(query.lstrip("#")))[:limit]
    words = query.split()
    if not words or len(query) < 2:
        return base.none()
    condition = Q()
    for word in words[:6]:
        condition &= Q(full_name__icontains=word) | Q(email__icontains=word)
    return base.filter(condition)[:limit]


def _mentor_audit_targets(mentor: Mentor) -> list:
    assignments = list(MentorAssignment.objects.filter(mentor=mentor))
    activities = list(MentoringActivity.objects.filter(assignment__mentor=mentor))
    return [mentor, *assignments, *activities, *([mentor.user] if mentor.user_id else [])]


def _mentor_audit_entries(mentor: Mentor) -> QuerySet[AuditEntry]:
    condition = Q(pk__in=[])
    for target in _mentor_audit_targets(mentor):
        content_type = ContentType.objects.get_for_model(target, for_concrete_model=False)
        condition |= Q(target_type=content_type, target_id=str(target.pk))
    if mentor.user_id:
        condition |= Q(actor_id=mentor.user_id)
    return AuditEntry.objects.filter(condition).select_related("target_type")


def mentor_held(mentor: Mentor) -> dict[str, int]:
    """How much is held about the mentor: counts for the staff page."""
    return {
        "assignments": mentor.assignments.count(),
        "activities": MentoringActivity.objects.filter(assignment__mentor=mentor).count(),
        "emails": len(emails_json(mentor.email)),
        "audit_entries": _mentor_audit_entries(mentor).count(),
    }
