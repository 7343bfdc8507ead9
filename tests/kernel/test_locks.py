"""A job's lock: one copy at a time, and a killed job's lock expires within two minutes."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from ecocycle.locks import JobBusy, exclusive_job
from ecocycle.models import JobLock

pytestmark = pytest.mark.skipif(
    connection.vendor == "postgresql",
    reason="PostgreSQL's advisory locks die with the session: no lease to expire")


class FakeClock:
    def __init__(self):
        self.now = timezone.now()

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(timezone, "now", fake)
    return fake


@pytest.mark.django_db
def test_a_killed_jobs_lock_is_taken_over_within_two_minutes(clock):
    with exclusive_job("run-matching"):
        lease = JobLock.objects.values("holder", "expires_at").get(name="run-matching")
    # Killed before its `finally`: the lease stays as the job took it.
    JobLock.objects.filter(name="run-matching").update(**lease)
    with pytest.raises(JobBusy), exclusive_job("run-matching"):
        pass
    clock.now += timedelta(minutes=2)
    with exclusive_job("run-matching"):
        assert JobLock.objects.get(name="run-matching").holder != lease["holder"]


@pytest.mark.django_db(transaction=True)
def test_a_live_job_keeps_its_lock_past_the_lease(clock, monkeypatch):
    # The second copy waits one second, not twenty, for SQLite's write lock.
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "timeout", 1)
    connection.close()
    inside, finish = threading.Event(), threading.Event()

    def long_job():
        try:
            with exclusive_job("long-job"):
                inside.set()
                finish.wait(30)
        finally:
            connections.close_all()

    job = threading.Thread(target=long_job)
    job.start()
    try:
        assert inside.wait(10)
        clock.now += timedelta(minutes=30)
        with pytest.raises(JobBusy), exclusive_job("long-job"):
            pass
    finally:
        finish.set()
        job.join()
    with exclusive_job("long-job"):
        pass


@pytest.mark.django_db(transaction=True)
def test_a_job_without_a_transaction_renews_its_lease_and_keeps_it(clock):
    with exclusive_job("nightly", atomic=False) as lease:
        assert not connection.in_atomic_block  # it writes in short transactions of its own
        taken = JobLock.objects.get(name="nightly").expires_at
        lease.renew()  # too early: no write
        assert JobLock.objects.get(name="nightly").expires_at == taken
        clock.now += timedelta(seconds=80)
        lease.renewed -= 60
        lease.renew()
        assert JobLock.objects.get(name="nightly").expires_at == clock.now + timedelta(seconds=90)
        clock.now += timedelta(seconds=80)  # past the first lease, within the renewed one
        with pytest.raises(JobBusy), exclusive_job("nightly"):
            pass
    with exclusive_job("nightly"):
        pass


@pytest.mark.django_db(transaction=True)
def test_a_job_whose_lease_was_taken_over_stops_at_its_next_renewal(clock):
    with pytest.raises(JobBusy), exclusive_job("nightly", atomic=False) as lease:
        JobLock.objects.filter(name="nightly").update(holder="another copy")
        lease.renewed -= 60
        lease.renew()
