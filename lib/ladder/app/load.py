"""Steady HTTP load on loopback: an open-loop asyncio client that measures what users see during a deploy.

Open loop: request i is due at start + i/rate whatever happened to the earlier ones, and its latency counts
from that due time. A closed-loop client (send, wait, send again) slows down when the server stalls, so it sends
fewer requests exactly when things go bad and its percentiles hide the stall: coordinated omission (Gil Tene,
wrk2). Like k6's constant-arrival-rate, a request due while every slot of the concurrency cap is busy is not
sent; it is counted as dropped, never silently skipped. Only loopback targets are accepted: this is a test tool.

    with load.steady("http://127.0.0.1:8080/health", rate=100, duration=20) as run:
        run.mark("during"); deploy(); run.mark("after")
    summary = run.result()
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import math
import socket
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..core.errors import LoadRefused

if TYPE_CHECKING:
    import pandas

DEFAULT_RATE = 100.0  # requests/s
DEFAULT_CONCURRENCY = 64  # requests in flight at most
DEFAULT_TIMEOUT = 5.0  # seconds for one request: connect, send, whole answer
MAX_RATE = 5000.0
MAX_DURATION = 3600.0
MAX_REQUESTS = 1_000_000  # rate x duration: the samples are kept in memory
MAX_HEAD = 64 * 1024  # bytes of status line and headers
KEEP_BODY = 64 * 1024  # bytes of body kept to read a JSON version from
FIRST_PHASE = "before"


@dataclass(frozen=True)
class Target:
    """Where the load goes: a loopback host and port, and the paths sent in turn."""

    host: str
    port: int
    paths: tuple[str, ...]

    @property
    def authority(self) -> str:
        """The Host header's value."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def _loopback(host: str, port: int) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    if host.lower() != "localhost":
        return False  # never resolve other names: a typo must not reach someone's server
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return False
    return bool(found) and all(ipaddress.ip_address(str(a[4][0]).split("%")[0]).is_loopback for a in found)


def _path(path: str, field: str) -> str:
    if not path.startswith("/") or any(c.isspace() or not c.isprintable() for c in path):
        raise LoadRefused(field, path, "a path starts with / and holds no spaces or control characters")
    return path


def target(url: str, paths: Sequence[str] | None = None) -> Target:
    """Check a URL (and optional paths to send in turn) and make the Target; LoadRefused when it is off loopback."""
    parts = urlsplit(url)
    if parts.scheme != "http":
        raise LoadRefused("url", url, "give a plain http:// URL on loopback (127.0.0.0/8, ::1 or localhost)")
    try:
        port = parts.port or 80
    except ValueError:
        raise LoadRefused("url", url, "its port is not a number from 1 to 65535") from None
    host = parts.hostname or ""
    if not _loopback(host, port):
        raise LoadRefused(
            "url", url, f"{host or 'no host'} is not loopback; aim the load at 127.0.0.0/8, ::1 or localhost only"
        )
    if paths is None:
        paths = [(parts.path or "/") + (f"?{parts.query}" if parts.query else "")]
    if isinstance(paths, str) or not paths:
        raise LoadRefused("paths", paths, "give a non-empty list of paths such as ['/health', '/items']")
    return Target(host, port, tuple(_path(p, "path") for p in paths))


@dataclass(frozen=True)
class Sample:
    """One request: when it was due, how long until its answer ended, and what came back."""

    offset: float  # seconds from the run's start at which it was due
    latency: float | None  # seconds from due to the end of the answer (or the error); None when dropped
    path: str
    status: int | None  # the HTTP status, None when no answer came
    error: str  # "" when an answer came; else refused, reset, closed, timeout, dropped, bad response, ...
    phase: str = FIRST_PHASE
    served_by: str = ""  # the X-Served-By header, else the JSON body's "host"
    version: str = ""  # the X-App-Version header, else the JSON body's "version" (/health's)

    @property
    def ok(self) -> bool:
        """True for a 2xx answer."""
        return not self.error and self.status is not None and 200 <= self.status < 300

    @property
    def kind(self) -> str:
        """ok, the error, or 'http NNN' for a non-2xx answer."""
        return "ok" if self.ok else self.error or f"http {self.status}"


def percentile(values: Sequence[float], p: float) -> float | None:
    """The nearest-rank p-th percentile (the smallest value with p% at or below it); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass(frozen=True)
class PhaseStats:
    """Counts and latency percentiles of the requests due within one phase."""

    name: str
    sent: int
    ok: int
    failed: int
    dropped: int
    p50: float | None  # seconds, over answered and failed requests alike (a timeout is a slow answer)
    p99: float | None

    def line(self) -> str:
        """One printable line."""

        def ms(v: float | None) -> str:
            return "-" if v is None else f"{v * 1000:.1f} ms"

        return (
            f"{self.name:<20} sent {self.sent:>6}  failed {self.failed:>4}  dropped {self.dropped:>4}  "
            f"p50 {ms(self.p50):>9}  p99 {ms(self.p99):>9}"
        )


@dataclass(frozen=True)
class Summary:
    """What one run measured: every sample, the phases the caller marked, and the rate asked and achieved."""

    samples: tuple[Sample, ...]
    rate: float  # requests/s asked
    window: float  # seconds from the start until the last request was due, plus one interval
    marks: tuple[tuple[float, str], ...] = ((0.0, FIRST_PHASE),)

    @property
    def due(self) -> int:
        """Requests due: sent plus dropped."""
        return len(self.samples)

    @property
    def sent(self) -> int:
        """Requests actually sent."""
        return sum(s.error != "dropped" for s in self.samples)

    @property
    def ok(self) -> int:
        """Requests answered with a 2xx."""
        return sum(s.ok for s in self.samples)

    @property
    def failed(self) -> int:
        """Requests sent that got a non-2xx answer or an error."""
        return self.sent - self.ok

    @property
    def dropped(self) -> int:
        """Requests not sent because the concurrency cap was reached."""
        return self.due - self.sent

    @property
    def kinds(self) -> dict[str, int]:
        """How many requests failed (or were dropped) in each way, most common first."""
        return dict(Counter(s.kind for s in self.samples if not s.ok).most_common())

    @property
    def achieved_rate(self) -> float:
        """Requests sent per second over the sending window."""
        return self.sent / self.window if self.window > 0 else 0.0

    @property
    def phases(self) -> dict[str, PhaseStats]:
        """Stats per phase, in the order the phases were first marked."""
        names = list(dict.fromkeys(name for _, name in self.marks))
        return {name: self.phase(name) for name in names}

    def phase(self, name: str) -> PhaseStats:
        """Stats over the requests due within a phase (every stretch marked with that name)."""
        mine = [s for s in self.samples if s.phase == name]
        sent = [s for s in mine if s.error != "dropped"]
        latencies = [s.latency for s in sent if s.latency is not None]
        ok = sum(s.ok for s in sent)
        return PhaseStats(
            name,
            len(sent),
            ok,
            len(sent) - ok,
            len(mine) - len(sent),
            percentile(latencies, 50),
            percentile(latencies, 99),
        )

    def versions(self, phase: str | None = None) -> dict[str, int]:
        """How many 2xx answers each version gave (in one phase, or overall)."""
        return dict(Counter(s.version for s in self.samples if s.ok and (phase is None or s.phase == phase)))

    def lines(self) -> list[str]:
        """A printable summary: totals, failure kinds, then one line per phase."""
        kinds = ", ".join(f"{k}: {n}" for k, n in self.kinds.items()) or "none"
        return [
            f"sent {self.sent} of {self.due} due at {self.rate:g}/s asked, {self.achieved_rate:.1f}/s achieved; "
            f"ok {self.ok}, failed {self.failed}, dropped {self.dropped} ({kinds})",
            *(p.line() for p in self.phases.values()),
        ]

    def frame(self) -> pandas.DataFrame:
        """One row per request: Sample's fields (latency as latency_ms), its kind and ok."""
        import pandas as pd  # only callers that chart need pandas

        rows = [
            {**asdict(s), "latency_ms": None if s.latency is None else s.latency * 1000, "kind": s.kind, "ok": s.ok}
            for s in self.samples
        ]
        return pd.DataFrame(rows).drop(columns="latency") if rows else pd.DataFrame()


def phase_at(marks: Sequence[tuple[float, str]], offset: float) -> str:
    """The phase marked last at or before offset (marks sorted by offset)."""
    name = FIRST_PHASE
    for at, mark in marks:
        if at > offset:
            break
        name = mark
    return name


def parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    """An HTTP/1.x status line and headers -> (status, {lower-case name: value}); ValueError when it is not one."""
    lines = head.decode("latin-1").split("\r\n")
    words = lines[0].split(" ", 2)
    if len(words) < 2 or not words[0].startswith("HTTP/1.") or not words[1].isdigit():
        raise ValueError(f"not an HTTP/1 status line: {lines[0][:80]!r}")
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return int(words[1]), headers


def identity(headers: dict[str, str], body: bytes) -> tuple[str, str]:
    """(served_by, version): the X-Served-By and X-App-Version headers, else a JSON body's host and version."""
    served_by, version = headers.get("x-served-by", ""), headers.get("x-app-version", "")
    if (not served_by or not version) and "json" in headers.get("content-type", ""):
        with contextlib.suppress(ValueError):
            data = json.loads(body)
            if isinstance(data, dict):
                served_by = served_by or str(data.get("host") or "")
                version = version or str(data.get("version") or "")
    return served_by, version


def _error_kind(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, ConnectionResetError | BrokenPipeError):
        return "reset"
    if isinstance(exc, asyncio.IncompleteReadError):
        return "closed"
    if isinstance(exc, ValueError | asyncio.LimitOverrunError):
        return "bad response"
    return type(exc).__name__


class Run:
    """A load run in a background thread: mark phases while it runs, then take its Summary."""

    def __init__(self, tgt: Target, *, rate: float, duration: float, concurrency: int, timeout: float) -> None:
        self.target, self.rate, self.duration = tgt, rate, duration
        self.concurrency, self.timeout = concurrency, timeout
        self._marks: list[tuple[float, str]] = [(0.0, FIRST_PHASE)]
        self._raw: list[tuple[float, float | None, str, int | None, str, str, str]] = []
        self._stop = threading.Event()
        self._failure: BaseException | None = None
        self._summary: Summary | None = None
        self._window = 0.0
        self._inflight = 0
        self._t0 = time.monotonic()
        self._thread = threading.Thread(target=self._main, name="ladder-load", daemon=True)
        self._thread.start()

    def now(self) -> float:
        """Seconds since the run started."""
        return time.monotonic() - self._t0

    def mark(self, phase: str) -> float:
        """Start a phase now: requests due from here on count in it. Returns the offset."""
        if not phase or not phase.isprintable():
            raise LoadRefused("phase", phase, "name a phase with printable text, such as 'during'")
        at = self.now()
        self._marks.append((at, phase))
        return at

    def stop(self) -> None:
        """Send no more requests; the ones in flight finish (within the timeout)."""
        self._stop.set()

    def result(self, timeout: float | None = None) -> Summary:
        """Wait for the run to end and summarize it; TimeoutError if it has not ended within timeout."""
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError(f"the load run is still going after {timeout:g}s; call stop() first")
        if self._failure is not None:
            raise self._failure
        if self._summary is None:
            marks = tuple(sorted(self._marks))
            samples = tuple(
                Sample(off, lat, path, status, err, phase_at(marks, off), by, ver)
                for off, lat, path, status, err, by, ver in sorted(self._raw, key=lambda r: r[0])
            )
            self._summary = Summary(samples, self.rate, self._window, marks)
        return self._summary

    def __enter__(self) -> Run:
        return self

    def __exit__(self, kind: object, exc: object, tb: object) -> None:
        if exc is not None:
            self.stop()
        self._thread.join()

    def _main(self) -> None:
        try:
            asyncio.run(self._drive())
        except BaseException as exc:  # handed to the caller by result()
            self._failure = exc

    async def _drive(self) -> None:
        tasks: set[asyncio.Task[None]] = set()
        count = round(self.rate * self.duration)
        for i in range(count):
            due = i / self.rate
            delay = due - self.now()
            if delay > 0:
                await asyncio.sleep(delay)
            if self._stop.is_set():
                break
            path = self.target.paths[i % len(self.target.paths)]
            self._window = due + 1 / self.rate
            if self._inflight >= self.concurrency:
                self._raw.append((due, None, path, None, "dropped", "", ""))
                continue
            self._inflight += 1
            task = asyncio.create_task(self._one(due, path))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.wait(tasks)

    async def _one(self, due: float, path: str) -> None:
        status: int | None = None
        error = served_by = version = ""
        try:
            status, headers, body = await asyncio.wait_for(self._fetch(path), self.timeout)
            served_by, version = identity(headers, body)
        except Exception as exc:  # every failure is a sample, named by its kind
            error = _error_kind(exc)
        finally:
            self._inflight -= 1
        self._raw.append((due, self.now() - due, path, status, error, served_by, version))

    async def _fetch(self, path: str) -> tuple[int, dict[str, str], bytes]:
        reader, writer = await asyncio.open_connection(self.target.host, self.target.port, limit=MAX_HEAD)
        try:
            request = (
                f"GET {path} HTTP/1.1\r\nHost: {self.target.authority}\r\n"
                "User-Agent: ladder-load\r\nAccept: */*\r\nConnection: close\r\n\r\n"
            )
            writer.write(request.encode("latin-1"))
            await writer.drain()
            status, headers = parse_head(await reader.readuntil(b"\r\n\r\n"))
            length = headers.get("content-length", "")
            body = b""
            if length.isdigit():
                remaining = int(length)
                while remaining:
                    chunk = await reader.readexactly(min(remaining, KEEP_BODY))
                    body = body or chunk
                    remaining -= len(chunk)
            else:  # no length: the answer ends when the server closes (we asked for Connection: close)
                while chunk := await reader.read(KEEP_BODY):
                    body = body or chunk
            return status, headers, body
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


def steady(
    url: str,
    *,
    rate: float = DEFAULT_RATE,
    duration: float = 10.0,
    paths: Sequence[str] | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    timeout: float = DEFAULT_TIMEOUT,
) -> Run:
    """Start sending `rate` GETs per second to a loopback URL (or its host with `paths` in turn) for `duration` s."""
    tgt = target(url, paths)
    checks: list[tuple[str, Any, bool, str]] = [
        ("rate", rate, 0 < rate <= MAX_RATE, f"requests per second above 0, at most {MAX_RATE:g}"),
        ("duration", duration, 0 < duration <= MAX_DURATION, f"seconds above 0, at most {MAX_DURATION:g}"),
        ("concurrency", concurrency, isinstance(concurrency, int) and 0 < concurrency <= 1000, "a whole 1..1000"),
        ("timeout", timeout, 0 < timeout <= 300, "seconds above 0, at most 300"),
    ]
    for field, value, good, fix in checks:
        if isinstance(value, bool) or not good:
            raise LoadRefused(field, value, fix)
    if rate * duration > MAX_REQUESTS:
        raise LoadRefused("rate x duration", rate * duration, f"at most {MAX_REQUESTS} requests in one run")
    return Run(tgt, rate=rate, duration=duration, concurrency=concurrency, timeout=timeout)
