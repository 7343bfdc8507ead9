"""The CSV import of nominations: the service (candidates.imports) and its pages."""

import codecs
import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from candidates.imports import COLUMN_NAMES, EXAMPLE_PASSPORT, RowError, nomination_import_csv
from candidates.models import Nomination, NominationImportJob
from ecocycle.models import AuditEntry
from programs.models import RoundTrack
from tests.candidates.factories import PNG_BYTES, NominationFactory, open_round_with_tracks
from tests.kernel.factories import MentorUserFactory
from tests.programs.factories import (
    CoordinatorFactory,
    CoreTechnologyFactory,
    ProgramUniversityFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    intake_round = open_round_with_tracks(n_tracks=3)
    coordinator = CoordinatorFactory()
    ProgramUniversityFactory(program=intake_round.program, university=coordinator.university)
    technologies = [CoreTechnologyFactory(program=intake_round.program) for _ in range(2)]
    tracks = [rt.track for rt in RoundTrack.objects.filter(intake_round=intake_round)
              .select_related("track").order_by("id")]
    return intake_round, coordinator, tracks, technologies


def row(i, tracks=(), technologies=(), **overrides):
    """One clean candidate; `overrides` replace cells."""
    values = {
        "family_name": f"Nguyen{i}", "given_names": "Thi Lan", "native_name": "Nguyễn Thị Lan",
        "date_of_birth": "2000-05-17", "nationality": "VN",
        "email": f"candidate{i}@student.example", "phone": "+84 912 345 678",
        "passport_number": f"C{i:07d}", "candidate_language": "vi", "degree": "bachelor",
        "degree_status": "completed", "major": "Mechanical Engineering", "institution": "HUST",
        "gpa": "3.40", "gpa_scale": "4.0", "language_test": "ielts", "language_score": "6.5",
        "language_test_date": (timezone.localdate() - timedelta(days=90)).isoformat(),
        "research_interests": "Precision casting", "university_rank": str(i % 999 + 1),
        "preferences": ";".join(str(t.pk) for t in tracks),
        "courses": (f"Casting|A|{','.join(str(t.pk) for t in technologies)};Moulding|B+"
                    if technologies else ""),
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


def run(setup, content):
    intake_round, coordinator, _tracks, _technologies = setup
    return nomination_import_csv(actor=coordinator.user, intake_round=intake_round,
                                 university=coordinator.university, file=content)


def test_an_implausible_date_of_birth_is_reported_on_its_row(setup):
    content = csv_bytes([row(1, date_of_birth="0001-01-01"), row(2),
                         row(3, date_of_birth=timezone.localdate().isoformat())])
    result = run(setup, content)
    assert not result.ok and Nomination.objects.count() == 0
    assert [(e.row, e.column) for e in result.errors] == [(2, "date_of_birth"),
                                                        (4, "date_of_birth")]
    assert "Check the date of birth" in result.errors[0].message


def upload(content, name="nominations.csv"):
    return SimpleUploadedFile(name, content, content_type="text/csv")


def import_url(intake_round):
    return reverse("candidates:nomination_import", args=[intake_round.pk])


# --- the service -------------------------------------------------------------------------------

def test_clean_file_imports_drafts_with_preferences_and_courses(setup):
    intake_round, coordinator, tracks, technologies = setup
    content = csv_bytes([row(1, tracks[:2], technologies), row(2, tracks[2:], technologies[:1]),
                         row(3)])

    result = run(setup, content)

    assert result.ok, result.errors
    assert len(result.created) == 3
    nominations = Nomination.objects.filter(intake_round=intake_round).order_by("family_name")
    assert [n.family_name for n in nominations] == ["Nguyen1", "Nguyen2", "Nguyen3"]
    first = nominations[0]
    assert first.status == Nomination.Status.DRAFT
    assert first.university == coordinator.university
    assert first.created_by == coordinator.user
    assert first.native_name == "Nguyễn Thị Lan"
    assert first.passport_number == "C0000001"
    assert first.gpa_normalised == Decimal("3.40")
    assert [p.track for p in first.preferences.order_by("rank")] == tracks[:2]
    courses = list(first.courses.order_by("id"))
    assert [(c.name, c.grade) for c in courses] == [("Casting", "A"), ("Moulding", "B+")]
    assert set(courses[0].technologies.all()) == set(technologies)
    assert not nominations[2].preferences.exists() and not nominations[2].courses.exists()
    entry = AuditEntry.objects.get(action="nomination_import")
    assert entry.after["created"] == 3
    assert AuditEntry.objects.filter(action="nomination_create").count() == 3


def test_errors_in_several_rows_import_nothing_and_each_is_reported(setup):
    _intake_round, _coordinator, tracks, technologies = setup
    old = (timezone.localdate() - timedelta(days=800)).isoformat()
    content = csv_bytes([
        row(1, tracks, technologies),  # row 2: clean
        row(2, date_of_birth="17/05/2000", nationality="Vietnam"),  # row 3
        row(3, gpa="4.5", preferences=f"{tracks[0].pk};9999"),  # row 4
        row(4, language_test_date=old),  # row 5: only the service knows this rule
        row(5, email="", courses="Casting|A|12345"),  # row 6
        row(6, language_test="toefl_ibt", language_score="130", degree="phd"),  # row 7
        row(7, gpa="3.456", university_rank="first"),  # row 8
    ])
    before = AuditEntry.objects.count()

    result = run(setup, content)

    assert not result.ok
    assert result.created == []
    assert Nomination.objects.count() == 0
    assert AuditEntry.objects.count() == before
    assert result.errors == [
        RowError(3, "date_of_birth", "“17/05/2000” is not a date written as YYYY-MM-DD "
                 "(e.g. 2001-03-14). If Excel changed the dates, format the column as Text and "
                 "type them again."),
        RowError(3, "nationality", "“Vietnam” is not a two-letter ISO 3166 country code "
                 "(e.g. ID, VN, KR)."),
        RowError(4, "gpa", "On a 4.0-point scale the GPA cannot exceed 4.0."),
        RowError(4, "preferences", "There is no degree track with id 9999 in this round. Use "
                 "the ids from the table of degree tracks."),
        RowError(5, "language_test_date", f"This certificate is from {old}: language "
                 "certificates older than two years are not valid. Ask the candidate for a "
                 "newer result."),
        RowError(6, "email", "Required: this cell cannot be empty."),
        RowError(6, "courses", "Course 1: “12345” is not the id of one of this program's core "
                 "technologies. Use the ids from the table of core technologies."),
        RowError(7, "degree", "“phd” is not allowed here. Use one of: bachelor, master."),
        RowError(7, "language_score", "A TOEFL iBT score is between 0 and 120."),
        RowError(8, "gpa", "Ensure that there are no more than 2 decimal places."),
        RowError(8, "university_rank", "“first” is not a whole number from 1 to 999."),
    ]
    assert result.rows == 7
    assert result.rows_with_errors == 6


def test_same_passport_or_email_twice_in_the_file_reports_both_rows(setup):
    content = csv_bytes([
        row(1, passport_number="C 123-4567"),
        row(2, email="Twin@Student.example"),
        row(3, passport_number="c1234567"),
        row(4, email="twin@student.example "),
        row(5),
    ])

    result = run(setup, content)

    assert Nomination.objects.count() == 0
    passport = "Rows 2, 4 have the same passport number. Nominate each candidate only once."
    email = "Rows 3, 5 have the same email address. Each candidate needs their own."
    assert result.errors == [
        RowError(2, "passport_number", passport), RowError(3, "email", email),
        RowError(4, "passport_number", passport), RowError(5, "email", email),
    ]


def test_a_candidate_already_nominated_by_the_university_is_reported(setup):
    intake_round, coordinator, _tracks, _technologies = setup
    existing = NominationFactory(intake_round=intake_round, university=coordinator.university,
                                 passport_number="C0000002")

    result = run(setup, csv_bytes([row(1), row(2)]))

    assert result.errors == [RowError(
        3, "passport_number", "Your university has already nominated a candidate with this "
        f"passport number in this round: {existing}.")]
    assert Nomination.objects.count() == 1


def test_semicolons_bom_decimal_comma_and_native_scripts(setup):
    _intake_round, _coordinator, tracks, technologies = setup
    content = csv_bytes([
        row(1, tracks[:1], technologies, gpa="3,45", gpa_scale="4", native_name="Nguyễn Thị Lan"),
        row(2, native_name="김민준", nationality="kr", candidate_language="KO",
            language_test="topik", language_score="4"),
    ], delimiter=";", bom=True)

    result = run(setup, content)

    assert result.ok, result.errors
    first, second = Nomination.objects.order_by("family_name")
    assert (first.gpa, first.gpa_scale, first.native_name) == (Decimal("3.45"), "4.0",
                                                                "Nguyễn Thị Lan")
    assert first.preferences.get().track == tracks[0]
    assert (second.native_name, second.nationality.code, second.candidate_language) == (
        "김민준", "KR", "ko")


def test_header_problems_are_reported_on_row_1(setup):
    columns = [c for c in COLUMN_NAMES if c != "email"] + ["favourite_colour"]
    content = csv_bytes([row(1)], columns=columns)

    result = run(setup, content)

    assert result.errors == [
        RowError(1, "email", "The required column “email” is missing from the header row."),
        RowError(1, "favourite_colour", "Unknown column “favourite_colour”. The columns are "
                 "listed on the import page; check its spelling or delete the column."),
    ]


def test_a_value_in_a_column_without_a_name_is_not_dropped_silently(setup):
    content = csv_bytes([row(1, **{"": "surprise"}), row(2)], columns=[*COLUMN_NAMES, ""])

    result = run(setup, content)

    assert result.errors == [RowError(2, "column W", "This cell has a value but its column has "
                                      "no known name in the header row.")]


@pytest.mark.parametrize(("content", "message"), [
    (PNG_BYTES, "This is not a CSV file: it holds binary data"),
    (b"PK\x03\x04" + b"\x00" * 100, "This is an Excel workbook, not a CSV file."),
    ("family_name,date_of_birth\r\n김민준,2000-01-01\r\n".encode("cp949"),
     "The file is not UTF-8 text (the first character that is not is on line 2)."),
    (b"", "The file is empty."),
    (b"name,age\r\nx,1\r\n", "Row 1 must be the header row"),
    (",".join(COLUMN_NAMES).encode() + b"\r\n", "The file has a header row but no candidates."),
])
def test_files_that_cannot_be_read_are_refused_clearly(setup, content, message):
    result = run(setup, content)

    assert len(result.errors) == 1
    assert result.errors[0].row is None
    assert result.errors[0].message.startswith(message)


@override_settings(ECOCYCLE_NOMINATION_IMPORT_MAX_BYTES=2 * 1024 * 1024)
def test_oversized_file_is_refused(setup):
    content = csv_bytes([row(1)]) + b"x" * (3 * 1024 * 1024)

    result = run(setup, upload(content))

    assert [e.message for e in result.errors] == [
        "The file is 3.0\xa0MB; a CSV import may be at most 2.0\xa0MB. Split it into several "
        "files."]


@override_settings(ECOCYCLE_NOMINATION_IMPORT_MAX_ROWS=3)
def test_too_many_rows_are_refused(setup):
    result = run(setup, csv_bytes([row(i) for i in range(4)]))

    assert [e.message for e in result.errors] == [
        "The file has 4 rows of candidates; at most 3 can be imported at once. Split it into "
        "several files."]


def test_outside_the_nominations_phase_nothing_is_imported(setup):
    intake_round, coordinator, _tracks, _technologies = setup
    closed = open_round_with_tracks(program=intake_round.program, milestones__opened_days_ago=40)

    result = nomination_import_csv(actor=coordinator.user, intake_round=closed,
                                   university=coordinator.university,
                                   file=csv_bytes([row(1)]))

    assert len(result.errors) == 1
    assert result.errors[0].message.startswith("The nomination deadline for")
    assert Nomination.objects.count() == 0


def test_five_hundred_rows_import(setup):
    _intake_round, _coordinator, tracks, technologies = setup
    content = csv_bytes([row(i, tracks[: i % 3 + 1], technologies) for i in range(500)])

    result = run(setup, content)

    assert result.ok, result.errors[:5]
    assert Nomination.objects.filter(status=Nomination.Status.DRAFT).count() == 500


# --- the pages ---------------------------------------------------------------------------------

def test_page_explains_the_format(client, setup):
    intake_round, coordinator, tracks, technologies = setup
    client.force_login(coordinator.user)

    response = client.get(import_url(intake_round))

    page = response.content.decode()
    assert response.status_code == 200
    assert reverse("candidates:nomination_import_template", args=[intake_round.pk]) in page
    assert "Documents cannot come through a CSV file" in page
    for name in COLUMN_NAMES:
        assert f"<code>{name}</code>" in page
    for track in tracks:
        assert (f"<tr><td><code>{track.pk}</code></td><td>Master&#x27;s</td>"
                f"<td>{track.major}</td>") in page
    assert technologies[0].name in page
    assert 'enctype="multipart/form-data"' in page


def job_url(intake_round, job):
    return reverse("candidates:nomination_import_job", args=[intake_round.pk, job.pk])


def test_upload_of_a_clean_file_is_imported_by_a_job_whose_page_gives_the_count(
        client, setup, django_capture_on_commit_callbacks):
    intake_round, coordinator, tracks, technologies = setup
    client.force_login(coordinator.user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(import_url(intake_round), {
            "file": upload(csv_bytes([row(1, tracks, technologies), row(2)]))})

    job = NominationImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == job_url(intake_round, job)
    page = client.get(response["Location"]).content.decode()
    assert "2 draft nominations were created." in page
    assert reverse("candidates:coordinator_home") + f"?round={intake_round.pk}&amp;status=draft" \
        in page
    assert Nomination.objects.filter(university=coordinator.university).count() == 2
    job.refresh_from_db()
    assert (job.status, job.rows_checked, job.rows_imported) == ("done", 2, 2)
    assert not job.file.storage.exists(job.file.name)  # personal data: not kept once imported


def test_upload_with_errors_shows_every_error_and_imports_nothing(
        client, setup, django_capture_on_commit_callbacks):
    intake_round, coordinator, _tracks, _technologies = setup
    client.force_login(coordinator.user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(import_url(intake_round), {"file": upload(csv_bytes([
            row(1), row(2, nationality="XX"), row(3, gpa_scale="7")]))})

    response = client.get(response["Location"])
    page = response.content.decode()
    assert response.status_code == 200
    assert "Nothing was imported." in page
    assert "<tr><td>3</td><td><code>nationality</code></td><td>“XX” is not a two-letter" in page
    assert ("<tr><td>4</td><td><code>gpa_scale</code></td><td>“7” is not allowed here. Use one "
            "of: 4.0, 4.5, 10, 100.</td></tr>") in page
    assert Nomination.objects.count() == 0
    assert NominationImportJob.objects.get().status == NominationImportJob.Status.REJECTED


def test_upload_of_a_binary_file_is_refused_on_the_page(client, setup):
    intake_round, coordinator, _tracks, _technologies = setup
    client.force_login(coordinator.user)

    response = client.post(import_url(intake_round),
                           {"file": SimpleUploadedFile("photo.csv", PNG_BYTES)})

    assert response.status_code == 200
    assert "This is not a CSV file" in response.content.decode()


def test_a_huge_cell_in_the_header_row_is_refused_on_the_page(client, setup):
    intake_round, coordinator, _tracks, _technologies = setup
    client.force_login(coordinator.user)
    content = b'"' + b"x" * (200 * 1024) + b'",family_name\r\n'

    response = client.post(import_url(intake_round), {"file": upload(content)})

    assert response.status_code == 200
    assert "The file cannot be read as CSV near line 1" in response.content.decode()
    assert Nomination.objects.count() == 0


@override_settings(ECOCYCLE_NOMINATION_IMPORT_MAX_BYTES=2 * 1024 * 1024)
def test_oversized_upload_is_refused_on_the_page(client, setup):
    intake_round, coordinator, _tracks, _technologies = setup
    client.force_login(coordinator.user)
    content = csv_bytes([row(1)]) + b"x" * (3 * 1024 * 1024)

    response = client.post(import_url(intake_round), {"file": upload(content)})

    assert "a CSV import may be at most 2.0\xa0MB" in response.content.decode()
    assert Nomination.objects.count() == 0


def test_closed_round_page_says_so_and_offers_no_upload(client, setup):
    intake_round, coordinator, _tracks, _technologies = setup
    closed = open_round_with_tracks(program=intake_round.program, milestones__opened_days_ago=40)
    client.force_login(coordinator.user)

    page = client.get(import_url(closed)).content.decode()
    response = client.post(import_url(closed), {"file": upload(csv_bytes([row(1)]))})

    assert "Nominations for this round are not open" in page
    assert 'id="import-form"' not in page
    assert "The nomination deadline for" in response.content.decode()
    assert Nomination.objects.count() == 0


def test_template_download_is_a_csv_that_imports_once_the_example_is_replaced(client, setup):
    intake_round, coordinator, tracks, _technologies = setup
    client.force_login(coordinator.user)

    response = client.get(reverse("candidates:nomination_import_template",
                                  args=[intake_round.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    content = response.content
    assert content.startswith(codecs.BOM_UTF8)
    header, example = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert header == COLUMN_NAMES
    values = dict(zip(header, example, strict=True))
    assert values["preferences"] == f"{tracks[0].pk};{tracks[1].pk}"
    assert values["passport_number"] == EXAMPLE_PASSPORT

    unchanged = run(setup, content)
    assert unchanged.errors == [RowError(2, "passport_number", "This is the example row of the "
                                         "template. Delete it before uploading.")]
    imported = run(setup, content.replace(EXAMPLE_PASSPORT.encode(), b"B7654321"))
    assert imported.ok, imported.errors
    assert imported.created[0].preferences.count() == 2
    assert imported.created[0].courses.count() == 2


def test_another_universitys_round_is_not_found(client, setup):
    _intake_round, coordinator, _tracks, _technologies = setup
    other = open_round_with_tracks()  # a program the coordinator's university is not part of
    client.force_login(coordinator.user)

    assert client.get(import_url(other)).status_code == 404
    assert client.post(import_url(other), {"file": upload(csv_bytes([row(1)]))}).status_code == 404
    assert client.get(reverse("candidates:nomination_import_template",
                              args=[other.pk])).status_code == 404
    assert Nomination.objects.count() == 0


def test_only_coordinators_may_import(client, setup):
    intake_round, _coordinator, _tracks, _technologies = setup
    template_url = reverse("candidates:nomination_import_template", args=[intake_round.pk])

    anonymous = client.get(import_url(intake_round))
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]

    client.force_login(MentorUserFactory())
    assert client.get(import_url(intake_round)).status_code == 403
    assert client.post(import_url(intake_round),
                       {"file": upload(csv_bytes([row(1)]))}).status_code == 403
    assert client.get(template_url).status_code == 403
    assert Nomination.objects.count() == 0
