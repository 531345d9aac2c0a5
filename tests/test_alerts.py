"""ladder.app.alerts: the four alert rules, their rule file, promtool's verdict, and installing them on a host."""

from __future__ import annotations

import dataclasses

import pytest
import yaml

from ladder.app import alerts, prometheus
from ladder.core.errors import PrometheusError
from ladder.core.hosts import LocalHost

FAST = alerts.SANDBOX


@pytest.mark.unit
def test_the_four_rules_compare_their_series_with_the_thresholds():
    found = {r.name: r for r in alerts.rules(alerts.Thresholds(window="2m", for_="1m", error_rate=0.02))}
    assert list(found) == ["ErrorRateHigh", "LatencyP99High", "InstanceDown", "DiskSpaceLow"]
    assert found["ErrorRateHigh"].expr == f"1 - ({prometheus.success_rate_query('2m')}) > 0.02"
    assert found["LatencyP99High"].expr == f"{prometheus.latency_query('2m')} > 0.5"
    assert found["InstanceDown"].expr == "up == 0"
    assert found["DiskSpaceLow"].expr.startswith("node_filesystem_avail_bytes{fstype!~")
    assert found["DiskSpaceLow"].expr.endswith("< 0.1")
    assert {r.for_ for r in found.values()} == {"1m"}


@pytest.mark.unit
def test_the_rule_file_is_one_group_with_its_interval_severity_and_the_series_to_chart():
    text = alerts.render(alerts.rules(FAST), FAST.evaluation_interval)
    (group,) = yaml.safe_load(text)["groups"]
    assert (group["name"], group["interval"]) == ("ladder", "1s")
    down = next(r for r in group["rules"] if r["alert"] == "InstanceDown")
    assert down == {
        "alert": "InstanceDown",
        "expr": "up == 0",
        "for": "3s",
        "labels": {"severity": "page"},
        "annotations": {
            "summary": "{{ $labels.job }} on {{ $labels.host }} does not answer its scrape",
            "series": "up",
            "threshold": "0",
        },
    }


@pytest.mark.unit
@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"window": "5 minutes"}, "window '5 minutes' is not a Prometheus duration"),
        ({"for_": "soon"}, "for 'soon' is not a Prometheus duration"),
        ({"error_rate": 5}, "error_rate 5 must lie between 0 and 1"),
        ({"disk_free": 0}, "disk_free 0 must lie between 0 and 1"),
        ({"p99_seconds": -1}, "p99_seconds -1 must be above 0"),
    ],
)
def test_thresholds_out_of_range_are_refused_naming_the_parameter(change, words):
    with pytest.raises(PrometheusError, match=words):
        alerts.rules(dataclasses.replace(alerts.Thresholds(), **change))


@pytest.mark.unit
def test_with_rule_file_adds_it_once_and_keeps_the_scrape_config():
    config = prometheus.render([prometheus.ScrapeJob("app", (prometheus.Target("127.0.0.1:8001"),))])
    added = alerts.with_rule_file(config, alerts.RULES_FILE)
    assert yaml.safe_load(added)["rule_files"] == ["rules/ladder-alerts.yml"]
    assert yaml.safe_load(added)["scrape_configs"] == yaml.safe_load(config)["scrape_configs"]
    assert added.startswith(config) and alerts.with_rule_file(added, alerts.RULES_FILE) == added
    theirs = yaml.safe_load(alerts.with_rule_file("rule_files: [team.yml]\n", alerts.RULES_FILE))
    assert theirs == {"rule_files": ["team.yml", "rules/ladder-alerts.yml"]}
    with pytest.raises(PrometheusError, match="does not hold a mapping"):
        alerts.with_rule_file("- a list\n", alerts.RULES_FILE)


@pytest.mark.local
def test_promtool_accepts_the_rendered_rules_and_refuses_a_broken_one(tmp_path):
    host = LocalHost("mon", tmp_path)
    host.write_text(host.path("ok.yml"), alerts.render(alerts.rules()))
    alerts.check_rules(host, host.path("ok.yml"))
    broken = alerts.AlertRule("Broken", "rate(up[1m)", ">", 1, "1m", "")
    host.write_text(host.path("bad.yml"), alerts.render([broken]))
    with pytest.raises(PrometheusError, match="(?s)bad.yml on mon holds invalid alert rules:\n.*Broken"):
        alerts.check_rules(host, host.path("bad.yml"))


@pytest.mark.local
def test_install_plans_then_writes_checked_files_and_a_bad_rule_never_replaces_a_good_one(tmp_path):
    host = LocalHost("mon", tmp_path)
    config = prometheus.render([prometheus.ScrapeJob("app", (prometheus.Target("127.0.0.1:8001"),))])
    host.write_text(host.path("prometheus.yml"), config)
    # No Prometheus listens here: the install must not reach the reload when a check fails.
    prom = prometheus.Prometheus("http://127.0.0.1:9", timeout=1)
    good = alerts.render(alerts.rules(FAST), "1s")
    plan = alerts.install(host, prom, good)
    assert [c.outcome for c in plan] == ["planned"] * 4
    assert not (tmp_path / "rules").exists() and host.read_text(host.path("prometheus.yml")) == config
    with pytest.raises(PrometheusError, match="cannot reach it to reload"):
        alerts.install(host, prom, good, dry_run=False)
    assert (tmp_path / "rules" / "ladder-alerts.yml").read_text() == good
    assert "rules/ladder-alerts.yml" in yaml.safe_load(host.read_text(host.path("prometheus.yml")))["rule_files"]
    bad = alerts.render([alerts.AlertRule("Broken", "rate(up[1m)", ">", 1, "1m", "")])
    with pytest.raises(PrometheusError, match="invalid alert rules"):
        alerts.install(host, prom, bad, dry_run=False)
    assert (tmp_path / "rules" / "ladder-alerts.yml").read_text() == good
    assert not (tmp_path / "rules" / "ladder-alerts.yml.new").exists()
