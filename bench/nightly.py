"""The whole nightly job over the database: ``python -m bench.nightly --size 10000 --size 50000``.

For each size N it runs the job exactly as the scheduler does (the beat's task,
``hub.tasks.nightly_matching``, applied in a fresh process) over:

- the current round in its matching phase: N submitted, consented nominations from 100
  universities, each ranking 10 of 200 tracks (4 doctoral, which bachelors may not take), one
  course each; their stored verdicts are the ones the job computes, but for 1 in 20 whose GPA has
  since dropped below the policy's minimum (so the re-check has verdicts to change and audit);
- a previous round whose cohort is approved, with N/25 admitted candidates (2,000 at 50k) and no
  mentor yet, and 2,000 mentors: the mentor step's work.

On PostgreSQL (DATABASE_URL) the data is built once per size into the database
``<name>_<N>_seed`` (left in place; ``--rebuild`` builds it again) and every run works on a
fresh copy, ``<name>_<N>``, made from it as a template in a few seconds. On SQLite everything is
built in a throwaway folder each time.

Prints each step's time, SQL queries and peak resident memory (the peak is reset at each step's
start), then the whole job's time and its process's peak (ru_maxrss), beside the goals:
at 50k at most 30 s and 1 GB, and at most 5.5x the 10k time. ``--profile`` runs the job once
more under cProfile and prints the heaviest functions.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import inspect
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlsplit, urlunsplit

# Django is set up at run time, in the child processes: models and services are imported in the
# functions that run after setup_django().
# ruff: noqa: PLC0415

GOAL_SECONDS_50K = 30.0
GOAL_PEAK_MB_50K = 1024
GOAL_RATIO = 5.5
BEFORE = {  # measured before issue 16 (PostgreSQL, 2 cores)
    10_000: {"job": 27.5, "eligibility_recheck": 12.8, "cohort_match_run": 4.5},
    50_000: {"job": 136.0, "job_mb": 2700, "eligibility_recheck": 57.0,
             "cohort_match_run": 42.7},
}
UNIVERSITIES, TRACKS, DOCTORAL_TRACKS, MENTORS = 100, 200, 4, 2000
SEED_VERSION = "2"


# --- building the data (child process) -------------------------------------------------------

def build(size: int) -> None:
    """The two rounds and the mentors, bulk-inserted (a fixture, not a path users take)."""
    from django.db import connection
    from django.utils import timezone

    from bench.cohort_job import _bench_nominations, _bench_program
    from bench.mentor_page import admit, build_mentors
    from candidates.models import Nomination
    from candidates.services import eligibility_recheck
    from programs.models import DegreeTrack, IntakeRound, RoundMilestone, RoundTrack

    rng = random.Random(16)
    started = time.perf_counter()
    current, universities, technologies, tracks = _bench_program(
        TRACKS, seats_total=int(size * 0.8), n_universities=UNIVERSITIES)
    DegreeTrack.objects.filter(pk__in=[t.pk for t in tracks[:DOCTORAL_TRACKS]]).update(
        level=DegreeTrack.Level.DOCTORAL)
    _bench_nominations(current, universities, technologies, tracks, size, rng)

    previous = IntakeRound.objects.create(program=current.program, name="Bench previous round",
                                          preference_limit=10)
    start = timezone.now() - timedelta(days=120)
    RoundMilestone.objects.bulk_create(
        RoundMilestone(intake_round=previous, kind=kind, at=start + timedelta(days=i * 10))
        for i, kind in enumerate(RoundMilestone.Kind.values))
    RoundTrack.objects.bulk_create(RoundTrack(intake_round=previous, track=t, seats=50)
                                   for t in tracks)
    _bench_nominations(previous, universities, technologies, tracks, size // 25, rng)
    admit(previous, size // 25)
    build_mentors(current.program, MENTORS, rng)

    # Stored verdicts as the job computes them; then 1 in 20 of the current round's GPAs drop.
    eligibility_recheck()
    ids = list(Nomination.objects.filter(intake_round=current).order_by("id")
               .values_list("id", flat=True)[::20])
    Nomination.objects.filter(pk__in=ids).update(gpa_normalised=Decimal("2.00"))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # as autovacuum would have, on a database in use
    print(f"built {size} + {size // 25} nominations, {MENTORS} mentors in "
          f"{time.perf_counter() - started:.0f} s", flush=True)


# --- running the job (child process) ---------------------------------------------------------

def _status_kib(field_name: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    return 0


def _peak_reset() -> None:
    with contextlib.suppress(OSError), open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


class StepMeter:
    """Wraps the functions the job's composition calls: each call's time, queries and peak
    resident memory (VmHWM, reset when a step starts and carried up to the step around it)."""

    def __init__(self):
        self.queries = 0
        self.rows: list[dict] = []
        self._stack: list[dict] = []

    def count(self, execute, sql, params, many, context):
        self.queries += 1
        return execute(sql, params, many, context)

    def wrap(self, module, name: str) -> None:
        function = getattr(module, name)

        @functools.wraps(function)
        def measured(*args, **kwargs):
            if self._stack:
                self._stack[-1]["peak_kib"] = max(self._stack[-1]["peak_kib"],
                                                  _status_kib("VmHWM"))
            _peak_reset()
            row = {"step": name, "depth": len(self._stack), "peak_kib": 0,
                   "queries": self.queries}
            self.rows.append(row)
            self._stack.append(row)
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                row["seconds"] = time.perf_counter() - started
                row["queries"] = self.queries - row["queries"]
                row["peak_kib"] = max(row["peak_kib"], _status_kib("VmHWM"))
                self._stack.pop()
                if self._stack:
                    self._stack[-1]["peak_kib"] = max(self._stack[-1]["peak_kib"],
                                                      row["peak_kib"])

        setattr(module, name, measured)


def _steps(meter: StepMeter) -> None:
    """The steps: every function the nightly job's composition calls (whatever they are named),
    and the two inside the cohort half."""
    import candidates.services.matching as cohort_half
    import hub.services

    for name in hub.services.nightly_matching.__code__.co_names:
        if inspect.isfunction(getattr(hub.services, name, None)):
            meter.wrap(hub.services, name)
    for name in cohort_half.nightly_cohort_matching.__code__.co_names:
        if name in ("eligibility_recheck", "cohort_match_run"):
            meter.wrap(cohort_half, name)


def run(profile: str | None) -> dict:
    from django.db import connection

    from config.celery import app
    from ecocycle.broker import broker_folders_ensure
    from hub.tasks import nightly_matching

    # As in a worker: what the job queues goes to the broker; it is not run here.
    app.conf.task_always_eager = False
    broker_folders_ensure()
    meter = StepMeter()
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    else:
        _steps(meter)
    with connection.execute_wrapper(meter.count):
        started = time.perf_counter()
        result = nightly_matching.apply()
        seconds = time.perf_counter() - started
    if profile:
        profiler.disable()
        profiler.dump_stats(profile)
    if result.failed():
        raise result.result
    # Resetting the peak at each step resets the process's ru_maxrss too: the whole job's peak is
    # the highest of the steps' and what came after.
    peak = max([_status_kib("VmHWM"), *(row["peak_kib"] for row in meter.rows)])
    return {"seconds": seconds, "queries": meter.queries, "steps": meter.rows, "peak_kib": peak,
            "summary": {k: v for k, v in result.result.items() if isinstance(v, int | list)}}


# --- the parent: databases, processes, report ------------------------------------------------

def _child(action: str, size: int, database_url: str | None, *extra: str):
    """Run this module's `action` in a fresh Python; returns (stdout, peak RSS in KiB)."""
    env = dict(os.environ)
    if database_url:
        env["DATABASE_URL"] = database_url
    process = subprocess.Popen([sys.executable, "-m", "bench.nightly", "--child", action,
                                "--size", str(size), *extra], env=env, stdout=subprocess.PIPE,
                               text=True)
    out = process.stdout.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    process.stdout.close()
    if process.returncode != 0:
        raise SystemExit(f"bench.nightly {action} {size} failed ({process.returncode})")
    return out, usage.ru_maxrss


class _Admin:
    """Statements on the server's maintenance database, each on its own (CREATE DATABASE)."""

    def __init__(self, url: str):
        import psycopg2

        self.connection = psycopg2.connect(url)
        self.connection.autocommit = True

    def execute(self, sql: str, params=None):
        cursor = self.connection.cursor()
        cursor.execute(sql, params)
        return cursor

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.connection.close()


def _pg(database_url: str):
    parts = urlsplit(database_url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    return _Admin(admin), parts.path.lstrip("/"), parts


def _database_ready(database_url: str, size: int, rebuild: bool) -> str:
    """The URL of a fresh copy of the size's seed database, building the seed if needed."""
    db, name, parts = _pg(database_url)
    seed, copy = f"{name}_{size}_seed{SEED_VERSION}", f"{name}_{size}"
    with db:
        exists = db.execute("SELECT 1 FROM pg_database WHERE datname = %s", [seed]).fetchone()
        if rebuild and exists:
            db.execute(f'DROP DATABASE "{seed}" WITH (FORCE)')
            exists = None
        if not exists:
            building = f"{seed}_building"
            db.execute(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)')
            db.execute(f'CREATE DATABASE "{building}"')
            url = urlunsplit(parts._replace(path=f"/{building}"))
            out, _peak = _child("build", size, url)
            print(out.strip(), flush=True)
            db.execute(f'ALTER DATABASE "{building}" RENAME TO "{seed}"')
        else:
            print(f"reusing the database {seed} (--rebuild builds it again)", flush=True)
        started = time.perf_counter()
        db.execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
        db.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{seed}"')
        print(f"fresh copy {copy} in {time.perf_counter() - started:.1f} s", flush=True)
    return urlunsplit(parts._replace(path=f"/{copy}"))


def _mark(met: bool) -> str:
    return "met" if met else "NOT MET"


def _report(size: int, figures: dict, peak_kib: int) -> None:
    before = BEFORE.get(size, {})
    print(f"\n{size:,} nominations: the nightly job, step by step")
    print(f"  {'step':<40}{'time':>9}{'SQL':>8}{'peak RSS':>11}   before")
    for row in figures["steps"]:
        label = "  " * row["depth"] + row["step"]
        was = before.get(row["step"])
        print(f"  {label:<40}{row['seconds']:8.2f}s{row['queries']:8d}"
              f"{row['peak_kib'] / 1024:8.0f} MB   {f'{was} s' if was else ''}")
    print(f"  {'whole job (hub.tasks.nightly_matching)':<40}{figures['seconds']:8.2f}s"
          f"{figures['queries']:8d}{peak_kib / 1024:8.0f} MB   "
          f"{before.get('job', '')}{' s' if before.get('job') else ''}")
    print(f"  summary: {json.dumps(figures['summary'], sort_keys=True)}")


def _goals(results: dict[int, tuple[dict, int]]) -> bool:
    print("\ngoals")
    ok = True
    if 50_000 in results:
        figures, peak = results[50_000]
        met = figures["seconds"] <= GOAL_SECONDS_50K
        ok &= met
        print(f"  goal: whole job at 50k <= {GOAL_SECONDS_50K:.0f} s: {figures['seconds']:.1f} s  "
              f"{_mark(met)}")
        met = peak / 1024 <= GOAL_PEAK_MB_50K
        ok &= met
        print(f"  goal: peak memory at 50k <= {GOAL_PEAK_MB_50K} MB: {peak / 1024:.0f} MB  "
              f"{_mark(met)}")
    if 10_000 in results and 50_000 in results:
        ratio = results[50_000][0]["seconds"] / results[10_000][0]["seconds"]
        met = ratio <= GOAL_RATIO
        ok &= met
        print(f"  goal: 50k / 10k time <= {GOAL_RATIO}x: {ratio:.1f}x  {_mark(met)}")
        for step in ("eligibility_recheck", "cohort_match_run"):
            small = [r["seconds"] for r in results[10_000][0]["steps"] if r["step"] == step]
            large = [r["seconds"] for r in results[50_000][0]["steps"] if r["step"] == step]
            if small and large:
                print(f"  ({step}: {sum(large) / sum(small):.1f}x)")
    if not ({10_000, 50_000} <= results.keys()):
        print("  (the goals are judged at 10,000 and 50,000 nominations)")
    return ok


def _child_main(action: str, size: int, profile: str | None) -> int:
    with tempfile.TemporaryDirectory(prefix="ecocycle-bench-") as var_dir:
        os.environ.setdefault("DATABASE_URL", f"sqlite:///{var_dir}/bench.sqlite3")
        from bench._django import setup_django

        setup_django(var_dir)
        from django.core.management import call_command

        if action in ("build", "sqlite"):
            call_command("migrate", verbosity=0, interactive=False)
            build(size)
        if action == "migrate":
            call_command("migrate", verbosity=0, interactive=False)
        if action in ("run", "sqlite"):
            print(json.dumps(run(profile)))
    return 0


def _profile_print(path: str) -> None:
    import pstats

    print("\nprofile (cProfile, cumulative):")
    pstats.Stats(path).sort_stats("cumulative").print_stats(30)
    print("\nprofile (cProfile, own time):")
    pstats.Stats(path).sort_stats("tottime").print_stats(20)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, action="append",
                        help="nominations in the round (repeatable; default 10000 and 50000)")
    parser.add_argument("--rebuild", action="store_true",
                        help="build the PostgreSQL seed databases again")
    parser.add_argument("--profile", action="store_true",
                        help="also run the job once under cProfile and print the heaviest calls")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--profile-to", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sizes = args.size or [10_000, 50_000]
    if args.child:
        return _child_main(args.child, sizes[0], args.profile_to)

    database_url = os.environ.get("DATABASE_URL", "")
    postgres = database_url.startswith(("postgres://", "postgresql://"))
    print(f"database: {'PostgreSQL' if postgres else 'SQLite (throwaway)'}", flush=True)
    results = {}
    for size in sizes:
        if postgres:
            url = _database_ready(database_url, size, args.rebuild)
            _child("migrate", size, url)
            out, peak = _child("run", size, url)
        else:
            url = None
            out, peak = _child("sqlite", size, None)
        figures = json.loads(out.strip().splitlines()[-1])
        peak = max(peak, figures["peak_kib"])
        results[size] = (figures, peak)
        _report(size, figures, peak)
        if args.profile:
            path = os.path.join(tempfile.gettempdir(), f"ecocycle-nightly-{size}.prof")
            if postgres:
                url = _database_ready(database_url, size, False)
                _child("run", size, url, "--profile-to", path)
                _profile_print(path)
            else:
                print("(--profile needs PostgreSQL: the SQLite data is not kept)")
    return 0 if _goals(results) else 1


if __name__ == "__main__":
    sys.exit(main())
