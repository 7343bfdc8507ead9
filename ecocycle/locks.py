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
LEASE_TTL stays well above SQLite's lock timeout (20 s), the longest a job waits for its
transaction to begin after taking the lease.
"""

import hashlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.db import OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from .models import JobLock

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
        if "locked" not in str(error):
            raise
        raise JobBusy(name) from error
    if not taken:
        raise JobBusy(name)


@contextmanager
def exclusive_job(name: str, *, ttl: timedelta = LEASE_TTL) -> Iterator[None]:
    """Run the block as the only copy of job `name`, inside one transaction.

    Raises JobBusy when another copy runs. An exception in the block rolls back everything it
    wrote.
    """
    if connection.vendor == "postgresql":
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_advisory_key(name)])
                if not cursor.fetchone()[0]:
                    raise JobBusy(name)
            yield
        return
    holder = uuid.uuid4().hex
    _lease_take(name, holder, ttl)
    try:
        with transaction.atomic():
            yield
    finally:
        JobLock.objects.filter(name=name, holder=holder).update(holder="", expires_at=None)
