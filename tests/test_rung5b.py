"""ladder.rungs.rung5b's monitoring part: alert parameters, the alert board, and real alerts firing on the sandbox."""

from __future__ import annotations

import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import require_sshd

from ladder import sandbox
from ladder.app import alert_state, alerts, prometheus
from ladder.app.layout import layout_of
from ladder.core.config import load_config
from ladder.core.errors import AlertsFiring, ParameterError
from ladder.core.hosts import connect
from ladder.engine import crontab, schedule
from ladder.rungs import rung5b

RECORDED = Path(__file__).parent / "prometheus"
FAST = alerts.SANDBOX  # the sandbox's Prometheus scrapes and evaluates every second
FAST_PARAMS = {
    "alert_window": FAST.window,
    "alert_for": FAST.for_,
    "alert_interval": FAST.evaluation_interval,
    "since_minutes": "5",
}


def recorded_board() -> rung5b.AlertBoard:
    """A board from /api/v1/rules as recorded while InstanceDown (prod2) and ErrorRateHigh (prod1) fired."""
    rules = alert_state.parse_rules(prometheus.parse_envelope((RECORDED / "rules.json").read_text()))
    points = tuple((1795741533.0 + i, float(i % 2)) for i in range(5))
    return rung5b.AlertBoard(
        "http://mon:9090", rules, {"InstanceDown": (prometheus.Series({"host": "prod2"}, points),)}
    )


# --- unit ------------------------------------------------------------------------------------------------------
@pytest.mark.unit
def test_alert_parameters_are_checked_as_runbook_parameters():
    assert rung5b.alert_rules("20s", "3s", "1s") == alerts.Thresholds("20s", "3s", "1s")
    with pytest.raises(ParameterError, match="alert parameters: alert parameter for 'later' is not a Prometheus"):
        rung5b.alert_rules(for_="later")
    with pytest.raises(ParameterError, match="error_rate 5.0 must lie between 0 and 1"):
        rung5b.alert_rules(max_error_rate=5.0)


@pytest.mark.unit
def test_the_board_lists_active_alerts_and_quiet_rules_and_a_firing_one_fails_naming_it():
    board = recorded_board()
    table = board.table().set_index("alert")
    assert table.loc["InstanceDown", "state"] == "firing" and table.loc["InstanceDown", "about"] == "prod2"
    assert table.loc["LatencyP99High", "state"] == "inactive"
    assert board.summary() == "4 alert rule(s); firing: ErrorRateHigh (prod1), InstanceDown (prod2); pending: 0"
    with pytest.raises(AlertsFiring) as err:
        rung5b.check_alerts(board)
    assert err.value.names == ["ErrorRateHigh", "InstanceDown"]
    assert "InstanceDown (prod2): app on prod2 does not answer its scrape" in str(err.value)
    assert "2 alert(s) firing on Prometheus at http://mon:9090" in str(err.value)
    assert board.chart().png().startswith(b"\x89PNG")


@pytest.mark.unit
def test_a_quiet_board_passes_with_its_summary():
    quiet = rung5b.AlertBoard("http://mon:9090", (), {})
    assert rung5b.check_alerts(quiet) == "0 alert rule(s); firing: none; pending: 0"


# --- on the sandbox: real Prometheus, real alerts ---------------------------------------------------------------
@pytest.fixture(scope="module")
def watched(tmp_path_factory):
    """An SSH sandbox with 2 prod hosts, a log host and Prometheus; the fast alert rules installed."""
    require_sshd()
    box = sandbox.up(tmp_path_factory.mktemp("alerts") / "sandbox", ssh=True, hosts=2, logs=True, monitoring=True)
    try:
        yield box, load_config(box.config_path)
    finally:
        sandbox.down(box.dir)
    leftover = subprocess.run(["pgrep", "-af", str(box.dir)], capture_output=True, text=True).stdout
    assert leftover == "", f"sandbox down left these running: {leftover}"


def fired(prom: prometheus.Prometheus, name: str, subject: str, timeout: float = 120) -> float:
    """Seconds until the alert fires about subject (polled); fails naming it when it never does."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if any((a.name, a.subject) == (name, subject) for a in alert_state.firing(alert_state.rules(prom))):
            return time.monotonic() - start
        time.sleep(0.2)
    raise AssertionError(f"{name} about {subject} did not fire within {timeout:g}s")


@pytest.mark.ssh
def test_rules_are_planned_then_installed_once_and_prometheus_loads_them(watched):
    box, cfg = watched
    planned = rung5b.install_alerts(cfg, FAST, dry_run=True)["mon"]
    assert [c.outcome for c in planned] == ["planned"] * 4
    rung5b.install_alerts(cfg, FAST, dry_run=False)
    assert {c.outcome for c in rung5b.install_alerts(cfg, FAST, dry_run=True)["mon"]} == {"ok"}
    board = rung5b.read_alerts(cfg, since_minutes=2)
    end = time.monotonic() + 30
    while any(r.health == "unknown" for r in board.rules) and time.monotonic() < end:  # not evaluated yet
        time.sleep(0.5)
        board = rung5b.read_alerts(cfg, since_minutes=2)
    assert [r.name for r in board.rules] == ["ErrorRateHigh", "LatencyP99High", "InstanceDown", "DiskSpaceLow"]
    assert all(r.health == "ok" for r in board.rules), [(r.name, r.health) for r in board.rules]
    assert {s.labels["host"] for s in board.series["InstanceDown"]} >= {"dev", "prod1", "prod2", "logs", "mon"}
    assert not any(a.name in ("InstanceDown", "ErrorRateHigh") for a in board.active("firing"))


@pytest.mark.ssh
def test_a_stopped_host_fires_instance_down_and_the_fault_release_fires_the_error_rate(watched):
    box, cfg = watched
    rung5b.install_alerts(cfg, FAST, dry_run=False)
    prom = prometheus.Prometheus(cfg.monitoring.url)
    with connect(cfg.host_config("prod2"), cfg.ssh) as prod2:
        prod2.run(f"kill $(cat {layout_of(prod2).pid_file})", timeout=10)
    down_after = fired(prom, "InstanceDown", "prod2")
    with connect(cfg.host_config("prod1"), cfg.ssh) as prod1:
        prod1.write_text(f"{layout_of(prod1).app}/FAULT", "error\n")
    stop = threading.Event()
    sender = threading.Thread(target=traffic, args=(cfg.app_port(cfg.host_config("prod1")), stop), daemon=True)
    sender.start()
    try:
        errors_after = fired(prom, "ErrorRateHigh", "prod1")
    finally:
        stop.set()
        sender.join(timeout=10)
    # The firing times, from the fault to the alert firing, for the closing note (pytest -s shows them).
    print(f"\nInstanceDown fired {down_after:.1f}s after prod2 stopped; ErrorRateHigh {errors_after:.1f}s after FAULT")
    assert down_after > 0 and errors_after > 0


@pytest.mark.e2e
def test_the_scheduled_run_with_a_firing_alert_exits_non_zero_and_names_it(watched, tmp_path):
    box, cfg = watched
    prom = prometheus.Prometheus(cfg.monitoring.url)
    fired(prom, "InstanceDown", "prod2")  # prod2 stays stopped from the test before
    # What `ladder schedule 5b-logs-and-monitoring --every 15m` installs, run as cron runs it: its crontab line's
    # command through `sh -c`, in cron's bare environment.
    planned = schedule.plan("5b-logs-and-monitoring", "15m", params=FAST_PARAMS.items(), config=box.config_path)
    entry = crontab.line(planned)
    assert entry.split()[0].endswith("/15") and entry.split()[1:5] == ["*"] * 4 and "--scheduled" in entry
    planned.log.parent.mkdir(parents=True, exist_ok=True)  # as `ladder schedule` does when it installs the line
    bare = {"HOME": str(tmp_path), "LOGNAME": "cron", "SHELL": "/bin/sh", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        ["sh", "-c", crontab.command_of(entry)], env=bare, capture_output=True, text=True, timeout=600
    )
    said = planned.log.read_text()
    assert done.returncode != 0, said
    assert "AlertsFiring" in said and "InstanceDown (prod2)" in said, said


def traffic(port: int, stop: threading.Event) -> None:
    """User requests to one app host until stopped (their answers do not matter here)."""
    while not stop.is_set():
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/items", timeout=5).read()
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.05)
