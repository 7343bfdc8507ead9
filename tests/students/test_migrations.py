"""The move of the after-admission models from `candidates` to `students` is a state-only
migration: on a database that holds the demo data, migrating forward copies and loses nothing."""

from io import StringIO

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from ecocycle.models import AuditEntry
from mentors.models import Mentor
from students.models import AlumniOutcome, CareerProposal, Enrolment, ProgressMilestone

BEFORE_MOVE = [("candidates", "0005_cycle"), ("mentors", "0003_alumni_mentors"),
               ("students", None)]
MOVED = {"enrolment": Enrolment, "progressmilestone": ProgressMilestone,
         "careerproposal": CareerProposal, "alumnioutcome": AlumniOutcome}


def _migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def _rows(table: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)} ORDER BY id")
        return cursor.fetchall()


@pytest.mark.django_db(transaction=True)
def test_moving_the_models_to_students_keeps_every_row_and_audit_link():
    call_command("seed_demo", stdout=StringIO())
    tables = {name: model._meta.db_table for name, model in MOVED.items()}
    rows = {name: _rows(table) for name, table in tables.items()}
    assert all(rows.values()), "the demo world has rows in every moved table"
    audited = {
        name: set(AuditEntry.objects.filter(
            target_type=ContentType.objects.get_for_model(model)).values_list("pk", flat=True))
        for name, model in MOVED.items()}
    assert audited["enrolment"] and audited["alumnioutcome"]
    alumni_mentors = dict(Mentor.objects.filter(alumnus__isnull=False)
                          .values_list("pk", "alumnus_id"))

    # Back to the database as the release before the move left it: the same tables, the
    # content types under `candidates`.
    _migrate(BEFORE_MOVE)
    assert set(ContentType.objects.filter(model__in=MOVED).values_list("app_label", flat=True)
               ) == {"candidates"}
    assert {name: _rows(table) for name, table in tables.items()} == rows

    _migrate([("candidates", "0006_students_moved_out"), ("students", "0001_initial"),
              ("mentors", "0004_alumnus_from_students")])
    ContentType.objects.clear_cache()
    assert {name: _rows(table) for name, table in tables.items()} == rows
    for name, model in MOVED.items():
        content_type = ContentType.objects.get_for_model(model)
        assert content_type.app_label == "students"
        assert set(AuditEntry.objects.filter(target_type=content_type)
                   .values_list("pk", flat=True)) == audited[name]
    assert dict(Mentor.objects.filter(alumnus__isnull=False)
                .values_list("pk", "alumnus_id")) == alumni_mentors
    assert Enrolment.objects.filter(pk__in=alumni_mentors.values()).count() == len(
        alumni_mentors)
