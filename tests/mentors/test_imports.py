"""The CSV import of mentors: the service (mentors.imports) and its staff pages."""

import codecs
import csv
import io
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from ecocycle.models import AuditEntry, User
from mentors import imports
from mentors.imports import COLUMN_NAMES, RowError, mentor_import_csv
from mentors.models import Mentor
from tests.mentors.factories import MentorFactory
from tests.programs.factories import CoreTechnologyFactory

pytestmark = pytest.mark.django_db

UPLOAD_URL = "/staff/mentors/import/"


@pytest.fixture
def technologies():
    first = CoreTechnologyFactory(name="Biodiesel catalysts")
    return [first, CoreTechnologyFactory(program=first.program, name="Fermentation"),
            CoreTechnologyFactory(name="Precision casting")]


def row(i, technologies=(), **overrides):
    """One clean mentor; `overrides` replace cells."""
    values = {
        "full_name": f"Dr. Park Ji-hoon {i}", "email": f"jihoon.park{i}@retired.example",
        "language": "ko", "retired_from": "KITECH Ulsan",
        "expertise": ";".join(str(t.pk) for t in technologies),
        "keywords": "catalysis, biodiesel", "languages_spoken": "ko,en,id",
        "travel_countries": "ID;VN", "capacity": "3", "available_from": "2025-03-01",
        "available_until": "2027-12-31", "biography": "Thirty years of catalyst research.",
        "active": "yes",
    }
    values.update(overrides)
    return values


def csv_bytes(rows, *, delimiter=",", bom=False, columns=None):
    columns = columns or COLUMN_NAMES
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(columns)
    for values in rows:
        writer.writerow([values.get(name, "") for name in columns])
    return (codecs.BOM_UTF8 if bom else b"") + out.getvalue().encode("utf-8")


def run(content, actor=None):
    return mentor_import_csv(actor=actor, file=content)


def upload(content, name="mentors.csv"):
    return SimpleUploadedFile(name, content, content_type="text/csv")


# --- the service -------------------------------------------------------------------------------

def test_clean_file_creates_every_mentor_with_an_account(staff_user, technologies):
    content = csv_bytes([
        row(1, technologies[:2]),
        row(2, technologies[2:], travel_countries="kr", active="No", language="EN"),
        {"full_name": "김영호", "email": "Youngho.Kim@Retired.example"},  # every default
    ])

    result = run(content, actor=staff_user)

    assert result.ok, result.errors
    assert len(result.created) == 3
    first = Mentor.objects.get(email="jihoon.park1@retired.example")
    assert set(first.expertise.all()) == set(technologies[:2])
    assert [country.code for country in first.travel_countries] == ["ID", "VN"]
    assert (first.languages_spoken, first.capacity, first.is_active) == ("ko,en,id", 3, True)
    assert (first.available_from, first.available_until) == (date(2025, 3, 1), date(2027, 12, 31))
    assert first.user.role == User.Role.MENTOR and first.user.email == first.email
    second = Mentor.objects.get(email="jihoon.park2@retired.example")
    assert [country.code for country in second.travel_countries] == ["KR"]
    assert (second.is_active, second.language, second.user.language) == (False, "en", "en")
    third = Mentor.objects.get(full_name="김영호")
    assert third.email == "youngho.kim@retired.example"
    assert (third.language, third.languages_spoken, third.capacity, third.is_active) == (
        "ko", "ko,en", 2, True)
    assert not third.expertise.exists() and not third.travel_countries
    assert third.user.role == User.Role.MENTOR
    entry = AuditEntry.objects.get(action="mentor_import")
    assert entry.actor == staff_user
    assert entry.after == {"created": 3, "mentors": [m.pk for m in result.created]}
    assert AuditEntry.objects.filter(action="mentor_create").count() == 3


def test_one_bad_row_imports_nothing_and_each_problem_is_reported(staff_user, technologies):
    content = csv_bytes([
        row(1, technologies),  # row 2: clean
        row(2, full_name="x" * 201, email="not-an-email", language="fr",
            languages_spoken="ko,xx", travel_countries="ID;Indonesia", capacity="25",
            available_from="2026-05-01", available_until="01/01/2026", active="maybe"),
        row(3, available_from="2026-05-01", available_until="2026-01-01", capacity="0",
            expertise=f"{technologies[0].pk};9999", full_name=""),  # row 4
    ])
    before = AuditEntry.objects.count()

    result = run(content, actor=staff_user)

    assert not result.ok
    assert result.created == []
    assert Mentor.objects.count() == 0
    assert not User.objects.filter(role=User.Role.MENTOR).exists()
    assert AuditEntry.objects.count() == before
    assert result.errors == [
        RowError(3, "full_name", "At most 200 characters are allowed; this has 201."),
        RowError(3, "email", "“not-an-email” is not a valid email address."),
        RowError(3, "language", "“fr” is not allowed here. Use one of: en, ko, id, vi."),
        RowError(3, "languages_spoken", "“xx” is not a two-letter ISO 639-1 language code "
                 "(e.g. ko, en, id, vi). Separate the codes with “,”."),
        RowError(3, "travel_countries", "“Indonesia” is not a two-letter ISO 3166 country code "
                 "(e.g. ID, VN, KR)."),
        RowError(3, "capacity", "“25” is not a whole number from 1 to 20."),
        RowError(3, "available_until", "“01/01/2026” is not a date written as YYYY-MM-DD "
                 "(e.g. 2001-03-14). If Excel changed the dates, format the column as Text and "
                 "type them again."),
        RowError(3, "active", "“maybe” is not yes or no. Write yes or no (true/false and 1/0 "
                 "work too)."),
        RowError(4, "full_name", "Required: this cell cannot be empty."),
        RowError(4, "expertise", "“9999” is not the id of a core technology. Use the ids from "
                 "the table of core technologies, separated by “;”."),
        RowError(4, "capacity", "“0” is not a whole number from 1 to 20."),
        RowError(4, "available_until", "The mentor is available until 2026-01-01, which is "
                 "before available_from (2026-05-01). Correct one of the two dates."),
    ]
    assert (result.rows, result.rows_with_errors) == (3, 2)


def test_same_email_twice_in_the_file_reports_every_such_row(technologies):
    content = csv_bytes([row(1, email="Twin@Retired.example"), row(2),
                         row(3, email="twin@retired.example"),
                         row(4, email="TWIN@retired.example")])

    result = run(content)

    message = "Rows 2, 4, 5 have the same email address. Each mentor needs their own."
    assert result.errors == [RowError(2, "email", message), RowError(4, "email", message),
                             RowError(5, "email", message)]
    assert Mentor.objects.count() == 0


def test_an_existing_mentor_is_reported_as_already_a_mentor():
    existing = MentorFactory(full_name="Dr. Lee Sun-mi", email="Sunmi.Lee@Retired.example")

    result = run(csv_bytes([row(1), row(2, email="sunmi.lee@retired.example")]))

    assert result.errors == [RowError(
        3, "email", "sunmi.lee@retired.example is already a mentor: Dr. Lee Sun-mi. Delete this "
        "row, or change that mentor's profile in the admin.")]
    assert list(Mentor.objects.all()) == [existing]


def test_an_unknown_technology_id_is_reported(technologies):
    result = run(csv_bytes([row(1, expertise=f"{technologies[1].pk};tech")]))

    assert result.errors == [RowError(
        2, "expertise", "“tech” is not the id of a core technology. Use the ids from the table "
        "of core technologies, separated by “;”.")]


def test_semicolon_delimited_file_with_bom_and_mixed_separators(technologies):
    content = csv_bytes([
        row(1, expertise=f"{technologies[0].pk}, {technologies[2].pk}",
            languages_spoken="KO; en", travel_countries="id,vn,ID"),
        row(2, capacity="", active="1"),
    ], delimiter=";", bom=True)

    result = run(content)

    assert result.ok, result.errors
    first, second = result.created
    assert set(first.expertise.all()) == {technologies[0], technologies[2]}
    assert first.languages_spoken == "ko,en"
    assert [country.code for country in first.travel_countries] == ["ID", "VN"]
    assert (second.capacity, second.is_active) == (2, True)


def test_header_problems_are_reported_on_row_1():
    columns = [c for c in COLUMN_NAMES if c != "email"] + ["shoe_size"]

    result = run(csv_bytes([row(1)], columns=columns))

    assert result.errors == [
        RowError(1, "email", "The required column “email” is missing from the header row."),
        RowError(1, "shoe_size", "Unknown column “shoe_size”. The columns are listed on the "
                 "import page; check its spelling or delete the column."),
    ]


@pytest.mark.parametrize(("content", "message"), [
    (b"PK\x03\x04" + b"\x00" * 100, "This is an Excel workbook, not a CSV file. In Excel choose "
     "File > Save As"),
    (b"name,age\r\nx,1\r\n", "Row 1 must be the header row with the column names of the "
     "template (full_name, email, …)."),
    (",".join(COLUMN_NAMES).encode() + b"\r\n", "The file has a header row but no mentors."),
    (b"", "The file is empty."),
])
def test_files_that_cannot_be_read_are_refused_clearly(content, message):
    result = run(content)

    assert len(result.errors) == 1
    assert result.errors[0].row is None
    assert result.errors[0].message.startswith(message)
    assert Mentor.objects.count() == 0


def test_a_service_error_is_reported_in_its_column(monkeypatch):
    # The service's own rules (here: the model's) come back on the row and column.
    real = imports.mentor_create

    def strict(*, actor, data):
        return real(actor=actor, data={**data, "full_name": ""})

    monkeypatch.setattr(imports, "mentor_create", strict)

    result = run(csv_bytes([row(1)]))

    assert result.errors == [RowError(2, "full_name", "This field cannot be blank.")]
    assert Mentor.objects.count() == 0


# --- the pages ---------------------------------------------------------------------------------

def test_page_lists_the_columns_and_the_technologies(client, staff_user, technologies,
                                                     django_assert_max_num_queries):
    client.force_login(staff_user)

    with django_assert_max_num_queries(10):
        response = client.get(UPLOAD_URL)

    page = response.content.decode()
    assert response.status_code == 200
    assert reverse("staff_mentors:import") == UPLOAD_URL
    assert reverse("staff_mentors:import_template") in page
    for name in COLUMN_NAMES:
        assert f"<code>{name}</code>" in page
    for technology in technologies:
        assert (f"<tr><td><code>{technology.pk}</code></td><td>{technology.name}</td>"
                f"<td>{technology.program.name}</td></tr>") in page
    assert "one of en, ko, id, vi. Empty means ko." in page
    assert 'enctype="multipart/form-data"' in page


def test_template_round_trips(client, staff_user, technologies):
    client.force_login(staff_user)

    response = client.get(reverse("staff_mentors:import_template"))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    content = response.content
    assert content.startswith(codecs.BOM_UTF8) and b"\r\n" in content
    header, example = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert header == COLUMN_NAMES
    values = dict(zip(header, example, strict=True))
    assert values["expertise"] == f"{technologies[0].pk};{technologies[1].pk}"

    refused = run(content, actor=staff_user)
    assert [(e.row, e.column) for e in refused.errors] == [(2, "email")]
    assert "example row of the template" in refused.errors[0].message

    result = run(content.replace(b"youngho.kim@example.com", b"kim.yh@retired.example"),
                 actor=staff_user)

    assert result.ok, result.errors
    mentor = result.created[0]
    assert set(mentor.expertise.all()) == set(technologies[:2])
    assert mentor.user.role == User.Role.MENTOR


def test_staff_upload_of_a_clean_file_goes_to_the_mentor_list(client, staff_user):
    client.force_login(staff_user)

    response = client.post(UPLOAD_URL, {"file": upload(csv_bytes([row(1), row(2)]))})

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:mentors_mentor_changelist")
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["2 mentors were imported, each with a sign-in account."]
    assert Mentor.objects.count() == 2


def test_staff_upload_with_errors_shows_every_error_and_the_chosen_file(client, staff_user):
    client.force_login(staff_user)

    response = client.post(UPLOAD_URL, {"file": upload(
        csv_bytes([row(1), row(2, capacity="many"), row(3, travel_countries="XX")]),
        name="mentors-march.csv")})

    page = response.content.decode()
    assert response.status_code == 200
    assert "Nothing was imported." in page
    assert "The file you chose: mentors-march.csv" in page
    assert ("<tr><td>3</td><td><code>capacity</code></td><td>“many” is not a whole number from "
            "1 to 20.</td></tr>") in page
    assert ("<tr><td>4</td><td><code>travel_countries</code></td><td>“XX” is not a two-letter"
            in page)
    assert 'id="import-form"' in page
    assert Mentor.objects.count() == 0


def test_staff_upload_of_a_workbook_is_refused_on_the_page(client, staff_user):
    client.force_login(staff_user)

    response = client.post(UPLOAD_URL, {"file": upload(b"PK\x03\x04" + b"\x00" * 100,
                                                       name="mentors.xlsx")})

    assert "This is an Excel workbook, not a CSV file." in response.content.decode()


def test_staff_upload_with_a_huge_cell_in_the_header_row_is_refused_on_the_page(client,
                                                                              staff_user):
    client.force_login(staff_user)

    response = client.post(UPLOAD_URL, {"file": upload(b"x" * (200 * 1024) + b",email\r\n")})

    assert response.status_code == 200
    assert "The file cannot be read as CSV near line 1" in response.content.decode()
    assert Mentor.objects.count() == 0


def test_a_coordinator_gets_403(client, coordinator_user):
    client.force_login(coordinator_user)

    assert client.get(UPLOAD_URL).status_code == 403
    assert client.post(UPLOAD_URL, {"file": upload(csv_bytes([row(1)]))}).status_code == 403
    assert client.get(reverse("staff_mentors:import_template")).status_code == 403
    assert Mentor.objects.count() == 0


def test_anonymous_is_sent_to_sign_in(client):
    for response in (client.get(UPLOAD_URL), client.get(reverse("staff_mentors:import_template")),
                     client.post(UPLOAD_URL, {"file": upload(csv_bytes([row(1)]))})):
        assert response.status_code == 302 and "login" in response["Location"]
    assert Mentor.objects.count() == 0
