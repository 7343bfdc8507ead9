"""Short write transactions for long jobs, and how to tell a busy database.

SQLite has one write lock for the whole file. A job that held it for seconds made every page
and API call that writes wait, then fail with "database is locked". Long jobs therefore
compute with no write transaction open (WAL lets reads run beside writers) and write in short
transactions through `short_transaction`, which times how long each held the lock, so the
benchmark and the tests can check the longest hold, and retries a transaction that could not
get the lock (nothing of it was written).
"""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from django.db import OperationalError, connection, transaction

T = TypeVar("T")

# Rows a job writes per short transaction: a few tens of milliseconds on SQLite.
BATCH_ROWS = 2000
ATTEMPTS = 3
PAUSE_MIN = 0.02

_observers: list[Callable[[float], None]] = []


def database_busy(error: BaseException) -> bool:
    """Whether `error` says the database's write lock stayed taken past the busy timeout."""
    if not isinstance(error, OperationalError):
        return False
    text = str(error).lower()
    return "database is locked" in text or "database table is locked" in text \
        or "database is busy" in text


def short_transaction(work: Callable[[], T]) -> T:
    """Run `work` in one transaction of its own and return its result.

    The time from taking the write lock to the commit goes to the observers (`write_holds`).
    Then, on SQLite, the job leaves the lock free for as long as it held it (at least
    PAUSE_MIN): a writer waiting in SQLite's busy handler polls only every so often (up to
    100 ms apart), and a job taking the lock again at once would keep it out until its busy
    timeout ran out.
    When the lock cannot be had in time the transaction is tried again (ATTEMPTS in all):
    nothing of it was written. Inside an outer transaction there is no retry, since the outer
    one is what would have to start again.
    """
    for attempt in range(1, ATTEMPTS + 1):
        nested = connection.in_atomic_block
        try:
            with transaction.atomic():
                started = time.perf_counter()
                result = work()
        except OperationalError as error:
            if nested or attempt == ATTEMPTS or not database_busy(error):
                raise
            continue
        held = time.perf_counter() - started
        for observer in list(_observers):
            observer(held)
        if not nested and connection.vendor == "sqlite":
            # PostgreSQL locks rows, not the database: nobody waits for a pause there.
            time.sleep(max(held, PAUSE_MIN))
        return result
    raise AssertionError("unreachable")


@contextmanager
def write_holds() -> Iterator[list[float]]:
    """Collect, in seconds, how long each short transaction of the block held the lock."""
    holds: list[float] = []
    _observers.append(holds.append)
    try:
        yield holds
    finally:
        _observers.remove(holds.append)
