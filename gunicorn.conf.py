"""gunicorn reads this file from its working directory (the image's /app, the repository root).

With PROMETHEUS_MULTIPROC_DIR set, every process writes its metrics to files there and /metrics
adds them up (ecocycle.metrics); a worker that exits has its live gauges dropped. Empty the
folder before the stack starts (a fresh tmpfs or `rm -f "$PROMETHEUS_MULTIPROC_DIR"/*.db`).
"""

import os

from prometheus_client import multiprocess


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
