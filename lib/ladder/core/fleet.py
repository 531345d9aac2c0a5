"""One operation over many hosts: bounded parallelism, a deadline per host, errors as values."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import TypeVar

from .errors import DeadlineExceeded, FleetError
from .hosts import Host, Result

T = TypeVar("T")


def run_all(
    hosts: Iterable[Host],
    fn: Callable[[Host], T],
    *,
    workers: int = 10,
    deadline: float = 60,
    raise_on_error: bool = True,
) -> dict[str, T | BaseException]:
    """Call fn(host) on every host in parallel; raise one FleetError naming each failed host."""
    queue = list(hosts)
    names = [h.name for h in queue]
    if len(set(names)) != len(names):
        raise ValueError(f"host names must be unique: {names}")
    results: dict[str, T | BaseException] = {}
    running: dict[str, float] = {}  # host name -> when its work started
    cond = threading.Condition()

    def call(host: Host) -> None:
        try:
            value: T | BaseException = fn(host)
        except Exception as exc:  # one host's failure is a value, not the end of the run
            value = exc
        with cond:
            results.setdefault(host.name, value)  # a late answer never replaces a deadline error
            cond.notify_all()

    with cond:
        while queue or running:
            while queue and len(running) < max(1, workers):
                host = queue.pop(0)
                running[host.name] = time.monotonic()
                # Daemon threads: a host stuck past its deadline must not hold up the caller.
                threading.Thread(target=call, args=(host,), daemon=True, name=f"fleet-{host.name}").start()
            now = time.monotonic()
            for name, started in list(running.items()):
                if name in results:
                    del running[name]
                elif now - started >= deadline:
                    results[name] = DeadlineExceeded(f"no result within {deadline:g}s", host=name)
                    del running[name]
            if running:
                cond.wait(timeout=max(0.01, min(s + deadline for s in running.values()) - now))
    ordered = {name: results[name] for name in names}
    if raise_on_error and any(isinstance(r, BaseException) for r in ordered.values()):
        raise FleetError(ordered)
    return ordered


def answers(hosts: Iterable[Host], *, timeout: float) -> dict[str, Result | BaseException]:
    """Run `uname -n` on every host: which hosts answer (their result) and why the others don't (their error)."""
    return run_all(hosts, lambda h: h.run("uname -n", timeout=timeout), raise_on_error=False)
