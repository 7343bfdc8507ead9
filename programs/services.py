"""Writes of the programs domain. Each is one transaction and leaves audit entries."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import transaction

from ecocycle.models import User
from ecocycle.services import model_create, model_update

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


def university_update(
    *, actor: User | None, university: University, data: Mapping[str, Any]
) -> University:
    return model_update(instance=university, data=data, actor=actor)[0]


def program_create(*, actor: User | None, data: Mapping[str, Any]) -> Program:
    return model_create(model=Program, data=data, actor=actor)


def program_update(*, actor: User | None, program: Program, data: Mapping[str, Any]) -> Program:
    return model_update(instance=program, data=data, actor=actor)[0]


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


def program_university_set_quota(
    *, actor: User | None, participation: ProgramUniversity, nomination_quota: int
) -> ProgramUniversity:
    return model_update(
        instance=participation, data={"nomination_quota": nomination_quota}, actor=actor
    )[0]


def degree_track_create(*, actor: User | None, data: Mapping[str, Any]) -> DegreeTrack:
    return model_create(model=DegreeTrack, data=data, actor=actor)


def degree_track_update(
    *, actor: User | None, track: DegreeTrack, data: Mapping[str, Any]
) -> DegreeTrack:
    return model_update(instance=track, data=data, actor=actor)[0]


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


@transaction.atomic
def intake_round_reschedule(
    *, actor: User | None, intake_round: IntakeRound, milestones: Mapping[str, datetime]
) -> IntakeRound:
    """Move one or more milestones; the whole schedule must stay in order afterwards."""
    current = {m.kind: m for m in intake_round.milestones.select_for_update()}
    dates = {kind: m.at for kind, m in current.items()} | dict(milestones)
    validate_milestone_order(dates)
    for kind, at in milestones.items():
        if kind in current:
            model_update(instance=current[kind], data={"at": at}, actor=actor)
        else:
            model_create(
                model=RoundMilestone,
                data={"intake_round": intake_round, "kind": kind, "at": at},
                actor=actor,
            )
    return intake_round


def round_track_set_seats(
    *, actor: User | None, intake_round: IntakeRound, track: DegreeTrack, seats: int
) -> RoundTrack:
    existing = RoundTrack.objects.filter(intake_round=intake_round, track=track).first()
    if existing is None:
        return model_create(
            model=RoundTrack, data={"intake_round": intake_round, "track": track, "seats": seats},
            actor=actor,
        )
    return model_update(instance=existing, data={"seats": seats}, actor=actor)[0]
