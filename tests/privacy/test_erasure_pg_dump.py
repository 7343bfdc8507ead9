"""After an erasure, a dump of the whole database holds no trace of the person (issue 14).

Runs on PostgreSQL with `pg_dump` on the PATH only: the dump is of the test database itself,
committed (a transactional test), so it sees exactly what a backup would.
"""

import os
import shutil
import subprocess
from datetime import date

import pytest
from django.db import connection

from candidates.services import consent_confirm, consent_link, nomination_update
from mentors.models import MentorAssignment, MentoringActivity
from mentors.services.alumni import mentor_profile_from_alumnus
from privacy.services import person_erase
from students.models import AlumniOutcome, Enrolment
from students.services.progress import enrolment_create
from tests.candidates.factories import offer_take_up, round_decide, submitted_nomination
from tests.mentors.factories import MentorFactory

FAMILY, GIVEN = "Zyxwquartz", "Ophelianne"
EMAIL = "ophelianne.zyxwquartz@uni-example.org"
PASSPORT = "QZ7308154"

pytestmark = [
    pytest.mark.skipif(shutil.which("pg_dump") is None, reason="pg_dump is not installed"),
    pytest.mark.django_db(transaction=True),
]


def _dump() -> str:
    settings = connection.settings_dict
    if connection.vendor != "postgresql":
        pytest.skip("the dump test needs PostgreSQL")
    env = {**os.environ, "PGPASSWORD": settings.get("PASSWORD") or ""}
    command = ["pg_dump", "--data-only", "--no-owner", "-h", settings.get("HOST") or "localhost",
               "-p", str(settings.get("PORT") or 5432), "-U", settings.get("USER") or "postgres",
               settings["NAME"]]
    return subprocess.run(command, env=env, check=True, capture_output=True,
                          text=True, timeout=120).stdout


def _a_whole_life(staff_user):
    """Nominated, consented, admitted, enrolled, mentored, graduated, offered to mentor."""
    nomination = submitted_nomination(via_services=True, family_name=FAMILY, given_names=GIVEN,
                                      email=EMAIL, passport_number=PASSPORT)
    nomination = consent_confirm(token=consent_link(nomination).rstrip("/").rsplit("/", 1)[1])
    nomination_update(actor=staff_user, nomination=nomination,
                      data={"phone": "+62 811 0000 1234"})
    round_decide(nomination.intake_round)
    nomination.refresh_from_db()
    offer_take_up(nomination.admission)
    enrolment = enrolment_create(actor=None, admission=nomination.admission,
                                 semester="2025 Autumn", enrolled_on=date(2025, 9, 1),
                                 expected_graduation=None)
    assignment = MentorAssignment.objects.create(mentor=MentorFactory(), nomination=nomination,
                                                 status="accepted")
    MentoringActivity.objects.create(assignment=assignment, date="2026-11-01", mode="online",
                                     notes=f"{GIVEN} {FAMILY} ({EMAIL}) needs a flat.")
    AlumniOutcome.objects.create(enrolment=enrolment, path="stayed_korea",
                                 organisation="Hanwha Ulsan", employer_type="large_company",
                                 country="KR", as_of=date.today(), offers_to_mentor=True)
    assert mentor_profile_from_alumnus(actor=None, enrolment=enrolment) is not None
    return Enrolment.objects.get(pk=enrolment.pk).nomination


def test_a_dump_after_erasure_holds_no_trace_of_the_person(staff_user):
    if connection.vendor != "postgresql":
        pytest.skip("the dump test needs PostgreSQL")
    nomination = _a_whole_life(staff_user)
    before = _dump()
    assert FAMILY in before and EMAIL in before  # the test can see a trace when there is one

    person_erase(actor=staff_user, nomination=nomination, reason="Letter of 1 December")

    after = _dump()
    for trace in (FAMILY, GIVEN, EMAIL, EMAIL.split("@")[0], PASSPORT):
        assert trace.lower() not in after.lower(), trace
