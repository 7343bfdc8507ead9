"""Dates go through the language's formats (config/formats), never a fixed format (issue 15)."""

import re
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.template import Context, Template
from django.utils import timezone, translation

DAY = date(2026, 12, 6)
MONTH = date(2027, 4, 1)
AT = datetime(2026, 12, 6, 6, 3, tzinfo=ZoneInfo("UTC"))  # 15:03 in Seoul


def _render(source: str, **context) -> str:
    return Template(source).render(Context(context)).strip()


@pytest.mark.parametrize(("language", "day", "month", "moment"), [
    ("en", "6 December 2026", "April 2027", "6 December 2026, 15:03 KST"),
    ("ko", "2026년 12월 6일", "2027년 4월", "2026년 12월 6일 15:03 KST"),
    ("id", "6 Desember 2026", "April 2027", "6 Desember 2026, 15.03 KST"),
    ("vi", "6 tháng 12, 2026", "tháng 4, 2027", "15:03 KST, 6 tháng 12, 2026"),
])
def test_dates_are_written_as_the_language_writes_them(language, day, month, moment):
    with translation.override(language), timezone.override("Asia/Seoul"):
        assert _render('{{ d|date:"DATE_FORMAT" }}', d=DAY) == day
        assert _render('{{ d|date:"YEAR_MONTH_FORMAT" }}', d=MONTH) == month
        assert _render('{{ d|date:"DATETIME_FORMAT" }}', d=AT) == moment


def test_a_date_time_names_the_time_zone_it_is_shown_in():
    with translation.override("id"), timezone.override("Asia/Jakarta"):
        assert _render('{{ d|date:"DATETIME_FORMAT" }}', d=AT) == "6 Desember 2026, 13.03 WIB"


# A format filter whose argument is not one of the language's named formats: "j M Y" gives
# "6 12월 2026" in Korean. 'c' and 'Y-m-d' are machine formats (<time datetime="...">).
FIXED = re.compile(r"""\|date:["'](?!(?:[A-Z_]+_FORMAT|c|Y-m-d|T)["'])[^"']*["']""")


def test_templates_use_no_fixed_date_format():
    found = [f"{path}: {match.group(0)}"
             for path in Path(settings.BASE_DIR, "templates").rglob("*.*")
             for match in FIXED.finditer(path.read_text(encoding="utf-8"))]
    assert found == []
