"""Bulk import of mentor profiles from a CSV file, and the template staff fill in.

The whole file is read and its shape checked first. Then every row goes through mentor_create,
as a mentor added one by one does, inside one transaction with a savepoint per row, so that
every error of every row is collected. A file with any error imports nothing. Reading the file
and that run are the kernel's (ecocycle.csvimport.CsvImport); the columns and their rules are
here.
"""

import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import IO, Any

from django.conf import settings
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ecocycle import csvimport
from ecocycle.csvimport import Column, ImportResult, Invalid, Row, RowError, max_bytes, max_rows
from ecocycle.models import User
from ecocycle.services import audit_entry_create
from programs.models import CoreTechnology

from .models import Mentor
from .services import mentor_create

__all__ = [
    "COLUMNS", "COLUMN_NAMES", "Column", "ImportResult", "MentorImport", "RowError", "max_bytes",
    "max_rows", "mentor_import_csv", "mentor_import_template_csv",
]

LANGUAGE_CODES = tuple(code for code, _name in settings.LANGUAGES)
EXAMPLE_EMAIL = "youngho.kim@example.com"
CAPACITY_MIN, CAPACITY_MAX = 1, 20
TRUE_WORDS, FALSE_WORDS = ("yes", "true", "1"), ("no", "false", "0")
# ISO 639-1, the two-letter language codes (languages_spoken holds these).
_ISO_639_1_CODES = """
    aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv cy
    da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht
    hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky
    la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny
    oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss
    st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo
    za zh zu
"""
ISO_639_1 = frozenset(_ISO_639_1_CODES.split())

COLUMNS: list[Column] = [
    Column("full_name", True, gettext_lazy(
        "The mentor's full name, e.g. Dr. Kim Young-ho (at most 200 characters).")),
    Column("email", True, gettext_lazy(
        "The mentor's own email address: invitations are sent there, and the mentor signs in "
        "with it.")),
    Column("language", False, gettext_lazy(
        "The language of the emails to the mentor: one of %(codes)s. Empty means ko."),
        LANGUAGE_CODES),
    Column("retired_from", False, gettext_lazy(
        "The institution the mentor retired from (at most 200 characters).")),
    Column("expertise", False, gettext_lazy(
        "Core technology ids separated by “;”, e.g. 3;5. The ids are in the table of core "
        "technologies below.")),
    Column("keywords", False, gettext_lazy(
        "Expertise keywords separated by commas, e.g. catalysis, biodiesel (at most 300 "
        "characters).")),
    Column("languages_spoken", False, gettext_lazy(
        "The languages the mentor speaks, as two-letter ISO 639-1 codes separated by “,”, e.g. "
        "ko,en,id. Empty means ko,en.")),
    Column("travel_countries", False, gettext_lazy(
        "Countries the mentor is willing to travel to, as two-letter ISO 3166 codes separated "
        "by “;”, e.g. ID;VN.")),
    Column("capacity", False, gettext_lazy(
        "The most mentees at a time: a whole number from 1 to 20. Empty means 2.")),
    Column("available_from", False, gettext_lazy(
        "The first day the mentor is available, as YYYY-MM-DD, e.g. 2025-03-01. Empty means "
        "no start date.")),
    Column("available_until", False, gettext_lazy(
        "The last day the mentor is available, as YYYY-MM-DD, not before available_from. Empty "
        "means no end date.")),
    Column("biography", False, gettext_lazy("A short biography, in free text.")),
    Column("active", False, gettext_lazy(
        "yes or no (true/false and 1/0 work too). Empty means yes. Mentors who are not active "
        "are not proposed.")),
]
COLUMN_NAMES = [column.name for column in COLUMNS]
REQUIRED_COLUMNS = [column.name for column in COLUMNS if column.required]
# A column's Mentor field, where the names differ; and back, for the service's errors.
FIELDS = {"active": "is_active"}
SERVICE_FIELDS = {FIELDS.get(name, name): name for name in COLUMN_NAMES} | {"user": "email"}


# --- one row's shape ---------------------------------------------------------------------------


def _check_length(name: str, value: str) -> str:
    limit = Mentor._meta.get_field(FIELDS.get(name, name)).max_length
    if limit is not None:
        csvimport.too_long(value, limit)
    return value


def _tokens(value: str) -> list[str]:
    # Either separator is accepted in every list: people mix them up.
    return [token for token in re.split(r"[;,\s]+", value) if token]


def _parse_expertise(value: str, technologies: Mapping[int, CoreTechnology]
                     ) -> list[CoreTechnology]:
    chosen: list[CoreTechnology] = []
    for token in _tokens(value):
        technology = technologies.get(int(token)) if token.isdigit() else None
        if technology is None:
            raise Invalid(_(
                "“%(value)s” is not the id of a core technology. Use the ids from the table of "
                "core technologies, separated by “;”."
            ) % {"value": token})
        if technology not in chosen:
            chosen.append(technology)
    return chosen


def _parse_languages(value: str) -> str:
    codes: list[str] = []
    for token in _tokens(value):
        code = token.lower()
        if code not in ISO_639_1:
            raise Invalid(_(
                "“%(value)s” is not a two-letter ISO 639-1 language code (e.g. ko, en, id, vi). "
                "Separate the codes with “,”."
            ) % {"value": token})
        if code not in codes:
            codes.append(code)
    return _check_length("languages_spoken", ",".join(codes))


def _parse_countries(value: str) -> list[str]:
    codes: list[str] = []
    for token in _tokens(value):
        code = csvimport.parse_country(token)
        if code not in codes:
            codes.append(code)
    return codes


def _parse_capacity(value: str) -> int:
    if not re.fullmatch(r"\d{1,2}", value) or not CAPACITY_MIN <= int(value) <= CAPACITY_MAX:
        raise Invalid(_("“%(value)s” is not a whole number from %(low)s to %(high)s.") % {
            "value": value, "low": CAPACITY_MIN, "high": CAPACITY_MAX})
    return int(value)


def _parse_active(value: str) -> bool:
    word = value.strip().lower()
    if word not in TRUE_WORDS + FALSE_WORDS:
        raise Invalid(_("“%(value)s” is not yes or no. Write yes or no (true/false and 1/0 work "
                        "too).") % {"value": value})
    return word in TRUE_WORDS


def _parse(name: str, value: str, technologies: Mapping[int, CoreTechnology]) -> Any:
    if name == "email":
        email = csvimport.parse_email(value)
        if email.lower() == EXAMPLE_EMAIL:
            raise Invalid(_("This is the example row of the template. Delete it before "
                            "uploading."))
        return email
    if name == "language":
        return csvimport.parse_choice(value, LANGUAGE_CODES)
    if name == "expertise":
        return _parse_expertise(value, technologies)
    if name == "languages_spoken":
        return _parse_languages(value)
    if name == "travel_countries":
        return _parse_countries(value)
    if name == "capacity":
        return _parse_capacity(value)
    if name in ("available_from", "available_until"):
        return csvimport.parse_date(value)
    if name == "active":
        return _parse_active(value)
    return _check_length(name, value)


def _check_dates(row: Row) -> None:
    start, end = row.data.get("available_from"), row.data.get("available_until")
    if start and end and end < start:
        row.errors.append(("available_until", _(
            "The mentor is available until %(until)s, which is before available_from "
            "(%(from)s). Correct one of the two dates."
        ) % {"until": end.isoformat(), "from": start.isoformat()}))


def _email_key(row: Row) -> str:
    return row.data.get("email", "").strip().lower()


def _duplicates(rows: Sequence[Row]) -> list[RowError]:
    return csvimport.duplicates(
        [(row.number, _email_key(row)) for row in rows], column="email",
        message=_("Rows %(rows)s have the same email address. Each mentor needs their own."),
    )


def _already_mentors(rows: Sequence[Row]) -> list[RowError]:
    """Guards against uploading the same file twice: the email of an existing mentor."""
    emails = {_email_key(row) for row in rows} - {""}
    existing = {
        mentor.email_lower: mentor for mentor in
        Mentor.objects.annotate(email_lower=Lower("email")).filter(email_lower__in=emails)
        .only("id", "full_name", "email")
    }
    return [
        RowError(row.number, "email", _(
            "%(email)s is already a mentor: %(name)s. Delete this row, or change that mentor's "
            "profile in the admin."
        ) % {"email": row.data["email"], "name": existing[_email_key(row)]})
        for row in rows if _email_key(row) in existing
    ]


# --- running the service -----------------------------------------------------------------------

class MentorImport(csvimport.CsvImport[Mentor]):
    """Mentors, and their accounts, one per row, through mentor_create, so that every rule of a
    mentor added by hand applies."""

    columns = COLUMNS
    no_header = gettext_lazy(
        "Row 1 must be the header row with the column names of the template "
        "(full_name, email, …). Download the template and start from it.")
    no_rows = gettext_lazy("The file has a header row but no mentors.")
    too_many_rows = gettext_lazy(
        "The file has %(count)s rows of mentors; at most %(limit)s can be imported at "
        "once. Split it into several files.")
    service_fields = SERVICE_FIELDS

    def __init__(self, *, actor: User | None):
        self.actor = actor

    def prepare(self) -> None:
        self.technologies = {technology.pk: technology
                             for technology in CoreTechnology.objects.all()}

    def parse(self, name: str, value: str) -> Any:
        return _parse(name, value, self.technologies)

    def check_row(self, row: Row) -> None:
        _check_dates(row)

    def check_rows(self, rows: Sequence[Row]) -> list[RowError]:
        return [*_duplicates(rows), *_already_mentors(rows)]

    def save(self, row: Row) -> Mentor:
        return mentor_create(actor=self.actor, data={FIELDS.get(name, name): value
                                                     for name, value in row.data.items()})

    def audit(self, created: list[Mentor]) -> None:
        # One entry for the import as a whole, next to each mentor's own; on whoever imported,
        # or on the first mentor when no one did (a command).
        actor = self.actor
        target = actor if actor is not None and actor.pk else created[0]
        audit_entry_create(actor=actor, action="mentor_import", target=target,
                           after={"created": len(created),
                                  "mentors": [mentor.pk for mentor in created]})


def mentor_import_csv(*, actor: User | None, file: bytes | IO[bytes]) -> ImportResult[Mentor]:
    """Create one mentor, and their account, per row of a CSV file, all or nothing.

    Every row goes through mentor_create, so every rule of a mentor added by hand applies. One
    transaction; a savepoint per row keeps collecting after a row's error; with any error at
    all the transaction is rolled back and the result lists every error and no mentor.
    """
    return MentorImport(actor=actor).run(file)


# --- the template ------------------------------------------------------------------------------

def mentor_import_template_csv() -> bytes:
    """The header row and one illustrative row, with a real core technology id when there is one.

    UTF-8 with a byte-order mark and CRLF line ends, so that Excel opens Hangul names
    correctly. The example row is refused if uploaded unchanged, as a nomination template's is.
    """
    technologies = list(CoreTechnology.objects.order_by("program__name", "name")[:2])
    today = timezone.localdate()
    example = {
        "full_name": "Dr. Kim Young-ho",
        "email": EXAMPLE_EMAIL,
        "language": "ko",
        "retired_from": "KITECH Green Process and Materials R&D Department",
        "expertise": ";".join(str(technology.pk) for technology in technologies),
        "keywords": "catalysis, biodiesel, process scale-up",
        "languages_spoken": "ko,en",
        "travel_countries": "ID;VN",
        "capacity": "2",
        "available_from": today.isoformat(),
        "available_until": date(today.year + 2, 12, 31).isoformat(),
        "biography": "Thirty years of catalyst research at KITECH; led the Ulsan pilot plant.",
        "active": "yes",
    }
    return csvimport.template_csv(COLUMN_NAMES, example)

