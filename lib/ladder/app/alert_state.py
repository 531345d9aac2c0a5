"""Alert state as Prometheus reports it: /api/v1/alerts and /api/v1/rules as value objects, and each rule's series."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from ..core.errors import PrometheusError
from . import prometheus

STATES = ("firing", "pending", "inactive")  # worst first
_FRACTION = re.compile(r"(\.\d{6})\d+")  # Go writes nanoseconds; Python's parser takes microseconds


@dataclass(frozen=True)
class Alert:
    """One active alert: its rule's name, pending or firing, its labels, since when, and the value that fired it."""

    name: str
    state: str
    labels: Mapping[str, str]
    active_since: datetime | None
    value: float
    summary: str = ""

    @property
    def subject(self) -> str:
        """What the alert is about, for a message: its host or instance label, else its other labels."""
        for key in ("host", "instance"):
            if key in self.labels:
                return self.labels[key]
        return ",".join(f"{k}={v}" for k, v in sorted(self.labels.items()) if k not in ("alertname", "severity"))


@dataclass(frozen=True)
class RuleState:
    """One alerting rule as Prometheus evaluates it: its query, state, health and active alerts."""

    name: str
    query: str
    state: str
    health: str
    for_seconds: float
    annotations: Mapping[str, str] = field(default_factory=dict)
    alerts: tuple[Alert, ...] = ()
    last_error: str = ""

    @property
    def series(self) -> str:
        """The PromQL behind the rule (Ladder's rules name it in their series annotation), else the rule's query."""
        return self.annotations.get("series") or self.query

    @property
    def threshold(self) -> float | None:
        """The threshold the series is compared with, when the rule names it."""
        value = self.annotations.get("threshold")
        return float(value) if value else None


def active_since(text: str | None) -> datetime | None:
    """Prometheus' activeAt (RFC 3339 with nanoseconds) as an aware datetime; None for its zero time."""
    if not text or text.startswith("0001-01-01"):
        return None
    return datetime.fromisoformat(_FRACTION.sub(r"\1", text).replace("Z", "+00:00"))


def parse_alert(raw: Mapping, name: str | None = None) -> Alert:
    """One alert object of /api/v1/alerts or of a rule in /api/v1/rules."""
    labels = dict(raw.get("labels") or {})
    return Alert(
        name=name or labels.get("alertname", ""),
        state=raw.get("state", ""),
        labels=labels,
        active_since=active_since(raw.get("activeAt")),
        value=float(raw.get("value", "nan")),
        summary=(raw.get("annotations") or {}).get("summary", ""),
    )


def parse_alerts(data: Mapping) -> tuple[Alert, ...]:
    """/api/v1/alerts' data -> the active (pending or firing) alerts."""
    return tuple(parse_alert(a) for a in data.get("alerts") or ())


def parse_rules(data: Mapping) -> tuple[RuleState, ...]:
    """/api/v1/rules' data -> every alerting rule of every group (recording rules are left out)."""
    found = []
    for group in data.get("groups") or ():
        for rule in group.get("rules") or ():
            if rule.get("type") != "alerting":
                continue
            found.append(
                RuleState(
                    name=rule["name"],
                    query=rule.get("query", ""),
                    state=rule.get("state", "inactive"),
                    health=rule.get("health", "unknown"),
                    for_seconds=float(rule.get("duration", 0)),
                    annotations=dict(rule.get("annotations") or {}),
                    alerts=tuple(parse_alert(a, rule["name"]) for a in rule.get("alerts") or ()),
                    last_error=rule.get("lastError", ""),
                )
            )
    return tuple(found)


def alerts(prom: prometheus.Prometheus) -> tuple[Alert, ...]:
    """The alerts Prometheus holds active now: /api/v1/alerts."""
    return parse_alerts(prometheus.call(prom, "/api/v1/alerts", get=True))


def rules(prom: prometheus.Prometheus) -> tuple[RuleState, ...]:
    """Every alerting rule with its state and alerts: /api/v1/rules?type=alert."""
    return parse_rules(prometheus.call(prom, "/api/v1/rules", {"type": "alert"}, get=True))


def firing(found: Sequence[RuleState]) -> tuple[Alert, ...]:
    """The alerts that fire (pending ones have not held for their rule's `for` yet)."""
    return tuple(a for r in found for a in r.alerts if a.state == "firing")


def series(
    prom: prometheus.Prometheus, rule: RuleState, *, start: float, end: float, step: float
) -> tuple[prometheus.Series, ...]:
    """The series behind a rule over [start, end]: what it watches, not only the moments it fired."""
    try:
        return prometheus.query_range(prom, rule.series, start=start, end=end, step=step)
    except PrometheusError as exc:
        raise PrometheusError(f"rule {rule.name}: {exc.detail}", url=prom.url, query=rule.series) from None
