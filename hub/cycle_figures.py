"""The cycle's figures, cached: the public /cycle/ page and the staff's cycle pages read them
from Django's cache, so that no number of visitors makes the database count the whole cycle
more than once every few minutes.

A report is kept with the data version it was counted at and when. It is counted again when:

- it is older than CYCLE_FIGURES_MAX_AGE (5 minutes): whatever changed without telling (bulk
  writes, another process's change under a per-process cache) shows within that;
- or the data version moved (`cycle_figures_changed`, called on commit after a save or delete
  of what the figures count) and the report is older than CYCLE_FIGURES_MIN_AGE (30 s): a burst
  of changes costs one count, not one per change.

One process counts at a time (a lock in the cache); the others serve the report they have
meanwhile. Only a cold cache makes a request wait for the count. With Redis (REDIS_URL) the
cache, its version and its lock are shared by every web process; with the embedded default's
per-process memory each process keeps its own, and the maximum age still bounds how stale any
of them can be.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from candidates.models import Cohort, CohortAdmission, Nomination
from hub import selectors as cycle
from mentors.models import Mentor
from programs.models import Program
from students.models import AlumniOutcome, Enrolment

CYCLE_FIGURES_MAX_AGE = 300.0
CYCLE_FIGURES_MIN_AGE = 30.0
# How long one process may hold the right to count before another may take it over.
_LOCK_SECONDS = 60
_VERSION_KEY = "cycle-figures:version"
_PREFIX = "cycle-figures:v1"
# Kept well past the maximum age: a stale report is served while another process counts.
_ENTRY_SECONDS = 24 * 3600

# What the figures count: a save or delete of any of these moves the data version.
COUNTED_MODELS = (Nomination, Cohort, CohortAdmission, Enrolment, AlumniOutcome, Mentor, Program)


@dataclass(frozen=True)
class CachedReport:
    report: cycle.CycleReport
    version: str
    counted_at: float  # time.time()

    @property
    def age(self) -> float:
        return time.time() - self.counted_at


def cycle_figures_version() -> str:
    return str(cache.get(_VERSION_KEY) or "0")


def cycle_figures_changed() -> None:
    """Say that what the figures count has changed: the next read after the minimum age counts
    again. Call on commit (the receivers below do)."""
    cache.set(_VERSION_KEY, str(time.time_ns()), timeout=None)


def _changed_on_commit(sender, **kwargs) -> None:
    transaction.on_commit(cycle_figures_changed)


def cycle_figures_signals_connect() -> None:
    """Connect the receivers that move the data version (from HubConfig.ready). Bulk writes send
    no signal: the maximum age covers them."""
    for model in COUNTED_MODELS:
        post_save.connect(_changed_on_commit, sender=model,
                          dispatch_uid=f"cycle-figures-{model._meta.label}-save")
        post_delete.connect(_changed_on_commit, sender=model,
                            dispatch_uid=f"cycle-figures-{model._meta.label}-delete")


def _key(program: Program | int | None, country: str | None) -> str:
    program_id = getattr(program, "pk", program)
    return f"{_PREFIX}:{program_id or ''}:{country or ''}"


def _fresh(entry: CachedReport, version: str) -> bool:
    if entry.age >= CYCLE_FIGURES_MAX_AGE:
        return False
    return entry.version == version or entry.age < CYCLE_FIGURES_MIN_AGE


def cycle_report_cached(*, program: Program | int | None = None,
                        country: str | None = None) -> CachedReport:
    """`hub.selectors.cycle_report` for the scope, from the cache when fresh enough (see the
    module's docstring); with the time it was counted at."""
    key = _key(program, country)
    version = cycle_figures_version()
    entry: CachedReport | None = cache.get(key)
    if entry is not None and _fresh(entry, version):
        return entry
    lock = f"{key}:counting"
    if not cache.add(lock, 1, timeout=_LOCK_SECONDS):
        if entry is not None:
            return entry  # another process is counting: the last report meanwhile
        # A cold cache: count without keeping it, the other process's count will be kept.
        return CachedReport(cycle.cycle_report(program=program, country=country), version,
                            time.time())
    try:
        entry = CachedReport(cycle.cycle_report(program=program, country=country), version,
                             time.time())
        cache.set(key, entry, timeout=_ENTRY_SECONDS)
    finally:
        cache.delete(lock)
    return entry
