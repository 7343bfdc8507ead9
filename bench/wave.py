"""Benchmark of a later wave of offers: ``python -m bench.wave``.

Builds a throwaway round (as bench.cohort_job: N eligible, consented nominations ranking 10 of
the round's tracks, seats for 80 %), matches and approves it, makes the first offers, gives back
a share of them (declines, written in bulk) and accepts another share, then times
`wave_propose` (the matching again around the accepted places, written as a run) and
`wave_approve` (the wave's offers, moves up and emails into the outbox), printing time and
SQL queries (the sending of the emails, a task after commit, is not counted).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from contextlib import nullcontext

from django.db import connection, transaction
from django.test.utils import setup_databases, teardown_databases
from django.utils import timezone

from bench._django import QueryCounter, bench_staff, setup_django
from bench.cohort_job import build_round
from ecocycle.writes import write_holds

# ruff: noqa: PLC0415


def _answers(cohort, *, declined: float, accepted: float, seed: int = 5) -> tuple[int, int]:
    """Decline and accept shares of the pending offers, in bulk (a fixture, not a user's path)."""
    from candidates.models import CohortAdmission, Offer

    rng = random.Random(seed)
    offers = list(Offer.objects.filter(cohort=cohort, status=Offer.Status.PENDING)
                  .values_list("pk", "nomination_id"))
    rng.shuffle(offers)
    n_declined, n_accepted = int(len(offers) * declined), int(len(offers) * accepted)
    gone, taken = offers[:n_declined], offers[n_declined:n_declined + n_accepted]
    now = timezone.now()
    Offer.objects.filter(pk__in=[pk for pk, _n in gone]).update(
        status=Offer.Status.DECLINED, responded_at=now)
    CohortAdmission.objects.filter(nomination_id__in=[n for _pk, n in gone]).delete()
    Offer.objects.filter(pk__in=[pk for pk, _n in taken]).update(
        status=Offer.Status.ACCEPTED, responded_at=now)
    return n_declined, n_accepted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nominations", type=int, default=10_000)
    parser.add_argument("--tracks", type=int, default=400)
    parser.add_argument("--declined", type=float, default=0.1)
    parser.add_argument("--accepted", type=float, default=0.5)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="ecocycle-bench-") as var_dir:
        setup_django(var_dir)
        from candidates.models import Cohort, Offer
        from candidates.services import (
            cohort_approve,
            cohort_match_run,
            offers_make,
            wave_approve,
            wave_propose,
        )

        databases = setup_databases(verbosity=0, interactive=False)
        try:
            intake_round = build_round(args.nominations, args.tracks)
            staff = bench_staff()
            cohort_match_run(intake_round=intake_round, trigger="command")
            cohort = cohort_approve(actor=staff, cohort=Cohort.objects.get(
                intake_round=intake_round))
            offers_make(cohort=cohort, wave=1, now=timezone.now())
            declined, accepted = _answers(cohort, declined=args.declined,
                                          accepted=args.accepted)
            print(f"database: {connection.vendor}; {args.nominations} nominations, "
                  f"{args.tracks} tracks; {declined} offers declined, {accepted} accepted")
            for name, call in (
                ("wave_propose", lambda: wave_propose(actor=staff, cohort=cohort)),
                ("wave_approve", lambda: wave_approve(
                    actor=staff, cohort=cohort,
                    run_id=Cohort.objects.get(pk=cohort.pk).wave_run_id)),
            ):
                queries = QueryCounter()
                started = time.perf_counter()
                # The emails are sent after commit, by a task: not the request's work. The
                # proposal runs outside any transaction, as from the page (it computes before it
                # takes the write lock).
                with transaction.atomic(durable=False) if name == "wave_approve" \
                        else nullcontext():
                    with connection.execute_wrapper(queries), write_holds() as holds:
                        result = call()
                    elapsed = time.perf_counter() - started
                counts = getattr(result, "counts", None) or {}
                lock = f", write lock held {max(holds):.2f} s" if holds else ""
                print(f"{name}: {elapsed:.2f} s{lock}, {queries.count} SQL queries {counts}")
            print(f"wave 2 offers: {Offer.objects.filter(cohort=cohort, wave=2).count()}")
        finally:
            teardown_databases(databases, verbosity=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
