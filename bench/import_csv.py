"""Benchmark of the CSV import of nominations: ``python -m bench.import_csv [--rows N ...]``.

Builds a throwaway SQLite database (migrated, in a temporary directory, unless DATABASE_URL
says otherwise), one open round with tracks and core technologies, and a clean CSV of N
candidates with preferences and courses (500 and 5,000 by default); then times the background
path: the upload as the request makes it (nomination_import_job_create: the file kept, the job
queued) and the job as the worker runs it (nomination_import_job_run: every row checked, then
all written in one transaction), with their SQL queries. Each repetition imports for a new
university of the program, so that none finds the rows of another. Prints the figure beside
the issue's goal: 5,000 rows within 10 s on PostgreSQL.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta

from bench._django import QueryCounter, setup_django

# Django is set up at run time, on a throwaway folder: models and services are imported in the
# functions that run after setup_django().
# ruff: noqa: PLC0415


def _world():
    from django.utils import timezone

    from candidates.models import Coordinator, EligibilityPolicy
    from ecocycle.models import User
    from programs.models import (
        PHASE_MILESTONES,
        CoreTechnology,
        DegreeTrack,
        IntakeRound,
        Program,
        ProgramUniversity,
        RoundMilestone,
        RoundTrack,
        University,
    )

    program = Program.objects.create(
        name="Bench program", country="ID", industry="Palm oil", status=Program.Status.ACTIVE
    )
    EligibilityPolicy.objects.create(program=program)
    university = University.objects.create(name="Bench University", country="ID")
    ProgramUniversity.objects.create(program=program, university=university, nomination_quota=1000)
    intake_round = IntakeRound.objects.create(program=program, name="Bench round")
    start = timezone.now() - timedelta(days=3)
    for offset, kind in enumerate(PHASE_MILESTONES):
        RoundMilestone.objects.create(
            intake_round=intake_round, kind=kind, at=start + timedelta(days=30 * (offset + 1) - 30)
        )
    tracks = []
    for index in range(6):
        track = DegreeTrack.objects.create(
            program=program,
            level=DegreeTrack.Level.MASTERS,
            major=f"Major {index}",
            department="Bench department",
            campus=DegreeTrack.Campus.ULSAN,
            supervisor_name="Dr. Bench",
            supervisor_email=f"s{index}@example.test",
        )
        RoundTrack.objects.create(intake_round=intake_round, track=track, seats=3)
        tracks.append(track)
    technologies = [
        CoreTechnology.objects.create(program=program, name=f"Technology {i}") for i in range(4)
    ]
    user = User.objects.create(email="bench-coordinator@example.test", role=User.Role.COORDINATOR)
    coordinator = Coordinator.objects.create(user=user, university=university)
    return coordinator, intake_round, tracks, technologies


def sample_csv(n: int, tracks, technologies) -> bytes:
    """A clean import file of `n` distinct candidates (UTF-8 with BOM, comma-separated)."""
    from candidates.imports import COLUMN_NAMES

    test_date = (date.today() - timedelta(days=90)).isoformat()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMN_NAMES)
    for i in range(n):
        row = {
            "family_name": f"Nguyen{i}",
            "given_names": "Thi Lan",
            "native_name": f"Nguyễn Thị Lan {i}",
            "date_of_birth": "2000-05-17",
            "nationality": "VN",
            "email": f"candidate{i}@student.example",
            "phone": "+84 912 345 678",
            "passport_number": f"C{i:07d}",
            "candidate_language": "vi",
            "degree": "bachelor",
            "degree_status": "completed",
            "major": "Mechanical Engineering",
            "institution": "HUST",
            "gpa": "3.40",
            "gpa_scale": "4.0",
            "language_test": "ielts",
            "language_score": "6.5",
            "language_test_date": test_date,
            "research_interests": "Precision casting",
            "university_rank": str(i % 999 + 1),
            "preferences": ";".join(str(t.pk) for t in tracks[i % 3 : i % 3 + 3]),
            "courses": f"Casting|A|{technologies[0].pk},{technologies[1].pk};Moulding|B+|"
            f"{technologies[2].pk}",
        }
        writer.writerow([row[name] for name in COLUMN_NAMES])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _coordinator(program, index: int):
    """A new university of the program with its coordinator: each run imports into a round in
    which its university has no nominations yet, as the first upload of a file does."""
    from candidates.models import Coordinator
    from ecocycle.models import User
    from programs.models import ProgramUniversity, University

    university = University.objects.create(name=f"Bench University {index}", country="VN")
    ProgramUniversity.objects.create(program=program, university=university,
                                     nomination_quota=10_000)
    user = User.objects.create(email=f"bench-coordinator-{index}@example.test",
                               role=User.Role.COORDINATOR)
    return Coordinator.objects.create(user=user, university=university)


def _run_once(intake_round, coordinator, content: bytes, rows: int) -> dict:
    """The upload (what the request does) and the job (what the worker's task does), timed
    apart, with their queries on the main connection."""
    from unittest import mock

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection

    from candidates import tasks
    from candidates.imports import nomination_import_job_create, nomination_import_job_run
    from candidates.models import NominationImportJob

    upload = SimpleUploadedFile("bench.csv", content, content_type="text/csv")
    request_queries, job_queries = QueryCounter(), QueryCounter()
    # The worker's part is run below, not by the (eager) task on commit.
    with mock.patch.object(tasks.run_nomination_import, "delay_on_commit"), \
            connection.execute_wrapper(request_queries):
        started = time.perf_counter()
        job = nomination_import_job_create(actor=coordinator.user, intake_round=intake_round,
                                           university=coordinator.university, file=upload,
                                           language="en")
        request_seconds = time.perf_counter() - started
    with connection.execute_wrapper(job_queries):
        started, cpu = time.perf_counter(), time.process_time()
        nomination_import_job_run(job_id=job.pk)
        job_seconds = time.perf_counter() - started
        job_cpu = time.process_time() - cpu
    job = NominationImportJob.objects.get(pk=job.pk)
    if job.status != NominationImportJob.Status.DONE or job.rows_imported != rows:
        raise SystemExit(f"import failed: {job.status} {job.errors[:5]}")
    return {"request": request_seconds, "job": job_seconds, "job_cpu": job_cpu,
            "request_queries": request_queries.count, "job_queries": job_queries.count,
            "job_sql": job_queries.seconds}


# The goal: 5,000 rows imported within 10 s on PostgreSQL.
GOAL_ROWS, GOAL_SECONDS = 5000, 10.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[500, GOAL_ROWS])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="ecocycle-bench-") as var_dir:
        setup_django(var_dir)
        from django.conf import settings
        from django.db import connection
        from django.test.utils import setup_databases, teardown_databases

        settings.MEDIA_ROOT = var_dir + "/media"
        print(f"database: {connection.vendor}; setting up…", file=sys.stderr)
        # A shared machine makes wall-clock figures slower than the code: say how busy it is.
        print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        databases = setup_databases(verbosity=0, interactive=False)
        verdicts = []
        try:
            _coordinator_0, intake_round, tracks, technologies = _world()
            program, index = intake_round.program, 0
            for rows in args.rows:
                content = sample_csv(rows, tracks, technologies)
                timings = []
                for _ in range(args.repeat):
                    index += 1
                    run = _run_once(intake_round, _coordinator(program, index), content, rows)
                    total = run["request"] + run["job"]
                    timings.append(total)
                    print(f"{rows} rows: upload {run['request']:.2f} s "
                          f"({run['request_queries']} queries), job {run['job']:.2f} s "
                          f"({run['job_cpu']:.2f} s of it on this process's CPU, "
                          f"{run['job_sql']:.2f} s in SQL; "
                          f"{run['job_queries']} queries, {run['job_queries'] / rows:.3f} "
                          f"per row); {rows / total:.0f} rows/s")
                median = statistics.median(timings)
                line = (f"median of {len(timings)}: {median:.2f} s for {rows} rows "
                        f"({rows / median:.0f} rows/s)")
                if rows >= GOAL_ROWS:
                    scaled = median * GOAL_ROWS / rows
                    ok = scaled <= GOAL_SECONDS and connection.vendor == "postgresql"
                    verdict = "PASS" if ok else (
                        "FAIL" if connection.vendor == "postgresql" else "n/a (not PostgreSQL)")
                    line += (f"  — goal: {GOAL_ROWS} rows within {GOAL_SECONDS:.0f} s on "
                             f"PostgreSQL: {verdict}")
                    verdicts.append(verdict)
                print(line)
        finally:
            teardown_databases(databases, verbosity=0)
    return 1 if "FAIL" in verdicts else 0


if __name__ == "__main__":
    sys.exit(main())
