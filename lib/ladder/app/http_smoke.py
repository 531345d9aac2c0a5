"""Smoke tests over real HTTP against a running environment: every declared route answers, /health names the version.

Rung 2's suite (smoke.py) calls the app in process; this one asks a deployed copy through its port, as the
pipeline does against staging before it promotes an artifact to prod.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass

from .routes import Route
from .smoke import example_path

TIMEOUT = 10.0
BODY_METHODS = ("POST", "PUT", "PATCH")


@dataclass(frozen=True)
class Probe:
    """One request of the suite: what was asked, the HTTP status (None: no answer) and why it failed."""

    method: str
    path: str
    status: int | None
    error: str = ""

    @property
    def ok(self) -> bool:
        """True when the route answered without a server error."""
        return not self.error


@dataclass(frozen=True)
class SmokeReport:
    """The suite's result against one base URL: each probe and the health check of the expected version."""

    url: str
    version: str
    probes: tuple[Probe, ...]

    @property
    def failed(self) -> tuple[Probe, ...]:
        """The probes that failed."""
        return tuple(p for p in self.probes if not p.ok)

    @property
    def ok(self) -> bool:
        """True when every probe passed."""
        return not self.failed

    def summary(self) -> str:
        """One line: passed, or the failing routes with their status."""
        if self.ok:
            return f"smoke {self.url} ({self.version}): {len(self.probes)} check(s) passed"
        bad = "; ".join(f"{p.method} {p.path}: {p.error}" for p in self.failed)
        return f"smoke {self.url} ({self.version}): {len(self.failed)} of {len(self.probes)} failed: {bad}"


def requests_for(found: Sequence[Route]) -> list[tuple[str, str]]:
    """One (method, concrete path) per declared route, as rung 2's suite asks them; '*' asks GET."""
    return sorted({("GET" if r.method == "*" else r.method.upper(), example_path(r.path)) for r in found})


def ask(base: str, method: str, path: str, timeout: float = TIMEOUT) -> tuple[int | None, bytes, str]:
    """One HTTP request: (status, body, transport error)."""
    data = json.dumps({"name": "smoke test"}).encode() if method in BODY_METHODS else None
    request = urllib.request.Request(base.rstrip("/") + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return resp.status, resp.read(), ""
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), ""
    except (urllib.error.URLError, OSError) as exc:
        return None, b"", str(getattr(exc, "reason", exc))


def route_probe(base: str, method: str, path: str, timeout: float = TIMEOUT) -> Probe:
    """A route passes when it answers below 500."""
    status, _, error = ask(base, method, path, timeout)
    if error:
        return Probe(method, path, None, f"no answer: {error}")
    return Probe(method, path, status, "" if status is not None and status < 500 else f"HTTP {status}")


def health_probe(base: str, path: str, version: str, timeout: float = TIMEOUT) -> Probe:
    """The health path passes when it answers 200 with the expected version in its JSON body."""
    status, body, error = ask(base, "GET", path, timeout)
    if error or status != 200:
        return Probe("GET", path, status, f"no answer: {error}" if error else f"HTTP {status}")
    try:
        seen = json.loads(body or b"{}").get("version")
    except (ValueError, AttributeError):
        seen = None
    return Probe("GET", path, status, "" if str(seen) == version else f"reports version {seen!r}, not {version!r}")


def run(base: str, found: Sequence[Route], health_path: str, version: str, timeout: float = TIMEOUT) -> SmokeReport:
    """The suite against base: the health check first, then every declared route."""
    probes = [health_probe(base, health_path, version, timeout)]
    probes += [route_probe(base, m, p, timeout) for m, p in requests_for(found)]
    return SmokeReport(base, version, tuple(probes))
