import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from candidates.models import Coordinator
from ecocycle.management.commands.seed_demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from ecocycle.models import AuditEntry, User
from mentors.models import Mentor
from programs.models import DegreeTrack, IntakeRound, Program, RoundTrack, University

pytestmark = pytest.mark.django_db

MODELS = [User, Coordinator, University, Program, DegreeTrack, IntakeRound, RoundTrack, AuditEntry,
          Mentor]


def _counts():
    return {model.__name__: model.objects.count() for model in MODELS}


def test_seed_demo_builds_the_world_and_is_idempotent(capsys):
    call_command("seed_demo")
    first = _counts()
    assert 8 <= first["University"] <= 10
    assert 12 <= first["DegreeTrack"] <= 20
    assert first["Program"] == 2
    assert IntakeRound.objects.count() == 2
    assert all(r.phase == IntakeRound.Phase.NOMINATIONS for r in IntakeRound.objects.all())
    assert {u.role for u in User.objects.all()} == {"staff", "coordinator", "mentor"}
    output = capsys.readouterr().out
    for email, *_ in DEMO_ACCOUNTS:
        assert email in output
        assert authenticate(email=email, password=DEMO_PASSWORD) is not None

    call_command("seed_demo")
    assert _counts() == first


def test_seed_demo_gives_two_coordinators_nominations_in_several_states():
    from candidates.models import Nomination

    call_command("seed_demo")
    for email in ["coordinator@itb.test", "coordinator@hust.test"]:
        coordinator = Coordinator.objects.get(user__email=email)
        nominations = Nomination.objects.filter(university=coordinator.university)
        assert set(nominations.values_list("status", flat=True)) == {
            "draft", "submitted", "withdrawn"}
        submitted = nominations.filter(status="submitted")
        assert submitted.filter(consent_given_at__isnull=False).exists()
        assert submitted.filter(consent_given_at__isnull=True).exists()
        assert all(n.documents.count() >= 4 for n in submitted)
    assert Nomination.objects.filter(is_eligible=False).exists()
