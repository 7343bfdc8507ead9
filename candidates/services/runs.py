"""Housekeeping of match runs: what the audit needs stays, the bulk of old proposals goes."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from ecocycle.models import AuditEntry
from ecocycle.services import audit_entry_build

from ..models import Cohort, MatchRun, Placement
from .matching import staging_runs_discard

# A cohort run left STAGING this long was stopped by a crash: no run lasts nearly as long.
STAGING_ABANDONED_AFTER = timedelta(days=1)


def superseded_runs_prune(*, now: datetime | None = None) -> int:
    """Delete the placements of superseded runs older than ECOCYCLE_SUPERSEDED_RUN_DAYS.

    Every run keeps its digests, counts and per-track figures (a few rows), which is what the
    audit needs to tell runs apart; the approved run and the latest proposal of each round are
    never superseded, and a run a cohort points at is left alone all the same. One audit entry
    per pruned run says how many placements went. Returns that total; running it twice is safe.

    Runs a crash left STAGING (never shown) over a day ago go too, placements and all; the next
    run of their round would have removed them anyway.
    """
    now = now or timezone.now()
    staging_runs_discard(older_than=now - STAGING_ABANDONED_AFTER)
    cutoff = now - timedelta(days=settings.ECOCYCLE_SUPERSEDED_RUN_DAYS)
    with transaction.atomic():
        runs = list(
            MatchRun.objects.filter(status=MatchRun.Status.SUPERSEDED, started_at__lt=cutoff)
            .exclude(pk__in=Cohort.objects.exclude(match_run=None).values("match_run"))
            .exclude(pk__in=Cohort.objects.exclude(wave_run=None).values("wave_run"))
            .annotate(placement_count=Count("placements"))
            .filter(placement_count__gt=0)
            .order_by("pk")
        )
        if not runs:
            return 0
        Placement.objects.filter(match_run__in=[run.pk for run in runs]).delete()
        AuditEntry.objects.bulk_create([
            audit_entry_build(actor=None, action="match_run_placements_prune", target=run,
                              after={"placements": run.placement_count})
            for run in runs
        ])
    return sum(run.placement_count for run in runs)
