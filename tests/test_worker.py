"""One smoke test with a real Celery worker process on the configured broker."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from config.celery import app

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.worker


def test_a_real_worker_starts_and_answers_on_the_broker():
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings.test")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo",
         "--loglevel", "WARNING", "--hostname", "smoke@%h", "--without-mingle",
         "--without-gossip"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        replies = []
        deadline = time.monotonic() + 60
        while not replies and time.monotonic() < deadline and worker.poll() is None:
            replies = app.control.ping(timeout=1.0, destination=[f"smoke@{os.uname().nodename}"])
        assert worker.poll() is None, worker.stdout.read()
        assert replies, "the worker did not answer a ping within 60 s"
        assert next(iter(replies[0].values())) == {"ok": "pong"}
    finally:
        worker.terminate()
        worker.wait(timeout=30)
