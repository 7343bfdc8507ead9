"""Tables of plain values written as CSV or XLSX downloads, safe to open in a spreadsheet.

The apps read the rows (their selectors); this module only writes files, so every export
escapes formulas and sizes its columns the same way.
"""

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import chain, islice

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Spreadsheets run a cell starting with one of these as a formula: names typed by partner
# universities must never be (OWASP "CSV injection").
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_MIN_WIDTH, _MAX_WIDTH = 8, 60


@dataclass(frozen=True)
class ExportTable:
    """A sheet: its title, a header row and data rows of plain values (str, int, Decimal, None).
    `rows` may be a lazy iterable (read once), so that a large CSV is streamed, not held."""

    title: str
    headers: list[str]
    rows: Iterable[list]


def _safe_text(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_PREFIXES) else value


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, str):
        return _safe_text(value)
    return value


def csv_bytes(table: ExportTable) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel reads non-Latin names right."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow([_csv_value(h) for h in table.headers])
    writer.writerows([_csv_value(v) for v in row] for row in table.rows)
    return buffer.getvalue().encode("utf-8-sig")


def csv_chunks(table: ExportTable, *, rows_per_chunk: int = 1000) -> Iterator[bytes]:
    """The bytes of `csv_bytes`, a chunk at a time, for a StreamingHttpResponse: memory stays
    that of one chunk however many rows the table's lazy `rows` yield."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    buffer.write("\ufeff")  # the byte-order mark of utf-8-sig
    writer.writerow([_csv_value(h) for h in table.headers])
    for i, row in enumerate(table.rows, start=1):
        writer.writerow([_csv_value(v) for v in row])
        if i % rows_per_chunk == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def _width(value) -> int:
    if value is None:
        return 0
    return max((len(line) for line in str(value).splitlines()), default=0)


def column_widths(headers: Sequence[str], rows: Sequence[Sequence]) -> list[int]:
    widths = [_width(h) for h in headers]
    for row in rows:
        for i, value in enumerate(row):
            widths[i] = max(widths[i], _width(value))
    return [min(max(w + 2, _MIN_WIDTH), _MAX_WIDTH) for w in widths]


def _xlsx_cell(sheet, value, *, font=None):
    """A plain value where openpyxl stores it as it is (the common, fast case), else a cell."""
    if isinstance(value, Decimal):
        value = float(value)
    elif isinstance(value, datetime) and value.tzinfo is not None:
        value = value.replace(tzinfo=None)  # XLSX has no time zones
    if font is None and not isinstance(value, date) and not (
            isinstance(value, str) and value.startswith("=")):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # a leading "=" stays text, never a formula
    elif isinstance(value, date):
        cell.number_format = "yyyy-mm-dd hh:mm" if isinstance(value, datetime) else "yyyy-mm-dd"
    if font is not None:
        cell.font = font
    return cell


# Column widths are measured on the first rows only, so that a large sheet is written as its rows
# are read (openpyxl's write-only mode keeps them in a temporary file, not in memory).
WIDTH_SAMPLE_ROWS = 1000


def xlsx_write(table: ExportTable, target, *,
               progress: Callable[[int], None] | None = None, every: int = 2000) -> int:
    """One sheet into `target` (a path or a binary file): a bold, frozen header row and
    columns as wide as their content in the first WIDTH_SAMPLE_ROWS rows (capped). The rows are
    read once; memory stays that of the sample however many there are. `progress(rows)` is told
    every `every` rows. Returns the number of data rows."""
    rows = iter(table.rows)
    sample = list(islice(rows, WIDTH_SAMPLE_ROWS))
    workbook = Workbook(write_only=True)
    title = "".join(" " if ch in "\\/?*[]:" else ch for ch in table.title)[:31].strip()
    sheet = workbook.create_sheet(title=title or "Sheet")
    for i, width in enumerate(column_widths(table.headers, sample), start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    sheet.append([_xlsx_cell(sheet, h, font=bold) for h in table.headers])
    count = 0
    for row in chain(sample, rows):
        sheet.append([_xlsx_cell(sheet, v) for v in row])
        count += 1
        if progress is not None and count % every == 0:
            progress(count)
    workbook.save(target)
    return count


def xlsx_bytes(table: ExportTable) -> bytes:
    """The sheet of `xlsx_write` as bytes, for a table small enough to answer in a request."""
    buffer = io.BytesIO()
    xlsx_write(table, buffer)
    return buffer.getvalue()


FORMATS: dict[str, tuple[Callable[[ExportTable], bytes], str]] = {
    "csv": (csv_bytes, CSV_CONTENT_TYPE),
    "xlsx": (xlsx_bytes, XLSX_CONTENT_TYPE),
}
