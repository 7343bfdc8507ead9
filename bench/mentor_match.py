"""Benchmark of the nightly job's mentor step: ``python -m bench.mentor_match``.

Builds a throwaway database (as bench.mentor_page does) with one round of N nominations (50,000
by default), of whom A (2,000) are admitted in an approved cohort and none has a mentor yet, and
M (2,000) mentors of varied languages, expertise and capacity, all bulk-inserted. Then, in a
fresh process (so that its peak memory, the kernel's ru_maxrss, is the step's own), it runs the
mentor step as the nightly job (hub.services.nightly_matching) runs it for the round: expired
invitations closed, mentors proposed, every proposal emailed as an invitation. It prints each
part's time and SQL statements and the process's peak memory beside the step's own budget
(5 s, 300 MB; the issue's goal is the whole nightly job's, measured by bench.nightly).
Emails are written to the outbox; sending them is the worker's job, so no task is enqueued.

Smaller: ``--nominations 5000 --admitted 500 --mentors 500``, or ``--quick``, or the environment
variables ECOCYCLE_BENCH_NOMINATIONS, ECOCYCLE_BENCH_ADMITTED and ECOCYCLE_BENCH_MENTORS.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import random
import resource
import sys
import tempfile
import time

from django.db import connection
from django.test.utils import (
    setup_databases,
    setup_test_environment,
    teardown_databases,
    teardown_test_environment,
)

from bench._django import QueryCounter, setup_django
from bench.cohort_job import build_round
from bench.mentor_page import _sizes, admit, build_mentors

# Django is set up at run time, on a throwaway folder: models and services are imported in the
# functions that run after setup_django().
# ruff: noqa: PLC0415

BUDGET_SECONDS = 5.0
BUDGET_MB = 300


def _step(orders, out) -> None:
    """In a fresh process: the mentor step of the nightly job for one round, measured.

    Started before the data are built and told (`orders`) which database and round: a process
    inherits its parent's peak memory (ru_maxrss) when it is started."""
    var_dir, database, round_id = orders.recv()
    setup_django(var_dir)
    from django.db import connections
    from django.utils import timezone

    connections["default"].settings_dict["NAME"] = database
    from unittest import mock

    from candidates.models import MatchRun
    from mentors.models import MentorAssignment
    from mentors.services import invitations_expire, invitations_send, mentor_match_run
    from programs.models import IntakeRound

    intake_round = IntakeRound.objects.get(pk=round_id)
    now = timezone.now()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    parts = []

    def measured(title, call):
        counter = QueryCounter()
        started, cpu = time.perf_counter(), time.process_time()
        with connection.execute_wrapper(counter):
            result = call()
        parts.append((title, time.perf_counter() - started, counter.count,
                      time.process_time() - cpu, counter.seconds,
                      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
        return result

    # Sending is the worker's: the outbox rows are what the step writes.
    with mock.patch("ecocycle.mail._enqueue"), mock.patch("ecocycle.mail._enqueue_flush"):
        expired = measured("invitations expired", lambda: invitations_expire(now=now))
        run = measured("mentors proposed", lambda: mentor_match_run(
            intake_round=intake_round, trigger=MatchRun.Trigger.SCHEDULE, now=now))
        sent = measured("invitations sent", lambda: invitations_send(
            intake_round_id=round_id, now=now))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # What was proposed, as a digest: equal digests, equal proposals (pairs, fits, components).
    proposed = list(MentorAssignment.objects.filter(match_run=run).order_by("nomination_id")
                    .values_list("nomination_id", "mentor_id", "fit", "fit_components"))
    digest = hashlib.sha256(repr(proposed).encode()).hexdigest()[:16]
    out.send({"parts": parts, "counts": run.counts, "expired": expired, "sent": sent,
              "before_kib": before, "peak_kib": peak, "digest": digest})


def main(argv: list[str] | None = None) -> int:
    args = _sizes(argv)
    context = multiprocessing.get_context("spawn")
    orders, tell = context.Pipe(duplex=False)
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_step, args=(orders, send))
    child.start()
    orders.close()
    send.close()  # the child's copy only: a child that dies ends receive.recv() (EOFError)
    with tempfile.TemporaryDirectory(prefix="ecocycle-bench-") as var_dir:
        setup_django(var_dir)
        setup_test_environment()
        databases = setup_databases(verbosity=0, interactive=False)
        try:
            started = time.perf_counter()
            intake_round = build_round(args.nominations, args.tracks)
            admitted = admit(intake_round, args.admitted)
            build_mentors(intake_round.program, args.mentors, random.Random(5))
            print(f"database: {connection.vendor}; built {args.nominations} nominations, "
                  f"{admitted} admitted without a mentor, {args.mentors} mentors in "
                  f"{time.perf_counter() - started:.1f} s", flush=True)
            database = connection.settings_dict["NAME"]
            connection.close()
            tell.send((var_dir, database, intake_round.pk))
            result = receive.recv()
            child.join()
        finally:
            if child.is_alive():
                child.kill()
            teardown_databases(databases, verbosity=0)
            teardown_test_environment()
    total = sum(part[1] for part in result["parts"])
    peak_mb = result["peak_kib"] / 1024
    print(f"run: {result['counts']}; {result['expired']} expired, {result['sent']} invited; "
          f"proposals digest {result['digest']}")
    # CPU: this process's own (Python, numpy, OR-Tools), not the database's; on a busy machine
    # it moves less than the wall time.
    for title, seconds, queries, cpu, waiting, peak in result["parts"]:
        print(f"  {title:<24}{seconds:8.2f} s {queries:6d} SQL   (CPU {cpu:.2f} s, "
              f"SQL {waiting:.2f} s; peak so far {peak / 1024:.0f} MB)")
    met = total <= BUDGET_SECONDS and peak_mb <= BUDGET_MB
    queries = sum(part[2] for part in result["parts"])
    print(f"mentor step, all of it    {total:8.2f} s {queries:6d} SQL"
          f"   peak {peak_mb:.0f} MB (process at start {result['before_kib'] / 1024:.0f} MB)"
          f"   own budget (the issue's goal is the whole job's: see bench.nightly): "
          f"<= {BUDGET_SECONDS:.0f} s, <= {BUDGET_MB} MB: {'within' if met else 'over'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
