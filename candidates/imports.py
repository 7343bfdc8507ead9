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

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from ecocycle import csvimport
from ecocycle.csvimport import Column, ImportResult, Invalid, Row, RowError, max_bytes, max_rows
from ecocycle.models import User
from ecocycle.services import audit_entry_create
from programs.models import CoreTechnology, DegreeTrack, IntakeRound, University

from . import selectors, services
from .forms import LANGUAGE_SCORE_RANGES, CourseFormSet
from .models import EligibilityPolicy, Nomination

__all__ = [
    "COLUMNS", "COLUMN_NAMES", "EXAMPLE_PASSPORT", "Column", "ImportResult", "NominationImport",
    "RowError", "import_template_csv", "max_bytes", "max_rows", "nomination_import_csv",
]

LIST_SEPARATOR = ";"
COURSE_PART_SEPARATOR = "|"
TECHNOLOGY_SEPARATOR = ","
MAX_COURSES = CourseFormSet.max_num
EXAMPLE_PASSPORT = "EXAMPLE0001"


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


def _duplicates(rows: Sequence[Row]) -> list[RowError]:
    """Rows of the file that name the same passport number or email address: each is told."""
    passports = [(row.number, "".join(ch for ch in row.data.get("passport_number", "")
                                      if ch.isalnum())) for row in rows]
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
    """Draft nominations of one university in one round, one per row, through nomination_save,
    so that every rule of the web form applies."""

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

    def check_file(self) -> None:
        # The services' own deadline rule, once for the file rather than once per row.
        services.nominations_open_check(intake_round=self.intake_round, now=self.now)

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
        # Read before any row is saved, so that the file's own rows are not found in it.
        self.existing = _existing_identities(self.intake_round, self.university)
        return _duplicates(rows)

    def saves(self, row: Row, *, reported: Collection[int], header: csvimport.Header) -> bool:
        # Only a row's own cells keep it from the service: drafts need not be unique, so a row
        # named twice in the file still shows its other problems at the same time.
        return not row.errors

    def save(self, row: Row) -> Nomination:
        data = dict(row.data)
        preferences, courses = data.pop("preferences", None), data.pop("courses", None)
        return services.nomination_save(
            actor=self.actor, intake_round=self.intake_round, university=self.university,
            data=data, preferences=preferences, courses=courses, now=self.now,
        )

    def check_saved(self, row: Row, saved: Nomination) -> list[RowError]:
        return _already_nominated(row.number, saved, self.existing)

    def audit(self, created: list[Nomination]) -> None:
        audit_entry_create(actor=self.actor, action="nomination_import",
                           target=self.intake_round,
                           after={"university": self.university.pk, "created": len(created),
                                  "nominations": [n.pk for n in created]})


def nomination_import_csv(
    *, actor: User | None, intake_round: IntakeRound, university: University,
    file: bytes | IO[bytes], now: datetime | None = None,
) -> ImportResult[Nomination]:
    """Create one draft nomination per row of a CSV file, all or nothing.

    Every row goes through nomination_save, so every rule of the web form applies. One
    transaction; a savepoint per row keeps collecting after a row's error; with any error at
    all the transaction is rolled back and the result lists every error and no nomination.
    """
    return NominationImport(actor=actor, intake_round=intake_round, university=university,
                            now=now).run(file)


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
