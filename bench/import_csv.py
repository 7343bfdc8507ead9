"""Benchmark of the CSV import of nominations: ``python -m bench.import_csv [--rows N]``.

Builds a throwaway SQLite database (migrated, in a temporary directory, unless DATABASE_URL
says otherwise), one open round with tracks and core technologies, and a clean CSV of N
candidates with preferences and courses; then times
:func:`candidates.imports.nomination_import_csv` on it, with the number of SQL queries.
Each import runs in a transaction that is rolled back afterwards, so every repetition imports
into the same empty round.
"""

from __future__ import annotations

import argparse
import csv
import io
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


class _Rollback(Exception):
    pass




def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="ecocycle-bench-") as var_dir:
        setup_django(var_dir)
        from django.db import connection, transaction
        from django.test.utils import setup_databases, teardown_databases

        from candidates import selectors
        from candidates.imports import nomination_import_csv

        print(f"database: {connection.vendor}; setting up…", file=sys.stderr)
        databases = setup_databases(verbosity=0, interactive=False)
        try:
            coordinator, intake_round, tracks, technologies = _world()
            content = sample_csv(args.rows, tracks, technologies)
            timings = []
            for _ in range(args.repeat):
                intake_round = selectors.round_get_for_coordinator(coordinator, intake_round.pk)
                queries = QueryCounter()
                try:
                    with transaction.atomic(), connection.execute_wrapper(queries):
                        started = time.perf_counter()
                        result = nomination_import_csv(
                            actor=coordinator.user,
                            intake_round=intake_round,
                            university=coordinator.university,
                            file=content,
                        )
                        elapsed = time.perf_counter() - started
                        raise _Rollback
                except _Rollback:
                    pass
                if not result.ok:
                    for error in result.errors[:10]:
                        print(error, file=sys.stderr)
                    return 1
                timings.append(elapsed)
                print(
                    f"{len(result.created)} rows imported in {elapsed:.2f} s "
                    f"({queries.count} queries, {queries.count / args.rows:.1f} per row)"
                )
            print(
                f"median of {len(timings)}: {statistics.median(timings):.2f} s for "
                f"{args.rows} rows ({args.rows / statistics.median(timings):.0f} rows/s)"
            )
        finally:
            teardown_databases(databases, verbosity=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
