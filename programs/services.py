"""Writes of the programs domain. Each is one transaction and leaves audit entries.

Staff create and change programs, tracks and rounds in the admin, which writes through the
kernel's audited `model_create`, `model_update` and `model_delete` (`AuditedModelAdmin` in
`ecocycle.admin`); the functions here build the demo data and the test scenarios.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import transaction

from ecocycle.models import User
from ecocycle.services import model_create

from .models import (
    CoreTechnology,
    DegreeTrack,
    IntakeRound,
    Program,
    ProgramUniversity,
    RoundMilestone,
    RoundTrack,
    University,
    validate_milestone_order,
)


def university_create(*, actor: User | None, data: Mapping[str, Any]) -> University:
    return model_create(model=University, data=data, actor=actor)


def program_create(*, actor: User | None, data: Mapping[str, Any]) -> Program:
    return model_create(model=Program, data=data, actor=actor)


def core_technology_create(*, actor: User | None, data: Mapping[str, Any]) -> CoreTechnology:
    return model_create(model=CoreTechnology, data=data, actor=actor)


def program_university_add(
    *, actor: User | None, program: Program, university: University, nomination_quota: int
) -> ProgramUniversity:
    return model_create(
        model=ProgramUniversity,
        data={"program": program, "university": university, "nomination_quota": nomination_quota},
        actor=actor,
    )


def degree_track_create(*, actor: User | None, data: Mapping[str, Any]) -> DegreeTrack:
    return model_create(model=DegreeTrack, data=data, actor=actor)


@transaction.atomic
def intake_round_create(
    *,
    actor: User | None,
    program: Program,
    name: str,
    milestones: Mapping[str, datetime],
    preference_limit: int = 3,
    seats: Mapping[DegreeTrack, int] | None = None,
) -> IntakeRound:
    """Open a round with all five milestones and the seats of each track.

    `seats` defaults to every active track of the program with its default seats.
    """
    validate_milestone_order(dict(milestones))
    intake_round = model_create(
        model=IntakeRound,
        data={"program": program, "name": name, "preference_limit": preference_limit},
        actor=actor,
    )
    for kind, at in milestones.items():
        model_create(
            model=RoundMilestone, data={"intake_round": intake_round, "kind": kind, "at": at},
            actor=actor,
        )
    if seats is None:
        seats = {track: track.seats for track in program.tracks.filter(is_active=True)}
    for track, count in seats.items():
        model_create(
            model=RoundTrack, data={"intake_round": intake_round, "track": track, "seats": count},
            actor=actor,
        )
    return intake_round

