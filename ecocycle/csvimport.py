"""Importing a CSV file that people filled in with a spreadsheet, all or nothing.

The generic half of every CSV import (nominations, mentors): read the bytes with a size limit,
decode them (refusing Excel workbooks and binary files with a message that says what to do),
guess the delimiter from the known column names, check the header row, split each row into
named cells, parse the common kinds of cell, and run every row through a service in one
transaction (CsvImport). What the columns mean and which service each row goes through belongs
to the app that imports: it subclasses CsvImport. The upload page is ecocycle.csvimport_views.

Errors are (row, column, message): the row as a spreadsheet numbers it (the header is row 1),
the column by its header name ("" when an error concerns no single column), and a sentence in
the active language.
"""

import codecs
import csv
import functools
import io
import re
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import IO, Any, ClassVar, Generic, NamedTuple, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_countries import countries

DEFAULT_MAX_BYTES = 2 * 1024 * 1024
DEFAULT_MAX_ROWS = 2000

T = TypeVar("T")


def max_bytes() -> int:
    return getattr(settings, "ECOCYCLE_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES)


def max_rows() -> int:
    return getattr(settings, "ECOCYCLE_IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS)


# --- columns and results -----------------------------------------------------------------------

class Column(NamedTuple):
    name: str
    required: bool
    text: Promise  # what a cell holds, as shown on the import page
    codes: tuple[str, ...] = ()

    @property
    def help(self) -> str:
        # Translated when shown, in the reader's language; the codes themselves never are.
        return str(self.text) % {"codes": ", ".join(self.codes)} if self.codes else str(self.text)


class RowError(NamedTuple):
    row: int | None  # None: the file as a whole
    column: str
    message: str


@dataclass
class ImportResult(Generic[T]):
    rows: int = 0
    created: list[T] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def file_errors(self) -> list[RowError]:
        return [error for error in self.errors if error.row is None]

    @property
    def row_errors(self) -> list[RowError]:
        return [error for error in self.errors if error.row is not None]

    @property
    def rows_with_errors(self) -> int:
        return len({error.row for error in self.row_errors})


class FileRefused(Exception):
    """The file as a whole cannot be read: nothing row by row is worth reporting."""


class Invalid(Exception):
    """One cell is invalid; the message says why."""


# --- reading the file --------------------------------------------------------------------------

def read_bytes(file: bytes | IO[bytes], *, limit: int | None = None) -> bytes:
    """The file's bytes, refused when larger than `limit` (default: the setting) or empty.

    Reads at most limit + 1 bytes, so an oversized upload is never held in memory whole.
    """
    limit = max_bytes() if limit is None else limit
    too_big = _("The file is %(size)s; a CSV import may be at most %(limit)s. Split it into "
                "several files.")
    if isinstance(file, bytes | bytearray):
        raw = bytes(file)
    else:
        size = getattr(file, "size", None)
        if size is not None and size > limit:
            raise FileRefused(too_big % {"size": filesizeformat(size),
                                         "limit": filesizeformat(limit)})
        file.seek(0)
        raw = file.read(limit + 1)
    if len(raw) > limit:
        raise FileRefused(too_big % {"size": filesizeformat(len(raw)),
                                     "limit": filesizeformat(limit)})
    if not raw.strip():
        raise FileRefused(_("The file is empty."))
    return raw


def _save_as_csv() -> str:
    return _("In Excel choose File > Save As > “CSV UTF-8 (Comma delimited) (*.csv)”, then "
             "upload that file.")


_BINARY = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def decode(raw: bytes) -> str:
    """UTF-8 (with or without a byte-order mark) or UTF-16 with one, as Excel saves them."""
    if raw.startswith(b"PK\x03\x04") or raw.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileRefused(_("This is an Excel workbook, not a CSV file.") + " " + _save_as_csv())
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError:
            text = None
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            if _BINARY.search(raw[:8192].decode("latin-1")):
                text = None
            else:
                line = raw[: error.start].count(b"\n") + 1
                raise FileRefused(_(
                    "The file is not UTF-8 text (the first character that is not is on line "
                    "%(line)s)."
                ) % {"line": line} + " " + _save_as_csv()) from None
    if text is None or _BINARY.search(text[:8192]):
        raise FileRefused(_(
            "This is not a CSV file: it holds binary data (is it a PDF, an image or a "
            "spreadsheet?)."
        ) + " " + _save_as_csv())
    return text.lstrip("\ufeff")


def header_key(cell: str) -> str:
    """A header cell as a column name: "Family name *" and "family-name" are "family_name"."""
    return re.sub(r"[\s\-]+", "_", cell.strip().strip("*").strip().lower())


def guess_delimiter(text: str, names: Collection[str]) -> str:
    """Comma, semicolon (Excel in locales with a decimal comma) or tab: whichever splits the
    header row into the most known column names."""
    first_line = text.splitlines()[0] if text else ""

    def score(delimiter: str) -> tuple[int, int]:
        try:
            cells = next(csv.reader([first_line], delimiter=delimiter), [])
        except csv.Error:
            # A cell over the csv module's field limit: read_records refuses the file clearly.
            return (-1, 0)
        return (sum(header_key(cell) in names for cell in cells), first_line.count(delimiter))

    return max([",", ";", "\t"], key=score)


def read_records(text: str, names: Collection[str]) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=guess_delimiter(text, names))
    try:
        return list(reader)
    except csv.Error as error:
        raise FileRefused(_("The file cannot be read as CSV near line %(line)s: %(error)s.") % {
            "line": reader.line_num, "error": error}) from None


def column_letter(index: int) -> str:
    """A 0-based position as a spreadsheet names its column: A … Z, AA, AB …"""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


class Header(NamedTuple):
    positions: dict[int, str]  # position → column name
    flagged: set[int]  # positions whose header cell is already reported as wrong
    errors: list[RowError]


def parse_header(cells: Sequence[str], *, names: Collection[str], required: Iterable[str],
                 no_header: str | Promise) -> Header:
    """Row 1: unknown, duplicate and missing required columns are errors on row 1.

    `no_header` is the sentence that refuses a file in which no cell of row 1 is a known
    column name (it should name some columns and point to the template).
    """
    header = Header({}, set(), [])
    for index, cell in enumerate(cells):
        key = header_key(cell)
        if not key:
            continue
        if key not in names:
            header.flagged.add(index)
            header.errors.append(RowError(1, cell.strip(), _(
                "Unknown column “%(name)s”. The columns are listed on the import page; check its "
                "spelling or delete the column."
            ) % {"name": cell.strip()}))
        elif key in header.positions.values():
            header.flagged.add(index)
            header.errors.append(RowError(1, key, _(
                "Column “%(name)s” appears twice in the header row."
            ) % {"name": key}))
        else:
            header.positions[index] = key
    if not header.positions:
        raise FileRefused(str(no_header))
    for name in required:
        if name not in header.positions.values():
            header.errors.append(RowError(1, name, _(
                "The required column “%(name)s” is missing from the header row."
            ) % {"name": name}))
    return header


class Table(NamedTuple):
    header: Header
    rows: list[tuple[int, list[str]]]  # (row number as the spreadsheet shows it, cells)


def read_table(file: bytes | IO[bytes], *, names: Collection[str], required: Iterable[str],
               no_header: str | Promise, limit: int | None = None) -> Table:
    """The header and the rows that are not blank. Raises FileRefused for an unreadable file
    (or one over `limit` bytes); an empty list of rows is the caller's to refuse, in its own
    words."""
    records = read_records(decode(read_bytes(file, limit=limit)), names)
    if not records:
        raise FileRefused(_("The file is empty."))
    header = parse_header(records[0], names=names, required=required, no_header=no_header)
    rows = [
        (number, cells) for number, cells in enumerate(records[1:], start=2)
        if any(cell.strip() for cell in cells)
    ]
    return Table(header, rows)


def parse_cells(
    cells: Sequence[str], header: Header, *, names: Iterable[str], required: Collection[str],
    parse: Callable[[str, str], Any],
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """One row's cells parsed by `parse(name, value)`: the values of the non-empty cells by
    column name, and (column, message) for every cell that is wrong.

    Empty cells are left out (so that the model's default applies); a value under a column
    without a name is an error, never dropped silently.
    """
    parsed: dict[str, Any] = {}
    errors: list[tuple[str, str]] = []
    positions = header.positions
    values: dict[str, str] = {}
    for index, cell in enumerate(cells):
        cell = cell.strip()
        if index in positions:
            values[positions[index]] = cell
        elif cell and index not in header.flagged:
            errors.append((_("column %(letter)s") % {"letter": column_letter(index)}, _(
                "This cell has a value but its column has no known name in the header row."
            )))
    for name in names:
        value = values.get(name, "")
        if not value:
            if name in required and name in positions.values():
                errors.append((name, _("Required: this cell cannot be empty.")))
            continue
        try:
            parsed[name] = parse(name, value)
        except Invalid as error:
            errors.append((name, str(error)))
    return parsed, errors


def duplicates(keys: Iterable[tuple[int, str]], *, column: str, message: str) -> list[RowError]:
    """Rows of the file with the same key (row number, normalised value; empty keys ignored):
    every such row is told, `message` % {"rows": "2, 5"}."""
    groups: dict[str, list[int]] = defaultdict(list)
    for number, key in keys:
        if key:
            groups[key].append(number)
    errors = []
    for numbers in groups.values():
        if len(numbers) > 1:
            listed = ", ".join(str(n) for n in numbers)
            errors.extend(RowError(n, column, message % {"rows": listed}) for n in numbers)
    return errors


def service_errors(number: int, error: ValidationError,
                   columns: Mapping[str, str]) -> list[RowError]:
    """A service's error as row errors, its field names mapped back to CSV columns through
    `columns` (field name → column name); other fields' errors concern no single column."""
    if not hasattr(error, "error_dict"):
        return [RowError(number, "", message) for message in error.messages]
    return [
        RowError(number, columns.get(name, ""), message)
        for name, messages in error.message_dict.items() for message in messages
    ]


def error_sort_key(names: Sequence[str]) -> Callable[[RowError], tuple]:
    """Errors by row, then in the order of the columns; file errors first."""
    order = {name: index for index, name in enumerate(names)}

    def key(error: RowError) -> tuple:
        return (error.row or 0, order.get(error.column, len(names)))
    return key


def template_csv(names: Sequence[str], example: Mapping[str, str]) -> bytes:
    """The header row and one example row, UTF-8 with a byte-order mark and CRLF line ends, so
    that Excel opens accented and Hangul text correctly."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(names)
    writer.writerow([example.get(name, "") for name in names])
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")


# --- the all-or-nothing run --------------------------------------------------------------------

@dataclass
class Row:
    """One data row: its number as the spreadsheet shows it, its non-empty cells parsed, by
    column name, and (column, message) for every cell that is wrong."""

    number: int
    data: dict[str, Any] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)


class CsvImport(ABC, Generic[T]):
    """One import of a CSV file, all or nothing: the run every importer shares.

    The file is read and its shape checked first. Then every row goes through the importer's
    service inside one transaction, with a savepoint per row, so that every error of every row
    is collected; with any error at all the transaction is rolled back and the result lists
    every error and nothing created.

    A subclass declares its columns and the sentences that refuse a file, reads a cell
    (`parse`) and saves a row through its service (`save`); the other hooks are optional. The
    transaction is not durable: the import benchmark runs it inside one of its own, to roll it
    back.
    """

    columns: ClassVar[Sequence[Column]]
    # Refuses a file in which no cell of row 1 is a known column name: name some columns and
    # point to the template.
    no_header: ClassVar[str | Promise]
    no_rows: ClassVar[str | Promise]  # a file with a header row only
    too_many_rows: ClassVar[str | Promise]  # % {"count": rows in the file, "limit": max_rows()}
    service_fields: ClassVar[Mapping[str, str]]  # a service's field name → its column

    @property
    def names(self) -> list[str]:
        return [column.name for column in self.columns]

    def max_bytes(self) -> int:
        """The largest file this import reads; by default the setting every import shares."""
        return max_bytes()

    def max_rows(self) -> int:
        """The most data rows this import takes; by default the setting every import shares."""
        return max_rows()

    @property
    def required(self) -> list[str]:
        return [column.name for column in self.columns if column.required]

    # --- hooks

    def check_file(self) -> None:
        """Raise ValidationError when nothing can be imported now, whatever the file holds."""

    def prepare(self) -> None:
        """Load what reading the cells needs (the ids they may name); runs once the file is
        known to be readable, so that a refused file costs no query."""

    @abstractmethod
    def parse(self, name: str, value: str) -> Any:
        """One non-empty cell of column `name` as its value; raise Invalid to refuse it."""

    def check_row(self, row: Row) -> None:
        """Checks across the cells of one row: append (column, message) to row.errors."""

    def check_rows(self, rows: Sequence[Row]) -> list[RowError]:
        """Checks across rows (twice in the file, already in the database), made inside the
        import's transaction before any row is saved."""
        return []

    def saves(self, row: Row, *, reported: Collection[int], header: Header) -> bool:
        """Whether `row` goes through the service: by default only when nothing is reported on
        it yet and no required column is missing, since the service would only repeat it."""
        return row.number not in reported and set(self.required) <= set(
            header.positions.values())

    @abstractmethod
    def save(self, row: Row) -> T:
        """Save one row through the importer's service; a ValidationError refuses the row."""

    def check_saved(self, row: Row, saved: T) -> list[RowError]:
        """Checks that need what the service made of the row."""
        return []

    @abstractmethod
    def audit(self, created: list[T]) -> None:
        """The audit entry of the import as a whole; each service audits its own row."""

    # --- the run

    def run(self, file: bytes | IO[bytes]) -> ImportResult[T]:
        result: ImportResult[T] = ImportResult()
        try:
            self.check_file()
            header, data_rows = self.read(file)
        except FileRefused as error:
            result.errors.append(RowError(None, "", str(error)))
            return result
        except ValidationError as error:
            result.errors.extend(RowError(None, "", message) for message in error.messages)
            return result
        result.rows = len(data_rows)
        result.errors.extend(header.errors)
        self.prepare()
        rows = [self.parse_row(number, cells, header) for number, cells in data_rows]
        for row in rows:
            result.errors.extend(RowError(row.number, column, message)
                                 for column, message in row.errors)
        with transaction.atomic():
            result.errors.extend(self.check_rows(rows))
            reported = {error.row for error in result.errors}
            created = []
            for row in rows:
                if not self.saves(row, reported=reported, header=header):
                    continue
                try:
                    with transaction.atomic():
                        saved = self.save(row)
                except ValidationError as error:
                    result.errors.extend(service_errors(row.number, error, self.service_fields))
                    continue
                result.errors.extend(self.check_saved(row, saved))
                created.append(saved)
            if result.errors:
                transaction.set_rollback(True)
            else:
                self.audit(created)
                result.created = created
        result.errors.sort(key=error_sort_key(self.names))
        return result

    def read(self, file: bytes | IO[bytes]) -> Table:
        """The file's header and rows; FileRefused when it cannot be imported as a whole (too
        big, unreadable, no rows, too many rows). Costs no query."""
        table = read_table(file, names=self.names, required=self.required,
                           no_header=self.no_header, limit=self.max_bytes())
        if not table.rows:
            raise FileRefused(str(self.no_rows))
        if len(table.rows) > self.max_rows():
            raise FileRefused(str(self.too_many_rows) % {"count": len(table.rows),
                                                         "limit": self.max_rows()})
        return table

    def parse_row(self, number: int, cells: list[str], header: Header) -> Row:
        """One data row's cells parsed and checked together (`check_row`); no query."""
        data, errors = parse_cells(cells, header, names=self.names, required=self.required,
                                   parse=self.parse)
        row = Row(number, data, errors)
        self.check_row(row)
        return row


# --- cells -------------------------------------------------------------------------------------

def too_long(value: str, limit: int) -> None:
    if len(value) > limit:
        raise Invalid(ngettext(
            "At most %(limit)s character is allowed; this has %(count)s.",
            "At most %(limit)s characters are allowed; this has %(count)s.", limit,
        ) % {"limit": limit, "count": len(value)})


def parse_date(value: str) -> date:
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise Invalid(_(
        "“%(value)s” is not a date written as YYYY-MM-DD (e.g. 2001-03-14). If Excel changed the "
        "dates, format the column as Text and type them again."
    ) % {"value": value})


def parse_decimal(value: str) -> Decimal:
    text = value.replace(" ", "")
    if text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")  # a decimal comma, as Excel writes it in many locales
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise Invalid(_("“%(value)s” is not a number.") % {"value": value})
    return number


def parse_choice(value: str, allowed: Sequence[str]) -> str:
    """One of `allowed` (lower-case codes), whatever the case it is written in."""
    code = value.strip().lower()
    if code not in allowed:
        raise Invalid(_("“%(value)s” is not allowed here. Use one of: %(codes)s.") % {
            "value": value, "codes": ", ".join(allowed)})
    return code


@functools.cache
def country_codes() -> frozenset[str]:
    return frozenset(code for code, _name in countries)


def parse_country(value: str) -> str:
    code = value.strip().upper()
    if code not in country_codes():
        raise Invalid(_(
            "“%(value)s” is not a two-letter ISO 3166 country code (e.g. ID, VN, KR)."
        ) % {"value": value})
    return code


def parse_email(value: str) -> str:
    too_long(value, 254)
    try:
        validate_email(value)
    except ValidationError:
        raise Invalid(_("“%(value)s” is not a valid email address.") % {"value": value}) from None
    return value
