from datetime import timedelta

import pytest
from django.utils import timezone

from programs.models import IntakeRound
from programs.selectors import intake_round_list
from tests.programs.factories import IntakeRoundFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("offset_days", "phase"),
    [
        (-1, IntakeRound.Phase.UPCOMING),
        (0, IntakeRound.Phase.NOMINATIONS),
        (15, IntakeRound.Phase.NOMINATIONS),
        (30, IntakeRound.Phase.SCREENING),
        (40, IntakeRound.Phase.MATCHING),
        (55, IntakeRound.Phase.DECISIONS),
        (200, IntakeRound.Phase.ENROLMENT),
    ],
)
def test_phase_is_computed_from_milestone_dates(offset_days, phase):
    intake_round = IntakeRoundFactory(milestones__opened_days_ago=0)
    opened = intake_round.milestones.get(kind="nominations_open").at
    assert intake_round.phase_at(opened + timedelta(days=offset_days, seconds=1)) == phase


def test_phase_of_round_without_milestones_is_upcoming():
    intake_round = IntakeRoundFactory(milestones={})
    assert intake_round.phase == IntakeRound.Phase.UPCOMING
    assert intake_round.nominations_close_at is None


def test_round_list_computes_phases_in_bounded_queries(django_assert_num_queries):
    for _ in range(5):
        IntakeRoundFactory()
    with django_assert_num_queries(2):
        phases = [(r.program.name, r.phase, r.nominations_close_at) for r in intake_round_list()]
    assert len(phases) == 5
    assert all(phase == IntakeRound.Phase.NOMINATIONS for _, phase, _ in phases)
    assert all(close > timezone.now() for _, _, close in phases)
