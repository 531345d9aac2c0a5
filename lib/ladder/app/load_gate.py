"""The load-test gate: locust, headless, against staging on loopback for a bounded time; p99 and error rate held
to the last release's figures.

The locustfile is rendered from the routes the version's commit declares (routes.py), asked as the HTTP smoke
suite asks them. locust runs as a child process and writes its CSV stats; the gate reads the Aggregated row.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..core.errors import LoadRefused
from .verdict import Verdict

GATE = "load"
MAX_USERS = 200
MAX_DURATION = 600  # seconds
DEFAULT_USERS, DEFAULT_DURATION = 5, 10
P99_FACTOR = 2.0  # p99 may grow to this many times the release's
P99_SLACK_MS = 50.0  # plus this: a loopback p99 of a few ms doubles on noise alone
ERROR_BUDGET = 0.01  # the error rate may reach the release's or this, whichever is higher
STOP_TIMEOUT = 5  # seconds locust lets running requests finish after the time is up


@dataclass(frozen=True)
class Limits:
    """The gate's bounds and thresholds, checked before anything runs."""

    users: int = DEFAULT_USERS
    duration: int = DEFAULT_DURATION  # seconds
    p99_factor: float = P99_FACTOR
    p99_slack_ms: float = P99_SLACK_MS
    error_budget: float = ERROR_BUDGET

    def __post_init__(self) -> None:
        if not 1 <= self.users <= MAX_USERS:
            raise LoadRefused("users", self.users, f"give a whole number from 1 to {MAX_USERS}")
        if not 1 <= self.duration <= MAX_DURATION:
            raise LoadRefused("duration", self.duration, f"give seconds from 1 to {MAX_DURATION}")
        if not self.p99_factor >= 1 or not self.p99_slack_ms >= 0:
            raise LoadRefused("p99", (self.p99_factor, self.p99_slack_ms), "the factor is >= 1, the slack >= 0 ms")
        if not 0 <= self.error_budget < 1:
            raise LoadRefused("error_budget", self.error_budget, "give a fraction such as 0.01 (1%)")


@dataclass(frozen=True)
class LoadFigures:
    """locust's Aggregated row: requests, failures, p50 and p99 in ms, throughput."""

    requests: int
    failures: int
    p50_ms: float | None
    p99_ms: float | None
    rps: float

    @property
    def error_rate(self) -> float:
        """Failures per request (0 when nothing was sent)."""
        return self.failures / self.requests if self.requests else 0.0

    def as_dict(self) -> dict[str, Any]:
        """The figures as the journal keeps them."""
        return {"requests": self.requests, "failures": self.failures, "error_rate": round(self.error_rate, 4),
                "p50_ms": self.p50_ms, "p99_ms": self.p99_ms, "rps": round(self.rps, 1)}  # fmt: skip


def locustfile(requests: Sequence[tuple[str, str]]) -> str:
    """A locustfile with one task per (method, path), each named as such, bodies and errors as the smoke suite has
    them."""
    if not requests:
        raise LoadRefused("routes", [], "the version's commit declares no route to load; check `ladder` routes scan")
    tasks = "".join(
        f"\n    @task\n    def t{i}(self):\n"
        f"        self.ask({m!r}, {p!r}"
        + (", json={'name': 'load test'}" if m in ("POST", "PUT", "PATCH") else "")
        + ")\n"
        for i, (m, p) in enumerate(requests)
    )
    return (
        '"""Written by Ladder (load-test gate): each declared route in turn, no think time."""\n\n'
        "from locust import HttpUser, constant, task\n\n\n"
        "class Visitor(HttpUser):\n    wait_time = constant(0)\n\n"
        "    def ask(self, method, path, **body):\n"
        "        # An error is what the smoke suite calls one: no answer or a 5xx; a 404 for an example id is not.\n"
        "        with self.client.request(method, path, name=f'{method} {path}', catch_response=True, **body) as r:\n"
        "            if 0 < r.status_code < 500:\n"
        "                r.success()\n"
        "        # One request per connection, as the smoke suite asks: a server that closes after each answer without\n"
        "        # saying so (uWSGI's http-socket) resets the next request sent on a pooled connection.\n"
        "        self.client.close()\n" + tasks
    )


def command(python: str, file: str, url: str, limits: Limits, csv_prefix: str) -> list[str]:
    """locust's command line: headless, all users at once, bounded in time, CSV stats; failures do not set its exit."""
    return [
        python, "-m", "locust", "-f", file, "--headless", "--host", url,
        "-u", str(limits.users), "-r", str(limits.users), "-t", f"{limits.duration}s",
        "--stop-timeout", str(STOP_TIMEOUT), "--csv", csv_prefix, "--only-summary",
        "--exit-code-on-error", "0", "--loglevel", "WARNING",
    ]  # fmt: skip


def _number(value: str) -> float | None:
    try:
        n = float(value)
    except ValueError:  # "N/A" when no request finished
        return None
    return None if math.isnan(n) else n


def parse_stats(text: str) -> LoadFigures:
    """The Aggregated row of locust's <prefix>_stats.csv; LoadRefused when the file has none."""
    for row in csv.DictReader(io.StringIO(text)):
        if row.get("Name") == "Aggregated":
            return LoadFigures(
                int(row["Request Count"]),
                int(row["Failure Count"]),
                _number(row["50%"]),
                _number(row["99%"]),
                _number(row["Requests/s"]) or 0.0,
            )
    raise LoadRefused("stats", text[:200], "locust wrote no Aggregated row: did it run? see its output above")


def parse_failures(text: str) -> list[str]:
    """locust's <prefix>_failures.csv as lines: `POST /items: HTTPError('500 ...') x3`, most frequent first."""
    rows = sorted(csv.DictReader(io.StringIO(text)), key=lambda r: -int(r.get("Occurrences") or 0))
    return [f"{r['Name']}: {r['Error']} x{r['Occurrences']}" for r in rows]


def judge(
    current: LoadFigures, limits: Limits, baseline: Mapping[str, Any] | None, baseline_version: str | None
) -> Verdict:
    """Fail when nothing was measured, the error rate passes max(release's, budget) or p99 passes release x factor +
    slack; with no release yet, only the error budget holds."""
    figures, base = current.as_dict(), dict(baseline or {})
    against = f" (release {baseline_version})" if base else " (no release measured yet)"
    if not current.requests:
        return Verdict(GATE, False, "locust sent no request: staging did not answer", figures, base, baseline_version)
    allowed_errors = max(float(base.get("error_rate") or 0.0), limits.error_budget)
    problems = []
    if current.error_rate > allowed_errors:
        problems.append(f"error rate {current.error_rate:.1%} > {allowed_errors:.1%}")
    if base.get("p99_ms") is not None and current.p99_ms is not None:
        allowed = float(base["p99_ms"]) * limits.p99_factor + limits.p99_slack_ms
        if current.p99_ms > allowed:
            problems.append(f"p99 {current.p99_ms:.0f} ms > {allowed:.0f} ms ({limits.p99_factor:g} x {base['p99_ms']:.0f} + "
                            f"{limits.p99_slack_ms:g})")  # fmt: skip
    shown = (f"{current.requests} requests, p99 {current.p99_ms if current.p99_ms is not None else '-'} ms, "
             f"errors {current.error_rate:.1%}")  # fmt: skip
    if problems:
        return Verdict(GATE, False, "; ".join(problems) + against, figures, base, baseline_version)
    return Verdict(GATE, True, shown + " within thresholds" + against, figures, base, baseline_version)
