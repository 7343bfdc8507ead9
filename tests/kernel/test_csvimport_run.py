"""The kernel's all-or-nothing run (ecocycle.csvimport.CsvImport), with a toy importer that
declares only its columns and its row → service mapping, as a later importer would."""

import pytest
from django.utils.translation import gettext_lazy

from ecocycle import csvimport
from ecocycle.csvimport import Column, Invalid, Row, RowError
from ecocycle.models import AuditEntry, User
from ecocycle.services import audit_entry_create, user_create

pytestmark = pytest.mark.django_db


class StaffImport(csvimport.CsvImport[User]):
    columns = [Column("email", True, gettext_lazy("An email address.")),
               Column("full_name", False, gettext_lazy("A name."))]
    no_header = "Row 1 must name the columns."
    no_rows = "The file has a header row but no people."
    too_many_rows = "%(count)s rows; at most %(limit)s."
    service_fields = {"email": "email", "full_name": "full_name"}

    def parse(self, name, value):
        if name == "full_name" and value.isdigit():
            raise Invalid("A name, not a number.")
        return csvimport.parse_email(value) if name == "email" else value

    def save(self, row: Row) -> User:
        return user_create(actor=None, email=row.data["email"], role=User.Role.STAFF,
                           full_name=row.data.get("full_name", ""))

    def audit(self, created):
        audit_entry_create(actor=None, action="staff_import", target=created[0],
                           after={"created": len(created)})


def test_a_clean_file_saves_every_row_and_audits_the_import():
    result = StaffImport().run(b"email,full_name\r\na@x.example,Ana\r\nb@x.example,\r\n")

    assert result.ok and result.rows == 2
    assert sorted(user.email for user in result.created) == ["a@x.example", "b@x.example"]
    assert User.objects.filter(role=User.Role.STAFF).count() == 2
    assert AuditEntry.objects.get(action="staff_import").after == {"created": 2}


def test_any_error_saves_nothing_and_every_error_is_listed():
    User.objects.create(email="taken@x.example", role=User.Role.STAFF)

    result = StaffImport().run(
        b"email,full_name\r\na@x.example,Ana\r\nnot-an-email,Bo\r\nc@x.example,42\r\n"
        b"taken@x.example,Cy\r\n")

    assert result.created == [] and not result.ok
    assert [(error.row, error.column) for error in result.errors] == [
        (3, "email"), (4, "full_name"), (5, "email")]
    assert "already exists" in result.errors[2].message  # the service's own rule
    assert User.objects.count() == 1
    assert not AuditEntry.objects.filter(action__in=["staff_import", "user_create"]).exists()


def test_without_a_required_column_no_row_goes_to_the_service():
    result = StaffImport().run(b"full_name\r\nAna\r\n")

    assert result.errors == [RowError(1, "email", "The required column “email” is missing "
                                                  "from the header row.")]
    assert not User.objects.exists()


def test_a_file_refused_as_a_whole_is_one_error():
    result = StaffImport().run(b"email,full_name\r\n")

    assert result.errors == [RowError(None, "", "The file has a header row but no people.")]
