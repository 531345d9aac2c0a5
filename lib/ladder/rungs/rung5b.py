"""Rung 5b, centralized logs (monitoring and alerts join later): one function per runbook step, each taking the config."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from ..app import central_logs, central_reading, traffic
from ..app.parity import Chart
from ..core import ops
from ..core.config import PROD, STAGING, Config, LogsConfig
from ..core.errors import ConfigError, ParameterError
from ..core.hosts import Host, connect
from ..engine import pausepoint
from ..engine.record import record_step
from . import steps

RUNBOOK = "5b-logs-and-monitoring"  # runbooks/<RUNBOOK>.ipynb, whose steps these are
DEADLINE = 120
FORWARDED = (STAGING, PROD)  # the environments whose app hosts forward their logs


def setup(config: Config | str | Path, since_minutes: float = 60, max_rows: int = 100_000) -> Config:
    """Load the config and check the parameters and its logs: section, before anything changes."""
    cfg = steps.config_of(config)
    if since_minutes <= 0:
        raise ParameterError(f"parameter 'since_minutes' must be above 0, not {since_minutes}")
    if max_rows < 1:
        raise ParameterError(f"parameter 'max_rows' must be at least 1, not {max_rows}")
    logs_of(cfg)
    steps.declare(RUNBOOK, cfg)
    pausepoint.point("setup")
    return cfg


def logs_of(cfg: Config) -> LogsConfig:
    """The config's log host; a ConfigError naming the fix when ladder.yml has none."""
    if cfg.logs is None:
        raise ConfigError(
            "no logs: section; add logs: {host: {name, address, base}, port: N} (the sandbox: ladder sandbox up)",
            path=cfg.path,
            key="logs",
        )
    return cfg.logs


def _log_host(cfg: Config) -> Host:
    return connect(logs_of(cfg).host, cfg.ssh)


# --- step: install forwarding --------------------------------------------------------------
def install_forwarding(config: Config | str | Path, *, dry_run: bool = True) -> dict[str, list[ops.Change]]:
    """The log host's rsyslog receiving, then every staging and prod host forwarding its app log to it."""
    cfg = steps.config_of(config)
    logs = logs_of(cfg)
    pausepoint.point("install forwarding")
    with _log_host(cfg) as host:
        changes = {
            host.name: central_logs.install_receiver(host, port=logs.port, central_dir=logs.dir, dry_run=dry_run)
        }
    target = "127.0.0.1" if logs.host.is_local else logs.host.address
    for env in (e for e in FORWARDED if e in cfg.environments):
        changes |= steps.on_hosts(
            cfg,
            env,
            lambda h: central_logs.install_forwarder(h, target=target, port=logs.port, dry_run=dry_run),
            DEADLINE,
        )
    record_step("install forwarding", changes)
    return changes


# --- step: prove it ------------------------------------------------------------------------
def prove(config: Config | str | Path, *, dry_run: bool = True, timeout: float = 30) -> pd.DataFrame:
    """Send one request with a known id to each prod host and find it on the log host: host, release, delay.

    A dry run plans the requests only (the forwarding may not be installed yet).
    """
    cfg = steps.config_of(config)
    logs = logs_of(cfg)
    token = secrets.token_hex(4)
    ids = {h.name: f"proof-{token}-{h.name}" for h in cfg.environment(PROD).hosts}
    columns = ["host", "request_id", "status", "found on", "release", "visible after (ms)", "shipped in (ms)"]
    if dry_run:
        plan = [{"host": name, "request_id": rid, "status": "would send GET /health"} for name, rid in ids.items()]
        return steps.table(plan, columns)

    def one(host: Host) -> traffic.Sent:
        hc = cfg.host_config(host.name)
        return traffic.send(host, cfg.app_port(hc), [("/health", ids[host.name])], python=hc.python)[0]

    sent = steps.on_hosts(cfg, PROD, one, DEADLINE)
    with _log_host(cfg) as log_host:
        found = central_reading.find_requests(
            log_host, logs.dir, {s.request_id: s.sent_at for s in sent.values()}, timeout=timeout
        )
    rows: list[dict[str, object]] = []
    for name, s in sent.items():
        hit = found[s.request_id]
        shipped = central_reading.frame([hit.record])["delay_ms"].iloc[0]
        rows.append(
            {
                "host": name,
                "request_id": s.request_id,
                "status": s.status,
                "found on": hit.record["host"],
                "release": hit.record["version"],
                "visible after (ms)": round(hit.visible_after_ms, 1),
                "shipped in (ms)": round(float(shipped), 1),
            }
        )
    return steps.table(rows, columns)


# --- step: read the central logs -----------------------------------------------------------
def read_logs(
    config: Config | str | Path, since_minutes: float = 60, max_rows: int = 100_000, *, progress: bool = True
) -> pd.DataFrame:
    """The request logs the log host received in the last since_minutes, at most max_rows."""
    cfg = steps.config_of(config)
    logs = logs_of(cfg)
    until = datetime.now(UTC) + timedelta(seconds=1)
    with _log_host(cfg) as host:
        return central_reading.read(
            host, logs.dir, until - timedelta(minutes=since_minutes), until, max_rows, progress=progress
        )


# --- step: per host and per release ---------------------------------------------------------
@dataclass(frozen=True)
class LogSummary:
    """The central logs summed up per host and per release: error rate, latency percentiles, top errors."""

    logs: pd.DataFrame

    def table(self) -> pd.DataFrame:
        """One row per host and release."""
        return central_reading.summary(self.logs)

    def top_errors(self, n: int = 5) -> pd.DataFrame:
        """The most frequent errors per host and release."""
        return central_reading.top_errors(self.logs, n)

    def chart(self) -> Chart:
        """Error rate (5xx and 4xx shares) and latency percentiles per host and release, side by side."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        table = self.table()
        labels = [f"{h}\n{v}" for h, v in zip(table["host"], table["version"], strict=True)]
        fig = Figure(figsize=(10, 3.8), layout="constrained")
        FigureCanvasAgg(fig)
        rates, latency = fig.subplots(1, 2)
        xs = range(len(labels))
        share = table["requests"].where(table["requests"] > 0, 1)
        rates.bar([x - 0.2 for x in xs], table["5xx"] / share * 100, width=0.4, color="#e57373", label="5xx")
        rates.bar([x + 0.2 for x in xs], table["4xx"] / share * 100, width=0.4, color="#ffb74d", label="4xx")
        rates.set(title="errors per host and release", ylabel="% of requests", xticks=list(xs), xticklabels=labels)
        rates.legend()
        for i, (p, colour) in enumerate([("p50_ms", "#81c784"), ("p95_ms", "#64b5f6"), ("p99_ms", "#9575cd")]):
            latency.bar([x + (i - 1) * 0.27 for x in xs], table[p], width=0.27, color=colour, label=p[:3])
        latency.set(title="latency percentiles", ylabel="ms", xticks=list(xs), xticklabels=labels)
        latency.legend()
        return Chart(fig)

    def summary(self) -> str:
        """One line: how many requests from how many hosts and releases."""
        return (
            f"{len(self.logs)} request(s) from {self.logs['host'].nunique()} host(s), "
            f"{self.logs['version'].nunique()} release(s); {int((self.logs['status'] >= 500).sum())} server error(s)"
        )


def summarize(logs: pd.DataFrame) -> LogSummary:
    """Sum the central logs up per host and per release."""
    return LogSummary(logs)


def figures(proof: pd.DataFrame, summary: LogSummary) -> dict[str, object]:
    """The run's key figures for ladder.record: requests read, hosts proven, the slowest shipping delay."""
    found = proof["found on"].notna().sum() if len(proof) else 0
    shipped = pd.to_numeric(proof["shipped in (ms)"], errors="coerce").max() if len(proof) else float("nan")
    return {
        "requests read": len(summary.logs),
        "hosts proven": int(found),
        "log delay max (ms)": None if pd.isna(shipped) else round(float(shipped), 1),
    }
