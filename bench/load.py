"""Load run: ``python -m bench.load [--nominations N] [--clients C] [--seconds S]``.

Builds (once; later runs reuse it) a PostgreSQL database of one round of N nominations (default
50,000) from 100 universities into 200 tracks, three preferences each, with a proposed cohort
(bench.cohort_approve's generator), in the database of DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/ecocycle_bench), migrated first. Then it starts gunicorn with
4 sync workers on it (config.settings.local, DEBUG off) and drives C concurrent clients (default
20) for S seconds per page: the coordinator's list, the API list (token), a nomination detail
(page and API), the public /cycle/ page and the staff round overview. It prints p50 / p95 /
requests per second beside the goals (p95 < 200 ms for the lists and the detail).

The clients are threads of this process with the standard library's http.client, each a closed
loop (send, wait for the answer, send again), not locust: on a 2-core machine locust's gevent
workers would take CPU from the server they measure, and it would be one more dependency. The
client's own time is inside the figures: they are upper bounds of what the server needs.

Each client is a different coordinator (20 universities) signed in by a session cookie made by
Django's test Client.force_login; the staff member is enrolled in two-factor sign-in
(bench_staff), as every staff page requires.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/ecocycle_bench"
SECRET_KEY = "bench-load-secret-key-not-for-production"
GOAL_P95_MS = 200.0
N_UNIVERSITIES = 100
API_PAGE_SIZE = 50  # REST_FRAMEWORK's PAGE_SIZE

# ruff: noqa: PLC0415  (Django is set up at run time: models are imported after it)


@dataclass
class Target:
    name: str
    goal_p95_ms: float | None
    # (client index) -> (path, headers): a request for that client.
    request: Callable[[int, random.Random], tuple[str, dict[str, str]]]


@dataclass
class Result:
    name: str
    goal_p95_ms: float | None
    latencies_ms: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def percentile(self, q: int) -> float | None:
        if len(self.latencies_ms) < 2:
            return self.latencies_ms[0] if self.latencies_ms else None
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[q - 1]

    @property
    def met(self) -> bool | None:
        if self.goal_p95_ms is None:
            return None
        p95 = self.percentile(95)
        return p95 is not None and p95 < self.goal_p95_ms and not self.errors

    def line(self) -> str:
        p50, p95 = self.percentile(50), self.percentile(95)
        rate = len(self.latencies_ms) / self.seconds if self.seconds else 0.0
        fmt = (lambda v: "—" if v is None else f"{v:.0f} ms")  # noqa: E731
        goal = f"goal p95 < {self.goal_p95_ms:.0f} ms" if self.goal_p95_ms else "no goal"
        verdict = {True: "met", False: "MISSED", None: "measured"}[self.met]
        errors = (" errors: " + ", ".join(f"{k} x{v}" for k, v in self.errors.items())
                  if self.errors else "")
        return (f"{self.name:<28} p50 {fmt(p50):>8}  p95 {fmt(p95):>8}  {rate:6.1f} req/s "
                f"({len(self.latencies_ms)} requests; {goal}): {verdict}{errors}")


# --- the database ---------------------------------------------------------------------------------

def _setup(database_url: str, var_dir: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SECRET_KEY"] = SECRET_KEY
    os.environ["ECOCYCLE_VAR_DIR"] = var_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    import django

    django.setup()


def _database_reachable(database_url: str) -> str | None:
    """None, or why PostgreSQL cannot be reached. The database is created if it is missing:
    migrate cannot create the database it connects to."""
    import psycopg2
    from environ import Env

    config = Env.db_url_config(database_url)
    if "postgresql" not in config["ENGINE"]:
        return f"DATABASE_URL is not PostgreSQL ({config['ENGINE']}): the load run needs it"
    try:
        conn = psycopg2.connect(host=config["HOST"] or None, port=config["PORT"] or None,
                                user=config["USER"] or None,
                                password=config["PASSWORD"] or None, dbname="postgres",
                                connect_timeout=5)
    except psycopg2.Error as error:
        return (f"PostgreSQL at {config['HOST'] or 'localhost'}:{config['PORT'] or 5432} is "
                f"unreachable: {str(error).strip()}")
    try:
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]])
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{config["NAME"]}"')
    finally:
        conn.close()
    return None


def _build_or_reuse(n_nominations: int) -> dict:
    """The round of `n_nominations` of an earlier run, or a new one; its people and paths."""
    from django.core.management import call_command
    from django.db import connection

    from bench._django import bench_staff
    from bench.cohort_approve import build_proposed_round
    from candidates.models import Coordinator, Nomination, NominationPreference
    from ecocycle.models import User
    from programs.models import IntakeRound, RoundTrack

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    name = f"Load bench {n_nominations}"
    intake_round = IntakeRound.objects.filter(program__name=name).first()
    if intake_round is None:
        cohort = build_proposed_round(n_nominations, n_universities=N_UNIVERSITIES)
        intake_round = cohort.intake_round
        intake_round.program.name = name
        intake_round.program.save(update_fields=["name"])
        tracks = list(RoundTrack.objects.filter(intake_round=intake_round)
                      .values_list("track_id", flat=True))
        ids = Nomination.objects.filter(intake_round=intake_round).values_list("pk", flat=True)
        NominationPreference.objects.bulk_create(
            (NominationPreference(nomination_id=pk, rank=rank + 1,
                                  track_id=tracks[(pk * 7 + rank * 13) % len(tracks)])
             for pk in ids.iterator() for rank in range(3)), batch_size=10_000)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(f"built {n_nominations} nominations in {time.perf_counter() - started:.0f} s",
              flush=True)
    else:
        print(f"reusing the {n_nominations} nominations built by an earlier run", flush=True)
    staff = User.objects.filter(email="load-staff@bench.example").first() or bench_staff(
        "load-staff@bench.example")
    coordinators = list(Coordinator.objects.filter(
        university__programs=intake_round.program).select_related("user")
        .order_by("university_id")[:N_UNIVERSITIES])
    return {"round": intake_round, "staff": staff, "coordinators": coordinators}


def _session_cookie(user) -> str:
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def _targets(world: dict, clients: int) -> list[Target]:
    from django.urls import reverse

    from candidates.models import Nomination
    from ecocycle.api_tokens import api_token_create, api_token_revoke

    intake_round = world["round"]
    people = world["coordinators"][:clients]
    cookies = [_session_cookie(c.user) for c in people]
    tokens = []
    for coordinator in people:
        api_token_revoke(actor=None, user=coordinator.user)
        tokens.append(api_token_create(actor=None, user=coordinator.user))
    staff_cookie = _session_cookie(world["staff"])
    nomination_ids = [
        list(Nomination.objects.filter(university_id=c.university_id,
                                       intake_round=intake_round)
             .order_by("pk").values_list("pk", flat=True)[:500])
        for c in people]
    rows = len(nomination_ids[0])
    list_url = reverse("candidates:coordinator_home")
    api_list = reverse("api:nomination_list")

    def page_of(rng: random.Random, size: int) -> int:
        # Mostly the first pages, as people read a list.
        return min(max(1, -(-rows // size)), 1 + int(rng.expovariate(0.5)))

    return [
        Target("coordinator list", GOAL_P95_MS, lambda i, rng: (
            f"{list_url}?page={page_of(rng, 25)}", {"Cookie": cookies[i]})),
        Target("API list", GOAL_P95_MS, lambda i, rng: (
            f"{api_list}?page={page_of(rng, API_PAGE_SIZE)}",
            {"Authorization": f"Token {tokens[i]}"})),
        Target("nomination detail (page)", GOAL_P95_MS, lambda i, rng: (
            reverse("candidates:nomination_detail", args=[rng.choice(nomination_ids[i])]),
            {"Cookie": cookies[i]})),
        Target("nomination detail (API)", GOAL_P95_MS, lambda i, rng: (
            reverse("api:nomination_detail", args=[rng.choice(nomination_ids[i])]),
            {"Authorization": f"Token {tokens[i]}"})),
        # Cached (hub.cycle_figures): next to no work per request, so its rate is about the
        # most this machine serves at all, whatever the page.
        Target("public /cycle/", None, lambda i, rng: (reverse("cycle:public"), {})),
        Target("staff cycle figures", None, lambda i, rng: (
            reverse("staff_cycle:dashboard"), {"Cookie": staff_cookie})),
        Target("staff round overview", None, lambda i, rng: (
            reverse("staff_rounds:round_overview", args=[intake_round.pk]),
            {"Cookie": staff_cookie})),
    ]


# --- the server and the clients -------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _gunicorn(port: int, log_path: Path, timeout: int) -> subprocess.Popen:
    command = [str(Path(sys.executable).with_name("gunicorn")), "config.wsgi",
               "--config", "gunicorn.conf.py", "--workers", "4", "--bind", f"127.0.0.1:{port}",
               "--timeout", str(timeout), "--log-level", "warning"]
    # The API's per-user rate limit is lifted: the run measures the server, not the limit.
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local",
           "ECOCYCLE_API_RATE": "1000000/minute"}
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {log_path.read_text()[-2000:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            return process
        except OSError:
            time.sleep(0.3)
    process.terminate()
    raise RuntimeError("gunicorn did not answer within 60 s")


def _drive(port: int, target: Target, clients: int, seconds: float,
           request_timeout: float) -> Result:
    result = Result(target.name, target.goal_p95_ms)
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(index: int) -> None:
        rng = random.Random(index)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=request_timeout)
        while time.monotonic() < stop:
            path, headers = target.request(index, rng)
            started = time.perf_counter()
            try:
                connection.request("GET", path, headers={"Host": "127.0.0.1", **headers})
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as error:
                status = type(error).__name__
                connection.close()
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                if status == 200:
                    result.latencies_ms.append(elapsed)
                else:
                    result.errors[str(status)] = result.errors.get(str(status), 0) + 1
        connection.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.monotonic() - started
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nominations", type=int, default=50_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20.0, help="per page")
    parser.add_argument("--only", action="append", default=[],
                        help="only the pages whose name contains this (repeatable)")
    parser.add_argument("--quick", action="store_true",
                        help="5,000 nominations, 5 seconds a page")
    args, _unknown = parser.parse_known_args(argv)
    if args.quick:
        args.nominations, args.seconds = min(args.nominations, 5_000), min(args.seconds, 5.0)
    if not 1 <= args.clients <= N_UNIVERSITIES:
        parser.error(f"--clients must be between 1 and {N_UNIVERSITIES}")

    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    problem = _database_reachable(database_url)
    if problem:
        print(f"load run skipped: {problem}")
        return 2
    with tempfile.TemporaryDirectory(prefix="ecocycle-load-") as var_dir:
        _setup(database_url, var_dir)
        from django.db import connections

        world = _build_or_reuse(args.nominations)
        targets = _targets(world, args.clients)
        targets = [t for t in targets
                   if not args.only or any(o.lower() in t.name.lower() for o in args.only)]
        connections.close_all()
        port = _free_port()
        log_path = Path(var_dir) / "gunicorn.log"
        # A long worker timeout: a slow page is measured, not killed and retried.
        server = _gunicorn(port, log_path, timeout=120)
        print(f"gunicorn, 4 workers, {args.clients} clients, {args.seconds:.0f} s a page, "
              f"{args.nominations} nominations on PostgreSQL, {os.cpu_count()} CPUs, load "
              f"average {os.getloadavg()[0]:.1f} before:", flush=True)
        results = []
        try:
            for target in targets:
                _drive(port, target, 4, 2.0, 120)  # warm-up: every worker loads its code
                result = _drive(port, target, args.clients, args.seconds, 120)
                print("  " + result.line(), flush=True)
                results.append(result)
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        print(f"load average after: {os.getloadavg()[0]:.1f} (other work on this machine "
              "shares its CPUs with the server and inflates every figure)")
        if any(r.errors for r in results):
            print("gunicorn's log (tail):\n" + log_path.read_text()[-3000:])
    return 0 if all(r.met is not False for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
