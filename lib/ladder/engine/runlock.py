"""One scheduled run of a runbook at a time: a lock file under the runs home, freed when its process ends."""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..core.errors import RunLocked
from ..core.paths import inside
from ..core.private import private_dir
from .journal import now

FOLDER = "schedule"  # under the runs home: each scheduled runbook's lock and log


def lock_path(runs_dir: str | Path, runbook: str) -> Path:
    """Where a runbook's run lock lives."""
    return inside(runs_dir, FOLDER, f"{runbook}.lock", what="runbook name")


def _holder(fd: int) -> str:
    """Who holds the lock, as it wrote itself into the file: 'pid N since T'."""
    try:
        data = json.loads(os.pread(fd, 4096, 0) or b"{}")
        return f"pid {data['pid']} since {data['since']}"
    except (ValueError, KeyError, TypeError):
        return "pid unknown"  # the holder has not written itself in yet


@contextmanager
def held(runs_dir: str | Path, runbook: str) -> Iterator[Path]:
    """Hold the runbook's lock for the block; RunLocked at once when another process holds it.

    As `flock -n` does for cron jobs: the kernel frees an flock when its process dies,
    so a killed run never leaves a stale lock behind. The file itself stays.
    """
    path = lock_path(runs_dir, runbook)
    private_dir(path.parent)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunLocked(runbook, path, _holder(fd), now()) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "since": now()}).encode(), 0)
        yield path
    finally:
        os.close(fd)
