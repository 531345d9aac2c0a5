"""ladder.app.alert_state: /api/v1/alerts and /api/v1/rules, as recorded from the sandbox's real Prometheus."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ladder.app import alert_state, prometheus

RECORDED = Path(__file__).parent / "prometheus"


def recorded(name: str) -> dict:
    return prometheus.parse_envelope((RECORDED / name).read_text())


@pytest.mark.unit
def test_active_alerts_parse_with_their_labels_since_and_value():
    down, errors = sorted(alert_state.parse_alerts(recorded("alerts.json")), key=lambda a: a.name, reverse=True)
    assert (down.name, down.state, down.subject, down.value) == ("InstanceDown", "firing", "prod2", 0.0)
    assert down.labels["job"] == "app" and down.summary == "app on prod2 does not answer its scrape"
    assert down.active_since == datetime(2026, 11, 27, 3, 59, 11, 97701, tzinfo=UTC)
    assert (errors.name, errors.subject, errors.value) == ("ErrorRateHigh", "prod1", 1.0)
    assert errors.summary == "prod1 answers 100% of requests with 5xx"


@pytest.mark.unit
def test_rules_parse_with_state_health_for_and_the_series_behind_them():
    rules = {r.name: r for r in alert_state.parse_rules(recorded("rules.json"))}
    assert {n: r.state for n, r in rules.items()} == {
        "ErrorRateHigh": "firing",
        "LatencyP99High": "inactive",
        "InstanceDown": "firing",
        "DiskSpaceLow": "inactive",
    }
    down = rules["InstanceDown"]
    assert (down.query, down.series, down.threshold, down.for_seconds, down.health) == ("up == 0", "up", 0.0, 3.0, "ok")
    assert rules["LatencyP99High"].alerts == () and rules["LatencyP99High"].series.startswith("histogram_quantile(")
    firing = alert_state.firing(tuple(rules.values()))
    assert sorted((a.name, a.subject) for a in firing) == [("ErrorRateHigh", "prod1"), ("InstanceDown", "prod2")]


@pytest.mark.unit
def test_a_rule_of_another_tool_charts_its_query_and_recording_rules_are_left_out():
    data = {
        "groups": [
            {
                "rules": [
                    {"type": "recording", "name": "job:up:sum", "query": "sum(up)"},
                    {"type": "alerting", "name": "Theirs", "query": "up < 1", "state": "pending", "alerts": []},
                ]
            }
        ]
    }
    (theirs,) = alert_state.parse_rules(data)
    assert (theirs.series, theirs.threshold, theirs.state) == ("up < 1", None, "pending")


@pytest.mark.unit
def test_prometheus_zero_time_is_no_time():
    assert alert_state.active_since("0001-01-01T00:00:00Z") is None
    assert alert_state.active_since(None) is None
