"""A round's audit log as staff read it: who did what, as a sentence in their language.

Reads only. `round_audit_entries` selects the entries about a round — the round itself and its
calendar (milestones, seats), its nominations, matching runs and cohort — filtered in the
database. `audit_lines` turns one page of them into `AuditLine`s: a translated sentence per
action (ACTIONS; an action not listed there reads as a generic sentence), and the changed
values with their field labels and human values. The names behind ids (tracks, accounts) are
looked up once per page, whatever its length. `audit_export_table` writes the same lines as a
CSV table, a batch of entries at a time.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from itertools import islice
from typing import Any

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Paginator
from django.db import connection, models
from django.db.models import CharField, Q, QuerySet
from django.db.models.functions import Cast
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.functional import cached_property
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from candidates.models import Cohort, CohortOverride, MatchRun, Nomination, NominationDocument
from ecocycle.exports import ExportTable
from ecocycle.models import AuditEntry, User
from ecocycle.services import SYSTEM_ACTOR
from programs.calendar import moment
from programs.models import DegreeTrack, IntakeRound, RoundMilestone, RoundTrack

Sentence = str | Callable[[AuditEntry], str]


@dataclass(frozen=True)
class Action:
    label: Any  # a lazy translation
    sentence: Sentence


def _override_sentence(entry: AuditEntry) -> str:
    if (entry.after or {}).get("kind") == CohortOverride.Kind.EXCLUDE:
        return _("%(actor)s excluded %(record)s from the cohort: %(reason)s")
    return _("%(actor)s moved %(record)s to %(track)s: %(reason)s")


# What each action says. Placeholders: %(actor)s, %(record)s (the record as it was named then),
# %(type)s (its kind), %(reason)s, %(track)s (the track after), %(date)s (the milestone's new
# date), %(admitted)s, %(trigger)s.
ACTIONS: dict[str, Action] = {
    "cohort_override_create": Action(gettext_lazy("Override"), _override_sentence),
    "cohort_override_clear": Action(gettext_lazy("Override cleared"), gettext_lazy(
        "%(actor)s cleared the override of %(record)s; the next matching run places them "
        "again.")),
    "cohort_approve": Action(gettext_lazy("Cohort approved"), gettext_lazy(
        "%(actor)s approved the cohort: %(admitted)s candidates admitted.")),
    "cohort_reopen": Action(gettext_lazy("Cohort reopened"), gettext_lazy(
        "%(actor)s reopened the approved cohort and withdrew its admissions: %(reason)s")),
    "cohort_run_request": Action(gettext_lazy("Matching run requested"), gettext_lazy(
        "%(actor)s asked for a matching run.")),
    "cohort_run_request_clear": Action(gettext_lazy("Matching request answered"), gettext_lazy(
        "The request for a matching run ended without a run: %(reason)s")),
    "cohort_notification_done": Action(gettext_lazy("Decision emails written"), gettext_lazy(
        "The emails announcing the cohort's decision were written to the outbox.")),
    "cohort_notification_fail": Action(gettext_lazy("Decision emails failed"), gettext_lazy(
        "Writing the emails announcing the cohort's decision failed.")),
    "match_run_create": Action(gettext_lazy("Matching run"), gettext_lazy(
        "%(actor)s ran the matching (%(trigger)s).")),
    "match_run_placements_prune": Action(gettext_lazy("Old placements removed"), gettext_lazy(
        "The placements of an older matching run were removed.")),
    "intake_round_close_nominations": Action(gettext_lazy("Nominations closed early"),
                                             gettext_lazy(
        "%(actor)s closed nominations early: %(reason)s")),
    "intake_round_extend_nominations": Action(gettext_lazy("Nomination deadline extended"),
                                              gettext_lazy(
        "%(actor)s extended the nomination deadline to %(date)s: %(reason)s")),
    "intake_round_open_matching": Action(gettext_lazy("Matching phase opened"), gettext_lazy(
        "%(actor)s opened the matching phase: %(reason)s")),
    "intake_round_set_results_release": Action(gettext_lazy("Release of results set"),
                                               gettext_lazy(
        "%(actor)s set the release of results to %(date)s: %(reason)s")),
    "intake_round_set_last_wave": Action(gettext_lazy("Last wave of offers set"), gettext_lazy(
        "%(actor)s set the last wave of offers to %(date)s: %(reason)s")),
    "cohort_wave_propose": Action(gettext_lazy("Wave of offers proposed"), gettext_lazy(
        "%(actor)s proposed a wave of offers for the seats given back.")),
    "cohort_wave_approve": Action(gettext_lazy("Wave of offers approved"), gettext_lazy(
        "%(actor)s approved a wave of offers for the seats given back.")),
    "offer_wave_make": Action(gettext_lazy("Offer made in a later wave"), gettext_lazy(
        "%(actor)s offered %(record)s a seat given back in %(track)s.")),
    "offer_wave_move_up": Action(gettext_lazy("Offer moved up"), gettext_lazy(
        "%(actor)s replaced the pending offer of %(record)s by one in %(track)s, a track they "
        "ranked higher.")),
    "export_job_request": Action(gettext_lazy("Export asked for"), gettext_lazy(
        "%(actor)s asked for a spreadsheet export of the round.")),
    "nomination_create": Action(gettext_lazy("Nomination created"), gettext_lazy(
        "%(actor)s nominated %(record)s.")),
    "nomination_import": Action(gettext_lazy("Nomination imported"), gettext_lazy(
        "%(actor)s imported the nomination of %(record)s from a CSV file.")),
    "nomination_update": Action(gettext_lazy("Nomination edited"), gettext_lazy(
        "%(actor)s edited the nomination of %(record)s.")),
    "nomination_set_preferences": Action(gettext_lazy("Preferences changed"), gettext_lazy(
        "%(actor)s changed the track preferences of %(record)s.")),
    "nomination_set_courses": Action(gettext_lazy("Courses changed"), gettext_lazy(
        "%(actor)s changed the courses of %(record)s.")),
    "document_upload": Action(gettext_lazy("Document uploaded"), gettext_lazy(
        "%(actor)s uploaded a document for %(record)s.")),
    "document_remove": Action(gettext_lazy("Document removed"), gettext_lazy(
        "%(actor)s removed a document of %(record)s.")),
    "nomination_submit": Action(gettext_lazy("Nomination submitted"), gettext_lazy(
        "%(actor)s submitted the nomination of %(record)s.")),
    "nomination_withdraw": Action(gettext_lazy("Nomination withdrawn"), gettext_lazy(
        "%(actor)s withdrew the nomination of %(record)s.")),
    "nomination_eligibility": Action(gettext_lazy("Eligibility checked"), gettext_lazy(
        "The eligibility of %(record)s was checked.")),
    "nomination_duplicate_refused": Action(gettext_lazy("Duplicate refused"), gettext_lazy(
        "A nomination of %(record)s by %(actor)s was refused as a duplicate.")),
    "nomination_consent_request": Action(gettext_lazy("Consent requested"), gettext_lazy(
        "%(actor)s asked %(record)s for consent.")),
    "nomination_consent_give": Action(gettext_lazy("Consent given"), gettext_lazy(
        "%(record)s gave consent.")),
    "nomination_consent_resend": Action(gettext_lazy("Consent request sent again"),
                                        gettext_lazy(
        "%(actor)s sent the consent request to %(record)s again.")),
}

# The kernel's audited create / update / delete name their action `<model>_<verb>`.
GENERIC_ACTIONS: dict[str, Action] = {
    "create": Action(gettext_lazy("%(type)s created"), gettext_lazy(
        "%(actor)s created the %(type)s “%(record)s”.")),
    "update": Action(gettext_lazy("%(type)s changed"), gettext_lazy(
        "%(actor)s changed the %(type)s “%(record)s”.")),
    "delete": Action(gettext_lazy("%(type)s deleted"), gettext_lazy(
        "%(actor)s deleted the %(type)s “%(record)s”.")),
}
UNKNOWN_SENTENCE = gettext_lazy("%(actor)s recorded “%(action)s” on the %(type)s “%(record)s”.")

# Values said in the sentence, or of no use to a reader, are not listed among the changes.
HIDDEN_KEYS = {"reason", "input_digest", "output_digest", "notification"}
# Keys that are no field of the record they are written about.
KEY_LABELS = {
    "track": gettext_lazy("track"),
    "kind": gettext_lazy("kind"),
    "admitted": gettext_lazy("admitted"),
    "run": gettext_lazy("matching run"),
    "counts": gettext_lazy("counts"),
    "trigger": gettext_lazy("started by"),
    "run_requested_at": gettext_lazy("run requested at"),
    "document": gettext_lazy("document"),
    "courses": gettext_lazy("courses"),
    "preferences": gettext_lazy("preferences"),
}
KEY_CHOICES = {"kind": CohortOverride.Kind, "trigger": MatchRun.Trigger}
KEY_MODELS: dict[str, type[models.Model]] = {"track": DegreeTrack, "preferences": DegreeTrack}
# The records whose names are looked up behind an id: one query per model and page.
RESOLVED_MODELS = (DegreeTrack, User)


def _generic(code: str) -> tuple[Action, type[models.Model]] | None:
    """The kernel's `<model>_<verb>` action and its model, if `code` is one."""
    name, _sep, verb = code.rpartition("_")
    model = _models_by_name().get(name)
    if verb in GENERIC_ACTIONS and model is not None:
        return GENERIC_ACTIONS[verb], model
    return None


@lru_cache(maxsize=1)
def _models_by_name() -> dict[str, type[models.Model]]:
    return {model._meta.model_name: model for model in reversed(apps.get_models())}


def action_of(code: str) -> Action:
    if code in ACTIONS:
        return ACTIONS[code]
    generic = _generic(code)
    return generic[0] if generic else Action(code.replace("_", " "), UNKNOWN_SENTENCE)


def action_label(code: str) -> str:
    """The action's name in the current language, e.g. "Milestone changed"."""
    generic = None if code in ACTIONS else _generic(code)
    if generic is not None:
        action, model = generic
        return str(action.label) % {"type": capfirst(model._meta.verbose_name)}
    return str(action_of(code).label)


# --- selection ----------------------------------------------------------------------------------

def _ids_as_text(queryset: QuerySet) -> QuerySet:
    # target_id is text: compare against the ids cast to text, in one subquery each.
    return queryset.annotate(key=Cast("pk", output_field=CharField())).values("key")


def round_audit_scope(intake_round: IntakeRound) -> Q:
    types = ContentType.objects.get_for_models(
        IntakeRound, RoundMilestone, RoundTrack, Nomination, MatchRun, Cohort,
        for_concrete_models=False)
    return (
        Q(target_type=types[IntakeRound], target_id=str(intake_round.pk))
        | Q(target_type=types[RoundMilestone], target_id__in=_ids_as_text(
            RoundMilestone.objects.filter(intake_round=intake_round)))
        | Q(target_type=types[RoundTrack], target_id__in=_ids_as_text(
            RoundTrack.objects.filter(intake_round=intake_round)))
        | Q(target_type=types[Nomination], target_id__in=_ids_as_text(
            Nomination.objects.filter(intake_round=intake_round)))
        | Q(target_type=types[MatchRun], target_id__in=_ids_as_text(
            MatchRun.objects.filter(intake_round=intake_round)))
        | Q(target_type=types[Cohort], target_id__in=_ids_as_text(
            Cohort.objects.filter(intake_round=intake_round)))
        # A milestone or a track's seats removed from the round: the row is gone, its entry
        # keeps the round's id in what it held.
        | Q(target_type__in=[types[RoundMilestone], types[RoundTrack]],
            action__endswith="_delete", before__intake_round=intake_round.pk)
    )


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def round_audit_entries(
    intake_round: IntakeRound, *, who: str = "", action: str = "",
    since: date | None = None, until: date | None = None,
) -> QuerySet[AuditEntry]:
    """The round's entries, newest first: `who` matches the actor's name or recorded label,
    `action` is an action's code, `since` and `until` are days (both included) in the current
    time zone."""
    entries = AuditEntry.objects.filter(round_audit_scope(intake_round))
    if who:
        entries = entries.filter(Q(actor_label__icontains=who) | Q(actor__full_name__icontains=who))
    if action:
        entries = entries.filter(action=action)
    if since:
        entries = entries.filter(created_at__gte=_day_start(since))
    if until:
        entries = entries.filter(created_at__lt=_day_start(until + timedelta(days=1)))
    return entries.select_related("actor", "target_type").order_by("-created_at", "-id")


def round_audit_actions(intake_round: IntakeRound) -> list[tuple[str, str]]:
    """The actions the filter offers, as (code, translated label), by label: every action the
    audit log holds. Read by a loose index scan (one probe of the action index per distinct
    action), not by reading the round's entries, whose number grows with the round: an action
    the round's log does not hold lists nothing."""
    table = connection.ops.quote_name(AuditEntry._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            # The table's own name, quoted: no input reaches this SQL.
            f"WITH RECURSIVE codes(code) AS ("
            f"SELECT MIN(action) FROM {table} UNION ALL "
            f"SELECT (SELECT MIN(action) FROM {table} WHERE action > codes.code) FROM codes "
            f"WHERE codes.code IS NOT NULL) SELECT code FROM codes WHERE code IS NOT NULL")
        codes = [row[0] for row in cursor.fetchall()]
    return sorted(((code, action_label(code)) for code in codes), key=lambda c: c[1].lower())


class CappedPaginator(Paginator):
    """Pages of at most the `cap` newest entries: counting a long log would read all of it.
    Older entries are reached by narrowing the period."""

    def __init__(self, object_list, per_page, *, cap: int):
        super().__init__(object_list, per_page)
        self.cap = cap

    @cached_property
    def _counted(self) -> int:
        # SELECT COUNT(*) FROM (... LIMIT cap + 1): stops at the cap.
        return self.object_list[: self.cap + 1].count()

    @cached_property
    def count(self) -> int:
        return min(self._counted, self.cap)

    @property
    def capped(self) -> bool:
        return self._counted > self.cap


# --- presentation -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str


@dataclass
class AuditLine:
    entry: AuditEntry
    actor: str
    action: str
    sentence: str
    changes: list[Change] = field(default_factory=list)

    @property
    def when(self) -> datetime:
        return self.entry.created_at


class _Params(dict):
    def __missing__(self, key):
        return "—"


def _model_of(entry: AuditEntry) -> type[models.Model] | None:
    return entry.target_type.model_class()


def _field(model: type[models.Model] | None, key: str) -> models.Field | None:
    if model is None:
        return None
    try:
        model_field = model._meta.get_field(key)
    except FieldDoesNotExist:
        return None
    # The record's own fields; a reverse relation of the same name is none of its values.
    return None if model_field.auto_created and not model_field.concrete else model_field


def _ref_model(model, key: str) -> type[models.Model] | None:
    model_field = _field(model, key)
    related = getattr(model_field, "related_model", None) if model_field else KEY_MODELS.get(key)
    return related if related in RESOLVED_MODELS else None


def _names(entries: Iterable[AuditEntry]) -> dict[type[models.Model], dict[int, str]]:
    """The names of the tracks and accounts the entries' values refer to: one query per
    model, whatever the number of entries."""
    wanted: dict[type[models.Model], set[int]] = defaultdict(set)
    for entry in entries:
        model = _model_of(entry)
        for values in (entry.before or {}, entry.after or {}):
            for key, value in values.items():
                related = _ref_model(model, key)
                if related is None:
                    continue
                ids = value if isinstance(value, list) else [value]
                wanted[related].update(i for i in ids if isinstance(i, int))
    return {model: {pk: str(obj) for pk, obj in model._default_manager.in_bulk(ids).items()}
            for model, ids in wanted.items() if ids}


def _label(model, key: str) -> str:
    if model is IntakeRound and key in RoundMilestone.Kind.values:
        return str(RoundMilestone.Kind(key).label)
    model_field = _field(model, key)
    if model_field is not None and hasattr(model_field, "verbose_name"):
        return str(model_field.verbose_name)
    return str(KEY_LABELS.get(key, key.replace("_", " ")))


def _scalar(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, str):
        moment_at = parse_datetime(value) if len(value) >= 16 and value[4:5] == "-" else None
        return moment(moment_at) if moment_at is not None else value
    return str(value)


def _choices(model, key: str) -> dict:
    model_field = _field(model, key)
    if model_field is not None and model_field.choices:
        return dict(model_field.flatchoices)
    return dict(KEY_CHOICES[key].choices) if key in KEY_CHOICES else {}


def _document_text(value) -> str:
    # A document's snapshot: its kind and the name it was uploaded with.
    if not isinstance(value, dict):
        return _scalar(value)
    kinds = dict(NominationDocument.Kind.choices)
    kind = value.get("kind")
    return f"{kinds.get(kind, kind)}: {value.get('original_name') or '—'}"


def _courses_text(value) -> str:
    # The courses as written by nomination_set_courses: [name, grade, technology ids] each.
    if not isinstance(value, list):
        return _scalar(value)
    return "; ".join(f"{row[0]} ({row[1] or '—'})" if isinstance(row, list) and len(row) > 1
                     else _scalar(row) for row in value) or "—"


KEY_FORMATS: dict[str, Callable[[Any], str]] = {"document": _document_text,
                                                 "courses": _courses_text}


def _human(model, key: str, value, names) -> str:
    """A value as a reader knows it: a choice's label, a track's or account's name, a date in
    the current time zone."""
    if value is None:
        return "—"
    if key in KEY_FORMATS:
        return KEY_FORMATS[key](value)
    related = _ref_model(model, key)
    if related is not None:
        ids = value if isinstance(value, list) else [value]
        return ", ".join(names.get(related, {}).get(i, f"#{i}") for i in ids) or "—"
    choices = _choices(model, key)
    if choices and isinstance(value, str | int) and value in choices:
        return str(choices[value])
    if key == "admitted" and isinstance(value, list):
        return str(len(value))
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_scalar(v)}" for k, v in value.items()) or "—"
    if isinstance(value, list):
        return ", ".join(_scalar(v) for v in value) or "—"
    return _scalar(value)


def _changes(entry: AuditEntry, names) -> list[Change]:
    model = _model_of(entry)
    before, after = entry.before or {}, entry.after or {}
    keys = [*before, *(k for k in after if k not in before)]
    changes = [Change(_label(model, key),
                      _human(model, key, before[key], names) if key in before else "",
                      _human(model, key, after.get(key), names) if key in after else "—")
               for key in keys if key not in HIDDEN_KEYS]
    # A value shown the same before and after (an empty list, say) changed nothing to read.
    return [c for c in changes if c.before != c.after]


def _actor(entry: AuditEntry) -> str:
    if entry.actor is not None:
        return entry.actor.get_full_name()
    return _("The system") if entry.actor_label == SYSTEM_ACTOR else entry.actor_label


def _params(entry: AuditEntry, actor: str, names) -> _Params:
    model = _model_of(entry)
    after = entry.after or {}
    dates = [after[k] for k in RoundMilestone.Kind.values if k in after]
    admitted = after.get("admitted")
    return _Params(
        actor=actor, record=entry.target_repr, action=entry.action,
        type=str(model._meta.verbose_name) if model is not None else entry.target_type.model,
        reason=after.get("reason") or "—",
        track=_human(model, "track", after.get("track"), names),
        date=_scalar(dates[0]) if dates else "—",
        admitted=len(admitted) if isinstance(admitted, list) else _scalar(admitted),
        trigger=_human(model, "trigger", after.get("trigger"), names),
    )


def _sentence(entry: AuditEntry, params: _Params) -> str:
    sentence = action_of(entry.action).sentence
    template = sentence(entry) if callable(sentence) else sentence
    return str(template) % params


def audit_lines(entries: Iterable[AuditEntry]) -> list[AuditLine]:
    """The entries (with their actor and target type selected) as lines to read; one query per
    model named behind an id, for all of them together."""
    entries = list(entries)
    names = _names(entries)
    lines = []
    for entry in entries:
        actor = _actor(entry)
        lines.append(AuditLine(
            entry=entry, actor=actor, action=action_label(entry.action),
            sentence=_sentence(entry, _params(entry, actor, names)),
            changes=_changes(entry, names)))
    return lines


# --- export -------------------------------------------------------------------------------------

EXPORT_BATCH = 500


def _batches(entries: QuerySet[AuditEntry]) -> Iterator[list[AuditEntry]]:
    iterator = entries.iterator(chunk_size=EXPORT_BATCH)
    while batch := list(islice(iterator, EXPORT_BATCH)):
        yield batch


def _export_rows(entries: QuerySet[AuditEntry], language: str) -> Iterator[list]:
    # Read after the view has returned (a streamed response): in the request's language.
    with translation.override(language):
        for batch in _batches(entries):
            for line in audit_lines(batch):
                yield [
                    timezone.localtime(line.when).strftime("%Y-%m-%d %H:%M:%S"),
                    line.actor, line.action, line.sentence, line.entry.target_repr,
                    "; ".join(f"{c.label}: {c.before} → {c.after}" if c.before else
                              f"{c.label}: {c.after}" for c in line.changes),
                ]


def audit_export_table(entries: QuerySet[AuditEntry]) -> ExportTable:
    """The entries as a table whose rows are read lazily, a batch at a time."""
    return ExportTable(
        title=_("Audit log"),
        headers=[_("When"), _("Who"), _("What"), _("Sentence"), _("Record"), _("Changes")],
        rows=_export_rows(entries, translation.get_language()),
    )
