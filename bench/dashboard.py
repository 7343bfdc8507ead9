"""Benchmark of the staff dashboard pages: ``python -m bench.dashboard``.

Builds a throwaway database (as bench.cohort_job does) with one round of N nominations ranking
10 of its tracks, runs the cohort matching once, then, as a logged-in staff user, renders the
round overview (/staff/rounds/<id>/), the cohort review (/staff/rounds/<id>/cohort/) and the
cohort exports, printing for each the best time of 3, the number of SQL queries and the size
of the response.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time

from django.db import connection
from django.test import Client
from django.test.utils import (
    setup_databases,
    setup_test_environment,
    teardown_databases,
    teardown_test_environment,
)
from django.urls import reverse

from bench._django import QueryCounter, bench_staff, setup_django
from bench.cohort_job import build_round

# Django is set up at run time, on a throwaway folder: models and services are imported in the
# functions that run after setup_django().
# ruff: noqa: PLC0415

REPEAT = 3


def measure(client, url: str) -> tuple[int, float, int, int]:
    """(status, best seconds of REPEAT, SQL queries of the last request, response bytes)."""
    best, queries, response = float("inf"), 0, None
    for _ in range(REPEAT):
        counter = QueryCounter()
        with connection.execute_wrapper(counter):
            started = time.perf_counter()
            response = client.get(url)
            content = (b"".join(response.streaming_content) if response.streaming
                       else response.content)
            best = min(best, time.perf_counter() - started)
        queries = counter.count
    return response.status_code, best, queries, len(content)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nominations", type=int, default=5_000)
    parser.add_argument("--tracks", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="500 nominations (smoke test)")
    args = parser.parse_args(argv)
    if args.quick:
        args.nominations, args.tracks = 500, 40

    with tempfile.TemporaryDirectory(prefix="ecocycle-bench-") as var_dir:
        setup_django(var_dir)
        from candidates.services import cohort_match_run

        setup_test_environment()  # the test client's host, locmem email
        databases = setup_databases(verbosity=0, interactive=False)
        failed = False
        try:
            started = time.perf_counter()
            intake_round = build_round(args.nominations, args.tracks)
            proposal = cohort_match_run(intake_round=intake_round, trigger="command")
            print(f"database: {connection.vendor}; built {args.nominations} nominations x 10 "
                  f"ranked of {args.tracks} tracks and matched them ({proposal.counts['placed']} "
                  f"placed) in {time.perf_counter() - started:.1f} s")
            staff = bench_staff()
            client = Client()
            client.force_login(staff)
            pages = [
                ("round overview", reverse("staff_rounds:round_overview", args=[intake_round.pk])),
                ("cohort review", reverse("staff_rounds:cohort_review", args=[intake_round.pk])),
                *[(f"export {what}.{fmt}",
                   reverse("staff_rounds:export", args=[intake_round.pk, what, fmt]))
                  for what in ("cohort", "tracks", "universities") for fmt in ("csv", "xlsx")],
            ]
            for title, url in pages:
                status, seconds, queries, size = measure(client, url)
                if status != 200:
                    failed = True
                    print(f"{title:<25} HTTP {status}: page missing or failing ({url})")
                    continue
                print(f"{title:<25} best of {REPEAT} {seconds * 1000:7.0f} ms, {queries:3d} SQL "
                      f"queries, {size / 1024:6.0f} KiB  ({url})")
        finally:
            teardown_databases(databases, verbosity=0)
            teardown_test_environment()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
