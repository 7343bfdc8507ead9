"""One copy of a job at a time, its whole work in one transaction, on PostgreSQL and SQLite.

PostgreSQL: a transaction-level advisory lock taken first thing in the job's transaction and
released by the database when it ends, even if the process dies. Elsewhere (SQLite): a lease
row in JobLock, taken by one conditional UPDATE committed before the job's transaction starts,
so a second copy sees it at once instead of queueing behind SQLite's write lock; a crashed
holder's lease runs out after `ttl`.
"""

import hashlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from .models import JobLock


class JobBusy(Exception):
    """Another copy of the job holds the lock."""


def _advisory_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextmanager
def exclusive_job(name: str, *, ttl: timedelta = timedelta(hours=1)) -> Iterator[None]:
    """Run the block as the only copy of job `name`, inside one transaction.

    Raises JobBusy at once when another copy runs. An exception in the block rolls back
    everything it wrote.
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
    now = timezone.now()
    with transaction.atomic():
        JobLock.objects.get_or_create(name=name)
        taken = JobLock.objects.filter(name=name).filter(
            Q(holder="") | Q(expires_at__lt=now)
        ).update(holder=holder, expires_at=now + ttl)
    if not taken:
        raise JobBusy(name)
    try:
        with transaction.atomic():
            yield
    finally:
        JobLock.objects.filter(name=name, holder=holder).update(holder="", expires_at=None)
