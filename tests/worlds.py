"""Worlds built once per module, for the tests that only read them.

    _built, scenario = module_world(build_scenario, name="scenario")

    @reads_world
    def test_figures(scenario): ...

    def test_a_change(scenario): ...

gives the module two fixtures. `scenario` hands a test marked `reads_world` a deep copy of what
`build_scenario()` returned when `_built` (module scope, named `_world_built`) called it once,
in a transaction opened for the module's first reader and rolled back after its last; any other
test gets a world of its own, built for it. A reader still runs in its own transaction, which
pytest-django's `db` opens inside the world's (a savepoint) and rolls back afterwards. This is
Django's TestCase.setUpTestData at module scope: one outer transaction, a savepoint per test,
the same on SQLite and PostgreSQL. pytest-django leaves room for it: its TestCase skips the
class-level transaction, whose end would close the connection.

What keeps it sound:
- Only readers run while the world is open: tests/conftest.py runs them after their module's
  other tests, and fails any other test that would run beside an open world, a transactional
  one (transaction=True, live_server) above all: its transaction could not commit inside it.
- One world per module, open one module at a time (checked below).
- A test marked as a reader only reads the world. It may add rows of its own (its savepoint
  rolls them back) but changes none of the world's rows, and nothing outside the database
  (the files of the world's documents, say).
"""

import copy
import sys

import pytest
from django.db import transaction

# The fixture every module's world is built by; a module has at most one.
BUILT = "_world_built"
# The module whose world is open now, and the name its tests ask for it by.
OPEN: dict[str, str] = {}


def module_world(build, *, name: str):
    @pytest.fixture(scope="module", name=BUILT)
    def built(request, django_db_setup, django_db_blocker):
        module = request.node.nodeid
        if OPEN:
            raise RuntimeError(f"{module}: the world of {OPEN} is still open.")
        with django_db_blocker.unblock():
            atomic = transaction.atomic()
            # As Django marks its TestCase's own transactions: a durable block (a service that
            # must be outermost) is then checked against the test's transaction, not this one.
            atomic._from_testcase = True
            atomic.__enter__()
            try:
                value = build()
            except BaseException:
                atomic.__exit__(*sys.exc_info())
                raise
        OPEN[module] = name
        yield value
        del OPEN[module]
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)

    # A reader asks for the module's fixture by its mark, so pytest sets the world up before
    # the test's `db` and the world's transaction is the outer one.
    @pytest.fixture(name=name)
    def world(request, db):
        if BUILT in request.fixturenames:
            return copy.deepcopy(request.getfixturevalue(BUILT))
        return build()

    return built, world


reads_world = pytest.mark.usefixtures(BUILT)
