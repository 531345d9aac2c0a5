"""A run's state in its kernel: the steps it recorded, prod confirmed by a click, values registered as secret.

A run begins explicitly (begin(), as the runner's kernel does at start) or at the engine's first use
after the last run ended; record() ends it, so the next run in the same kernel starts empty.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass
class Run:
    """What one run keeps from cell to cell."""

    steps: dict[str, list[dict]] = field(default_factory=dict)  # by step name: re-running a cell replaces its step
    confirmed: set[str] = field(default_factory=set)  # environments confirmed by a click and not yet applied to
    secrets: set[str] = field(default_factory=set)  # values registered with redact.register()
    managed: bool = False  # begun by the runner's kernel: the runner, not the kernel, writes the run's record
    started: str = field(default_factory=_now)
    clock: float = field(default_factory=time.monotonic)
    run_id: str = ""  # given with the run's folder, when the run first needs one (see session.folder)
    folder: Path | None = None


_lock = threading.Lock()
_current: Run | None = None


def begin(*, managed: bool = False) -> Run:
    """Begin a new, empty run; it replaces the run in progress."""
    global _current
    with _lock:
        _current = Run(managed=managed)
        return _current


def current() -> Run:
    """The run in progress, beginning one when there is none (first use, or the last run ended)."""
    global _current
    with _lock:
        if _current is None:
            _current = Run()
        return _current


def active() -> Run | None:
    """The run in progress, or None; never begins one."""
    return _current


def end() -> None:
    """End the run in progress: what it kept is dropped, and the next use begins a new run."""
    global _current
    with _lock:
        _current = None
