"""Writing export tables as CSV and XLSX files (no database)."""

import csv
import io
from decimal import Decimal

import openpyxl

from ecocycle import exports


def test_names_that_look_like_formulas_stay_text():
    table = exports.ExportTable(title="Cohort", headers=["Candidate", "Score"],
                                rows=[["=HYPERLINK(\"http://x\")", Decimal("71.5")],
                                      ["-2+3", None], ["Nguyễn Văn An", 3]])
    rows = list(csv.reader(io.StringIO(exports.csv_bytes(table).decode("utf-8-sig"))))
    assert rows[1:] == [["'=HYPERLINK(\"http://x\")", "71.5"], ["'-2+3", ""],
                        ["Nguyễn Văn An", "3"]]
    sheet = openpyxl.load_workbook(io.BytesIO(exports.xlsx_bytes(table))).active
    assert sheet["A2"].data_type == "s" and sheet["A2"].value == "=HYPERLINK(\"http://x\")"
    assert sheet["B2"].value == 71.5 and sheet["A4"].value == "Nguyễn Văn An"
    assert sheet.freeze_panes == "A2"
