"""The nightly eligibility re-check: every submitted nomination evaluated again in bulk.

The nominations are read a chunk at a time as plain values (no model instances), their ranked
tracks and related courses in one query each per chunk, so the queries grow with the chunks,
not the rows, and memory stays that of one chunk. No write transaction is open while reading
or evaluating; the verdicts are then stored a batch per short transaction (ecocycle.writes),
so SQLite's write lock is never held long.
"""

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import Count
from django.utils import timezone

from ecocycle.bulk import bulk_insert, prepared_datetime
from ecocycle.models import AuditEntry
from ecocycle.services import audit_entry_build
from ecocycle.writes import short_transaction
from programs.models import DegreeTrack, IntakeRound

from .. import eligibility
from ..models import EligibilityPolicy, Nomination, NominationCourse, NominationPreference
from ._common import _now

# Nominations read (and evaluated) at a time, and whose verdicts one short transaction stores.
ELIGIBILITY_CHUNK = 2000
ELIGIBILITY_BATCH = 500

_FIELDS = ("id", "updated_at", "intake_round__program_id", "gpa_normalised", "language_test",
           "language_score", "language_test_date", "degree", "is_eligible",
           "eligibility_reasons", "given_names", "family_name")


@dataclass(frozen=True)
class _Verdict:
    pk: int
    updated_at: datetime
    entry: AuditEntry | None  # set when the verdict or its reasons changed
    eligible: bool
    reasons: list


def eligibility_recheck(*, intake_round: IntakeRound | None = None,
                        now: datetime | None = None) -> int:
    """Evaluate every submitted nomination again (policies or dates may have changed).

    One query for the ids, then four per chunk of ELIGIBILITY_CHUNK nominations to read, with
    no write transaction open; then the verdicts are stored a batch per short transaction, the
    changed ones with their audit entries, and the time of the check on all. Returns how many
    verdicts changed; running it twice changes nothing the second time.
    """
    now = _now(now)
    today = timezone.localdate(now)
    nominations = Nomination.objects.filter(status=Nomination.Status.SUBMITTED)
    if intake_round is not None:
        nominations = nominations.filter(intake_round=intake_round)
    policies = {p.program_id: p for p in EligibilityPolicy.objects.all()}
    track_names: dict[int, str] = {}
    total = 0
    # The ids first, then each chunk as a range of primary keys: a keyset query (id > last ...
    # LIMIT) may be planned through the status index, rescanning every submitted nomination for
    # each chunk, and a list of thousands of ids costs more to build than to run.
    ids = list(nominations.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), ELIGIBILITY_CHUNK):
        low, high = ids[start], ids[min(start + ELIGIBILITY_CHUNK, len(ids)) - 1]
        rows = list(nominations.filter(pk__gte=low, pk__lte=high).order_by("pk")
                    .values_list(*_FIELDS))
        verdicts = _chunk_evaluate(rows, low, high, policies, track_names, today=today)
        # On PostgreSQL (row locks, no database-wide write lock) one transaction per chunk.
        size = ELIGIBILITY_BATCH if connection.vendor == "sqlite" else ELIGIBILITY_CHUNK
        for first in range(0, len(verdicts), size):
            batch = verdicts[first:first + size]
            total += short_transaction(lambda batch=batch: _verdicts_store(batch, now=now))
    return total


def _chunk_evaluate(rows: list[tuple], low: int, high: int, policies: dict,
                    track_names: dict[int, str], *, today) -> list[_Verdict]:
    """The verdicts of one chunk, the nominations with ids from `low` to `high`: their ranked
    tracks and their related courses read in one query each (the names of tracks not seen yet
    in one more). Those of other nominations in the range are read too, and left unused."""
    ranked: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for nomination_id, track_id, level in (
        NominationPreference.objects.filter(nomination_id__gte=low, nomination_id__lte=high)
        .order_by("nomination_id", "rank").values_list("nomination_id", "track_id",
                                                       "track__level")
    ):
        ranked[nomination_id].append((track_id, level))
    unnamed = {t for tracks in ranked.values() for t, _level in tracks} - track_names.keys()
    if unnamed:
        track_names.update((t.pk, str(t)) for t in DegreeTrack.objects.filter(pk__in=unnamed))
    # A course counts when it is linked to at least one of the program's core technologies.
    related = dict(
        NominationCourse.objects.filter(nomination_id__gte=low, nomination_id__lte=high,
                                        technologies__isnull=False)
        .order_by().values("nomination_id").annotate(n=Count("pk", distinct=True))
        .values_list("nomination_id", "n")
    )
    verdicts = []
    for (pk, updated_at, program_id, gpa, test, score, test_date, degree, was_eligible,
         was_reasons, given_names, family_name) in rows:
        result = eligibility.evaluate_facts(eligibility.EligibilityFacts(
            gpa_normalised=gpa, language_test=test, language_score=score,
            language_test_date=test_date, degree=degree, related_courses=related.get(pk, 0),
            preferences=tuple((t, level, track_names[t]) for t, level in ranked.get(pk, ())),
        ), policies.get(program_id), today=today)
        entry = None
        if (was_eligible, was_reasons) != (result.eligible, result.reasons):
            entry = audit_entry_build(
                actor=None, action="nomination_eligibility",
                target=Nomination(pk=pk, given_names=given_names, family_name=family_name),
                before={"is_eligible": was_eligible, "reasons": was_reasons},
                after={"is_eligible": result.eligible, "reasons": result.reasons},
            )
        verdicts.append(_Verdict(pk=pk, updated_at=updated_at, entry=entry,
                                 eligible=result.eligible, reasons=result.reasons))
    return verdicts


def _verdicts_store(batch: list[_Verdict], *, now: datetime) -> int:
    """Store a batch of verdicts, read again under the write lock: a nomination edited or
    withdrawn since it was read was evaluated by that change's own service, and is left as that
    service stored it. The unchanged get only the time of the check (one UPDATE)."""
    current = set(Nomination.objects.filter(
        pk__in=[v.pk for v in batch], status=Nomination.Status.SUBMITTED,
    ).values_list("pk", "updated_at"))
    kept = [v for v in batch if (v.pk, v.updated_at) in current]
    changed = [v for v in kept if v.entry is not None]
    _verdicts_update(changed, now=now)
    unchanged = [v.pk for v in kept if v.entry is None]
    if unchanged:
        Nomination.objects.filter(pk__in=unchanged).update(eligibility_checked_at=now)
    _entries_insert([v.entry for v in changed])
    return len(changed)


def _entries_insert(entries: list[AuditEntry]) -> None:
    """The audit entries in one statement (bulk_create splits them by SQLite's bound-parameter
    limit, a statement per hundred entries)."""
    if not entries:
        return
    fields = ["created_at", "actor", "actor_label", "action", "target_type", "target_id",
              "target_repr", "before", "after"]
    stamp = prepared_datetime(timezone.now())
    before = AuditEntry._meta.get_field("before")
    bulk_insert(AuditEntry, fields, [
        (stamp, entry.actor_id, entry.actor_label, entry.action, entry.target_type_id,
         entry.target_id, entry.target_repr, json.dumps(entry.before, cls=before.encoder),
         json.dumps(entry.after, cls=before.encoder))
        for entry in entries])


def _verdicts_update(changed: list[_Verdict], *, now: datetime) -> None:
    """The changed verdicts in one UPDATE ... FROM (VALUES ...) (PostgreSQL, and SQLite since
    3.33): Django's bulk_update builds a CASE per row and field, slower to build than to run."""
    if not changed:
        return
    field = Nomination._meta.get_field
    quote = connection.ops.quote_name
    reasons = field("eligibility_reasons")
    cast = "::jsonb" if connection.vendor == "postgresql" else ""
    rows = ", ".join(["(%s, %s, %s)"] * len(changed))
    params: list = [field("eligibility_checked_at").get_db_prep_value(now, connection)]
    for verdict in changed:
        params += [verdict.pk, verdict.eligible,
                   reasons.get_db_prep_value(verdict.reasons, connection)]
    table = quote(Nomination._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {quote('is_eligible')} = v.e, "
            f"{quote(reasons.column)} = v.r{cast}, {quote('eligibility_checked_at')} = %s "
            f"FROM (SELECT column1 AS id, column2 AS e, column3 AS r FROM (VALUES {rows}) AS x)"
            f" AS v WHERE {table}.{quote('id')} = v.id",
            params,
        )
