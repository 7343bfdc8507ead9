from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from ecocycle.models import AuditEntry
from ecocycle.services import model_update
from programs.models import IntakeRound, RoundTrack
from programs.services import (
    degree_track_create,
    intake_round_create,
    program_create,
    program_university_add,
)
from tests.programs.factories import (
    CoreTechnologyFactory,
    DegreeTrackFactory,
    ProgramFactory,
    UniversityFactory,
)

pytestmark = pytest.mark.django_db


def _dates(start=None):
    start = start or timezone.now()
    return {
        "nominations_open": start,
        "nominations_close": start + timedelta(days=10),
        "matching": start + timedelta(days=20),
        "decisions": start + timedelta(days=30),
        "enrolment": start + timedelta(days=60),
    }


def test_program_create_and_participation_are_audited(staff_user):
    program = program_create(actor=staff_user, data={
        "name": "Thailand cassava bioplastics", "country": "TH", "industry": "Bioplastics",
    })
    uni = UniversityFactory(country="TH")
    participation = program_university_add(
        actor=staff_user, program=program, university=uni, nomination_quota=4
    )
    # Later changes go through the kernel's audited update, as the admin makes them.
    model_update(instance=participation, data={"nomination_quota": 6}, actor=staff_user)
    actions = list(AuditEntry.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["program_create", "programuniversity_create", "programuniversity_update"]
    last = AuditEntry.objects.order_by("id").last()
    assert (last.before, last.after) == ({"nomination_quota": 4}, {"nomination_quota": 6})
    assert program.status == "draft"


def test_degree_track_wanted_technologies_are_audited(staff_user):
    program = ProgramFactory()
    tech_a = CoreTechnologyFactory(program=program)
    tech_b = CoreTechnologyFactory(program=program)
    track = degree_track_create(actor=staff_user, data={
        "program": program, "level": "masters", "major": "Catalysis", "department": "Green",
        "campus": "ulsan", "supervisor_name": "Dr. A", "supervisor_email": "a@example.test",
        "wanted_technologies": [tech_a],
    })
    assert list(track.wanted_technologies.all()) == [tech_a]
    model_update(instance=track, data={"wanted_technologies": [tech_b]}, actor=staff_user)
    entry = AuditEntry.objects.get(action="degreetrack_update")
    assert entry.before == {"wanted_technologies": [tech_a.pk]}
    assert entry.after == {"wanted_technologies": [tech_b.pk]}


def test_degree_track_refuses_bad_email(staff_user):
    with pytest.raises(ValidationError) as excinfo:
        degree_track_create(actor=staff_user, data={
            "program": ProgramFactory(), "level": "masters", "major": "X", "department": "Y",
            "campus": "ulsan", "supervisor_name": "Dr. A", "supervisor_email": "not-an-email",
        })
    assert "supervisor_email" in excinfo.value.message_dict


def test_intake_round_create_makes_milestones_and_default_seats(staff_user):
    program = ProgramFactory()
    DegreeTrackFactory(program=program, seats=3)
    DegreeTrackFactory(program=program, seats=1)
    DegreeTrackFactory(program=program, seats=5, is_active=False)
    intake_round = intake_round_create(
        actor=staff_user, program=program, name="2027 Spring", milestones=_dates()
    )
    assert intake_round.milestones.count() == 5
    assert sorted(RoundTrack.objects.values_list("seats", flat=True)) == [1, 3]
    assert AuditEntry.objects.filter(action="roundmilestone_create").count() == 5
    assert intake_round.phase == IntakeRound.Phase.NOMINATIONS


def test_intake_round_refuses_milestones_out_of_order(staff_user):
    dates = _dates()
    dates["matching"] = dates["nominations_close"] - timedelta(days=1)
    with pytest.raises(ValidationError) as excinfo:
        intake_round_create(actor=staff_user, program=ProgramFactory(), name="R", milestones=dates)
    assert "Matching" in excinfo.value.messages[0]
    assert not IntakeRound.objects.exists()


def test_intake_round_refuses_missing_milestone(staff_user):
    dates = _dates()
    del dates["decisions"]
    with pytest.raises(ValidationError, match="Decisions"):
        intake_round_create(actor=staff_user, program=ProgramFactory(), name="R", milestones=dates)

