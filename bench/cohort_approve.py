"""Benchmark of approving a cohort: ``python -m bench.cohort_approve [--nominations N]``.

Builds a throwaway database (SQLite in a temporary folder, or the PostgreSQL of DATABASE_URL,
where a test database is created and dropped) with one round of N nominations (default 50,000,
or ECOCYCLE_BENCH_APPROVE_NOMINATIONS) from 100 universities into 200 tracks, matched and
proposed (80% placed), all by bulk inserts. Then staff approve it through the page (a POST, as
gunicorn would serve it), and the emails' job runs as the worker would: it prints the request's
time and SQL statements, and the time until every email is in the outbox, beside their goals
(request ≤ 2 s, outbox ≤ 60 s). Sending to the mail server is not part of it.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date, timedelta
from unittest import mock

from django.db import connection
from django.test.utils import override_settings, setup_databases, teardown_databases
from django.utils import timezone

from bench._django import bench_staff, setup_django

# Django is set up at run time, on a throwaway folder: models and services are imported in the
# functions that run after setup_django().
# ruff: noqa: PLC0415

LANGUAGES = ("en", "ko", "id", "vi")
GOAL_REQUEST_S, GOAL_OUTBOX_S = 2.0, 60.0


def build_proposed_round(n_nominations: int, *, n_tracks: int = 200,
                         n_universities: int = 100):
    """A round whose nominations have closed, with a proposal placing 80% of its `n_nominations`
    consented candidates (the rest left out, track full) and one coordinator per university:
    its cohort. A fixture built by bulk inserts, not a path users take."""
    from candidates.models import Cohort, Coordinator, MatchRun, Placement
    from programs.models import Program

    tag = f"r{Program.objects.count()}"  # names and addresses unique across several rounds
    intake_round, universities, tracks = _bench_round(n_tracks, n_universities, tag)
    users = _bench_users(n_universities, tag)
    Coordinator.objects.bulk_create(Coordinator(user=u, university=universities[i])
                                    for i, u in enumerate(users))
    nominations = _bench_nominations(intake_round, universities, n_nominations, tag)
    seats = max(1, int(n_nominations * 0.8) // n_tracks)
    run = MatchRun.objects.create(kind=MatchRun.Kind.COHORT, intake_round=intake_round,
                                  trigger=MatchRun.Trigger.COMMAND, started_at=timezone.now(),
                                  finished_at=timezone.now(), status=MatchRun.Status.SUCCEEDED)
    Placement.objects.bulk_create(
        (Placement(match_run=run, nomination=n,
                   track=tracks[i % n_tracks] if i < seats * n_tracks else None,
                   choice_rank=1 if i < seats * n_tracks else None,
                   reasons=[] if i < seats * n_tracks else [{"track_id": None,
                                                             "reason": "track_full"}])
         for i, n in enumerate(nominations)), batch_size=5000)
    return Cohort.objects.create(intake_round=intake_round, match_run=run)


def _bench_round(n_tracks: int, n_universities: int, tag: str):
    from programs.models import (
        DegreeTrack,
        IntakeRound,
        Program,
        ProgramUniversity,
        RoundMilestone,
        RoundTrack,
        University,
    )

    program = Program.objects.create(name=f"Approval bench {tag}", country="ID", industry="Bench",
                                     status=Program.Status.ACTIVE)
    universities = University.objects.bulk_create(
        University(name=f"Bench University {tag}-{i:03}", country="ID")
        for i in range(n_universities))
    ProgramUniversity.objects.bulk_create(
        ProgramUniversity(program=program, university=u, nomination_quota=100_000)
        for u in universities)
    intake_round = IntakeRound.objects.create(program=program, name="Bench round")
    now = timezone.now()
    days = {RoundMilestone.Kind.NOMINATIONS_OPEN: -40, RoundMilestone.Kind.NOMINATIONS_CLOSE: -1,
            RoundMilestone.Kind.MATCHING: 5, RoundMilestone.Kind.DECISIONS: 10,
            RoundMilestone.Kind.ENROLMENT: 40}
    RoundMilestone.objects.bulk_create(
        RoundMilestone(intake_round=intake_round, kind=kind, at=now + timedelta(days=d))
        for kind, d in days.items())
    tracks = DegreeTrack.objects.bulk_create(
        DegreeTrack(program=program, level="masters", major=f"Major {i}", department="Bench",
                    campus="ulsan", supervisor_name="Dr. Bench",
                    supervisor_email=f"s{i}@example.test")
        for i in range(n_tracks))
    RoundTrack.objects.bulk_create(
        RoundTrack(intake_round=intake_round, track=t, seats=100_000) for t in tracks)
    return intake_round, universities, tracks


def _bench_users(n: int, tag: str):
    from ecocycle.models import User

    return User.objects.bulk_create(
        User(email=f"coordinator{i}-{tag}@bench.example", role=User.Role.COORDINATOR,
             language=LANGUAGES[i % 4], password="!") for i in range(n))


def _bench_nominations(intake_round, universities, n: int, tag: str):
    from candidates.models import Nomination

    now = timezone.now()
    return Nomination.objects.bulk_create(
        (Nomination(
            intake_round=intake_round, university=universities[i % len(universities)],
            status=Nomination.Status.SUBMITTED, family_name=f"Bench{i}", given_names="Ana",
            date_of_birth=date(1999, 1, 1), nationality="ID", email=f"c{i}-{tag}@bench.example",
            email_normalised=f"c{i}-{tag}@bench.example", candidate_language=LANGUAGES[i % 4],
            degree="bachelor", degree_status="completed", major="Engineering",
            institution="Bench", gpa=3.5, gpa_scale="4.0", gpa_normalised=3.5,
            university_rank=i // len(universities) + 1, submitted_at=now - timedelta(seconds=i),
            consent_given_at=now, is_eligible=True, eligibility_reasons=[],
        ) for i in range(n)), batch_size=2000)


class TimedStatements:
    """A connection.execute_wrapper that counts statements and keeps each one's time."""

    def __init__(self):
        self.times: list[tuple[float, str]] = []

    @property
    def count(self) -> int:
        return len(self.times)

    def slowest(self, n: int = 3) -> str:
        return "; ".join(f"{t:.2f} s {' '.join(sql.split())[:60]}…"
                         for t, sql in sorted(self.times, reverse=True)[:n])

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.times.append((time.perf_counter() - started, sql))


def approve_and_notify(cohort, staff) -> dict:
    """Staff's approving POST (its emails' job held back, as a web process hands it to a
    worker), then the job: their times and the request's statements."""
    from django.test import Client
    from django.urls import reverse

    from candidates.services import cohort_notification_send
    from candidates.tasks import send_cohort_notification

    client = Client()
    client.force_login(staff)
    url = reverse("staff_rounds:cohort_approve", args=[cohort.intake_round_id])
    queries = TimedStatements()
    queued = []
    # The worker's part is timed on its own; the outbox's sending is the mail server's.
    # Not setup_test_environment(): its instrumented template rendering would slow the job.
    with (mock.patch.object(send_cohort_notification, "delay", side_effect=queued.append),
          mock.patch("ecocycle.mail._enqueue_flush"),
          override_settings(ALLOWED_HOSTS=["testserver"])):
        started = time.perf_counter()
        with connection.execute_wrapper(queries):
            response = client.post(url, {"confirm": "yes", "run": str(cohort.match_run_id)})
            # The COMMIT is the atomic block's: the deferred foreign-key checks run in it.
        request_s = time.perf_counter() - started
        assert response.status_code == 302, response.status_code
        for notification_id in queued:
            notification = cohort_notification_send(notification_id=notification_id)
        outbox_s = time.perf_counter() - started
        reopen_s, withdrawn_s = _reopen(client, cohort, queued, cohort_notification_send)
    return {"request_s": request_s, "statements": queries.count, "slowest": queries.slowest(),
            "outbox_s": outbox_s, "reopen_s": reopen_s, "withdrawn_s": withdrawn_s,
            "emails": notification.queued, "status": notification.status}


def _reopen(client, cohort, queued: list, send) -> tuple[float, float]:
    """Staff reopen the approved cohort (the same request budget), then its job tells everyone
    the result is withdrawn: both times."""
    from django.urls import reverse

    queued.clear()
    url = reverse("staff_rounds:cohort_reopen", args=[cohort.intake_round_id])
    statements = TimedStatements()
    started = time.perf_counter()
    with connection.execute_wrapper(statements):
        response = client.post(url, {"reason": "Benchmark"})
    reopen_s = time.perf_counter() - started
    print(f"  slowest statements of the reopen request: {statements.slowest()}")
    assert response.status_code == 302, response.status_code
    for notification_id in queued:
        send(notification_id=notification_id)
    return reopen_s, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nominations", type=int,
                        default=int(os.environ.get("ECOCYCLE_BENCH_APPROVE_NOMINATIONS", 50_000)))
    # Tolerant: `python -m bench` hands every benchmark the same argument.
    args, _unknown = parser.parse_known_args(argv)

    with tempfile.TemporaryDirectory(prefix="ecocycle-bench-") as var_dir:
        setup_django(var_dir)

        databases = setup_databases(verbosity=0, interactive=False)
        try:
            started = time.perf_counter()
            cohort = build_proposed_round(args.nominations)
            staff = bench_staff("staff@bench.example")
            print(f"database: {connection.vendor}; built {args.nominations} nominations from "
                  f"100 universities into 200 tracks in {time.perf_counter() - started:.1f} s")
            result = approve_and_notify(cohort, staff)
            ok = (result["request_s"] <= GOAL_REQUEST_S and result["outbox_s"] <= GOAL_OUTBOX_S
                  and result["status"] == "done")
            print(f"approve {args.nominations} nominations on {connection.vendor}: request "
                  f"{result['request_s']:.2f} s ({result['statements']} SQL statements; goal "
                  f"≤ {GOAL_REQUEST_S:.0f} s), all {result['emails']} emails in the outbox "
                  f"after {result['outbox_s']:.1f} s (goal ≤ {GOAL_OUTBOX_S:.0f} s): "
                  f"{'met' if ok else 'MISSED'}")
            print(f"  slowest statements of the request: {result['slowest']}")
            print(f"reopen it on {connection.vendor}: request {result['reopen_s']:.2f} s (goal "
                  f"≤ {GOAL_REQUEST_S:.0f} s), every withdrawal email in the outbox after "
                  f"{result['withdrawn_s']:.1f} s (goal ≤ {GOAL_OUTBOX_S:.0f} s)")
        finally:
            teardown_databases(databases, verbosity=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
