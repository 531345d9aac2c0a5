"""Rung 5b, centralized logs, monitoring and alerts: one function per runbook step, each taking the config."""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from ..app import alert_state, alerts, central_logs, central_reading, prometheus, traffic
from ..app.parity import Chart
from ..core import ops
from ..core.config import PROD, STAGING, Config, LogsConfig, MonitoringConfig
from ..core.errors import AlertsFiring, ConfigError, ParameterError, PrometheusError
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
    monitoring_of(cfg)
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


def monitoring_of(cfg: Config) -> MonitoringConfig:
    """The config's Prometheus; a ConfigError naming the fix when ladder.yml has none."""
    if cfg.monitoring is None:
        raise ConfigError(
            "no monitoring: section; add monitoring: {host: {name, address, base}, url: http://...:9090} "
            "(the sandbox: ladder sandbox up --monitoring)",
            path=cfg.path,
            key="monitoring",
        )
    return cfg.monitoring


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


def figures(proof: pd.DataFrame, summary: LogSummary, board: AlertBoard | None = None) -> dict[str, object]:
    """The run's key figures for ladder.record: requests read, hosts proven, the slowest shipping delay, alerts."""
    found = proof["found on"].notna().sum() if len(proof) else 0
    shipped = pd.to_numeric(proof["shipped in (ms)"], errors="coerce").max() if len(proof) else float("nan")
    return {
        "requests read": len(summary.logs),
        "hosts proven": int(found),
        "log delay max (ms)": None if pd.isna(shipped) else round(float(shipped), 1),
        **({"alert rules": len(board.rules), "alerts pending": len(board.active("pending"))} if board else {}),
    }


# --- step: alert rules ----------------------------------------------------------------------
def alert_rules(
    window: str = "5m",
    for_: str = "5m",
    evaluation_interval: str = "30s",
    max_error_rate: float = 0.05,
    max_p99_seconds: float = 0.5,
    min_disk_free: float = 0.10,
) -> alerts.Thresholds:
    """The alerts' thresholds from the runbook's parameters, checked before any host is touched."""
    found = alerts.Thresholds(window, for_, evaluation_interval, max_error_rate, max_p99_seconds, min_disk_free)
    try:
        alerts.validate(found)
    except PrometheusError as exc:
        raise ParameterError(f"the runbook's alert parameters: {exc.detail}") from None
    return found


def install_alerts(
    config: Config | str | Path,
    thresholds: alerts.Thresholds,
    prometheus_config: str = "prometheus.yml",
    *,
    dry_run: bool = True,
) -> dict[str, list[ops.Change]]:
    """The rule file next to Prometheus' config on the monitoring host, checked by promtool, then a reload."""
    cfg = steps.config_of(config)
    mon = monitoring_of(cfg)
    text = alerts.render(alerts.rules(thresholds), thresholds.evaluation_interval)
    pausepoint.point("install alerts")
    with connect(mon.host, cfg.ssh) as host:
        changes = {
            host.name: alerts.install(
                host, prometheus.Prometheus(mon.url), text, config=prometheus_config, dry_run=dry_run
            )
        }
    record_step("install alerts", changes)
    return changes


# --- step: alert state ----------------------------------------------------------------------
@dataclass(frozen=True)
class AlertBoard:
    """Every alerting rule's state on Prometheus, with the series behind each over the last minutes."""

    url: str
    rules: tuple[alert_state.RuleState, ...]
    series: Mapping[str, tuple[prometheus.Series, ...]]

    def active(self, state: str = "firing") -> tuple[alert_state.Alert, ...]:
        """The alerts in this state (firing or pending)."""
        return tuple(a for r in self.rules for a in r.alerts if a.state == state)

    def table(self) -> pd.DataFrame:
        """One row per active alert, and one per rule that has none (inactive)."""
        rows = [
            {
                "alert": r.name,
                "state": a.state,
                "about": a.subject,
                "active since": a.active_since,
                "value": a.value,
                "summary": a.summary,
            }
            for r in self.rules
            for a in r.alerts
        ]
        rows += [
            {"alert": r.name, "state": r.state, "about": "", "summary": r.last_error}
            for r in self.rules
            if not r.alerts
        ]
        return steps.table(rows, ["alert", "state", "about", "active since", "value", "summary"])

    def chart(self) -> Chart:
        """One panel per rule: its series over time, the threshold dashed, the title red while it fires."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=(10, 2.6 * max(1, (len(self.rules) + 1) // 2)), layout="constrained")
        FigureCanvasAgg(fig)
        for i, rule in enumerate(self.rules):
            ax = fig.add_subplot(max(1, (len(self.rules) + 1) // 2), 2, i + 1)
            for s in self.series.get(rule.name, ()):
                times = pd.to_datetime([t for t, _ in s.points], unit="s", utc=True)
                label = " ".join(s.labels.get(k, "") for k in ("job", "host", "mountpoint") if k in s.labels)
                ax.plot(times, [v for _, v in s.points], label=label or None)
            if rule.threshold is not None:
                ax.axhline(rule.threshold, color="#e53935", linestyle="--", linewidth=1)
            colour = {"firing": "#c62828", "pending": "#ef6c00"}.get(rule.state, "#2e7d32")
            ax.set_title(f"{rule.name}: {rule.state}", color=colour, fontsize=10)
            ax.tick_params(labelsize=7)
            if ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize=6)
        return Chart(fig)

    def summary(self) -> str:
        """One line: how many rules, and which alerts fire or are pending."""
        firing, pending = self.active("firing"), self.active("pending")
        names = ", ".join(f"{a.name} ({a.subject})" for a in firing) or "none"
        return f"{len(self.rules)} alert rule(s); firing: {names}; pending: {len(pending)}"


def read_alerts(config: Config | str | Path, since_minutes: float = 60, points: int = 240) -> AlertBoard:
    """Every alerting rule's state from Prometheus, with its series over the last since_minutes (a fact: reads only)."""
    cfg = steps.config_of(config)
    prom = prometheus.Prometheus(monitoring_of(cfg).url)
    found = alert_state.rules(prom)
    end = time.time()
    start = end - since_minutes * 60
    step = max(1.0, (end - start) / points)
    series = {r.name: alert_state.series(prom, r, start=start, end=end, step=step) for r in found}
    return AlertBoard(prom.url, found, series)


def check_alerts(board: AlertBoard) -> str:
    """The board's summary when no alert fires; AlertsFiring naming every firing alert otherwise (fails the run)."""
    firing = board.active("firing")
    if firing:
        raise AlertsFiring([(a.name, a.subject, a.summary) for a in firing], url=board.url)
    return board.summary()
