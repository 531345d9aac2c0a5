"""Reading the central log host's files into pandas, bounded by a time window and a row cap, and summing them up."""

from __future__ import annotations

import json
import re
import shlex
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pandas as pd

from ..core.errors import LadderError
from ..core.hosts import Host

q = shlex.quote
READ_TIMEOUT = 120
COLUMNS = [
    "received",
    "timestamp",
    "host",
    "request_id",
    "method",
    "route",
    "status",
    "latency_ms",
    "version",
    "error",
    "delay_ms",
]
DAY_FILE = re.compile(r"^(?P<host>[^/]+)/(?P<day>\d{4}-\d{2}-\d{2})\.log$")


@dataclass(frozen=True)
class Window:
    """The time window and row cap of one read."""

    since: datetime
    until: datetime
    max_rows: int

    def __post_init__(self) -> None:
        if self.since.tzinfo is None or self.until.tzinfo is None:
            raise LadderError("since and until must carry a time zone, e.g. datetime.now(UTC)")
        if self.until <= self.since:
            raise LadderError(f"until ({self.until}) must be after since ({self.since})")
        if self.max_rows < 1:
            raise LadderError(f"max_rows must be at least 1, not {self.max_rows}")

    def days(self) -> set[str]:
        """The UTC days the window touches, as the log host names its files."""
        first, last = self.since.astimezone(UTC).date(), self.until.astimezone(UTC).date()
        return {str(first + timedelta(days=i)) for i in range((last - first).days + 1)}


def parse_line(line: str) -> dict | None:
    """One central line (`<received> <host> <app JSON>`) as a record; None for a line that is not a request log."""
    parts = line.rstrip("\n").split(" ", 2)
    if len(parts) != 3:
        return None
    received, host, message = parts
    try:
        data = json.loads(message)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("message") != "request" or "status" not in data:
        return None
    return {
        "received": received,
        "timestamp": data.get("timestamp"),
        "host": host,
        "request_id": data.get("request_id"),
        "method": data.get("method"),
        "route": data.get("route"),
        "status": data.get("status"),
        "latency_ms": data.get("latency_ms"),
        "version": data.get("version"),
        "error": data.get("error"),
    }


def frame(records: Sequence[dict]) -> pd.DataFrame:
    """Records as a typed DataFrame, with the delay from the app's log line to its arrival on the log host."""
    df = pd.DataFrame(list(records), columns=COLUMNS[:-1])
    df["received"] = pd.to_datetime(df["received"], utc=True, format="ISO8601")
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True, format="ISO8601")
    df["status"] = pd.to_numeric(df["status"]).astype("Int64")
    df["latency_ms"] = pd.to_numeric(df["latency_ms"]).astype(float)
    df["delay_ms"] = (df["received"] - df["timestamp"]).dt.total_seconds() * 1000
    return df[COLUMNS]


def day_files(host: Host, central_dir: str) -> list[tuple[str, str, int]]:
    """The log host's day files as (host, day, size in bytes), oldest day first."""
    out = host.run(
        f"cd {q(central_dir)} 2>/dev/null && find . -mindepth 2 -maxdepth 2 -name '*.log' -printf '%P %s\\n' || true",
        timeout=READ_TIMEOUT,
    ).stdout
    found = []
    for line in out.splitlines():
        path, _, size = line.rpartition(" ")
        match = DAY_FILE.match(path)
        if match and size.isdigit():
            found.append((match["host"], match["day"], int(size)))
    return sorted(found, key=lambda f: (f[1], f[0]))


def _stamp(moment: datetime) -> str:
    """A moment as the log host writes it (RFC 3339, UTC offset), so the host's awk compares strings."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def read(
    host: Host,
    central_dir: str,
    since: datetime,
    until: datetime,
    max_rows: int = 100_000,
    *,
    hosts: Sequence[str] = (),
    progress: bool = True,
) -> pd.DataFrame:
    """Request logs that reached the log host between since and until, at most max_rows (the earliest first).

    Only the day files the window touches are read, filtered on the log host (awk) and capped (head), so a
    large log never crosses the wire whole. A progress bar counts the bytes of the files read.
    """
    from tqdm.auto import tqdm

    window = Window(since, until, max_rows)
    wanted = [f for f in day_files(host, central_dir) if f[1] in window.days() and (not hosts or f[0] in hosts)]
    records: list[dict] = []
    lo, hi = _stamp(window.since), _stamp(window.until)
    with tqdm(
        total=sum(f[2] for f in wanted), unit="B", unit_scale=True, desc="central logs", disable=not progress
    ) as bar:
        for name, day, size in wanted:
            left = window.max_rows - len(records)
            if left <= 0:
                break
            path = f"{central_dir.rstrip('/')}/{name}/{day}.log"
            cmd = f"awk -v lo={q(lo)} -v hi={q(hi)} '$1 >= lo && $1 < hi' {q(path)} | head -n {left}"
            for line in host.run(cmd, timeout=READ_TIMEOUT).stdout.splitlines():
                record = parse_line(line)
                if record is not None:
                    records.append(record)
            bar.update(size)
    df = frame(records[: window.max_rows])
    return df.sort_values("received", kind="stable").reset_index(drop=True)


def summary(df: pd.DataFrame, by: Sequence[str] = ("host", "version")) -> pd.DataFrame:
    """Per group: requests, 4xx and 5xx counts, error rate (5xx share) and latency p50/p95/p99 in ms."""
    keys = list(by)
    if df.empty:
        return pd.DataFrame(columns=[*keys, "requests", "4xx", "5xx", "error_rate", "p50_ms", "p95_ms", "p99_ms"])
    grouped = df.assign(
        client=df["status"].between(400, 499).astype(int), server=(df["status"] >= 500).astype(int)
    ).groupby(keys, dropna=False)
    table = grouped.agg(
        requests=("status", "size"),
        **{"4xx": ("client", "sum"), "5xx": ("server", "sum")},
        p50_ms=("latency_ms", lambda s: s.quantile(0.50)),
        p95_ms=("latency_ms", lambda s: s.quantile(0.95)),
        p99_ms=("latency_ms", lambda s: s.quantile(0.99)),
    )
    table.insert(3, "error_rate", table["5xx"] / table["requests"])
    return table.reset_index()


def top_errors(df: pd.DataFrame, n: int = 5, by: Sequence[str] = ("host", "version")) -> pd.DataFrame:
    """The n most frequent errors (status 400 and up) per group, with their status and count."""
    keys = [*by, "status", "error"]
    errors = df[df["status"] >= 400]
    counts = errors.groupby(keys, dropna=False).size().rename("count").reset_index()
    counts = counts.sort_values([*by, "count"], ascending=[True] * len(by) + [False], kind="stable")
    return counts.groupby(list(by), dropna=False).head(n).reset_index(drop=True)


@dataclass(frozen=True)
class Found:
    """A request found on the log host: its record, and how long it took to appear there after it was sent."""

    record: dict
    visible_after_ms: float


def find_requests(host: Host, central_dir: str, sent: Mapping[str, float], *, timeout: float = 30) -> dict[str, Found]:
    """Poll the log host's files until every request id is there (sent: id -> when it was sent, epoch seconds).

    All ids are looked for in each poll, so each one's delay counts from its own send. LadderError names
    the ids still missing after timeout.
    """
    bad = [rid for rid in sent if not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", rid)]
    if bad or not sent:
        raise LadderError(f"request ids {bad} are not request ids (letters, digits, '.', '_', '-'), or none given")
    found: dict[str, Found] = {}
    deadline = time.monotonic() + timeout
    while True:
        missing = [rid for rid in sent if rid not in found]
        patterns = " ".join(f"-e {q(rid)}" for rid in missing)
        out = host.run(f"grep -rhF {patterns} -- {q(central_dir)} 2>/dev/null || true", timeout=READ_TIMEOUT).stdout
        now = time.time()
        for line in out.splitlines():
            record = parse_line(line)
            if record is not None and record["request_id"] in missing and record["request_id"] not in found:
                found[record["request_id"]] = Found(record, (now - sent[record["request_id"]]) * 1000)
        if len(found) == len(sent):
            return found
        if time.monotonic() > deadline:
            still = sorted(set(sent) - set(found))
            raise LadderError(
                f"request(s) {', '.join(still)} did not reach {host.name}:{central_dir} within {timeout}s"
            )
        time.sleep(0.05)
