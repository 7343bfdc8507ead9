"""Benchmark of the staff mentor page: ``python -m bench.mentor_page``.

Builds a throwaway database (as bench.cohort_job does) with one round of N nominations (50,000 by
default), of whom A (2,000) are admitted in an approved cohort and none has a mentor yet, and M
(2,000) mentors of varied languages, expertise and capacity, all bulk-inserted. Then, as a
logged-in staff user, it renders the round's mentor page (/staff/mentors/rounds/<id>/), the same
page answering one candidate's *Find mentors* (the short list without script) and the JSON mentor
search behind the page's script, printing for each the best time of 3, the number of SQL
queries and the size of the response, beside the page's goals (300 ms, 200 KB).

Smaller: ``--nominations 5000 --admitted 500 --mentors 500``, or ``--quick``, or the environment
variables ECOCYCLE_BENCH_NOMINATIONS, ECOCYCLE_BENCH_ADMITTED and ECOCYCLE_BENCH_MENTORS.
"""

from __future__ import annotations

import argparse
import os
import random
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
from django.utils import timezone

from bench._django import bench_staff, setup_django
from bench.cohort_job import build_round
from bench.dashboard import REPEAT, measure

# Django is set up at run time, on a throwaway folder: models and services are imported in the
# functions that run after setup_django().
# ruff: noqa: PLC0415

GOAL_MS = 300
GOAL_KIB = 200
LANGUAGES = ["ko,en", "ko,id", "ko", "ko,en,id", "ko,vi", "en"]


def admit(intake_round, n_admitted: int) -> int:
    """An approved cohort admitting the round's first `n_admitted` nominations, each having
    accepted their offer (only they are given mentors), bulk-inserted."""
    from candidates.models import Cohort, CohortAdmission, Nomination, Offer
    from programs.models import RoundTrack

    cohort = Cohort.objects.create(intake_round=intake_round, status=Cohort.Status.APPROVED,
                                   approved_at=timezone.now())
    tracks = list(RoundTrack.objects.filter(intake_round=intake_round)
                  .values_list("track_id", flat=True).order_by("track_id"))
    ids = list(Nomination.objects.filter(intake_round=intake_round)
               .order_by("id").values_list("id", flat=True)[:n_admitted])
    CohortAdmission.objects.bulk_create(
        (CohortAdmission(cohort=cohort, nomination_id=pk, track_id=tracks[i % len(tracks)])
         for i, pk in enumerate(ids)), batch_size=2000)
    now = timezone.now()
    Offer.objects.bulk_create(
        (Offer(cohort=cohort, nomination_id=pk, track_id=tracks[i % len(tracks)],
               status=Offer.Status.ACCEPTED, made_at=now, deadline=now, responded_at=now)
         for i, pk in enumerate(ids)), batch_size=2000)
    return len(ids)


def build_mentors(program, n_mentors: int, rng: random.Random) -> None:
    """`n_mentors` active mentors, each with 1 to 3 of the program's technologies."""
    from mentors.models import Mentor
    from programs.models import CoreTechnology

    technologies = list(CoreTechnology.objects.filter(program=program).values_list("pk",
                                                                                   flat=True))
    mentors = Mentor.objects.bulk_create(
        (Mentor(full_name=f"Dr. Bench Mentor {i}", email=f"m{i}@mentor.bench.example",
                languages_spoken=rng.choice(LANGUAGES), keywords=f"word{rng.randrange(20)}",
                travel_countries=rng.choice([["ID"], [], ["ID", "VN"]]),
                capacity=rng.randint(1, 3)) for i in range(n_mentors)), batch_size=2000)
    through = Mentor.expertise.through
    through.objects.bulk_create(
        (through(mentor_id=m.pk, coretechnology_id=t)
         for m in mentors for t in rng.sample(technologies, rng.randint(1, 3))),
        batch_size=5000)


def _sizes(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    env = os.environ.get
    parser.add_argument("--nominations", type=int,
                        default=int(env("ECOCYCLE_BENCH_NOMINATIONS", "50000")))
    parser.add_argument("--admitted", type=int,
                        default=int(env("ECOCYCLE_BENCH_ADMITTED", "2000")))
    parser.add_argument("--mentors", type=int, default=int(env("ECOCYCLE_BENCH_MENTORS", "2000")))
    parser.add_argument("--tracks", type=int, default=200)
    parser.add_argument("--quick", action="store_true",
                        help="2,000 nominations, 500 admitted, 500 mentors (smoke test)")
    args = parser.parse_args(argv)
    if args.quick:
        args.nominations, args.admitted, args.mentors, args.tracks = 2_000, 500, 500, 40
    return args


def _report(client, pages) -> bool:
    """Print each page beside the goals; False when one fails or misses them."""
    ok = True
    print(f"{'':<34}{'best of ' + str(REPEAT):>14} {'SQL':>5} {'size':>9}   goal: "
          f"<= {GOAL_MS} ms, <= {GOAL_KIB} KiB")
    for title, url, goals in pages:
        status, seconds, queries, size = measure(client, url)
        if status != 200:
            print(f"{title:<34} HTTP {status} ({url})")
            ok = False
            continue
        met = seconds * 1000 <= GOAL_MS and size / 1024 <= GOAL_KIB
        verdict = ("met" if met else "MISSED") if goals else "(no goal: one candidate)"
        ok &= met or not goals
        print(f"{title:<34}{seconds * 1000:11.0f} ms {queries:5d} {size / 1024:6.0f} KiB   "
              f"{verdict}")
    return ok


def main(argv: list[str] | None = None) -> int:
    args = _sizes(argv)
    with tempfile.TemporaryDirectory(prefix="ecocycle-bench-") as var_dir:
        setup_django(var_dir)
        from candidates.selectors import admitted_nominations

        setup_test_environment()  # the test client's host, locmem email
        databases = setup_databases(verbosity=0, interactive=False)
        try:
            started = time.perf_counter()
            intake_round = build_round(args.nominations, args.tracks)
            admitted = admit(intake_round, args.admitted)
            build_mentors(intake_round.program, args.mentors, random.Random(5))
            print(f"database: {connection.vendor}; built {args.nominations} nominations, "
                  f"{admitted} admitted without a mentor, {args.mentors} mentors in "
                  f"{time.perf_counter() - started:.1f} s")
            staff = bench_staff()
            client = Client()
            client.force_login(staff)
            candidate = admitted_nominations(intake_round).order_by("family_name", "id").first()
            page = reverse("staff_mentors:round_assignments", args=[intake_round.pk])
            options = reverse("staff_mentors:mentor_options", args=[intake_round.pk])
            ok = _report(client, [
                ("mentor page", page, True),
                ("mentor page, last page", f"{page}?page=999999", True),
                ("mentor page, one candidate's list", f"{page}?candidate={candidate.pk}", True),
                ("mentor search JSON", f"{options}?candidate={candidate.pk}", False),
                ("mentor search JSON, q=Mentor 1", f"{options}?candidate={candidate.pk}"
                 "&q=Mentor+1", False),
            ])
        finally:
            teardown_databases(databases, verbosity=0)
            teardown_test_environment()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
