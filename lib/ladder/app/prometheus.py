"""Prometheus watching the app: its scrape config, PromQL over its HTTP API, and the canary's numbers per host."""

from __future__ import annotations

import json
import math
import re
import shlex
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import yaml

from ..core.errors import PrometheusError
from ..core.hosts import Host

q = shlex.quote
TIMEOUT = 10.0  # seconds an HTTP API call may take
REQUESTS = "app_requests_total"  # the app's request counter: method, handler, status
LATENCY = "app_request_duration_seconds"  # the app's latency histogram: method, handler
# Handlers that load balancers and Prometheus call, not users: left out of the canary's numbers.
OPERATIONAL = ("health", "metrics")
_JOB = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_LABEL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ADDRESS = re.compile(r"^[A-Za-z0-9.-]+:[0-9]{1,5}$")
_DURATION = re.compile(r"^[0-9]+(ms|s|m|h|d|w|y)$")


@dataclass(frozen=True)
class Target:
    """One endpoint to scrape (host:port) and the labels its series get, such as host and env."""

    address: str
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ScrapeJob:
    """A scrape job: its name, its targets and the path they serve metrics at."""

    name: str
    targets: tuple[Target, ...]
    metrics_path: str = "/metrics"


@dataclass(frozen=True)
class Sample:
    """One series' value at one time, as an instant query returns it."""

    labels: Mapping[str, str]
    time: float
    value: float


@dataclass(frozen=True)
class Series:
    """One series' values over time, as a range query returns it: (unix time, value) pairs."""

    labels: Mapping[str, str]
    points: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Prometheus:
    """Where Prometheus' HTTP API answers, and how long one call may take."""

    url: str
    timeout: float = TIMEOUT


def is_duration(value: str) -> bool:
    """True for a Prometheus duration such as 30s, 5m or 1h."""
    return bool(_DURATION.match(value))


def render(
    jobs: Sequence[ScrapeJob],
    *,
    scrape_interval: str = "15s",
    evaluation_interval: str | None = None,
    rule_files: Sequence[str] = (),
) -> str:
    """prometheus.yml: global intervals, optional rule files, and one static scrape job per ScrapeJob."""
    for name, value in (("scrape_interval", scrape_interval), ("evaluation_interval", evaluation_interval)):
        if value is not None and not _DURATION.match(value):
            raise PrometheusError(f"{name} {value!r} is not a Prometheus duration like 15s or 1m")
    seen: set[str] = set()
    for job in jobs:
        if not _JOB.match(job.name) or job.name in seen:
            raise PrometheusError(f"job name {job.name!r} must be unique, of letters, digits and _.-")
        seen.add(job.name)
        if not job.targets or not job.metrics_path.startswith("/"):
            raise PrometheusError(f"job {job.name!r} needs at least one target and a metrics path starting with /")
        for t in job.targets:
            if not _ADDRESS.match(t.address):
                raise PrometheusError(f"job {job.name!r}: target {t.address!r} is not host:port")
            bad = [k for k in t.labels if not _LABEL.match(k) or k.startswith("__")]
            if bad:
                raise PrometheusError(f"job {job.name!r}: label names {bad} must be letters, digits and _")
    config: dict = {
        "global": {
            "scrape_interval": scrape_interval,
            "evaluation_interval": evaluation_interval or scrape_interval,
        }
    }
    if rule_files:
        config["rule_files"] = list(rule_files)
    config["scrape_configs"] = [
        {
            "job_name": job.name,
            "metrics_path": job.metrics_path,
            "static_configs": [{"targets": [t.address], "labels": dict(t.labels)} for t in job.targets],
        }
        for job in jobs
    ]
    return "# Written by Ladder: what Prometheus scrapes.\n" + yaml.safe_dump(config, sort_keys=False)


def check_config(host: Host, path: str) -> None:
    """Validate a prometheus.yml on its host with `promtool check config`; PrometheusError with promtool's words."""
    result = host.run(f"promtool check config {q(path)}", warn=True, timeout=30)
    if result.failed:
        said = "\n".join(line for line in (result.stdout + result.stderr).splitlines() if line.strip())
        raise PrometheusError(f"{path} on {host.name} is not a valid Prometheus config:\n{said}")


# --- the HTTP API ---------------------------------------------------------------------------------------------


def call(
    prom: Prometheus, path: str, params: Mapping[str, str] | None = None, *, query: str | None = None, get: bool = False
) -> dict:
    """Call an API path with form parameters (POST, or GET for read-only endpoints such as /api/v1/alerts).

    The envelope's data, or PrometheusError with its errorType and error.
    """
    url = prom.url.rstrip("/") + path
    encoded = urllib.parse.urlencode(params or {})
    if get:
        request = urllib.request.Request(url + (f"?{encoded}" if encoded else ""), method="GET")
    else:
        request = urllib.request.Request(url, data=encoded.encode(), method="POST")
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(request, timeout=prom.timeout) as response:
            text = response.read()
    except urllib.error.HTTPError as exc:
        text = exc.read()
        try:
            envelope = json.loads(text)
        except ValueError:
            raise PrometheusError(f"HTTP {exc.code} from {path}", url=prom.url, query=query) from None
        raise PrometheusError(
            envelope.get("error", f"HTTP {exc.code}"), url=prom.url, query=query, error_type=envelope.get("errorType")
        ) from None
    except TimeoutError:
        raise PrometheusError(f"no answer within {prom.timeout:g}s", url=prom.url, query=query) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise PrometheusError(
            f"cannot reach it ({reason}); is Prometheus running, and does monitoring.url in ladder.yml name it?",
            url=prom.url,
            query=query,
        ) from None
    return parse_envelope(text, url=prom.url, query=query)


def parse_envelope(text: bytes | str, *, url: str | None = None, query: str | None = None) -> dict:
    """An API answer's data; PrometheusError with Prometheus' errorType and error when its status is error."""
    try:
        envelope = json.loads(text)
    except ValueError:
        raise PrometheusError("answered with something other than JSON", url=url, query=query) from None
    if envelope.get("status") != "success":
        raise PrometheusError(
            envelope.get("error", "status is not success"), url=url, query=query, error_type=envelope.get("errorType")
        )
    return envelope.get("data") or {}


def parse_vector(data: Mapping, query: str | None = None) -> tuple[Sample, ...]:
    """An instant query's data (vector or scalar) -> samples; PrometheusError for a range vector."""
    kind, result = data.get("resultType"), data.get("result") or []
    if kind == "vector":
        return tuple(Sample(r["metric"], float(r["value"][0]), float(r["value"][1])) for r in result)
    if kind == "scalar":
        return (Sample({}, float(result[0]), float(result[1])),)
    raise PrometheusError(
        f"an instant query gave a {kind}, not a vector or scalar; wrap a range selector in rate() or use query_range",
        query=query,
    )


def parse_matrix(data: Mapping, query: str | None = None) -> tuple[Series, ...]:
    """A range query's data (matrix) -> series of (time, value) points."""
    if data.get("resultType") != "matrix":
        raise PrometheusError(f"a range query gave a {data.get('resultType')}, not a matrix", query=query)
    return tuple(
        Series(r["metric"], tuple((float(t), float(v)) for t, v in r["values"])) for r in data.get("result") or ()
    )


def query(prom: Prometheus, promql: str, *, at: float | None = None) -> tuple[Sample, ...]:
    """Evaluate PromQL at one time (now by default): /api/v1/query."""
    params = {"query": promql, "timeout": f"{prom.timeout:g}s"}
    if at is not None:
        params["time"] = f"{at:.3f}"
    return parse_vector(call(prom, "/api/v1/query", params, query=promql), promql)


def query_range(prom: Prometheus, promql: str, *, start: float, end: float, step: float) -> tuple[Series, ...]:
    """Evaluate PromQL over [start, end] every step seconds: /api/v1/query_range."""
    if step <= 0 or end < start:
        raise PrometheusError(f"a range needs start <= end and a step above 0 (got {start}, {end}, {step})")
    params = {"query": promql, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"}
    return parse_matrix(call(prom, "/api/v1/query_range", params, query=promql), promql)


def ready(prom: Prometheus) -> bool:
    """True when Prometheus answers /-/ready with 200 (it has started and can serve queries)."""
    try:
        with urllib.request.urlopen(prom.url.rstrip("/") + "/-/ready", timeout=prom.timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def reload(prom: Prometheus) -> None:
    """Make Prometheus read its config again: POST /-/reload (it runs with --web.enable-lifecycle)."""
    request = urllib.request.Request(prom.url.rstrip("/") + "/-/reload", data=b"", method="POST")
    try:
        with urllib.request.urlopen(request, timeout=prom.timeout):
            return
    except urllib.error.HTTPError as exc:
        said = exc.read().decode(errors="replace").strip()
        raise PrometheusError(f"refused to reload: {said}", url=prom.url) from None
    except (urllib.error.URLError, OSError) as exc:
        raise PrometheusError(f"cannot reach it to reload ({getattr(exc, 'reason', exc)})", url=prom.url) from None


# --- the canary's numbers, per host --------------------------------------------------------------------------


def _string(value: str) -> str:
    """A PromQL string literal."""
    return json.dumps(value)


def _selector(host: str | None, *more: str) -> str:
    matchers = [f"handler!~{_string('|'.join(OPERATIONAL))}", *more]
    if host is not None:
        matchers.append(f"host={_string(host)}")
    return "{" + ",".join(matchers) + "}"


def _window(window: str) -> str:
    if not _DURATION.match(window):
        raise PrometheusError(f"window {window!r} is not a Prometheus duration like 30s or 1m")
    return window


def success_rate_query(window: str = "1m", host: str | None = None) -> str:
    """PromQL: per host, the share of user requests not answered 5xx over the window."""
    w = _window(window)
    total = f"sum by (host) (rate({REQUESTS}{_selector(host)}[{w}]))"
    good = f"sum by (host) (rate({REQUESTS}{_selector(host, 'status!~' + _string('5..'))}[{w}]))"
    # A host that answered nothing but 5xx has no good series at all: `or total * 0` makes its share 0, not absent.
    return f"({good} or {total} * 0) / {total}"


def latency_query(window: str = "1m", host: str | None = None, quantile: float = 0.99) -> str:
    """PromQL: per host, a latency quantile (seconds) of user requests over the window, from the histogram."""
    if not 0 < quantile < 1:
        raise PrometheusError(f"quantile {quantile} must lie between 0 and 1")
    w = _window(window)
    return f"histogram_quantile({quantile:g}, sum by (host, le) (rate({LATENCY}_bucket{_selector(host)}[{w}])))"


def by_host(samples: Sequence[Sample]) -> dict[str, float]:
    """{host label: value}, leaving out hosts whose value is NaN (no user request in the window)."""
    return {s.labels.get("host", ""): s.value for s in samples if not math.isnan(s.value)}


def success_rate(prom: Prometheus, window: str = "1m", host: str | None = None) -> dict[str, float]:
    """{host: share of user requests not answered 5xx} over the window (0..1); a host without traffic is absent."""
    return by_host(query(prom, success_rate_query(window, host)))


def p99_seconds(prom: Prometheus, window: str = "1m", host: str | None = None) -> dict[str, float]:
    """{host: p99 latency in seconds} over the window; a host without traffic is absent."""
    return by_host(query(prom, latency_query(window, host)))
