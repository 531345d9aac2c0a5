"""gunicorn's settings, read from the app's folder: the bookkeeping of Prometheus' multiprocess mode."""

import os
import shutil

from prometheus_client import multiprocess


def on_starting(server):
    """Empty the workers' shared metrics folder before the first worker starts."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    # A master started by USR2 (master_pid names the old one) leaves it: the old workers still count there.
    if folder and not server.master_pid:
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder, exist_ok=True)


def child_exit(server, worker):
    """Let a dead worker's live gauges go."""
    multiprocess.mark_process_dead(worker.pid)
