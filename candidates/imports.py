"""Bulk import of draft nominations from a CSV file, and the template coordinators fill in.

The whole file is read and its shape checked first. Then every row goes through the same
service as the web form and the API (nomination_save: the draft with its preferences and
courses), inside one transaction with a savepoint per row, so that every error of every row is
collected. A file with any error imports nothing. Reading the file and that run are the
kernel's (ecocycle.csvimport.CsvImport); the columns, their rules and the service are here.

Errors are (row, column, message): the row as a spreadsheet numbers it (the header is row 1),
the column by its header name ("" when an error concerns no single column), and a sentence in
the active language.
"""

import json
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import IO, Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from ecocycle import csvimport
from ecocycle.bulk import bulk_insert, prepared_datetime
from ecocycle.csvimport import Column, ImportResult, Invalid, Row, RowError, max_bytes, max_rows
from ecocycle.exceptions import DomainError
from ecocycle.models import AuditEntry, User
from ecocycle.services import SYSTEM_ACTOR, audit_entry_create, instance_snapshot
from programs.models import (
    CoreTechnology,
    DegreeTrack,
    IntakeRound,
    ProgramUniversity,
    University,
)

from . import selectors, services
from .forms import LANGUAGE_SCORE_RANGES, CourseFormSet
from .models import (
    EligibilityPolicy,
    Nomination,
    NominationCourse,
    NominationImportJob,
    NominationPreference,
)
from .services._common import (
    _check_date_of_birth,
    _check_gpa,
    _check_language_date,
    _coerce,
    _participation,
    nomination_derived_fields,
)
from .services.nominations import _audit_view

__all__ = [
    "COLUMNS", "COLUMN_NAMES", "EXAMPLE_PASSPORT", "Column", "ImportResult", "NominationImport",
    "RowError", "import_template_csv", "max_bytes", "max_rows", "nomination_import_csv",
    "nomination_import_job_create", "nomination_import_job_get", "nomination_import_job_retry",
    "nomination_import_job_run", "nomination_import_jobs_recent",
]

LIST_SEPARATOR = ";"
COURSE_PART_SEPARATOR = "|"
TECHNOLOGY_SEPARATOR = ","
MAX_COURSES = CourseFormSet.max_num
EXAMPLE_PASSPORT = "EXAMPLE0001"
logger = logging.getLogger(__name__)
# Bounded: a file may hold this many candidates (a setting may lower or raise it, to 20,000
# at most), and this many bytes.
DEFAULT_MAX_ROWS = 5000
DEFAULT_MAX_BYTES = 8 * 1024 * 1024
# Rows checked or written between two reports of progress; also the size of each INSERT.
BATCH = 500


# --- the columns -------------------------------------------------------------------------------

COLUMNS: list[Column] = [
    Column("family_name", True, gettext_lazy("Family name in Latin script (at most 120 "
                                             "characters).")),
    Column("given_names", False, gettext_lazy("Given names in Latin script.")),
    Column("native_name", False, gettext_lazy(
        "The name in native script (e.g. Vietnamese with its accents), only where it differs.")),
    Column("date_of_birth", True, gettext_lazy("A date as YYYY-MM-DD, e.g. 2001-03-14.")),
    Column("nationality", True, gettext_lazy(
        "The two-letter ISO 3166 country code, e.g. ID, VN, KR.")),
    Column("email", True, gettext_lazy(
        "The candidate's own email address: the consent link is sent there.")),
    Column("phone", False, gettext_lazy("With the country code, e.g. +62 812 3456 7890.")),
    Column("passport_number", True, gettext_lazy(
        "Letters, digits, spaces and hyphens. Stored encrypted.")),
    Column("candidate_language", False, gettext_lazy(
        "The language of the emails to the candidate: one of %(codes)s. Empty means en."),
        tuple(code for code, _name in settings.LANGUAGES)),
    Column("degree", False, gettext_lazy("Degree held or expected: one of %(codes)s."),
           tuple(EligibilityPolicy.Degree.values)),
    Column("degree_status", False, gettext_lazy("One of %(codes)s."),
           tuple(Nomination.DegreeStatus.values)),
    Column("major", False, gettext_lazy("The candidate's major.")),
    Column("institution", False, gettext_lazy("The institution that awarded the degree.")),
    Column("gpa", False, gettext_lazy(
        "A number such as 3.45 (a decimal comma, 3,45, is accepted too).")),
    Column("gpa_scale", False, gettext_lazy("The scale of the GPA: one of %(codes)s."),
           tuple(Nomination.GpaScale.values)),
    Column("language_test", False, gettext_lazy("One of %(codes)s."),
           tuple(Nomination.LanguageTest.values)),
    Column("language_score", False, gettext_lazy(
        "The score: TOEFL iBT 0 to 120, IELTS 0 to 9, TOPIK level 1 to 6. Required with a test.")),
    Column("language_test_date", False, gettext_lazy(
        "A date as YYYY-MM-DD, at most two years ago. Required with a test.")),
    Column("research_interests", False, gettext_lazy("Free text, at most 4000 characters.")),
    Column("university_rank", False, gettext_lazy(
        "Your university's rank of this nominee: a whole number, 1 is your strongest.")),
    Column("preferences", False, gettext_lazy(
        "Degree track ids in order of preference, separated by “;”, e.g. 12;7. The ids are in "
        "the table of degree tracks below.")),
    Column("courses", False, gettext_lazy(
        "Completed related courses, separated by “;”. Each course is name|grade|technology ids, "
        "the ids separated by “,”, e.g. Reaction engineering|A|3,5;Thermodynamics|B+. Grade and "
        "technologies may be left out.")),
]
COLUMN_NAMES = [column.name for column in COLUMNS]
REQUIRED_COLUMNS = [column.name for column in COLUMNS if column.required]
SERVICE_FIELDS = {name: name for name in COLUMN_NAMES}  # a service's field → its column
TEXT_LIMITS = {
    "family_name": 120, "given_names": 160, "native_name": 200, "phone": 40, "major": 200,
    "institution": 200, "research_interests": 4000,
}


# --- one row's shape ---------------------------------------------------------------------------

@dataclass
class _Context:
    today: date
    tracks: Mapping[int, DegreeTrack]
    technologies: Mapping[int, CoreTechnology]
    preference_limit: int


def _text_parser(name: str) -> Callable[[str, _Context], str]:
    def parse(value: str, context: _Context) -> str:
        csvimport.too_long(value, TEXT_LIMITS[name])
        return value
    return parse


def _parse_date_of_birth(value: str, context: _Context) -> date:
    parsed = csvimport.parse_date(value)
    if parsed >= context.today:
        raise Invalid(_("The date of birth must be in the past."))
    return parsed


def _parse_test_date(value: str, context: _Context) -> date:
    parsed = csvimport.parse_date(value)
    if parsed > context.today:
        raise Invalid(_("The test date cannot be in the future."))
    return parsed


def _parse_nationality(value: str, context: _Context) -> str:
    return csvimport.parse_country(value)


def _parse_email(value: str, context: _Context) -> str:
    return csvimport.parse_email(value)


def _parse_passport(value: str, context: _Context) -> str:
    code = value.upper()
    if not all(ch.isalnum() or ch in " -" for ch in code):
        raise Invalid(_("Use only letters, digits, spaces and hyphens."))
    csvimport.too_long(code, 40)
    if code == EXAMPLE_PASSPORT:
        raise Invalid(_("This is the example row of the template. Delete it before uploading."))
    return code


def _choice_parser(allowed: Sequence[str]) -> Callable[[str, _Context], str]:
    return lambda value, context: csvimport.parse_choice(value, allowed)


_GPA_SCALES = {Decimal(code): code for code in Nomination.GpaScale.values}


def _parse_gpa_scale(value: str, context: _Context) -> str:
    # Excel turns a typed 4.0 into 4, so scales are matched by their value.
    try:
        number = csvimport.parse_decimal(value)
    except Invalid:
        number = None
    if number not in _GPA_SCALES:
        raise Invalid(_("“%(value)s” is not allowed here. Use one of: %(codes)s.") % {
            "value": value, "codes": ", ".join(Nomination.GpaScale.values)})
    return _GPA_SCALES[number]


def _number_parser(name: str) -> Callable[[str, _Context], Decimal]:
    model_field = Nomination._meta.get_field(name)

    def parse(value: str, context: _Context) -> Decimal:
        number = csvimport.parse_decimal(value)
        try:
            model_field.run_validators(number)  # digits and decimal places, as the form checks
        except ValidationError as error:
            raise Invalid(" ".join(error.messages)) from None
        return number
    return parse


def _parse_rank(value: str, context: _Context) -> int:
    if not re.fullmatch(r"\d{1,3}", value.strip()) or not 1 <= int(value) <= 999:
        raise Invalid(_("“%(value)s” is not a whole number from 1 to 999.") % {"value": value})
    return int(value)


def _parse_preferences(value: str, context: _Context) -> list[DegreeTrack]:
    tracks: list[DegreeTrack] = []
    for token in re.split(r"[;,]", value):
        token = token.strip()
        if not token:
            continue
        if not token.isdigit():
            raise Invalid(_(
                "“%(value)s” is not a degree track id. Write the ids from the table of degree "
                "tracks, separated by “;”."
            ) % {"value": token})
        track = context.tracks.get(int(token))
        if track is None:
            raise Invalid(_(
                "There is no degree track with id %(id)s in this round. Use the ids from the "
                "table of degree tracks."
            ) % {"id": token})
        if track in tracks:
            # The same words as the service's check, so that both read alike.
            raise Invalid(_("“%(track)s” is ranked twice. Rank each degree track at most once.")
                           % {"track": track})
        tracks.append(track)
    if len(tracks) > context.preference_limit:
        raise Invalid(ngettext(
            "At most %(limit)s degree track can be ranked in this round.",
            "At most %(limit)s degree tracks can be ranked in this round.",
            context.preference_limit,
        ) % {"limit": context.preference_limit})
    return tracks


def _parse_courses(value: str, context: _Context) -> list[dict[str, Any]]:
    entries = [entry.strip() for entry in value.split(LIST_SEPARATOR) if entry.strip()]
    if len(entries) > MAX_COURSES:
        raise Invalid(_("At most %(limit)s courses can be listed; this cell has %(count)s.") % {
            "limit": MAX_COURSES, "count": len(entries)})
    courses = []
    for number, entry in enumerate(entries, start=1):
        parts = [part.strip() for part in entry.split(COURSE_PART_SEPARATOR)]
        prefix = _("Course %(number)s: ") % {"number": number}
        if len(parts) > 3:
            raise Invalid(prefix + _(
                "“%(value)s” has more than three parts. Write each course as "
                "name|grade|technology ids."
            ) % {"value": entry})
        name, grade, ids = [*parts, "", ""][:3]
        if not name:
            raise Invalid(prefix + _("Give the course a name."))
        try:
            csvimport.too_long(name, 200)
            csvimport.too_long(grade, 20)
        except Invalid as error:
            raise Invalid(prefix + str(error)) from None
        technologies = []
        for token in (t.strip() for t in ids.split(TECHNOLOGY_SEPARATOR)):
            if not token:
                continue
            technology = context.technologies.get(int(token)) if token.isdigit() else None
            if technology is None:
                raise Invalid(prefix + _(
                    "“%(value)s” is not the id of one of this program's core technologies. Use "
                    "the ids from the table of core technologies."
                ) % {"value": token})
            if technology not in technologies:
                technologies.append(technology)
        courses.append({"name": name, "grade": grade, "technologies": technologies})
    return courses


PARSERS: dict[str, Callable[[str, _Context], Any]] = {
    "family_name": _text_parser("family_name"),
    "given_names": _text_parser("given_names"),
    "native_name": _text_parser("native_name"),
    "date_of_birth": _parse_date_of_birth,
    "nationality": _parse_nationality,
    "email": _parse_email,
    "phone": _text_parser("phone"),
    "passport_number": _parse_passport,
    "candidate_language": _choice_parser([code for code, _name in settings.LANGUAGES]),
    "degree": _choice_parser(EligibilityPolicy.Degree.values),
    "degree_status": _choice_parser(Nomination.DegreeStatus.values),
    "major": _text_parser("major"),
    "institution": _text_parser("institution"),
    "gpa": _number_parser("gpa"),
    "gpa_scale": _parse_gpa_scale,
    "language_test": _choice_parser(Nomination.LanguageTest.values),
    "language_score": _number_parser("language_score"),
    "language_test_date": _parse_test_date,
    "research_interests": _text_parser("research_interests"),
    "university_rank": _parse_rank,
    "preferences": _parse_preferences,
    "courses": _parse_courses,
}


def _check_together(row: Row) -> None:
    """The checks across cells that the web forms make (StudiesForm, LanguageForm)."""
    data, failed = row.data, {column for column, _message in row.errors}
    gpa, scale = data.get("gpa"), data.get("gpa_scale")
    if gpa is not None and not scale and "gpa_scale" not in failed:
        row.errors.append(("gpa_scale", _("Choose the scale the GPA is given on.")))
    if gpa is not None and scale and gpa > Decimal(scale):
        row.errors.append(("gpa", _("On a %(scale)s-point scale the GPA cannot exceed %(scale)s.")
                           % {"scale": scale}))
    if gpa is not None and gpa < 0:
        row.errors.append(("gpa", _("The GPA cannot be negative.")))
    test = data.get("language_test")
    if test in LANGUAGE_SCORE_RANGES:
        low, high = LANGUAGE_SCORE_RANGES[test]
        score = data.get("language_score")
        if score is None and "language_score" not in failed:
            row.errors.append(("language_score", _("Give the score of the test.")))
        elif score is not None and not low <= score <= high:
            row.errors.append(("language_score", _(
                "A %(test)s score is between %(low)s and %(high)s."
            ) % {"test": Nomination.LanguageTest(test).label, "low": low, "high": high}))
        if data.get("language_test_date") is None and "language_test_date" not in failed:
            row.errors.append(("language_test_date", _("Give the date of the test.")))
    elif test == Nomination.LanguageTest.NONE:
        # As the web form does: no test, so no score or date.
        data["language_score"] = None
        data["language_test_date"] = None


_NOT_ALNUM = re.compile(r"[\W_]")


def _duplicates(rows: Sequence[Row]) -> list[RowError]:
    """Rows of the file that name the same passport number or email address: each is told."""
    passports = [(row.number, _NOT_ALNUM.sub("", row.data.get("passport_number", "")))
                 for row in rows]
    emails = [(row.number, row.data.get("email", "").lower()) for row in rows]
    return [
        *csvimport.duplicates(passports, column="passport_number", message=_(
            "Rows %(rows)s have the same passport number. Nominate each candidate only once.")),
        *csvimport.duplicates(emails, column="email", message=_(
            "Rows %(rows)s have the same email address. Each candidate needs their own.")),
    ]


# --- running the services ----------------------------------------------------------------------

def _existing_identities(intake_round: IntakeRound, university: University) -> dict[str, dict]:
    """The university's live nominations in the round, by passport digest and by email."""
    by: dict[str, dict] = {"passport_digest": {}, "email_normalised": {}}
    rows = (
        Nomination.objects.filter(intake_round=intake_round, university=university)
        .exclude(status=Nomination.Status.WITHDRAWN)
        .only("id", "family_name", "given_names", "passport_digest", "email_normalised")
    )
    for nomination in rows:
        for name, index in by.items():
            value = getattr(nomination, name)
            if value:
                index.setdefault(value, nomination)
    return by


def _already_nominated(number: int, nomination: Nomination,
                       existing: Mapping[str, Mapping[str, Nomination]]) -> list[RowError]:
    """Guards against uploading the same file twice. Compares the identity values the service
    derived, so that both sides are normalised alike."""
    errors = []
    for name, column, message in (
        ("passport_digest", "passport_number", _(
            "Your university has already nominated a candidate with this passport number in "
            "this round: %(name)s.")),
        ("email_normalised", "email", _(
            "Your university has already nominated a candidate with this email address in this "
            "round: %(name)s.")),
    ):
        match = existing[name].get(getattr(nomination, name))
        if match is not None:
            errors.append(RowError(number, column, message % {"name": match}))
    return errors


class NominationImport(csvimport.CsvImport[Nomination]):
    """Draft nominations of one university in one round, one per row, checked by the rules of
    nomination_create (the web form's), then written in bulk.

    A few queries for the whole file, not per row: what the cells may name (the round's tracks,
    the program's technologies), the university's nominations already in the round, and one
    INSERT per table for each batch of BATCH rows."""

    columns = COLUMNS
    no_header = gettext_lazy(
        "Row 1 must be the header row with the column names of the template "
        "(family_name, date_of_birth, …). Download the template and start from it.")
    no_rows = gettext_lazy("The file has a header row but no candidates.")
    too_many_rows = gettext_lazy(
        "The file has %(count)s rows of candidates; at most %(limit)s can be imported at "
        "once. Split it into several files.")
    service_fields = SERVICE_FIELDS

    def __init__(self, *, actor: User | None, intake_round: IntakeRound, university: University,
                 now: datetime | None = None):
        self.actor, self.intake_round, self.university = actor, intake_round, university
        self.now = now or timezone.now()

    def max_rows(self) -> int:
        return nomination_max_rows()

    def max_bytes(self) -> int:
        return nomination_max_bytes()

    def check_file(self) -> None:
        # The services' own rules that hold for the whole file, once rather than once per row.
        services.nominations_open_check(intake_round=self.intake_round, now=self.now)
        _participation(self.intake_round, self.university)

    def prepare(self) -> None:
        intake_round = self.intake_round
        self.context = _Context(
            today=timezone.localdate(self.now),
            tracks={track.pk: track for track in selectors.round_tracks(intake_round)},
            technologies={t.pk: t for t in CoreTechnology.objects.filter(
                program_id=intake_round.program_id)},
            preference_limit=intake_round.preference_limit,
        )

    def parse(self, name: str, value: str) -> Any:
        return PARSERS[name](value, self.context)

    def check_row(self, row: Row) -> None:
        _check_together(row)

    def check_rows(self, rows: Sequence[Row]) -> list[RowError]:
        return _duplicates(rows)

    def save(self, row: Row) -> Nomination:
        raise NotImplementedError("Rows are written in bulk (NominationImport.run).")

    def audit(self, created: list[Nomination]) -> None:
        audit_entry_create(actor=self.actor, action="nomination_import",
                           target=self.intake_round,
                           after={"university": self.university.pk, "created": len(created),
                                  "nominations": [n.pk for n in created]})

    # --- the run: check everything, then write in bulk in one transaction

    def run(self, file: bytes | IO[bytes], *,
            progress: Callable[..., None] | None = None) -> ImportResult[Nomination]:
        """Check every row, then, when no row has a problem, write them all in one transaction.

        `progress(rows_checked=…)` and `progress(rows_imported=…)` are called as the import goes
        (every BATCH rows); `progress(status=…)` when it starts writing.
        """
        progress = progress or (lambda **fields: None)
        result: ImportResult[Nomination] = ImportResult()
        try:
            self.check_file()
            header, data_rows = self.read(file)
        except csvimport.FileRefused as error:
            result.errors.append(RowError(None, "", str(error)))
            return result
        except ValidationError as error:
            result.errors.extend(RowError(None, "", message) for message in error.messages)
            return result
        result.rows = len(data_rows)
        result.errors.extend(header.errors)
        self.prepare()
        built = self._check_each_row(header, data_rows, result, progress)
        if not result.errors:
            progress(status="importing")
            with transaction.atomic():
                # One import of a university's file at a time: a second one waits here and
                # then finds the first one's rows among the existing ones.
                ProgramUniversity.objects.select_for_update().filter(
                    program_id=self.intake_round.program_id, university=self.university,
                ).first()
                existing = _existing_identities(self.intake_round, self.university)
                for item in built:
                    result.errors.extend(_already_nominated(item.row.number, item.nomination,
                                                            existing))
                if result.errors:
                    transaction.set_rollback(True)
                else:
                    created = self._write(built, progress)
                    self.audit(created)
                    result.created = created
        result.errors.sort(key=csvimport.error_sort_key(self.names))
        return result

    def _check_each_row(self, header: csvimport.Header, data_rows: list[tuple[int, list[str]]],
                        result: ImportResult[Nomination],
                        progress: Callable[..., None]) -> list["_Built"]:
        """Every row parsed and checked, its problems added to `result.errors`; the drafts of
        the rows that passed their own checks (`progress(rows_checked=…)` every BATCH rows)."""
        existing = _existing_identities(self.intake_round, self.university)
        rows: list[Row] = []
        built: list[_Built] = []
        for index, (number, cells) in enumerate(data_rows, start=1):
            row = self.parse_row(number, cells, header)
            rows.append(row)
            result.errors.extend(RowError(number, column, message)
                                 for column, message in row.errors)
            # Only a row's own cells keep it from the service's checks: drafts need not be
            # unique, so a row named twice in the file still shows its other problems.
            if not row.errors:
                try:
                    item = self._build(row)
                except ValidationError as error:
                    result.errors.extend(csvimport.service_errors(number, error,
                                                                  self.service_fields))
                else:
                    result.errors.extend(_already_nominated(number, item.nomination, existing))
                    built.append(item)
            if index % BATCH == 0:
                progress(rows_checked=index)
        result.errors.extend(self.check_rows(rows))
        progress(rows_checked=len(rows))
        return built

    def _build(self, row: Row) -> "_Built":
        """The row as an unsaved draft, refused as nomination_create refuses it (no query)."""
        data = dict(row.data)
        preferences = data.pop("preferences", None) or []
        courses = data.pop("courses", None) or []
        today = timezone.localdate(self.now)
        values = _coerce(data)
        _check_gpa(values)
        _check_language_date(values, today)
        _check_date_of_birth(values, today)
        nomination = Nomination(intake_round=self.intake_round, university=self.university,
                                created_by=self.actor if self.actor and self.actor.pk else None,
                                **values)
        for name, value in nomination_derived_fields(nomination).items():
            setattr(nomination, name, value)
        # The nationality and the email were read by the same rules (parse_country walks the
        # same 250 countries, parse_email the same validator): checked again they would be most
        # of this check's time.
        nomination.full_clean(exclude=["intake_round", "university", "created_by", "nationality",
                                       "email"], validate_constraints=False)
        return _Built(row, nomination, preferences, courses)

    def _write(self, built: Sequence["_Built"], progress: Callable[..., None]) -> list[Nomination]:
        """The drafts with their preferences, courses and audit entries: a few INSERTs per batch
        of BATCH rows. Each draft's audit entry holds what nomination_save's would (the fields,
        the ranked tracks and the courses), in one entry rather than three."""
        created: list[Nomination] = []
        links = NominationCourse.technologies.through
        actor = self.actor if self.actor is not None and self.actor.pk else None
        actor_label = actor.email if actor else SYSTEM_ACTOR
        target_type = ContentType.objects.get_for_model(Nomination).pk
        for start in range(0, len(built), BATCH):
            batch = built[start:start + BATCH]
            nominations = Nomination.objects.bulk_create([item.nomination for item in batch])
            when = prepared_datetime(timezone.now())
            preferences, courses, technologies, audits = [], [], [], []
            for item, nomination in zip(batch, nominations, strict=True):
                preferences.extend((nomination.pk, track.pk, rank)
                                   for rank, track in enumerate(item.preferences, start=1))
                for course in item.courses:
                    courses.append(NominationCourse(nomination=nomination, name=course["name"],
                                                    grade=course["grade"]))
                    technologies.append(course["technologies"])
                after = _audit_view(instance_snapshot(nomination))
                after["preferences"] = [track.pk for track in item.preferences]
                after["courses"] = [[c["name"], c["grade"], sorted(t.pk for t in c["technologies"])]
                                    for c in item.courses]
                audits.append((when, actor.pk if actor else None, actor_label,
                               "nomination_create", target_type, str(nomination.pk),
                               str(nomination)[:300], None,
                               json.dumps(after, cls=DjangoJSONEncoder)))
            bulk_insert(NominationPreference, ["nomination", "track", "rank"], preferences)
            saved_courses = NominationCourse.objects.bulk_create(courses)
            bulk_insert(links, ["nominationcourse", "coretechnology"], [
                (course.pk, technology.pk)
                for course, course_technologies in zip(saved_courses, technologies, strict=True)
                for technology in course_technologies])
            bulk_insert(AuditEntry, ["created_at", "actor", "actor_label", "action",
                                     "target_type", "target_id", "target_repr", "before",
                                     "after"], audits)
            created.extend(nominations)
            progress(rows_imported=len(created))
        return created


@dataclass
class _Built:
    row: Row
    nomination: Nomination
    preferences: list[DegreeTrack]
    courses: list[dict[str, Any]]


def nomination_max_rows() -> int:
    return min(getattr(settings, "ECOCYCLE_NOMINATION_IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS),
               20_000)


def nomination_max_bytes() -> int:
    return getattr(settings, "ECOCYCLE_NOMINATION_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES)


def nomination_import_csv(
    *, actor: User | None, intake_round: IntakeRound, university: University,
    file: bytes | IO[bytes], now: datetime | None = None,
    progress: Callable[..., None] | None = None,
) -> ImportResult[Nomination]:
    """Create one draft nomination per row of a CSV file, all or nothing.

    Every row is checked by the rules of nomination_save (the web form's); with any problem at
    all nothing is written and the result lists every problem. Otherwise the drafts are written
    in bulk in one transaction. Pages and the API do not call this in the request: they queue a
    NominationImportJob (nomination_import_job_create), whose task calls it.
    """
    return NominationImport(actor=actor, intake_round=intake_round, university=university,
                            now=now).run(file, progress=progress)


# --- the template ------------------------------------------------------------------------------

EXAMPLE_PEOPLE = {
    "VN": {"family_name": "Nguyen", "given_names": "Thi Lan", "native_name": "Nguyễn Thị Lan",
           "phone": "+84 912 345 678", "candidate_language": "vi",
           "institution": "Hanoi University of Science and Technology"},
    "ID": {"family_name": "Santoso", "given_names": "Dewi", "native_name": "",
           "phone": "+62 812 3456 7890", "candidate_language": "id",
           "institution": "Institut Teknologi Bandung"},
}


def import_template_csv(*, intake_round: IntakeRound, university: University) -> bytes:
    """The header row and one illustrative row with the round's real track and technology ids.

    UTF-8 with a byte-order mark and CRLF line ends, so that Excel opens accented and Hangul
    names correctly.
    """
    person = EXAMPLE_PEOPLE.get(str(university.country), EXAMPLE_PEOPLE["ID"])
    tracks = list(selectors.round_tracks(intake_round)[: min(intake_round.preference_limit, 2)])
    technology = CoreTechnology.objects.filter(program_id=intake_round.program_id).order_by(
        "name").first()
    today = timezone.localdate()
    example = {
        **person,
        "date_of_birth": "2001-03-14",
        "nationality": str(university.country) or "ID",
        "email": f"{person['given_names'].split()[-1].lower()}.{person['family_name'].lower()}"
                 "@example.com",
        "passport_number": EXAMPLE_PASSPORT,
        "degree": EligibilityPolicy.Degree.BACHELOR,
        "degree_status": Nomination.DegreeStatus.COMPLETED,
        "major": "Chemical Engineering",
        "gpa": "3.45",
        "gpa_scale": Nomination.GpaScale.FOUR,
        "language_test": Nomination.LanguageTest.IELTS,
        "language_score": "6.5",
        "language_test_date": (today - timedelta(days=60)).isoformat(),
        "research_interests": "Catalysts for biodiesel production",
        "university_rank": "1",
        "preferences": LIST_SEPARATOR.join(str(track.pk) for track in tracks),
        "courses": LIST_SEPARATOR.join([
            COURSE_PART_SEPARATOR.join(["Reaction engineering", "A"]
                                       + ([str(technology.pk)] if technology else [])),
            COURSE_PART_SEPARATOR.join(["Thermodynamics", "B+"]),
        ]),
    }
    return csvimport.template_csv(COLUMN_NAMES, example)


# --- the background job ------------------------------------------------------------------------

# A job that has reported no progress for this long was killed (its worker died or was stopped):
# the page says it stopped, and it may be run again. Longer than the task's time limit.
JOB_STALE_AFTER = timedelta(minutes=15)
RUNNING = (NominationImportJob.Status.CHECKING, NominationImportJob.Status.IMPORTING)
# The most problems a job keeps: far more than anyone reads, bounded so that the row stays small.
MAX_STORED_ERRORS = 20_000


def job_is_stale(job: NominationImportJob, now: datetime | None = None) -> bool:
    """Started and silent for longer than JOB_STALE_AFTER: its worker is gone."""
    if job.status not in RUNNING:
        return False
    last = job.heartbeat_at or job.started_at or job.created_at
    return last < (now or timezone.now()) - JOB_STALE_AFTER


def job_can_retry(job: NominationImportJob) -> bool:
    return job.status == NominationImportJob.Status.FAILED or job_is_stale(job)


def nomination_import_job_create(
    *, actor: User, intake_round: IntakeRound, university: University, file: IO[bytes],
    language: str | None = None, now: datetime | None = None,
) -> NominationImportJob:
    """Keep an uploaded CSV file and queue the job that imports it.

    What costs no query and refuses the file as a whole is checked here, so that the upload page
    can say it at once: the round takes nominations, the file is small enough, readable CSV, with
    a header and at most nomination_max_rows() rows. Raises FileRefused or DomainError.
    """
    # In here: candidates.tasks imports the services, which this module is beside.
    from .tasks import run_nomination_import  # noqa: PLC0415

    importer = NominationImport(actor=actor, intake_round=intake_round, university=university,
                                now=now)
    importer.check_file()
    raw = csvimport.read_bytes(file, limit=importer.max_bytes())
    table = importer.read(raw)
    with transaction.atomic():
        job = NominationImportJob(
            intake_round=intake_round, university=university, requested_by=actor,
            file_name=(getattr(file, "name", "") or "")[:255],
            language=language or translation.get_language() or settings.LANGUAGE_CODE,
            rows_total=len(table.rows),
        )
        job.file.save("upload.csv", ContentFile(raw), save=False)
        name = job.file.name
        try:
            job.save()
        except Exception:
            job.file.storage.delete(name)
            raise
        _prune(job)
        run_nomination_import.delay_on_commit(job.pk)
    return job


# Imports kept per university and round; older ones go, with any file still kept, when a new
# one is uploaded. Their problems may name candidates: they are not kept for long.
JOBS_KEPT = 10


def _prune(job: NominationImportJob) -> None:
    older = list(NominationImportJob.objects.filter(
        university=job.university, intake_round=job.intake_round,
    ).exclude(status__in=RUNNING).order_by("-created_at", "-id").values_list("id", "file")
        [JOBS_KEPT:])
    if not older:
        return
    NominationImportJob.objects.filter(pk__in=[pk for pk, _name in older]).delete()
    storage = job.file.storage
    names = [name for _pk, name in older if name]
    transaction.on_commit(lambda: [storage.delete(name) for name in names])


def _claim(job_id: int, now: datetime) -> bool:
    """Take the job for this worker: a queued one, or one whose worker died. Only one of two
    workers that get the same job (a redelivered task) takes it."""
    stale = Q(status__in=RUNNING, heartbeat_at__lt=now - JOB_STALE_AFTER)
    return bool(NominationImportJob.objects.filter(
        Q(status=NominationImportJob.Status.QUEUED) | stale, pk=job_id,
    ).update(status=NominationImportJob.Status.CHECKING, started_at=now, heartbeat_at=now,
             rows_checked=0, rows_imported=0, errors=[], finished_at=None,
             attempts=F("attempts") + 1))


class _Progress:
    """Writes how far a job got where the page reads it, while the job runs.

    Outside a transaction it is a plain UPDATE. Inside the import's transaction the page could
    not see it, so on PostgreSQL it goes through a second connection of its own; SQLite takes
    one writer at a time (the import holds it), so there the count appears at the commit.
    """

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.side = None

    def __call__(self, **fields: Any) -> None:
        fields["heartbeat_at"] = timezone.now()
        if not connection.in_atomic_block:
            NominationImportJob.objects.filter(pk=self.job_id).update(**fields)
        elif connection.vendor == "postgresql":
            opts = NominationImportJob._meta
            assignments = ", ".join(f"{opts.get_field(name).column} = %s" for name in fields)
            try:
                if self.side is None:
                    main = connections[DEFAULT_DB_ALIAS]
                    self.side = type(main)(dict(main.settings_dict), DEFAULT_DB_ALIAS)
                with self.side.cursor() as cursor:
                    # Should the caller's transaction hold the job's row, wait no longer than
                    # this: progress is worth less than the import.
                    cursor.execute("SET lock_timeout = '1s'")
                    cursor.execute(f"UPDATE {opts.db_table} SET {assignments} WHERE id = %s",
                                   [*fields.values(), self.job_id])
            except DatabaseError:
                logger.warning("Progress of import job %s not written.", self.job_id,
                               exc_info=True)

    def close(self) -> None:
        if self.side is not None:
            self.side.close()


def nomination_import_job_run(*, job_id: int, now: datetime | None = None) -> bool:
    """Run a queued import: check every row, then import all of them or none.

    Safe to run twice: only a queued job (or one whose worker died) is taken. A job killed
    halfway imported nothing, since the rows are written in one transaction; it is marked
    failed (or found stale) and can be run again from its page. The job's messages are in the
    language of whoever uploaded the file.
    """
    now = now or timezone.now()
    if not _claim(job_id, now):
        return False
    job = NominationImportJob.objects.select_related(
        "intake_round__program", "university", "requested_by").get(pk=job_id)
    Status = NominationImportJob.Status
    progress = _Progress(job.pk)
    try:
        with translation.override(job.language):
            with job.file.open("rb") as stored:
                raw = stored.read()
            result = nomination_import_csv(
                actor=job.requested_by, intake_round=job.intake_round,
                university=job.university, file=raw, now=now, progress=progress)
            errors = [[error.row, error.column, str(error.message)]
                      for error in result.errors[:MAX_STORED_ERRORS]]
    except BaseException:
        # Also a stopping worker (SystemExit) or a time limit. The import's transaction is
        # rolled back: nothing was written. The worker's log has the
        # traceback; the page says that the job stopped and offers to run it again.
        NominationImportJob.objects.filter(pk=job.pk).update(
            status=Status.FAILED, finished_at=timezone.now(), rows_imported=0)
        raise
    finally:
        progress.close()
    NominationImportJob.objects.filter(pk=job.pk).update(
        status=Status.DONE if result.ok else Status.REJECTED,
        rows_checked=result.rows, rows_imported=len(result.created),
        errors=errors, finished_at=timezone.now(), heartbeat_at=timezone.now())
    # The file held personal data and is no longer needed: a correction is a new upload.
    job.file.storage.delete(job.file.name)
    return True


def nomination_import_job_retry(*, actor: User, job: NominationImportJob) -> NominationImportJob:
    """Queue again a job that stopped before it finished (failed, or its worker died)."""
    from .tasks import run_nomination_import  # noqa: PLC0415

    if not job_can_retry(job):
        raise DomainError(_("This import is not stopped: there is nothing to run again."))
    NominationImportJob.objects.filter(pk=job.pk).update(
        status=NominationImportJob.Status.QUEUED, heartbeat_at=timezone.now())
    run_nomination_import.delay_on_commit(job.pk)
    job.refresh_from_db()
    return job


def nomination_import_job_get(*, university: University, intake_round: IntakeRound,
                              job_id: int) -> NominationImportJob | None:
    """One of the university's imports in the round; None for anyone else's."""
    return NominationImportJob.objects.filter(
        pk=job_id, university=university, intake_round=intake_round).first()


def nomination_import_jobs_recent(*, university: University, intake_round: IntakeRound,
                                  limit: int = 5) -> list[NominationImportJob]:
    return list(NominationImportJob.objects.filter(
        university=university, intake_round=intake_round).defer("errors")[:limit])
