"""The kernel's CSV reading (ecocycle.csvimport): no app, no database."""

import codecs
import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from ecocycle import csvimport
from ecocycle.csvimport import FileRefused, ImportResult, Invalid, RowError

NAMES = ["name", "email", "city"]
NO_HEADER = "Row 1 must name the columns"


def test_column_letters_run_as_a_spreadsheet_names_them():
    assert [csvimport.column_letter(i) for i in (0, 1, 25, 26, 27, 51, 52, 701, 702)] == [
        "A", "B", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA"]


def test_header_cells_are_matched_loosely():
    assert csvimport.header_key(" Full Name * ") == "full_name"
    assert csvimport.header_key("e-mail") == "e_mail"


@pytest.mark.parametrize(("text", "delimiter"), [
    ("name,email,city\r\n", ","),
    ("name;email;city\r\nKim;k@x.example;Ulsan, Korea\r\n", ";"),
    ("name\temail\r\n", "\t"),
    ("name;shoe,size\r\n", ";"),  # a comma inside a cell does not fool it
])
def test_the_delimiter_is_the_one_that_finds_known_columns(text, delimiter):
    assert csvimport.guess_delimiter(text, NAMES) == delimiter


def test_utf8_with_bom_and_utf16_are_decoded():
    assert csvimport.decode(codecs.BOM_UTF8 + "이름".encode()) == "이름"
    assert csvimport.decode("name,이름\r\n".encode("utf-16")) == "name,이름\r\n"


def test_oversized_files_are_refused_before_being_read_whole():
    class Upload(io.BytesIO):
        size = 11

    with pytest.raises(FileRefused, match="may be at most 10"):
        csvimport.read_bytes(Upload(b"x" * 11), limit=10)
    with pytest.raises(FileRefused, match="may be at most 10"):
        csvimport.read_bytes(io.BytesIO(b"x" * 11), limit=10)
    assert csvimport.read_bytes(io.BytesIO(b"x" * 10), limit=10) == b"x" * 10


@override_settings(ECOCYCLE_IMPORT_MAX_BYTES=5)
def test_the_limit_is_a_setting():
    with pytest.raises(FileRefused):
        csvimport.read_bytes(b"123456")


def test_header_reports_unknown_duplicate_and_missing_columns_on_row_1():
    header = csvimport.parse_header(["Name", "colour", "name", ""], names=NAMES,
                                    required=["name", "email"], no_header=NO_HEADER)

    assert header.positions == {0: "name"}
    assert header.flagged == {1, 2}
    assert [(e.row, e.column) for e in header.errors] == [
        (1, "colour"), (1, "name"), (1, "email")]


def test_a_header_without_any_known_column_refuses_the_file():
    with pytest.raises(FileRefused, match=NO_HEADER):
        csvimport.parse_header(["a", "b"], names=NAMES, required=[], no_header=NO_HEADER)


def test_read_table_skips_blank_rows_and_numbers_rows_as_a_spreadsheet_does():
    content = b"name;email\r\nKim;kim@x.example\r\n;\r\nLee;lee@x.example\r\n"

    header, rows = csvimport.read_table(content, names=NAMES, required=["name"],
                                        no_header=NO_HEADER)

    assert header.positions == {0: "name", 1: "email"}
    assert rows == [(2, ["Kim", "kim@x.example"]), (4, ["Lee", "lee@x.example"])]


def test_cells_are_parsed_by_name_and_every_problem_is_kept():
    header = csvimport.parse_header(["name", "email", "", "city"], names=NAMES,
                                    required=["name", "email"], no_header=NO_HEADER)

    def parse(name, value):
        if name == "email":
            return csvimport.parse_email(value)
        return value.title()

    values, errors = csvimport.parse_cells(
        [" kim ", "", "stray", "not a city", "more"], header, names=NAMES,
        required=["name", "email"], parse=parse)

    assert values == {"name": "Kim", "city": "Not A City"}
    assert errors == [
        ("column C", "This cell has a value but its column has no known name in the header row."),
        ("column E", "This cell has a value but its column has no known name in the header row."),
        ("email", "Required: this cell cannot be empty."),
    ]
    _values, errors = csvimport.parse_cells(["kim", "nope"], header, names=NAMES,
                                            required=[], parse=parse)
    assert errors == [("email", "“nope” is not a valid email address.")]


def test_duplicates_tell_every_row():
    errors = csvimport.duplicates([(2, "a"), (3, "b"), (4, ""), (5, "a"), (6, "")],
                                  column="email", message="Rows %(rows)s.")

    assert errors == [RowError(2, "email", "Rows 2, 5."), RowError(5, "email", "Rows 2, 5.")]


def test_cells_of_common_kinds():
    assert csvimport.parse_date("2001-03-14") == date(2001, 3, 14)
    assert csvimport.parse_decimal("3,45") == Decimal("3.45")
    assert csvimport.parse_decimal(" 1 000.5") == Decimal("1000.5")
    assert csvimport.parse_choice(" KO ", ["en", "ko"]) == "ko"
    assert csvimport.parse_country("vn") == "VN"
    for parse, value in [(csvimport.parse_date, "2001-02-30"), (csvimport.parse_date, "14/3/2001"),
                         (csvimport.parse_decimal, "NaN"), (csvimport.parse_decimal, "3,4,5"),
                         (csvimport.parse_country, "XX")]:
        with pytest.raises(Invalid):
            parse(value)
    with pytest.raises(Invalid, match=r"At most 3 characters are allowed; this has 4\."):
        csvimport.too_long("abcd", 3)


def test_service_errors_map_fields_to_columns():
    error = ValidationError({"is_active": ["Bad."], "other": ["Odd."]})

    assert csvimport.service_errors(7, error, {"is_active": "active"}) == [
        RowError(7, "active", "Bad."), RowError(7, "", "Odd.")]
    assert csvimport.service_errors(7, ValidationError("Whole row."), {}) == [
        RowError(7, "", "Whole row.")]


def test_errors_sort_by_row_then_column_order():
    errors = [RowError(3, "city", "c"), RowError(2, "", "x"), RowError(3, "name", "n"),
              RowError(None, "", "file")]

    errors.sort(key=csvimport.error_sort_key(NAMES))

    assert [e.message for e in errors] == ["file", "x", "n", "c"]


def test_result_splits_file_and_row_errors():
    result = ImportResult(rows=3, errors=[RowError(None, "", "f"), RowError(2, "a", "x"),
                                          RowError(2, "b", "y"), RowError(4, "a", "z")])

    assert not result.ok
    assert [e.message for e in result.file_errors] == ["f"]
    assert len(result.row_errors) == 3 and result.rows_with_errors == 2
    assert ImportResult().ok


def test_template_is_utf8_with_bom_and_crlf():
    content = csvimport.template_csv(NAMES, {"name": "김영호", "city": "Ulsan, Korea"})

    assert content == codecs.BOM_UTF8 + 'name,email,city\r\n김영호,,"Ulsan, Korea"\r\n'.encode()
