"""Locks on runs: one scheduled run of a runbook at a time, and one apply per environment at a time.

On this machine a lock is an flock on a file under the runs home, which the kernel frees when its process
ends, as `flock -n` does for cron jobs: a killed run never leaves it stale. An apply also writes a lock
file on each host of the environments it changes, so that applies from two machines do not collide; that
one is stale when its owner's process is gone (known where the owner ran on this machine) or it is older
than stale_after seconds.
"""

from __future__ import annotations

import fcntl
import json
import os
import shlex
import socket
import time
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from ..core.config import Config
from ..core.errors import EnvironmentLocked, RunLocked
from ..core.hosts import Host, environment_hosts
from ..core.paths import inside
from ..core.private import private_dir
from .journal import alive, now

FOLDER = "schedule"  # under the runs home: each scheduled runbook's lock and log
ENV_FOLDER = "locks"  # under the runs home: each environment's apply lock
HOST_LOCK = ".ladder-apply.lock"  # under each host's base
STALE_AFTER = 6 * 3600.0  # a host lock older than this is stale even when its owner cannot be asked
POLL = 0.5  # seconds between two tries of a waiting apply


def lock_path(runs_dir: str | Path, runbook: str) -> Path:
    """Where a runbook's run lock lives."""
    return inside(runs_dir, FOLDER, f"{runbook}.lock", what="runbook name")


def env_lock_path(runs_dir: str | Path, environment: str) -> Path:
    """Where an environment's apply lock lives on this machine."""
    return inside(runs_dir, ENV_FOLDER, f"{environment}.lock", what="environment name")


def _owner() -> dict[str, Any]:
    return {"pid": os.getpid(), "host": socket.gethostname(), "since": now()}


def _read_owner(text: str | bytes) -> dict[str, Any]:
    """The owner a lock file names, or {} when it is empty or not a lock Ladder wrote."""
    try:
        data = json.loads(text or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


@contextmanager
def _flocked(path: Path) -> Iterator[dict[str, Any] | None]:
    """Try to flock path: yield None while holding it (named as this process), or its holder when another has it."""
    private_dir(path.parent)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield _read_owner(os.pread(fd, 4096, 0))  # {}: the holder has not written itself in yet
            return
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(_owner()).encode(), 0)
        yield None
    finally:
        os.close(fd)


@contextmanager
def held(runs_dir: str | Path, runbook: str) -> Iterator[Path]:
    """Hold the runbook's lock for the block; RunLocked at once when another process holds it."""
    path = lock_path(runs_dir, runbook)
    with _flocked(path) as holder:
        if holder is not None:
            who = f"pid {holder['pid']} since {holder['since']}" if "pid" in holder else "pid unknown"
            raise RunLocked(runbook, path, who, now())
        yield path


# --- applies: one per environment --------------------------------------------------------------
def _stale(owner: dict[str, Any], stale_after: float) -> bool:
    """A host lock is stale when its owner ran here and is gone, or it is older than stale_after."""
    try:
        age = time.time() - datetime.fromisoformat(str(owner["since"])).timestamp()
    except (KeyError, ValueError):
        return True  # not a lock Ladder wrote whole (e.g. a write cut short)
    mine = owner.get("host") == socket.gethostname()
    return age > stale_after or (mine and isinstance(owner.get("pid"), int) and not alive(owner["pid"]))


def _take_on_host(host: Host, me: str, stale_after: float) -> dict[str, Any] | None:
    """Create the host's lock file unless another apply's is there: None when taken, else that apply's owner."""
    path = shlex.quote(host.path(HOST_LOCK))
    # noclobber (set -C): the redirection creates the file or fails, atomically, as O_EXCL does.
    take = f"( set -C; printf '%s\\n' {shlex.quote(me)} > {path} ) 2>/dev/null && echo taken || cat {path}"
    for _ in range(2):
        out = host.run(take).stdout.strip()
        if out == "taken":
            return None
        owner = _read_owner(out)
        if not _stale(owner, stale_after):
            return owner
        # Remove the stale lock only if it is still that one, then try once more.
        host.run(f'[ "$(cat {path} 2>/dev/null)" = {shlex.quote(out)} ] && rm -f {path} || true')
    return owner


def _release_on_host(host: Host, me: str) -> None:
    """Remove the host's lock file if it is still this apply's."""
    path = shlex.quote(host.path(HOST_LOCK))
    host.run(f'[ "$(cat {path} 2>/dev/null)" = {shlex.quote(me)} ] && rm -f {path} || true')


def _try(stack: ExitStack, cfg: Config, runs_dir: Path, names: list[str], stale_after: float) -> None:
    """Take every lock of the environments into stack, or raise EnvironmentLocked naming the first holder."""
    for name in names:
        path = env_lock_path(runs_dir, name)
        holder = stack.enter_context(_flocked(path))
        if holder is not None:
            raise EnvironmentLocked(name, str(path), holder.get("pid", "unknown"), holder.get("host", "unknown"),
                                    holder.get("since", "unknown"))  # fmt: skip
    me = json.dumps(_owner(), sort_keys=True)
    for name in names:
        for host in environment_hosts(cfg, name):
            stack.callback(host.close)
            owner = _take_on_host(host, me, stale_after)
            if owner is not None:
                where = f"{host.name}:{host.path(HOST_LOCK)}"
                raise EnvironmentLocked(name, where, owner.get("pid", "unknown"), owner.get("host", "unknown"),
                                        owner.get("since", "unknown"))  # fmt: skip
            stack.callback(_release_on_host, host, me)


@contextmanager
def environments(
    cfg: Config,
    runs_dir: str | Path,
    names: Iterable[str] | None = None,
    *,
    wait: bool = False,
    stale_after: float = STALE_AFTER,
) -> Iterator[list[str]]:
    """Hold the apply lock of each environment (default: all of cfg's) here and on its hosts, for the block.

    All or none: when one is held by another apply, the ones taken are let go, then EnvironmentLocked is
    raised at once, or (wait) everything is tried again until it is free.
    """
    ordered = sorted(set(cfg.environments if names is None else names))  # one order: two applies never deadlock
    while True:
        with ExitStack() as stack:
            try:
                _try(stack, cfg, Path(runs_dir), ordered, stale_after)
            except EnvironmentLocked:
                if not wait:
                    raise
            else:
                yield ordered
                return
        time.sleep(POLL)
