"""Benchmark of the nightly cohort job over the database: ``python -m bench.cohort_job``.

Builds a throwaway database (SQLite in a temporary folder, or the PostgreSQL of DATABASE_URL,
where a test database is created and dropped) with one round of N eligible, consented
nominations, each ranking 10 of the round's tracks, then times the saved run
(`cohort_match_run`: load, score, match, check stability, write) twice and prints time, peak
extra memory and the number of SQL queries.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import date, timedelta

from django.db import connection
from django.test.utils import setup_databases, teardown_databases
from django.utils import timezone

from bench._django import QueryCounter, setup_django
from bench.engine import _reset_peak_rss, _status_kib

# Django is set up at run time, on a throwaway folder: models and services are imported in the
# functions that run after setup_django().
# ruff: noqa: PLC0415


def build_round(n_nominations: int, n_tracks: int, *, seed: int = 11):
    """One round in its matching phase, bulk-inserted (a fixture, not a path users take)."""
    rng = random.Random(seed)
    intake_round, universities, technologies, tracks = _bench_program(
        n_tracks, seats_total=int(n_nominations * 0.8))
    _bench_nominations(intake_round, universities, technologies, tracks, n_nominations, rng)
    return intake_round


def _bench_program(n_tracks: int, *, seats_total: int, n_universities: int = 50):
    """A program with 20 technologies and `n_universities` universities, and its round in the
    matching phase offering `n_tracks` tracks that share `seats_total` seats."""
    from candidates.models import EligibilityPolicy, ScoringPolicy
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

    program = Program.objects.create(name="Bench program", country="ID", industry="Bench",
                                     status=Program.Status.ACTIVE)
    ScoringPolicy.objects.create(program=program)
    # Every bench nomination passes it, so the nightly re-check keeps them all eligible.
    EligibilityPolicy.objects.create(program=program, min_gpa="2.50", min_related_courses=1)
    technologies = [CoreTechnology.objects.create(program=program, name=f"Technology {i}",
                                                  keywords=f"word{i} term{i}") for i in range(20)]
    universities = University.objects.bulk_create(
        University(name=f"Bench University {i}", country="ID") for i in range(n_universities))
    ProgramUniversity.objects.bulk_create(
        ProgramUniversity(program=program, university=u, nomination_quota=10_000)
        for u in universities)
    intake_round = IntakeRound.objects.create(program=program, name="Bench round",
                                              preference_limit=10)
    # Open, closed and matching in the past, decisions and enrolment to come: the matching phase.
    start = timezone.now() - timedelta(days=25)
    RoundMilestone.objects.bulk_create(
        RoundMilestone(intake_round=intake_round, kind=kind, at=start + timedelta(days=i * 10))
        for i, kind in enumerate(PHASE_MILESTONES))
    tracks = DegreeTrack.objects.bulk_create(
        DegreeTrack(program=program, level="masters", major=f"Major {i}", department="Bench",
                    campus="ulsan", supervisor_name="Dr. Bench",
                    supervisor_email=f"s{i}@example.test", wanted_keywords=f"word{i % 20}")
        for i in range(n_tracks))
    through = DegreeTrack.wanted_technologies.through
    through.objects.bulk_create(
        through(degreetrack_id=t.pk, coretechnology_id=technologies[i % 20].pk)
        for i, t in enumerate(tracks))
    RoundTrack.objects.bulk_create(
        RoundTrack(intake_round=intake_round, track=t, seats=max(1, seats_total // n_tracks))
        for t in tracks)
    return intake_round, universities, technologies, tracks


def _bench_nominations(intake_round, universities, technologies, tracks, n_nominations: int,
                       rng: random.Random) -> None:
    """Eligible, consented nominations, each ranking 10 tracks, with one course each."""
    from candidates.models import Nomination, NominationCourse, NominationPreference

    now = timezone.now()
    nominations = Nomination.objects.bulk_create(
        (Nomination(
            intake_round=intake_round, university=universities[i % len(universities)],
            status=Nomination.Status.SUBMITTED, family_name=f"Bench{i}",
            date_of_birth=date(1999, 1, 1), nationality="ID", email=f"c{i}@bench.example",
            degree="bachelor", degree_status="completed", major="Engineering",
            institution="Bench", gpa=round(rng.uniform(2.8, 4.0), 2), gpa_scale="4.0",
            gpa_normalised=round(rng.uniform(2.8, 4.0), 2), language_test="ielts",
            language_score=rng.choice([6.0, 6.5, 7.0, 7.5, 8.0]),
            language_test_date=date.today() - timedelta(days=100),
            research_interests=f"word{rng.randrange(20)} term{rng.randrange(20)} process",
            university_rank=i // len(universities) + 1, submitted_at=now - timedelta(seconds=i),
            consent_given_at=now, is_eligible=True, eligibility_reasons=[],
            email_normalised=f"c{i}@bench.example",
        ) for i in range(n_nominations)), batch_size=2000)
    NominationPreference.objects.bulk_create(
        (NominationPreference(nomination=n, track=t, rank=r)
         for n in nominations
         for r, t in enumerate(rng.sample(tracks, 10), start=1)), batch_size=5000)
    courses = NominationCourse.objects.bulk_create(
        (NominationCourse(nomination=n, name="Course") for n in nominations), batch_size=5000)
    links = NominationCourse.technologies.through
    links.objects.bulk_create(
        (links(nominationcourse_id=c.pk, coretechnology_id=rng.choice(technologies).pk)
         for c in courses), batch_size=5000)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nominations", type=int, default=10_000)
    parser.add_argument("--tracks", type=int, default=400)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="ecocycle-bench-") as var_dir:
        setup_django(var_dir)
        from candidates.services import cohort_match_run

        databases = setup_databases(verbosity=0, interactive=False)
        try:
            started = time.perf_counter()
            intake_round = build_round(args.nominations, args.tracks)
            print(f"database: {connection.vendor}; built {args.nominations} nominations x 10 "
                  f"ranked of {args.tracks} tracks in {time.perf_counter() - started:.1f} s")
            for attempt in (1, 2):
                queries = QueryCounter()
                _reset_peak_rss()
                before = _status_kib("VmRSS") or 0
                with connection.execute_wrapper(queries):
                    started = time.perf_counter()
                    proposal = cohort_match_run(intake_round=intake_round, trigger="command")
                    elapsed = time.perf_counter() - started
                peak = (_status_kib("VmHWM") or 0) - before
                print(f"cohort job run {attempt}: {elapsed:.2f} s, peak extra memory "
                      f"{peak / 1024:.0f} MB, {queries.count} SQL queries; placed "
                      f"{proposal.counts['placed']} of {proposal.counts['candidates']} "
                      f"(output {proposal.output_digest[:12]})")
        finally:
            teardown_databases(databases, verbosity=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
