"""One copy of a job at a time, its whole work in one transaction, on PostgreSQL and SQLite.

PostgreSQL: a transaction-level advisory lock taken first thing in the job's transaction and
released by the database when it ends, even if the process dies.

Elsewhere (SQLite): a lease row in JobLock, taken by one conditional UPDATE committed before the
job's transaction starts. A second copy that finds the lease held answers JobBusy at once, from
a read, without queueing behind SQLite's write lock. The lease is short (LEASE_TTL), so a killed
job's lease runs out within two minutes and the job can run again.

Why a running job needs no renewal: our SQLite transactions are IMMEDIATE (config.settings), so
the job's transaction holds the database's write lock from its first statement to its commit.
A renewal could not commit before the job's own commit (it would wait for that same lock), and
it need not: while the job runs, a second copy that finds the lease expired cannot take it
either, since its UPDATE waits for the write lock too; when that wait times out it answers
JobBusy. A killed process loses its SQLite lock at once, which leaves only the lease to expire.
LEASE_TTL stays well above SQLite's lock timeout, the longest a job waits for its
transaction to begin after taking the lease.

A long job (the nightly matching) passes atomic=False: it gets no transaction, computes with
none open and writes in short transactions of its own (ecocycle.writes), so web writers are
never kept waiting for long. Its lease is then renewed between writes (JobLease.renew); on
PostgreSQL it holds a session-level advisory lock, released at the end or when the connection
dies.
"""

import hashlib
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.db import OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from .models import JobLock
from .writes import database_busy

LEASE_TTL = timedelta(seconds=90)


class JobBusy(Exception):
    """Another copy of the job holds the lock."""


def _advisory_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def _lease_take(name: str, holder: str, ttl: timedelta) -> None:
    """Take the lease of job `name` for `holder`, or raise JobBusy."""
    now = timezone.now()
    if JobLock.objects.filter(name=name, expires_at__gte=now).exclude(holder="").exists():
        raise JobBusy(name)
    try:
        with transaction.atomic():
            JobLock.objects.get_or_create(name=name)
            taken = JobLock.objects.filter(name=name).filter(
                Q(holder="") | Q(expires_at__lt=now)
            ).update(holder=holder, expires_at=now + ttl)
    except OperationalError as error:
        # The write lock is held past SQLite's timeout: a job is running its transaction.
        if not database_busy(error):
            raise
        raise JobBusy(name) from error
    if not taken:
        raise JobBusy(name)


class JobLease:
    """The lease a job without a transaction of its own holds; `renew` pushes its end away."""

    def __init__(self, name: str, holder: str | None, ttl: timedelta):
        self.name, self.holder, self.ttl = name, holder, ttl
        self.renewed = time.monotonic()

    def renew(self) -> None:
        """Push the lease's end to a full TTL from now, once a third of it has passed (a
        write of its own, so not after every batch). Raises JobBusy if the lease ran out and
        another copy took it."""
        if self.holder is None:  # PostgreSQL: the advisory lock lasts as long as the session
            return
        if time.monotonic() - self.renewed < self.ttl.total_seconds() / 3:
            return
        self.renewed = time.monotonic()
        with transaction.atomic():
            kept = JobLock.objects.filter(name=self.name, holder=self.holder).update(
                expires_at=timezone.now() + self.ttl)
        if not kept:  # it ran out and another copy took it: this one stops
            raise JobBusy(self.name)


@contextmanager
def _advisory_session_lock(name: str) -> Iterator[None]:
    key = _advisory_key(name)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        if not cursor.fetchone()[0]:
            raise JobBusy(name)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


@contextmanager
def exclusive_job(name: str, *, ttl: timedelta = LEASE_TTL,
                  atomic: bool = True) -> Iterator[JobLease]:
    """Run the block as the only copy of job `name`, inside one transaction unless `atomic` is
    False (then the block writes in short transactions of its own and renews the lease it is
    given between them).

    Raises JobBusy when another copy runs. With `atomic`, an exception in the block rolls back
    everything it wrote.
    """
    if connection.vendor == "postgresql":
        if not atomic:
            with _advisory_session_lock(name):
                yield JobLease(name, None, ttl)
            return
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_advisory_key(name)])
                if not cursor.fetchone()[0]:
                    raise JobBusy(name)
            yield JobLease(name, None, ttl)
        return
    holder = uuid.uuid4().hex
    _lease_take(name, holder, ttl)
    lease = JobLease(name, holder, ttl)
    try:
        if atomic:
            with transaction.atomic():
                yield lease
        else:
            yield lease
    finally:
        JobLock.objects.filter(name=name, holder=holder).update(holder="", expires_at=None)
