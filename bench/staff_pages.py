"""Benchmark of the staff pages and exports at scale: ``python -m bench.staff_pages``.

Builds a throwaway database (the PostgreSQL of DATABASE_URL, else SQLite) with one round of N
nominations (50,000 by default) ranking 10 of 200 tracks, matched once (bench.cohort_job), an
audit log of a few entries per nomination, and M mentors (bench.mentor_page). Then, as an
enrolled staff member, it requests each staff page and prints the server time (median of 5,
after one warm-up request), the SQL queries and the response size beside the goal (300 ms);
then the cohort CSV export streamed (time and peak extra memory) and the cohort XLSX export
built by its background job (time).

``--keep`` keeps the test database between runs (and reuses the round it finds there), for
profiling; ``--quick`` is a 2,000-nomination smoke test; ``--profile PAGE`` prints the cProfile
of one page's request.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import statistics
import sys
import tempfile
import time
import tracemalloc

from django.db import connection
from django.test import Client
from django.test.utils import (
    setup_databases,
    setup_test_environment,
    teardown_databases,
    teardown_test_environment,
)
from django.urls import reverse
from django.utils import timezone

from bench._django import QueryCounter, bench_staff, setup_django
from bench.cohort_job import build_round
from bench.mentor_page import build_mentors

# Django is set up at run time, on a throwaway folder: models and services are imported in the
# functions that run after setup_django().
# ruff: noqa: PLC0415

GOAL_MS = 300
REPEAT = 5
AUDIT_ACTIONS = ["nomination_create", "nomination_submit", "nomination_consent_request",
                 "nomination_consent_give"]
STAFF_EMAIL = "bench-staff@example.test"


def build_audit(intake_round, per_nomination: int) -> int:
    """`per_nomination` entries about each of the round's nominations, as a coordinator's
    nominating, submitting and asking for consent would leave them, bulk-inserted."""
    from django.contrib.contenttypes.models import ContentType

    from candidates.models import Nomination
    from ecocycle.models import AuditEntry

    nomination_type = ContentType.objects.get_for_model(Nomination)
    start = timezone.now() - timezone.timedelta(days=30)
    rows = Nomination.objects.filter(intake_round=intake_round).values_list("pk", "family_name")
    created = 0
    batch = []
    for pk, name in rows.iterator(chunk_size=5000):
        for k in range(per_nomination):
            batch.append(AuditEntry(
                actor_label="coordinator@bench.example", action=AUDIT_ACTIONS[k % 4],
                target_type=nomination_type, target_id=str(pk), target_repr=name,
                before=None, after={"status": "submitted"} if k == 1 else None))
        if len(batch) >= 10_000:
            created += len(AuditEntry.objects.bulk_create(batch))
            batch = []
    created += len(AuditEntry.objects.bulk_create(batch))
    if connection.vendor == "postgresql":
        # auto_now_add stamped them all now: spread them over the round's month, in id order.
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {AuditEntry._meta.db_table} SET created_at = %s + "
                           "(id - (SELECT min(id) FROM ecocycle_auditentry)) * interval '10 s'",
                           [start])
    return created


def admit(intake_round, n_admitted: int) -> int:
    """The cohort approved by hand (not through cohort_approve: no emails, no offers), admitting
    the first `n_admitted` placed candidates: what the mentor page needs."""
    from candidates.models import Cohort, CohortAdmission, Placement

    cohort = Cohort.objects.get(intake_round=intake_round)
    Cohort.objects.filter(pk=cohort.pk).update(status=Cohort.Status.APPROVED,
                                               approved_at=timezone.now())
    placed = (Placement.objects.filter(match_run_id=cohort.match_run_id, track__isnull=False)
              .order_by("id").values_list("nomination_id", "track_id")[:n_admitted])
    return len(CohortAdmission.objects.bulk_create(
        (CohortAdmission(cohort=cohort, nomination_id=n, track_id=t) for n, t in placed),
        batch_size=2000))


def unadmit(intake_round) -> None:
    """Back to the proposal, so that a kept database starts the next run the same."""
    from candidates.models import Cohort, CohortAdmission

    CohortAdmission.objects.filter(cohort__intake_round=intake_round).delete()
    Cohort.objects.filter(intake_round=intake_round).update(status=Cohort.Status.PROPOSED,
                                                            approved_at=None)


def build(args):
    from candidates.services import cohort_match_run
    from programs.models import IntakeRound

    existing = IntakeRound.objects.filter(name="Bench round").first() if args.keep else None
    if existing is not None:
        print(f"database: {connection.vendor}; reusing the kept round {existing.pk}")
        unadmit(existing)
        return existing
    started = time.perf_counter()
    intake_round = build_round(args.nominations, args.tracks)
    built = time.perf_counter() - started
    proposal = cohort_match_run(intake_round=intake_round, trigger="command")
    matched = time.perf_counter() - started - built
    entries = build_audit(intake_round, args.audit)
    build_mentors(intake_round.program, args.mentors, random.Random(5))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # the statistics a live database has
    print(f"database: {connection.vendor}; built {args.nominations} nominations x 10 ranked of "
          f"{args.tracks} tracks in {built:.0f} s, matched ({proposal.counts['placed']} placed) "
          f"in {matched:.0f} s, {entries} audit entries, {args.mentors} mentors; "
          f"{time.perf_counter() - started:.0f} s in all")
    return intake_round


def _staff():
    from ecocycle.models import User

    return User.objects.filter(email=STAFF_EMAIL).first() or bench_staff(STAFF_EMAIL)


def _request(client, url: str) -> tuple[int, float, int, int, float, float]:
    """(status, seconds, queries, bytes, seconds in the database, CPU seconds of this
    process): on a busy machine the CPU time says what the page costs the web process."""
    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        started, cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        content = (b"".join(response.streaming_content) if response.streaming
                   else response.content)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return response.status_code, seconds, counter.count, len(content), counter.seconds, cpu


def measure(client, url: str) -> tuple[int, float, int, int, float, float]:
    """(status, median seconds of REPEAT after a warm-up, SQL queries, response bytes, median
    seconds in the database, median CPU seconds)."""
    _request(client, url)
    runs = [_request(client, url) for _ in range(REPEAT)]
    status, _seconds, queries, size, _sql, _cpu = runs[-1]
    return (status, statistics.median(r[1] for r in runs), queries, size,
            statistics.median(r[4] for r in runs), statistics.median(r[5] for r in runs))


def report(client, pages) -> bool:
    ok = True
    print(f"{'page':<38}{'median of ' + str(REPEAT):>14} {'SQL':>5} {'size':>9}   "
          f"{'in the database':>15} {'web CPU':>8}   goal <= {GOAL_MS} ms")
    for title, url in pages:
        status, seconds, queries, size, sql, cpu = measure(client, url)
        if status != 200:
            print(f"{title:<38} HTTP {status} ({url})")
            ok = False
            continue
        met = seconds * 1000 <= GOAL_MS
        ok &= met
        print(f"{title:<38}{seconds * 1000:11.0f} ms {queries:5d} {size / 1024:6.0f} KiB   "
              f"{sql * 1000:12.0f} ms {cpu * 1000:5.0f} ms   goal <= {GOAL_MS} ms: "
              f"{'met' if met else 'MISSED'}",
              flush=True)
    return ok


def export_csv(client, url: str, title: str = "cohort export CSV") -> None:
    """The CSV: time to the last byte, then (in a second download, tracemalloc slowing it) the
    peak of the memory Python allocated to answer it."""
    _status, seconds, queries, size, _sql, _cpu = _request(client, url)
    tracemalloc.start()  # before the view: a table it builds whole counts too
    response = client.get(url)
    for _chunk in response.streaming_content if response.streaming else [response.content]:
        pass
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{title:<38}{seconds * 1000:11.0f} ms {queries:5d} "
          f"{size / 1024:6.0f} KiB   peak Python memory {peak / 2**20:.1f} MiB, "
          f"{'streamed' if response.streaming else 'NOT streamed'}", flush=True)


def export_xlsx(client, intake_round, staff) -> None:
    """The XLSX: built by its background job when there is one (run here in the process, as an
    eager worker would), else by the request."""
    try:
        from hub.export_jobs import export_job_request
    except ImportError:
        export_job_request = None
    started = time.perf_counter()
    if export_job_request is None:
        url = reverse("staff_rounds:export", args=[intake_round.pk, "cohort", "xlsx"])
        status, seconds, queries, size, _sql, _cpu = _request(client, url)
        how = "in the request"
    else:
        from django.utils import translation

        from hub.models import ExportJob

        # Eager in the test settings: the task runs here, after the request's commit.
        with translation.override("en"):
            job = export_job_request(actor=staff, intake_round=intake_round, what="cohort")
        job = ExportJob.objects.get(pk=job.pk)
        seconds, queries, size = time.perf_counter() - started, 0, job.size
        status = 200 if job.status == ExportJob.Status.DONE else job.status
        how = f"by the background job ({job.rows_done} rows)"
    print(f"{'cohort export XLSX':<38}{seconds * 1000:11.0f} ms {queries:5d} "
          f"{size / 1024:6.0f} KiB   HTTP {status}, {how}", flush=True)


def profile(client, url: str) -> None:
    _request(client, url)
    profiler = cProfile.Profile()
    profiler.enable()
    _request(client, url)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)


def _load() -> str:
    try:
        return "load average " + " ".join(f"{v:.1f}" for v in os.getloadavg())
    except OSError:
        return ""


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    """The command line, with --quick shrinking the data to a smoke test."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    env = os.environ.get
    parser.add_argument("--nominations", type=int,
                        default=int(env("ECOCYCLE_BENCH_NOMINATIONS", "50000")))
    parser.add_argument("--tracks", type=int, default=200)
    parser.add_argument("--mentors", type=int, default=2000)
    parser.add_argument("--admitted", type=int, default=2000)
    parser.add_argument("--audit", type=int, default=4, help="audit entries per nomination")
    parser.add_argument("--keep", action="store_true", help="keep (and reuse) the test database")
    parser.add_argument("--profile", metavar="PAGE", help="cProfile the page of this title")
    parser.add_argument("--quick", action="store_true", help="2,000 nominations (smoke test)")
    args = parser.parse_args(argv)
    if args.quick:
        args.nominations, args.tracks, args.mentors, args.admitted = 2_000, 40, 200, 500
    return args


def _round_pages(intake_round) -> list[tuple[str, str]]:
    """(title, url) of the round's staff pages that are timed."""
    rid = intake_round.pk
    review = reverse("staff_rounds:cohort_review", args=[rid])
    audit = reverse("staff_rounds:audit_log", args=[rid])
    from candidates.models import Placement
    university = (Placement.objects.filter(match_run__intake_round=intake_round)
                  .values_list("nomination__university_id", flat=True).first())
    return [
        ("round overview", reverse("staff_rounds:round_overview", args=[rid])),
        ("cohort review", review),
        ("cohort review, by score, page 200", f"{review}?sort=score&page=200"),
        ("cohort review, one university", f"{review}?university={university}"
                                          "&sort=candidate"),
        ("cohort review, not placed", f"{review}?status=unplaced"),
        ("audit log", audit),
        ("audit log, page 2000", f"{audit}?page=2000"),
        ("audit log, what=submitted", f"{audit}?what=nomination_submit"),
        ("cohort XLSX link", reverse("staff_rounds:export",
                                     args=[rid, "cohort", "xlsx"])),
    ]


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)

    with tempfile.TemporaryDirectory(prefix="ecocycle-bench-") as var_dir:
        setup_django(var_dir)
        setup_test_environment()  # the test client's host, locmem email
        databases = setup_databases(verbosity=0, interactive=False, keepdb=args.keep,
                                    serialized_aliases=set())
        try:
            intake_round = build(args)
            staff = _staff()
            client = Client()
            client.force_login(staff)
            rid = intake_round.pk
            pages = _round_pages(intake_round)
            if args.profile:
                profile(client, dict(pages)[args.profile])
                return 0
            print(f"{os.cpu_count()} cores, {_load()}")
            ok = report(client, pages)
            export_csv(client, reverse("staff_rounds:export", args=[rid, "cohort", "csv"]))
            export_csv(client, reverse("staff_rounds:export", args=[rid, "tracks", "csv"]),
                       "tracks export CSV")
            export_xlsx(client, intake_round, staff)
            admitted = admit(intake_round, args.admitted)
            print(f"-- cohort approved by hand, {admitted} admitted without a mentor")
            ok &= report(client, [
                ("mentors", reverse("staff_mentors:mentor_list")),
                ("round's mentor page", reverse("staff_mentors:round_assignments", args=[rid])),
            ])
            if args.keep:
                unadmit(intake_round)
        finally:
            if not args.keep:
                teardown_databases(databases, verbosity=0)
            teardown_test_environment()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
