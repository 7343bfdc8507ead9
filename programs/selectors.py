"""Reads of the programs domain, with their joins already applied."""

from django.db.models import Count, Prefetch, QuerySet

from .models import CoreTechnology, IntakeRound, Program, RoundMilestone


def program_list_active() -> QuerySet[Program]:
    return Program.objects.filter(status=Program.Status.ACTIVE).annotate(
        track_count=Count("tracks", distinct=True),
        university_count=Count("participations", distinct=True),
    )


def intake_round_list(*, programs: QuerySet[Program] | None = None) -> QuerySet[IntakeRound]:
    """Rounds with their program and milestones, so that phases compute without more queries."""
    qs = IntakeRound.objects.select_related("program").prefetch_related(
        Prefetch("milestones", queryset=RoundMilestone.objects.order_by("at"))
    )
    if programs is not None:
        qs = qs.filter(program__in=programs)
    return qs.order_by("program__name", "-created_at")


def core_technology_list() -> QuerySet[CoreTechnology]:
    """Every program's core technologies with their program, by program and name."""
    return CoreTechnology.objects.select_related("program").order_by("program__name", "name")
