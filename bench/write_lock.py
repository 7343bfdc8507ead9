"""How long the nightly job keeps SQLite's write lock: ``python -m bench.write_lock``.

Always on SQLite (the embedded default), in a temporary folder: one round in its matching phase
with N eligible, consented nominations (as bench.cohort_job builds it), then the whole nightly
job (`hub.services.nightly_matching`: eligibility re-check, cohort matching, mentors) runs
while another process writes a row every 20 ms, as a web writer would. Prints the longest hold
of the job's short transactions (ecocycle.writes; goal: under 500 ms) and the longest the
other process waited for the lock, which also counts any write outside them.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sqlite3
import sys
import tempfile
import time

from django.db import connection
from django.test.utils import setup_databases, teardown_databases

from bench._django import setup_django
from bench.cohort_job import build_round

# Django is set up at run time, on a throwaway folder: models and services are imported in the
# functions that run after setup_django().
# ruff: noqa: PLC0415

GOAL_MS = 500


def probe(path: str, stop, waits) -> None:
    """Another process's writer: one tiny write transaction every 20 ms; the longest wait for
    the lock goes to `waits`."""
    db = sqlite3.connect(path, timeout=60, isolation_level=None)
    db.execute("CREATE TABLE IF NOT EXISTS bench_probe (at REAL)")
    longest, count = 0.0, 0
    while not stop.is_set():
        started = time.perf_counter()
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO bench_probe (at) VALUES (?)", [started])
        db.execute("COMMIT")
        longest, count = max(longest, time.perf_counter() - started), count + 1
        time.sleep(0.02)
    db.close()
    waits.put((longest, count))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nominations", type=int, default=10_000)
    parser.add_argument("--tracks", type=int, default=400)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="ecocycle-bench-") as var_dir:
        os.environ["DATABASE_URL"] = f"sqlite:///{var_dir}/bench.sqlite3"
        setup_django(var_dir)
        from ecocycle.writes import write_holds
        from hub.services import nightly_matching

        databases = setup_databases(verbosity=0, interactive=False)
        try:
            build_round(args.nominations, args.tracks)
            context = multiprocessing.get_context("spawn")
            stop, waits = context.Event(), context.Queue()
            other = context.Process(target=probe,
                                    args=(connection.settings_dict["NAME"], stop, waits))
            other.start()
            time.sleep(1)  # the probe is writing before the job starts
            started = time.perf_counter()
            with write_holds() as holds:
                summary = nightly_matching()
            elapsed = time.perf_counter() - started
            stop.set()
            waited, writes = waits.get(timeout=60)
            other.join()
        finally:
            connection.close()
            teardown_databases(databases, verbosity=0)
    longest = max(holds) * 1000
    print(f"nightly job on SQLite, {args.nominations} nominations: {elapsed:.1f} s, "
          f"{len(holds)} short write transactions, matched rounds {summary['matched_rounds']}")
    print(f"longest write-lock hold: {longest:.0f} ms (goal < {GOAL_MS} ms) "
          f"{'OK' if longest < GOAL_MS else 'OVER THE GOAL'}; another writer waited at most "
          f"{waited * 1000:.0f} ms over {writes} writes")
    return 0 if longest < GOAL_MS else 1


if __name__ == "__main__":
    sys.exit(main())
