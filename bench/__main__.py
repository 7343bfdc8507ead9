"""Every benchmark of the goals, in one run: ``python -m bench [--quick] [--all]`` (``make bench``).

In order, each in its own process (memory peaks and Django set-up must not leak between them),
each printing its figures beside their goals:

1. the whole nightly job (eligibility, cohorts, mentors, invitations) at 10k and 50k nominations
   (bench.nightly);
2. the staff pages and exports at 50k (bench.staff_pages);
3. the CSV import at 500 and 5,000 rows (bench.import_csv);
4. the mentor step (bench.mentor_match);
5. the load run: 20 clients against gunicorn with 4 workers at 50k (bench.load).

Then a table of every goal line they printed (a line that names a goal and ends with its
verdict), and whether it was met. `--quick` runs them at small sizes, as a smoke test: its
figures say nothing of the goals. `--all` adds the older benchmarks (the matching engine alone,
the cohort step alone, SQLite's write lock, the 5k dashboard, the mentor page, the approval).

PostgreSQL is required: DATABASE_URL, default postgres://postgres@127.0.0.1:5432/ecocycle_bench.
The benchmarks make throwaway databases beside it (or, for the load run, that database itself).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/ecocycle_bench"


@dataclass(frozen=True)
class Step:
    title: str
    module: str
    args: tuple[str, ...] = ()
    quick_args: tuple[str, ...] = ("--quick",)
    # Whose part of issue 16 writes it, for the message when it is missing from this branch.
    owner: str = ""


STEPS = [
    Step("the whole nightly job, 10k and 50k nominations", "bench.nightly",
         ("--size", "10000", "--size", "50000"), ("--size", "1000", "--size", "5000"),
         owner="the nightly job's part"),
    Step("staff pages and exports, 50k nominations", "bench.staff_pages",
         owner="the staff pages' part"),
    Step("CSV import, 500 rows", "bench.import_csv", ("--rows", "500"), ("--rows", "100"),
         owner="the import's part"),
    Step("CSV import, 5,000 rows", "bench.import_csv", ("--rows", "5000"), ("--rows", "500"),
         owner="the import's part"),
    Step("mentor step, 50k nominations, 2,000 mentors", "bench.mentor_match",
         owner="the mentor step's part"),
    Step("load run: 20 clients, gunicorn with 4 workers, 50k nominations", "bench.load",
         owner="the load run's part"),
]
OLDER_STEPS = [
    Step("matching engine", "bench.engine"),
    Step("nightly cohort step only, 10k nominations", "bench.cohort_job", (),
         ("--nominations", "1000")),
    Step("longest SQLite write-lock hold of the nightly job, 10k nominations (always SQLite)",
         "bench.write_lock"),
    Step("staff dashboard pages and exports, 5k nominations", "bench.dashboard"),
    Step("staff mentor page, 50k nominations", "bench.mentor_page"),
    Step("cohort approval, 50k nominations", "bench.cohort_approve", (),
         ("--nominations", "2000")),
]

# A goal line: it names a goal and ends with its verdict ("…(goal ≤ 30 s): met").
_VERDICT = re.compile(r"^(?P<text>.*\bgoal.*?)[:\s—-]+(?P<verdict>met|not met|missed|passed|"
                      r"failed|pass|fail|ok)\b[^a-z]*(?P<rest>.*)$", re.IGNORECASE)
_MET = {"met", "passed", "pass", "ok"}


@dataclass
class Outcome:
    step: Step
    status: str  # "ran", "failed (exit N)", "missing", "skipped"
    seconds: float = 0.0
    goals: list[tuple[str, bool]] = field(default_factory=list)


def goal_lines(output: str) -> list[tuple[str, bool]]:
    """The (goal line, met) pairs in a benchmark's output."""
    found = []
    for line in output.splitlines():
        match = _VERDICT.match(line.strip())
        if match:
            found.append((match["text"].strip(" :"), match["verdict"].lower() in _MET))
    return found


def postgres_problem(database_url: str) -> str | None:
    """None if PostgreSQL answers at DATABASE_URL's server, else why not."""
    import psycopg2  # noqa: PLC0415  (only the runner needs it, and only here)
    from environ import Env  # noqa: PLC0415

    try:
        config = Env.db_url_config(database_url)
    except Exception as error:  # any malformed URL
        return f"DATABASE_URL cannot be read: {error}"
    if "postgresql" not in config.get("ENGINE", ""):
        return f"DATABASE_URL is not a PostgreSQL database ({config.get('ENGINE')})"
    try:
        psycopg2.connect(host=config["HOST"] or None, port=config["PORT"] or None,
                         user=config["USER"] or None, password=config["PASSWORD"] or None,
                         dbname="postgres", connect_timeout=5).close()
    except psycopg2.Error as error:
        where = f"{config['HOST'] or 'localhost'}:{config['PORT'] or 5432}"
        return f"PostgreSQL at {where} is unreachable: {' '.join(str(error).split()).rstrip('.?')}"
    return None


def run_step(step: Step, *, quick: bool, env: dict[str, str]) -> Outcome:
    print(f"\n=== {step.title}{' (quick)' if quick else ''}: python -m {step.module}", flush=True)
    if importlib.util.find_spec(step.module) is None:
        print(f"    {step.module} is not in this branch ({step.owner or 'another part'} of "
              "issue 16 writes it): skipped, no figures.", flush=True)
        return Outcome(step, "missing")
    command = [sys.executable, "-m", step.module, *(step.quick_args if quick else step.args)]
    started = time.perf_counter()
    # Streamed as it runs (some take minutes), and kept for the table.
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, env=env, bufsize=1)
    output = []
    for line in process.stdout:
        print(line, end="", flush=True)
        output.append(line)
    code = process.wait()
    # 1 is a benchmark's "ran, a goal missed"; anything else is a failure to run.
    return Outcome(step, "ran" if code in (0, 1) else f"failed (exit {code})",
                   time.perf_counter() - started, goal_lines("".join(output)))


def table(outcomes: list[Outcome], *, quick: bool) -> str:
    lines = ["", "=== goals" + (" (quick sizes: the figures say nothing of the goals)"
                                if quick else ""),
             f"{'met':<6} {'benchmark':<40} goal and figure"]
    for outcome in outcomes:
        name = outcome.step.module.removeprefix("bench.") + " " + " ".join(
            outcome.step.quick_args if quick else outcome.step.args)
        if outcome.status != "ran":
            lines.append(f"{'—':<6} {name.strip():<40} {outcome.status}")
            continue
        if not outcome.goals:
            lines.append(f"{'—':<6} {name.strip():<40} ran in {outcome.seconds:.0f} s, printed "
                         "no goal line")
        for text, met in outcome.goals:
            lines.append(f"{'yes' if met else 'NO':<6} {name.strip():<40} {text}")
    every = [met for outcome in outcomes for _text, met in outcome.goals]
    missing = [o for o in outcomes if o.status != "ran"]
    lines.append(f"{sum(every)} of {len(every)} goals met"
                 + (f"; {len(missing)} benchmark(s) did not run or failed" if missing else ""))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="small sizes, a smoke test of the runner and the benchmarks")
    parser.add_argument("--all", action="store_true", help="the older benchmarks too")
    parser.add_argument("--only", action="append", default=[],
                        help="only the benchmarks whose module name contains this (repeatable)")
    args = parser.parse_args(argv)

    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    problem = postgres_problem(database_url)
    if problem:
        print(f"make bench needs PostgreSQL: {problem}.\nStart it, or point DATABASE_URL at "
              f"one (default {DEFAULT_DATABASE_URL}).", file=sys.stderr)
        return 2
    env = {**os.environ, "DATABASE_URL": database_url}
    steps = STEPS + (OLDER_STEPS if args.all else [])
    if args.only:
        steps = [s for s in steps if any(o in s.module for o in args.only)]
    outcomes = [run_step(step, quick=args.quick, env=env) for step in steps]
    print(table(outcomes, quick=args.quick))
    failed = any(o.status.startswith("failed") for o in outcomes)
    missed = any(not met for o in outcomes for _t, met in o.goals)
    return 1 if failed or (missed and not args.quick) else 0


if __name__ == "__main__":
    sys.exit(main())
