"""Nominations: drafts, sections, documents, submission, withdrawal and eligibility.

Every door that saves what a coordinator typed (the pages, the API, the CSV import) goes through
nomination_save, so that a nomination and its preferences and courses are saved together or not
at all. No service here is ``atomic(durable=True)``, as Zulip's outermost actions are: the
CSV import runs nomination_save inside its own transaction, and seed_demo builds the whole demo,
submissions included, in one.
"""

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, NoReturn

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from ecocycle.exceptions import DomainError
from ecocycle.models import AuditEntry, User
from ecocycle.services import (
    audit_entry_build,
    audit_entry_create,
    instance_snapshot,
)
from programs.models import DegreeTrack, IntakeRound, ProgramUniversity, RoundTrack, University

from .. import eligibility
from ..documents import document_content_type
from ..models import (
    DuplicateAttempt,
    EligibilityPolicy,
    Nomination,
    NominationCourse,
    NominationDocument,
    NominationPreference,
)
from ..selectors import required_documents
from ._common import (
    EDITABLE_FIELDS,
    LANGUAGE_FIELDS,
    REQUIRED_FIELDS,
    _check_date_of_birth,
    _check_gpa,
    _check_language_date,
    _coerce,
    _ensure_editable,
    _ensure_nominations_open,
    _locked,
    _now,
    _participation,
    nomination_derived_fields,
)
from .consent import _consent_request, consent_request_after_email_change

# --- nominations -------------------------------------------------------------------------------

# No savepoint of its own: a caller that recovers from a refusal (the CSV import) makes one.
@transaction.atomic(savepoint=False)
def nomination_create(
    *, actor: User | None, intake_round: IntakeRound, university: University,
    data: Mapping[str, Any], now: datetime | None = None,
) -> Nomination:
    """Start a draft nomination for a round. Only the fields given are filled."""
    now = _now(now)
    _ensure_nominations_open(intake_round, now)
    _participation(intake_round, university)
    values = _coerce(data)
    _check_gpa(values)
    _check_language_date(values, timezone.localdate(now))
    _check_date_of_birth(values, timezone.localdate(now))
    nomination = Nomination(intake_round=intake_round, university=university, created_by=actor,
                            **values)
    for name, value in nomination_derived_fields(nomination).items():
        setattr(nomination, name, value)
    # A new nomination is a draft and the unique constraints bind only submitted ones: checking
    # them here could never fail, and costs a query each.
    # The related objects were passed in, so their existence needs no query either.
    nomination.full_clean(exclude=["intake_round", "university", "created_by"],
                          validate_constraints=False)
    nomination.save()
    audit_entry_create(actor=actor, action="nomination_create", target=nomination,
                       after=_audit_view(instance_snapshot(nomination)))
    return nomination


def _audit_view(snapshot: dict) -> dict:
    # The passport number never enters the audit log in clear.
    out = {k: v for k, v in snapshot.items() if not k.endswith("_digest")}
    if out.get("passport_number"):
        out["passport_number"] = "•••" + str(out["passport_number"])[-3:]
    return out


def nomination_update(
    *, actor: User | None, nomination: Nomination, data: Mapping[str, Any],
    now: datetime | None = None,
) -> Nomination:
    """Change a draft or submitted nomination until the deadline.

    A submitted nomination is checked again for duplicates and eligibility; a change that makes
    it a duplicate is refused and recorded for staff, as a submission would be.
    """
    now = _now(now)
    try:
        with transaction.atomic():
            return _update(actor=actor, nomination=nomination, data=data, now=now)
    except _Duplicate as duplicate:
        _duplicate_refuse(actor=actor, nomination=nomination, duplicate=duplicate)


def _update(*, actor: User | None, nomination: Nomination, data: Mapping[str, Any],
            now: datetime) -> Nomination:
    nomination = _locked(nomination)
    _ensure_editable(nomination, now)
    values = _coerce(data)
    merged = {f: getattr(nomination, f) for f in EDITABLE_FIELDS} | values
    _check_gpa(merged)
    _check_language_date(merged, timezone.localdate(now))
    # Only a date being written: a stored one must not block edits of other fields.
    _check_date_of_birth(values, timezone.localdate(now))
    before = _audit_view(instance_snapshot(nomination, values.keys()))
    for name, value in values.items():
        setattr(nomination, name, value)
    for name, value in nomination_derived_fields(nomination).items():
        setattr(nomination, name, value)
    after = _audit_view(instance_snapshot(nomination, values.keys()))
    changed = [k for k in values if before.get(k) != after.get(k)]
    if not changed:
        return nomination
    if nomination.status == Nomination.Status.SUBMITTED:
        found = _duplicate_of(nomination)
        if found is not None:
            raise _Duplicate(*found)
        _check_complete(nomination)
    nomination.full_clean()
    try:
        with transaction.atomic():
            nomination.save()
    except IntegrityError as error:
        # Another university submitted the same person at the same moment.
        found = _duplicate_of(nomination)
        if found is None:
            raise DomainError(_duplicate_message()) from error
        raise _Duplicate(*found) from None
    audit_entry_create(actor=actor, action="nomination_update", target=nomination,
                       before={k: before[k] for k in changed}, after={k: after[k] for k in changed})
    if nomination.status == Nomination.Status.SUBMITTED:
        _store_eligibility(nomination, now)
        consent_request_after_email_change(actor=actor, nomination=nomination,
                                           old_email=before.get("email", nomination.email), now=now)
    return nomination


# No savepoint of its own: a caller that recovers from a refusal (the CSV import) makes one.
@transaction.atomic(savepoint=False)
def nomination_set_preferences(
    *, actor: User | None, nomination: Nomination, tracks: Sequence[DegreeTrack],
    now: datetime | None = None,
) -> Nomination:
    """Replace the ranked track preferences (first = rank 1).

    On a submitted nomination a change asks the candidate to confirm again: consent covers the
    preferences too.
    """
    now = _now(now)
    nomination = _locked(nomination)
    _ensure_editable(nomination, now)
    intake_round = nomination.intake_round
    seen: set[int] = set()
    for track in tracks:
        if track.pk in seen:
            raise DomainError({"preferences": _(
                "“%(track)s” is ranked twice. Rank each degree track at most once."
            ) % {"track": track}})
        seen.add(track.pk)
    if len(tracks) > intake_round.preference_limit:
        raise DomainError({"preferences": ngettext(
            "At most %(limit)s degree track can be ranked in this round.",
            "At most %(limit)s degree tracks can be ranked in this round.",
            intake_round.preference_limit,
        ) % {"limit": intake_round.preference_limit}})
    offered = set(RoundTrack.objects.filter(intake_round=intake_round, track__in=seen)
                  .values_list("track_id", flat=True))
    for track in tracks:
        if track.pk not in offered:
            raise DomainError({"preferences": _(
                "“%(track)s” is not offered in %(round)s."
            ) % {"track": track, "round": intake_round}})
    before = list(nomination.preferences.order_by("rank").values_list("track_id", flat=True))
    after = [track.pk for track in tracks]
    if before == after:
        return nomination
    if nomination.status == Nomination.Status.SUBMITTED and not tracks:
        raise DomainError({"preferences": _("Rank at least one degree track.")})
    if before:
        nomination.preferences.all().delete()
    NominationPreference.objects.bulk_create(
        NominationPreference(nomination=nomination, track=track, rank=rank)
        for rank, track in enumerate(tracks, start=1)
    )
    audit_entry_create(actor=actor, action="nomination_set_preferences", target=nomination,
                       before={"preferences": before}, after={"preferences": after})
    if nomination.status == Nomination.Status.SUBMITTED:
        _store_eligibility(nomination, now)
        if nomination.consent_given_at is not None or nomination.consent_requested_at:
            _consent_request(nomination, actor=actor, now=now, reset=True)
    return nomination


# No savepoint of its own: a caller that recovers from a refusal (the CSV import) makes one.
@transaction.atomic(savepoint=False)
def nomination_set_courses(
    *, actor: User | None, nomination: Nomination, courses: Iterable[Mapping[str, Any]],
    now: datetime | None = None,
) -> Nomination:
    """Replace the completed related courses: each {name, grade, technologies}."""
    now = _now(now)
    nomination = _locked(nomination)
    _ensure_editable(nomination, now)
    program_id = nomination.intake_round.program_id
    rows = []
    for course in courses:
        name = (course.get("name") or "").strip()
        if not name:
            continue
        technologies = list(dict.fromkeys(course.get("technologies") or []))
        for tech in technologies:
            if tech.program_id != program_id:
                raise DomainError({"courses": _(
                    "“%(technology)s” is not a core technology of this program."
                ) % {"technology": tech}})
        rows.append((name, (course.get("grade") or "").strip(), technologies))
    before = [
        [c.name, c.grade, sorted(t.pk for t in c.technologies.all())]
        for c in nomination.courses.prefetch_related("technologies")
    ]
    after = [[name, grade, sorted(t.pk for t in techs)] for name, grade, techs in rows]
    if before == after:
        return nomination
    if before:
        nomination.courses.all().delete()
    created = NominationCourse.objects.bulk_create(
        NominationCourse(nomination=nomination, name=name, grade=grade) for name, grade, _t in rows
    )
    links = NominationCourse.technologies.through
    links.objects.bulk_create(
        links(nominationcourse_id=course.pk, coretechnology_id=technology.pk)
        for course, (_name, _grade, technologies) in zip(created, rows, strict=True)
        for technology in technologies
    )
    audit_entry_create(actor=actor, action="nomination_set_courses", target=nomination,
                       before={"courses": before}, after={"courses": after})
    if nomination.status == Nomination.Status.SUBMITTED:
        _store_eligibility(nomination, now)
    return nomination


def nomination_save(
    *, actor: User | None, data: Mapping[str, Any], nomination: Nomination | None = None,
    intake_round: IntakeRound | None = None, university: University | None = None,
    preferences: Sequence[DegreeTrack] | None = None,
    courses: Sequence[Mapping[str, Any]] | None = None, now: datetime | None = None,
) -> Nomination:
    """Start a draft (without `nomination`: in `intake_round`, of `university`) or change one,
    with its ranked tracks and its courses, in one transaction: a refusal of any part leaves
    everything as it was.

    Only the fields in `data` are written (an empty `data` writes none); `preferences` and
    `courses` replace what is stored, and None keeps it. A change that makes a submitted
    nomination a duplicate is refused and recorded for staff (see `nomination_update`).
    """
    # Unlike the steps it calls, a savepoint when nested: a caller inside a transaction (a
    # test, the CSV import) may catch the refusal and go on.
    try:
        with transaction.atomic():
            return _save(actor=actor, data=data, nomination=nomination,
                         intake_round=intake_round, university=university,
                         preferences=preferences, courses=courses, now=_now(now))
    except _Duplicate as duplicate:
        _duplicate_refuse(actor=actor, nomination=nomination, duplicate=duplicate)


def _save(
    *, actor: User | None, data: Mapping[str, Any], nomination: Nomination | None,
    intake_round: IntakeRound | None, university: University | None,
    preferences: Sequence[DegreeTrack] | None, courses: Sequence[Mapping[str, Any]] | None,
    now: datetime,
) -> Nomination:
    if nomination is None:
        if intake_round is None or university is None:
            raise TypeError("A new nomination needs its intake_round and university.")
        nomination = nomination_create(actor=actor, intake_round=intake_round,
                                       university=university, data=data, now=now)
        # A new draft has no preferences or courses: an empty list needs no call.
        preferences = preferences or None
        courses = courses or None
    elif data:
        nomination = _update(actor=actor, nomination=nomination, data=data, now=now)
    if preferences is not None:
        nomination = nomination_set_preferences(actor=actor, nomination=nomination,
                                                tracks=preferences, now=now)
    if courses is not None:
        nomination = nomination_set_courses(actor=actor, nomination=nomination, courses=courses,
                                            now=now)
    return nomination


def _human_size(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


@transaction.atomic
def document_upload(
    *, actor: User | None, nomination: Nomination, kind: str, file: UploadedFile,
    now: datetime | None = None, actor_label: str | None = None,
) -> NominationDocument:
    """Store a document after checking its size and, by its content, its type.

    Replaces an earlier document of the same kind. The file name the user gave is kept for
    display only; the stored name is derived from the checksum.
    """
    now = _now(now)
    nomination = _locked(nomination)
    _ensure_editable(nomination, now)
    if kind not in NominationDocument.Kind.values:
        raise DomainError({"kind": _("Unknown document kind.")})
    limit = settings.ECOCYCLE_MAX_UPLOAD_BYTES
    if file.size is None or file.size > limit:
        raise DomainError({"file": _(
            "“%(name)s” is %(size)s; files may be at most %(limit)s. Scan at a lower resolution or "
            "compress the PDF, then upload it again."
        ) % {"name": file.name, "size": _human_size(file.size or 0), "limit": _human_size(limit)}})
    if file.size == 0:
        raise DomainError({"file": _("“%(name)s” is empty.") % {"name": file.name}})
    detected = document_content_type(file=file, name=file.name)
    digest = hashlib.sha256()
    file.seek(0)
    for chunk in file.chunks():
        digest.update(chunk)
    file.seek(0)
    existing = nomination.documents.filter(kind=kind).first()
    old_file_name = existing.file.name if existing else None
    if existing:
        before = instance_snapshot(existing)
        existing.delete()
    else:
        before = None
    document = NominationDocument(
        nomination=nomination, kind=kind, original_name=file.name[:255], content_type=detected,
        size=file.size, sha256=digest.hexdigest(), uploaded_by=actor,
    )
    document.file.save(file.name, file, save=False)
    document.full_clean()
    document.save()
    audit_entry_create(actor=actor, actor_label=actor_label, action="document_upload",
                       target=nomination,
                       before={"document": before} if before else None,
                       after={"document": instance_snapshot(document)})
    if old_file_name and old_file_name != document.file.name:
        storage = document.file.storage
        transaction.on_commit(lambda: storage.delete(old_file_name))
    return document


@transaction.atomic
def document_remove(
    *, actor: User | None, document: NominationDocument, now: datetime | None = None
) -> None:
    nomination = _locked(document.nomination)
    _ensure_editable(nomination, _now(now))
    if nomination.status == Nomination.Status.SUBMITTED and document.kind in required_documents(
        nomination
    ):
        raise DomainError(_("A submitted nomination needs this document; upload a replacement "
                            "instead of removing it."))
    audit_entry_create(actor=actor, action="document_remove", target=nomination,
                       before={"document": instance_snapshot(document)})
    name, storage = document.file.name, document.file.storage
    document.delete()
    transaction.on_commit(lambda: storage.delete(name))


MISSING_DOCUMENT = {
    NominationDocument.Kind.TRANSCRIPT: gettext_lazy("Upload the transcript."),
    NominationDocument.Kind.CV: gettext_lazy("Upload the CV."),
    NominationDocument.Kind.LANGUAGE_CERTIFICATE: gettext_lazy(
        "Upload the language certificate."),
    NominationDocument.Kind.RECOMMENDATION: gettext_lazy("Upload the recommendation letter."),
    NominationDocument.Kind.DIPLOMA: gettext_lazy("Upload the diploma or proof of enrolment."),
}


def nomination_missing_parts(nomination: Nomination) -> list[tuple[str, str]]:
    """What must still be filled before submitting: (section, message) pairs."""
    missing: list[tuple[str, str]] = []
    for section, names in REQUIRED_FIELDS.items():
        for name in names:
            if getattr(nomination, name) in (None, ""):
                label = Nomination._meta.get_field(name).verbose_name
                missing.append((section, _("%(field)s is missing.") % {
                    "field": str(label)[:1].upper() + str(label)[1:]}))
    language = nomination.language_test
    if language not in ("", Nomination.LanguageTest.NONE) and (
        nomination.language_score is None or nomination.language_test_date is None
    ):
        missing.append(("language", _("The language test score and date are missing.")))
    if not nomination.research_interests.strip():
        missing.append(("preferences", _("Research interests are missing.")))
    if not nomination.preferences.exists():
        missing.append(("preferences", _("Rank at least one degree track.")))
    if not nomination.courses.exists():
        missing.append(("studies", _("List the completed courses related to the program.")))
    present = set(nomination.documents.values_list("kind", flat=True))
    for kind in required_documents(nomination):
        if kind not in present:
            missing.append(("documents", str(MISSING_DOCUMENT[kind])))
    return missing


def _check_complete(nomination: Nomination) -> None:
    missing = nomination_missing_parts(nomination)
    if missing:
        raise DomainError([message for _section, message in missing])


def _duplicate_of(nomination: Nomination) -> tuple[Nomination, str] | None:
    others = Nomination.objects.filter(
        intake_round_id=nomination.intake_round_id, status=Nomination.Status.SUBMITTED
    ).exclude(pk=nomination.pk)
    for field, label in (("passport_digest", "passport"), ("email_normalised", "email"),
                         ("person_digest", "name and date of birth")):
        value = getattr(nomination, field)
        if value:
            match = others.filter(**{field: value}).first()
            if match is not None:
                return match, label
    return None


def _duplicate_message() -> str:
    # Says nothing of what matched, where, or whether the person was nominated in this round:
    # the refusal must not tell one university about another's candidates (issue 14).
    return _("This candidate cannot be nominated again. KITECH staff have been told and will "
             "look into it; you do not need to do anything now.")


class _Duplicate(Exception):
    def __init__(self, existing: Nomination, label: str):
        self.existing, self.label = existing, label


def _duplicate_refuse(*, actor: User | None, nomination: Nomination,
                      duplicate: _Duplicate) -> NoReturn:
    """Record a refused duplicate for staff (the digest's duplicates line) and refuse it.

    Called once the refused change's transaction has been rolled back, so the record stays.
    Nobody is emailed: the probed person is not sent a consent link.
    """
    with transaction.atomic():
        DuplicateAttempt.objects.create(nomination_id=nomination.pk, existing=duplicate.existing,
                                        matched_on=duplicate.label)
        audit_entry_create(actor=actor, action="nomination_duplicate_refused",
                           target=nomination, after={"matched_on": duplicate.label,
                                                     "existing": duplicate.existing.pk})
    raise DomainError(_duplicate_message())


def _store_eligibility(nomination: Nomination, now: datetime) -> None:
    policy = EligibilityPolicy.objects.filter(program_id=nomination.intake_round.program_id).first()
    _eligibility_store(
        [nomination], {nomination.intake_round.program_id: policy}, now=now, prefetched=False
    )


def _eligibility_evaluate(
    nominations: list[Nomination], policies: Mapping[int, EligibilityPolicy | None], *,
    now: datetime, prefetched: bool,
) -> tuple[list[Nomination], list[AuditEntry]]:
    """Evaluate many nominations in memory: those whose verdict or reasons changed (updated in
    place) and an audit entry for each."""
    today = timezone.localdate(now)
    changed, entries = [], []
    for nomination in nominations:
        result = eligibility.evaluate(
            nomination, policies.get(nomination.intake_round.program_id), today=today,
            preferences=list(nomination.preferences.all()) if prefetched else None,
            courses=list(nomination.courses.all()) if prefetched else None,
        )
        if (nomination.is_eligible, nomination.eligibility_reasons) != (
            result.eligible, result.reasons
        ):
            entries.append(audit_entry_build(
                actor=None, action="nomination_eligibility", target=nomination,
                before={"is_eligible": nomination.is_eligible,
                        "reasons": nomination.eligibility_reasons},
                after={"is_eligible": result.eligible, "reasons": result.reasons},
            ))
            changed.append(nomination)
        nomination.is_eligible = result.eligible
        nomination.eligibility_reasons = result.reasons
        nomination.eligibility_checked_at = now
    return changed, entries


def _eligibility_write(nominations: list[Nomination], changed: list[Nomination],
                       entries: list[AuditEntry], *, now: datetime) -> int:
    """Store evaluated verdicts: the changed ones with their audit entries, and the time of the
    check on all (one UPDATE for the unchanged)."""
    Nomination.objects.bulk_update(
        changed, ["is_eligible", "eligibility_reasons", "eligibility_checked_at"],
        batch_size=500,
    )
    Nomination.objects.filter(pk__in=[n.pk for n in nominations]).update(
        eligibility_checked_at=now)
    AuditEntry.objects.bulk_create(entries, batch_size=500)
    return len(entries)


def _eligibility_store(
    nominations: list[Nomination], policies: Mapping[int, EligibilityPolicy | None], *,
    now: datetime, prefetched: bool,
) -> int:
    """Evaluate and store eligibility for many nominations in a fixed number of queries.

    Returns how many changed. Each change of the verdict or its reasons is audited.
    """
    changed, entries = _eligibility_evaluate(nominations, policies, now=now,
                                             prefetched=prefetched)
    return _eligibility_write(nominations, changed, entries, now=now)


def nomination_submit(
    *, actor: User | None, nomination: Nomination, now: datetime | None = None
) -> Nomination:
    """Submit a complete draft: deadline, quota, duplicates; then eligibility and consent.

    A refused duplicate is recorded for staff even though the submission itself is refused, so
    the record is written after the submission's transaction has been rolled back.
    """
    now = _now(now)
    _submissions_limit_check(actor)
    try:
        with transaction.atomic():
            return _submit(actor=actor, nomination=nomination, now=now)
    except _Duplicate as duplicate:
        _duplicate_refuse(actor=actor, nomination=nomination, duplicate=duplicate)


SUBMISSION_ACTIONS = ("nomination_submit", "nomination_duplicate_refused")


def _submissions_limit_check(actor: User | None) -> None:
    """At most ECOCYCLE_SUBMISSIONS_PER_HOUR submissions, refused duplicates included, per
    coordinator in the last hour, whatever the door (page, API).

    Counted from the audit log rather than a cache: the same figure for every web process and
    worker, and refused probes count too.
    """
    if actor is None or actor.role != User.Role.COORDINATOR:
        return
    limit = int(settings.ECOCYCLE_SUBMISSIONS_PER_HOUR)
    since = timezone.now() - timedelta(hours=1)
    used = AuditEntry.objects.filter(actor=actor, action__in=SUBMISSION_ACTIONS,
                                     created_at__gt=since).count()
    if used >= limit:
        raise DomainError(ngettext(
            "You have submitted %(count)s nomination in the last hour, the most allowed. "
            "Try again later; what you entered is kept.",
            "You have submitted %(count)s nominations in the last hour, the most allowed. "
            "Try again later; what you entered is kept.", limit) % {"count": limit})


def _submit(*, actor: User | None, nomination: Nomination, now: datetime) -> Nomination:
    # Lock the university's participation first: two submissions of the same university
    # then queue up, and the quota count below cannot be overtaken.
    participation = ProgramUniversity.objects.select_for_update().get(
        program_id=nomination.intake_round.program_id, university_id=nomination.university_id
    )
    nomination = _locked(nomination)
    if nomination.status == Nomination.Status.SUBMITTED:
        return nomination
    if nomination.status == Nomination.Status.WITHDRAWN:
        raise DomainError(_("This nomination was withdrawn and cannot be submitted."))
    _ensure_nominations_open(nomination.intake_round, now)
    _check_complete(nomination)
    _check_language_date({f: getattr(nomination, f) for f in LANGUAGE_FIELDS},
                         timezone.localdate(now))
    used = Nomination.objects.filter(
        intake_round_id=nomination.intake_round_id, university_id=nomination.university_id,
        status=Nomination.Status.SUBMITTED,
    ).count()
    if used >= participation.nomination_quota:
        raise DomainError(_(
            "%(university)s has used its quota of %(quota)s nominations for this round. Withdraw "
            "a submitted nomination first, or ask KITECH staff about the quota."
        ) % {"university": nomination.university, "quota": participation.nomination_quota})
    found = _duplicate_of(nomination)
    if found is not None:
        raise _Duplicate(*found)
    nomination.status = Nomination.Status.SUBMITTED
    nomination.submitted_at = now
    try:
        with transaction.atomic():
            nomination.save(update_fields=["status", "submitted_at", "updated_at"])
    except IntegrityError:
        # Another university submitted the same person at the same moment.
        found = _duplicate_of(nomination)
        if found is None:
            raise
        raise _Duplicate(*found) from None
    audit_entry_create(actor=actor, action="nomination_submit", target=nomination,
                       before={"status": Nomination.Status.DRAFT},
                       after={"status": Nomination.Status.SUBMITTED})
    _store_eligibility(nomination, now)
    _consent_request(nomination, actor=actor, now=now)
    return nomination


@transaction.atomic
def nomination_withdraw(
    *, actor: User | None, nomination: Nomination, reason: str = "", now: datetime | None = None
) -> Nomination:
    """Withdraw a draft or submitted nomination (until the deadline). Its consent link dies."""
    now = _now(now)
    nomination = _locked(nomination)
    if nomination.status == Nomination.Status.WITHDRAWN:
        return nomination
    _ensure_nominations_open(nomination.intake_round, now)
    before = nomination.status
    nomination.status = Nomination.Status.WITHDRAWN
    nomination.withdrawn_at = now
    nomination.save(update_fields=["status", "withdrawn_at", "updated_at"])
    audit_entry_create(actor=actor, action="nomination_withdraw", target=nomination,
                       before={"status": before},
                       after={"status": nomination.status, "reason": reason})
    return nomination
