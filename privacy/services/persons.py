"""Data protection: the retention job, and a person's data exported or erased on request.

What anonymising a nomination removes, and what it keeps for the program's statistics:

* removed: family and given names (the family name becomes the neutral label "Removed #<id>"),
  the native name, date of birth, email, phone, passport number and the keyed digests derived
  from them, the institution and the research interests; every document (rows, and their files
  after commit); the reason text of cohort overrides; after enrolment also the thesis title,
  the preferred region, the notes of progress milestones, the "why" of career proposals, and
  the alumni outcome's organisation, region and the name of a Korean company not in the
  partner list; what mentors wrote about the person (reasons for declining or withdrawing,
  meeting notes); on request (`person_erase`), also the mentor profile made from the person's
  own alumni offer, with its account (as `mentor_erase` does);
* kept: the round, university, status and dates of the nomination, nationality, the language
  for emails, degree and major, GPA, language test and score, the university's rank,
  eligibility, preferences, related courses, scores, placements, duplicate refusals (ids only),
  the admission, the enrolment's status, dates, campus and degree, career proposals' company
  and fit, the outcome's path, employer type, country, partner company and offers;
* emails: those to the person's address that are still waiting are deleted (an erased person
  is not written to); those sent or failed keep their topic, status and dates, with address,
  subject and text replaced. Emails to others that name the person or give their address get
  the label instead;
* audit trail: kept, with the personal values in `before`/`after` replaced by "[removed]" (by
  field name, at any depth) and the record's name by the label; action, who and when stay.

The retention job anonymises every nomination without an admission whose round's decisions
are more than ECOCYCLE_RETENTION_DAYS old. Its dry run goes through the same plan as the real
run and stops before writing, so it lists exactly what the real run removes.
"""

import html
import json
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from candidates.models import (
    CohortOverride,
    Nomination,
    NominationDocument,
)
from ecocycle.exceptions import DomainError
from ecocycle.locks import exclusive_job
from ecocycle.models import AuditEntry, JobLock, OutboundEmail, User
from ecocycle.services import audit_entry_build, audit_entry_create
from mentors.models import MentorAssignment, MentoringActivity
from students.models import AlumniOutcome, CareerProposal, Enrolment, ProgressMilestone

from ..selectors import (
    CHUNK,
    REMOVED,
    REMOVED_EMAIL_DOMAIN,
    _audit_entries,
    _chunks,
    _enrolment_json,
    _json,
    _nomination_json,
    _owned_rows,
    _retention_days,
    audit_entries_json,
    emails_json,
    retention_due,
    row_json,
)

EXPORT_FORMAT = "ecocycle-person-export/1"
RETENTION_JOB = "retention"
RETENTION_JOB_LABEL = "retention job"

# Cleared on the nomination: blank, or None where the column allows it.
NOMINATION_CLEARED = {
    "given_names": "", "native_name": "", "date_of_birth": None, "email": "", "phone": "",
    "passport_number": None, "institution": "", "research_interests": "",
    "passport_digest": "", "person_digest": "", "email_normalised": "",
}
# Keys whose values are replaced in audit entries about the person, wherever they appear.
PERSONAL_AUDIT_FIELDS = frozenset({
    "family_name", "given_names", "native_name", "date_of_birth", "email", "phone",
    "passport_number", "passport_digest", "person_digest", "email_normalised", "institution",
    "research_interests",
    # documents
    "original_name", "file", "sha256",
    # free text written about the person
    "reason", "note", "notes", "thesis_title", "explanation", "organisation", "region",
    "cooperating_company_name", "preferred_region",
})


def nomination_label(nomination_id: int) -> str:
    """The neutral name an anonymised nomination goes by, in the data and in the audit log."""
    return f"Removed #{nomination_id}"


# --- the audit trail ----------------------------------------------------------------------------

def _scrub(value: Any, fields: Collection[str]) -> Any:
    if isinstance(value, dict):
        return {key: REMOVED if key in fields and item not in (None, "", [], {})
                else _scrub(item, fields) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrub(item, fields) for item in value]
    return value


def _target_key(instance: models.Model) -> tuple[int, str]:
    content_type = ContentType.objects.get_for_model(instance, for_concrete_model=False)
    return content_type.pk, str(instance.pk)


def _audit_anonymise(labels: Mapping[tuple[int, str], str], fields: Collection[str], *,
                     actors: Mapping[int, str] | None = None, write: bool) -> int:
    """Scrub the entries about each key and give them its label; returns how many there are.

    `actors` maps user ids to the label that replaces their recorded name where they acted.
    """
    entries = {entry.pk: entry for entry in _audit_entries(labels)}
    if actors:
        for entry in AuditEntry.objects.filter(actor_id__in=list(actors)):
            entries.setdefault(entry.pk, entry)
    if write:
        for entry in entries.values():
            key = (entry.target_type_id, entry.target_id)
            if key in labels:
                entry.target_repr = labels[key]
                entry.before, entry.after = _scrub(entry.before, fields), _scrub(entry.after,
                                                                                  fields)
            if actors and entry.actor_id in actors:
                entry.actor_label = actors[entry.actor_id]
        AuditEntry.objects.bulk_update(list(entries.values()),
                                       ["target_repr", "before", "after", "actor_label"],
                                       batch_size=500)
    return len(entries)


def audit_trail_anonymise(
    *, targets: Iterable[models.Model], label: str, fields: Collection[str],
    actors: Iterable[User] = (),
) -> int:
    """Keep the audit entries about `targets` but anonymised; returns how many were touched.

    In each entry whose record is one of `targets`, the values of `fields` (by key, at any depth
    of `before` and `after`) become "[removed]" and the record's name becomes `label`; the
    action, who and when are kept. Entries made by one of `actors` get `label` as who too.
    Call inside the transaction that anonymises the records themselves.
    """
    labels = {_target_key(target): label for target in targets}
    return _audit_anonymise(labels, frozenset(fields),
                            actors={user.pk: label for user in actors if user.pk},
                            write=True)


# --- emails -------------------------------------------------------------------------------------

@dataclass
class _EmailPlan:
    delete: list[int] = field(default_factory=list)
    scrub: list[OutboundEmail] = field(default_factory=list)
    rename: list[OutboundEmail] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.delete) + len(self.scrub) + len(self.rename)


def _name_variants(names: Iterable[str]) -> list[str]:
    # As written in text emails and as escaped in HTML ones; longest first, so that a full name
    # is replaced before a part of it. Very short strings would replace ordinary words.
    variants = {variant for name in names if name and len(name.strip()) >= 3
                for variant in (name.strip(), html.escape(name.strip()))}
    return sorted(variants, key=len, reverse=True)


def _email_plan(people: Sequence[tuple[Collection[str], Collection[str], str]]) -> _EmailPlan:
    """Which outbox rows to delete, scrub or rename for each (addresses, names, label)."""
    plan = _EmailPlan()
    scrubbed: set[int] = set()
    renamed: dict[int, OutboundEmail] = {}
    for chunk in _chunks(list(people), CHUNK // 2):
        by_address = {address.strip().lower(): label for addresses, _names, label in chunk
                      for address in addresses if address}
        # Names, and addresses too: an introduction to someone else gives the person's.
        by_name = [(variant, label) for addresses, names, label in chunk
                   for variant in _name_variants([*names, *addresses])]
        condition = Q(to_lower__in=list(by_address)) if by_address else Q(pk__in=[])
        for variant, _label in by_name:
            condition |= Q(subject__contains=variant) | Q(body_text__contains=variant)
        rows = OutboundEmail.objects.annotate(to_lower=Lower("to")).filter(condition)
        for email in rows.order_by("id"):
            if email.pk in scrubbed:
                continue
            if email.to_lower in by_address:
                scrubbed.add(email.pk)
                renamed.pop(email.pk, None)
                if email.status == OutboundEmail.Status.PENDING:
                    plan.delete.append(email.pk)
                else:
                    email.to = f"removed@{REMOVED_EMAIL_DOMAIN}"
                    email.subject, email.body_text, email.body_html = REMOVED, REMOVED, ""
                    email.links = None
                    plan.scrub.append(email)
                continue
            # One email may name people of several chunks (a university's summary): the
            # replacements add up on the same object.
            email = renamed.get(email.pk, email)
            changed = False
            for variant, replacement in by_name:
                # Whole names only: "Dr. Kim 3" is not a part of "Dr. Kim 31".
                pattern = re.compile(rf"(?<!\w){re.escape(variant)}(?!\w)")
                for part in ("subject", "body_text", "body_html"):
                    text, replaced = pattern.subn(replacement, getattr(email, part))
                    if replaced:
                        setattr(email, part, text)
                        changed = True
            if changed:
                renamed[email.pk] = email
    plan.rename = list(renamed.values())
    return plan


def _email_apply(plan: _EmailPlan) -> None:
    OutboundEmail.objects.filter(pk__in=plan.delete).delete()
    OutboundEmail.objects.bulk_update([*plan.scrub, *plan.rename],
                                      ["to", "subject", "body_text", "body_html", "links"],
                                      batch_size=500)


def outbound_emails_anonymise(*, addresses: Collection[str], names: Collection[str],
                              label: str) -> int:
    """Remove a person from the outbox: see the module's notes. Returns the rows touched.

    Call inside the transaction that anonymises the person.
    """
    plan = _email_plan([(addresses, names, label)])
    _email_apply(plan)
    return plan.count


# --- what belongs to a nomination ---------------------------------------------------------------


@dataclass
class _Plan:
    """Everything an anonymisation of these nominations will change, read before writing."""

    nominations: list[Nomination]
    documents: list[tuple[int, str]]
    emails: _EmailPlan
    audit_labels: dict[tuple[int, str], str]
    audit_count: int

    def counts(self) -> dict[str, int]:
        return {"nominations": len(self.nominations), "documents": len(self.documents),
                "emails": self.emails.count, "audit_entries": self.audit_count}


def _plan(nominations: list[Nomination]) -> _Plan:
    ids = [n.pk for n in nominations]
    labels_by_id = {n.pk: nomination_label(n.pk) for n in nominations}
    documents = []
    for chunk in _chunks(ids, 500):
        documents += NominationDocument.objects.filter(nomination_id__in=list(chunk)).values_list(
            "pk", "file")
    content_type = ContentType.objects.get_for_model(Nomination)
    audit_labels = {(content_type.pk, str(pk)): label for pk, label in labels_by_id.items()}
    audit_labels.update({key: labels_by_id[owner] for key, owner in _owned_rows(ids).items()})
    emails = _email_plan([
        ([n.email], [n.display_name, n.native_name], labels_by_id[n.pk]) for n in nominations
    ])
    audit_count = _audit_anonymise(audit_labels, PERSONAL_AUDIT_FIELDS, write=False)
    return _Plan(nominations=nominations, documents=list(documents), emails=emails,
                 audit_labels=audit_labels, audit_count=audit_count)


def _apply(plan: _Plan, now: datetime) -> None:
    """Write the plan. Inside the caller's transaction; files go once it has committed."""
    ids = [n.pk for n in plan.nominations]
    for nomination in plan.nominations:
        nomination.family_name = nomination_label(nomination.pk)
        for name, value in NOMINATION_CLEARED.items():
            setattr(nomination, name, value)
        nomination.anonymised_at = nomination.updated_at = now
    Nomination.objects.bulk_update(
        plan.nominations, ["family_name", *NOMINATION_CLEARED, "anonymised_at", "updated_at"],
        batch_size=500)
    for chunk in _chunks(ids, 500):
        chunk = list(chunk)
        NominationDocument.objects.filter(nomination_id__in=chunk).delete()
        CohortOverride.objects.filter(nomination_id__in=chunk).exclude(reason="").update(
            reason=REMOVED)
        # After admission only (never in the retention job, which skips the admitted).
        Enrolment.objects.filter(nomination_id__in=chunk).update(
            thesis_title="", preferred_region="", updated_at=now)
        ProgressMilestone.objects.filter(enrolment__nomination_id__in=chunk).exclude(
            note="").update(note=REMOVED)
        CareerProposal.objects.filter(enrolment__nomination_id__in=chunk).update(explanation={})
        AlumniOutcome.objects.filter(enrolment__nomination_id__in=chunk).update(
            organisation="", region="", updated_at=now)
        AlumniOutcome.objects.filter(enrolment__nomination_id__in=chunk).exclude(
            cooperating_company_name="").update(cooperating_company_name=REMOVED)
        # What mentors wrote about the person goes with them, not with the next nightly job.
        assignments = MentorAssignment.objects.filter(nomination_id__in=chunk)
        assignments.exclude(decline_reason__in=["", REMOVED]).update(decline_reason=REMOVED)
        assignments.exclude(withdraw_reason__in=["", REMOVED]).update(withdraw_reason=REMOVED)
        MentoringActivity.objects.filter(assignment__nomination_id__in=chunk).exclude(
            notes__in=["", REMOVED]).update(notes=REMOVED)
    _email_apply(plan.emails)
    _audit_anonymise(plan.audit_labels, PERSONAL_AUDIT_FIELDS, write=True)
    files = [name for _pk, name in plan.documents if name]
    if files:
        storage = NominationDocument._meta.get_field("file").storage
        transaction.on_commit(lambda: [storage.delete(name) for name in files])


# --- retention ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class RetentionItem:
    """One nomination the retention job removes, and since when it has been due."""

    nomination_id: int
    intake_round_id: int
    intake_round: str
    university_id: int
    university: str
    status: str
    due_since: datetime


@dataclass(frozen=True)
class RetentionReport:
    """What a run of the retention job removed, or (dry run) would remove."""

    dry_run: bool
    now: datetime
    retention_days: int
    items: tuple[RetentionItem, ...]
    counts: dict[str, int]

    @property
    def nomination_ids(self) -> list[int]:
        return [item.nomination_id for item in self.items]


def _retention_report(nominations: list[Nomination], plan: _Plan, *, dry_run: bool,
                      now: datetime) -> RetentionReport:
    days = _retention_days()
    items = tuple(RetentionItem(
        nomination_id=n.pk, intake_round_id=n.intake_round_id, intake_round=str(n.intake_round),
        university_id=n.university_id, university=str(n.university), status=n.status,
        due_since=n.decisions_at + timedelta(days=days),
    ) for n in nominations)
    return RetentionReport(dry_run=dry_run, now=now, retention_days=days, items=items,
                           counts=plan.counts())


def _retention_run(*, dry_run: bool, now: datetime,
                   expected: Collection[int] | None) -> RetentionReport:
    nominations = list(retention_due(now=now))
    if expected is not None and {n.pk for n in nominations} != set(expected):
        raise DomainError(_("The list of personal data due for removal has changed since it "
                            "was shown. Review the new list, then apply it again."))
    plan = _plan(nominations)
    report = _retention_report(nominations, plan, dry_run=dry_run, now=now)
    if dry_run or not nominations:
        # Nothing written: a run that removes nothing leaves no audit entry either.
        return report
    _apply(plan, now)
    job, _created = JobLock.objects.get_or_create(name=RETENTION_JOB)
    entry = audit_entry_build(
        actor=None, action="retention_apply", target=job,
        after={"retention_days": report.retention_days, "counts": report.counts,
               "nominations": report.nomination_ids},
    )
    entry.target_repr = RETENTION_JOB_LABEL
    entry.save()
    return report


def retention_apply(*, dry_run: bool, now: datetime | None = None,
                    expected: Collection[int] | None = None) -> RetentionReport:
    """Anonymise every nomination `retention_due` names; with `dry_run`, only say which.

    The real run holds the "retention" job lock (JobBusy if another copy runs) and does all
    its work in one transaction, with one audit entry (counts and ids). Both runs go through
    the same plan, so the dry run lists exactly what the real run removes; a second run finds
    nothing due. `expected` (ids shown to staff) refuses a run whose list has changed since.
    """
    now = now or timezone.now()
    if dry_run:
        return _retention_run(dry_run=True, now=now, expected=expected)
    with exclusive_job(RETENTION_JOB):
        return _retention_run(dry_run=False, now=now, expected=expected)


# --- on request: search, export, erase ----------------------------------------------------------


def person_export(*, actor: User, nomination: Nomination) -> dict[str, Any]:
    """Everything held about the candidate of `nomination`, as JSON-serialisable data.

    The passport number is included in full: the export answers the person's own request.
    Audited as "person_export" (no personal data in the entry).
    """
    n = (Nomination.objects.select_related("intake_round__program", "university")
         .prefetch_related("preferences__track", "courses__technologies", "documents",
                           "scores__track", "placements", "overrides", "duplicate_attempts")
         .get(pk=nomination.pk))
    data: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "exported_at": _json(timezone.now()),
        **_nomination_json(n),
        "admission": None, "enrolment": None,
    }
    admission = getattr(n, "admission", None)
    if admission is not None:
        data["admission"] = {**row_json(admission, exclude={"nomination"}),
                             "track": str(admission.track)}
    data["enrolment"] = _enrolment_json(n)
    assignments = MentorAssignment.objects.filter(nomination=n).order_by("pk")
    others = {MentorAssignment._meta.label_lower: [row_json(a, exclude={"nomination"})
                                                   for a in assignments]}
    data["other_records"] = others
    data["emails"] = emails_json(n.email)
    content_type = ContentType.objects.get_for_model(Nomination)
    data["audit_trail"] = audit_entries_json(
        AuditEntry.objects.filter(pk__in=[e.pk for e in _audit_entries(
            [(content_type.pk, str(n.pk)), *_owned_rows([n.pk])])]).select_related("target_type"))
    json.dumps(data)  # fails here, not in the view, if anything is not plain JSON
    with transaction.atomic():
        audit_entry_create(actor=actor, action="person_export", target=n,
                           after={"format": EXPORT_FORMAT})
    return data


def reason_required(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError({"reason": _(
            "Give the reason for erasing this person's data, for example when and how they "
            "asked for it.")})
    return reason[:2000]
