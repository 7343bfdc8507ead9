"""Short write transactions: timed, retried when the lock could not be had, never nested."""

import pytest
from django.db import OperationalError, connection, transaction

from ecocycle.writes import database_busy, short_transaction, write_holds


def _busy_once():
    calls = []

    def work():
        calls.append(connection.in_atomic_block)
        if len(calls) == 1:
            raise OperationalError("database is locked")
        return "written"

    return work, calls


@pytest.mark.django_db(transaction=True)
def test_a_transaction_that_found_the_lock_taken_is_tried_again_and_timed():
    work, calls = _busy_once()
    with write_holds() as holds:
        assert short_transaction(work) == "written"
    assert calls == [True, True]
    assert len(holds) == 1 and 0 <= holds[0] < 1


@pytest.mark.django_db(transaction=True)
def test_other_errors_and_nested_transactions_are_not_retried():
    def broken():
        raise OperationalError("no such table: x")

    with pytest.raises(OperationalError):
        short_transaction(broken)
    work, calls = _busy_once()
    with pytest.raises(OperationalError), transaction.atomic():
        short_transaction(work)
    assert len(calls) == 1


def test_database_busy_tells_the_lock_from_other_errors():
    assert database_busy(OperationalError("database is locked"))
    assert not database_busy(OperationalError("no such table: x"))
    assert not database_busy(ValueError("database is locked"))
