import pytest
from django.core.cache import cache
from django.utils import translation

from tests import worlds
from tests.e2e import NO_BROWSER
from tests.kernel.factories import MentorUserFactory, StaffFactory, UserFactory
from tests.programs.factories import CoordinatorFactory


def pytest_collection_modifyitems(items):
    # After pytest-django's order (plain database tests, transactional ones, the rest): within
    # each module's run, the readers of the module's world come last (see tests/worlds.py).
    ordered, run = [], []
    for item in [*items, None]:
        if run and (item is None or item.path != run[0].path):
            ordered += sorted(run, key=lambda test: worlds.BUILT in test.fixturenames)
            run = []
        if item is not None:
            run.append(item)
    items[:] = ordered


@pytest.fixture(autouse=True)
def _no_world_beside(request):
    """Fails a test that would see a world it did not ask for, or run a transaction of its own
    inside a world's."""
    marker = request.node.get_closest_marker("django_db")
    fixtures = set(request.fixturenames)
    if not worlds.OPEN or (marker is None and not {"db", "transactional_db"} & fixtures):
        return
    transactional = {"transactional_db", "live_server"} & fixtures or (
        marker is not None and (marker.kwargs.get("transaction")
                                or marker.kwargs.get("reset_sequences")))
    if worlds.BUILT not in fixtures or transactional:
        pytest.fail(f"{request.node.nodeid} runs while the world of {worlds.OPEN} is open: "
                    "only the module's readers (marked reads_world) may, and no transactional "
                    "test.")


@pytest.fixture(autouse=True)
def _clear_cache():
    # Rate-limit counters live in the cache; each test starts with none.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _english_outside_requests():
    # Pages for emailed links activate the reader's language for the rest of the thread; a test
    # that calls a service directly afterwards must not inherit it.
    translation.activate("en")
    yield
    translation.activate("en")


@pytest.fixture
def staff_user(db):
    return StaffFactory()


@pytest.fixture
def coordinator(db):
    return CoordinatorFactory()


@pytest.fixture
def coordinator_user(coordinator):
    return coordinator.user


@pytest.fixture
def mentor_user(db):
    return MentorUserFactory()


@pytest.fixture
def plain_user(db):
    return UserFactory()


def pytest_terminal_summary(terminalreporter):
    skipped = [
        report for report in terminalreporter.stats.get("skipped", [])
        if NO_BROWSER in str(report.longrepr)
    ]
    if skipped:
        count = len(skipped)
        terminalreporter.write_sep("!", f"NOTICE: {count} browser tests skipped", yellow=True)
        terminalreporter.write_line(NO_BROWSER)
