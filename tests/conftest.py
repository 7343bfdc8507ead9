import pytest

from tests.kernel.factories import MentorUserFactory, StaffFactory, UserFactory
from tests.programs.factories import CoordinatorFactory


@pytest.fixture(autouse=True)
def _clear_cache():
    # Rate-limit counters live in the cache; each test starts with none.
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _english_outside_requests():
    # Pages for emailed links activate the reader's language for the rest of the thread; a test
    # that calls a service directly afterwards must not inherit it.
    from django.utils import translation

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
    from tests.e2e.conftest import NO_BROWSER

    skipped = [
        report for report in terminalreporter.stats.get("skipped", [])
        if NO_BROWSER in str(report.longrepr)
    ]
    if skipped:
        count = len(skipped)
        terminalreporter.write_sep("!", f"NOTICE: {count} browser tests skipped", yellow=True)
        terminalreporter.write_line(NO_BROWSER)
