"""Tests for ladder.app.central_logs and central_reading: rsyslog configs, reading into pandas, and the sandbox's log host."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import require_sshd

from ladder import sandbox
from ladder.app import central_logs, central_reading, health, traffic
from ladder.core.config import load_config
from ladder.core.errors import LadderError
from ladder.core.hosts import LocalHost, connect, environment_hosts
from ladder.rungs import rung5b

LINE = (
    "2026-11-27T01:06:53.565188+00:00 prod2 "
    '{"message": "request", "request_id": "abc", "method": "GET", "route": "/items/<id>", "status": 404, '
    '"latency_ms": 0.45, "version": "1.2.0", "host": "prod2", "env": "prod", "query": {}, '
    '"error": "no item 7", "timestamp": "2026-11-27T01:06:53.564730+00:00"}'
)


def _record(host: str, version: str, status: int, latency: float, error: str | None = None) -> dict:
    return {
        "received": "2026-11-27T01:00:01+00:00",
        "timestamp": "2026-11-27T01:00:00+00:00",
        "host": host,
        "request_id": secrets.token_hex(4),
        "method": "GET",
        "route": "/items",
        "status": status,
        "latency_ms": latency,
        "version": version,
        "error": error,
    }


@pytest.mark.unit
def test_a_central_line_parses_into_a_record_and_other_lines_do_not():
    record = central_reading.parse_line(LINE)
    assert record is not None
    assert (record["host"], record["request_id"], record["status"], record["version"]) == ("prod2", "abc", 404, "1.2.0")
    assert central_reading.parse_line("2026-11-27T01:00:00+00:00 prod2 not json") is None
    assert central_reading.parse_line('2026-11-27T01:00:00+00:00 prod2 {"message": "started"}') is None
    frame = central_reading.frame([record])
    assert frame["delay_ms"].iloc[0] == pytest.approx(0.458)


@pytest.mark.unit
def test_summary_counts_errors_and_latency_per_host_and_release():
    records = [_record("prod1", "1.0", 200, float(ms)) for ms in range(1, 101)]
    records += [_record("prod1", "1.0", 500, 5.0, "internal error (OverflowError)")] * 25
    records += [_record("prod2", "1.1", 404, 1.0, "no item 0")] * 4 + [_record("prod2", "1.1", 200, 2.0)] * 4
    table = central_reading.summary(central_reading.frame(records)).set_index("host")
    assert table.loc["prod1", ["requests", "4xx", "5xx"]].tolist() == [125, 0, 25]
    assert table.loc["prod1", "error_rate"] == pytest.approx(0.2)
    assert table.loc["prod2", ["requests", "4xx", "5xx", "error_rate"]].tolist() == [8, 4, 0, 0.0]
    assert table.loc["prod2", "p50_ms"] == pytest.approx(1.5)
    top = central_reading.top_errors(central_reading.frame(records))
    assert top.iloc[0][["host", "status", "error", "count"]].tolist() == [
        "prod1",
        500,
        "internal error (OverflowError)",
        25,
    ]


@pytest.mark.unit
def test_a_read_window_is_checked_before_any_host_is_touched():
    now = datetime.now(UTC)
    with pytest.raises(LadderError, match="until"):
        central_reading.Window(now, now - timedelta(minutes=1), 10)
    with pytest.raises(LadderError, match="max_rows"):
        central_reading.Window(now - timedelta(minutes=1), now, 0)
    with pytest.raises(LadderError, match="time zone"):
        central_reading.Window(datetime(2026, 1, 1), datetime(2026, 1, 2), 10)
    assert central_reading.Window(
        datetime(2026, 1, 31, 23, tzinfo=UTC), datetime(2026, 2, 1, 1, tzinfo=UTC), 5
    ).days() == {
        "2026-01-31",
        "2026-02-01",
    }
    with pytest.raises(LadderError, match="at least one file"):
        central_logs.render_forwarder(name="prod1", files=[], target="127.0.0.1", port=1, work_dir="/w")


@pytest.mark.local
def test_both_rsyslog_configs_pass_rsyslogd_check(tmp_path):
    host = LocalHost("logs", tmp_path)
    (tmp_path / "spool").mkdir()
    receiver = central_logs.render_receiver(
        port=5140, central_dir=str(tmp_path / "central"), work_dir=str(tmp_path / "spool")
    )
    forwarder = central_logs.render_forwarder(
        name="prod1", files=[str(tmp_path / "app.log")], target="127.0.0.1", port=5140, work_dir=str(tmp_path / "spool")
    )
    for name, text in (("central.conf", receiver), ("forward.conf", forwarder)):
        (tmp_path / name).write_text(text)
        central_logs.check_rsyslog(host, str(tmp_path / name))
    (tmp_path / "bad.conf").write_text(receiver.replace('module(load="imtcp")', 'module(load="imnothing")'))
    with pytest.raises(central_logs.LogsError, match="bad.conf"):
        central_logs.check_rsyslog(host, str(tmp_path / "bad.conf"))


@pytest.mark.local
def test_the_logrotate_config_passes_logrotate_debug(tmp_path):
    host = LocalHost("prod1", tmp_path)
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "app.log").write_text("{}\n")
    conf = tmp_path / "logrotate.conf"
    conf.write_text(central_logs.render_logrotate([str(tmp_path / "logs" / "*.log")], postrotate="true"))
    central_logs.check_logrotate(host, str(conf), str(tmp_path / "state"))
    conf.write_text(conf.read_text().replace("daily", "dayly"))
    with pytest.raises(central_logs.LogsError, match="logrotate"):
        central_logs.check_logrotate(host, str(conf), str(tmp_path / "state"))


def _rsyslogds(folder: Path) -> list[str]:
    """Command lines of live rsyslogd processes that name the folder (read from /proc: ps may cut long lines)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if Path(argv[0]).name == "rsyslogd" and str(folder) in " ".join(argv):
            found.append(" ".join(argv))
    return found


@pytest.mark.local
def test_forwarding_is_planned_then_applied_once_and_sandbox_down_leaves_no_rsyslogd(tmp_path):
    box = sandbox.up(tmp_path / "sb", hosts=1, serve=False, logs=True)
    try:
        prod = tmp_path / "sb" / "hosts" / "prod1"
        planned = rung5b.install_forwarding(box.config_path, dry_run=True)
        assert planned["prod1"][-1].changed and not planned["prod1"][-1].applied
        assert not (prod / "rsyslog").exists()
        rung5b.install_forwarding(box.config_path, dry_run=False)
        again = rung5b.install_forwarding(box.config_path, dry_run=True)
        assert not any(c.changed for changes in again.values() for c in changes)
        assert len(_rsyslogds(tmp_path / "sb")) == 2  # the log host's and prod1's
    finally:
        sandbox.down(box.dir)
    assert _rsyslogds(tmp_path / "sb") == []


@pytest.fixture(scope="module")
def logs_sandbox(tmp_path_factory):
    """An SSH sandbox with 3 prod hosts and a log host, its forwarding installed."""
    require_sshd()
    box = sandbox.up(tmp_path_factory.mktemp("logs") / "sandbox", ssh=True, hosts=3, logs=True)
    try:
        rung5b.install_forwarding(box.config_path, dry_run=False)
        yield box
    finally:
        sandbox.down(box.dir)


def _send_and_wait(cfg, sends: dict[str, list[tuple[str, str]]], headers=None) -> dict[str, list[traffic.Sent]]:
    """Send each host its requests, then wait until the last one of every host is on the log host."""
    done = {}
    for host in environment_hosts(cfg, "prod"):
        with host:
            hc = cfg.host_config(host.name)
            done[host.name] = traffic.send(host, cfg.app_port(hc), sends[host.name], python=hc.python, headers=headers)
    with connect(cfg.logs.host, cfg.ssh) as log_host:
        central_reading.find_requests(log_host, cfg.logs.dir, {s[-1].request_id: s[-1].sent_at for s in done.values()})
    return done


@pytest.mark.ssh
def test_a_request_with_a_known_id_on_each_prod_host_is_found_with_its_host_and_release(logs_sandbox):
    cfg = load_config(logs_sandbox.config_path)
    proof = rung5b.prove(cfg, dry_run=False).set_index("host")
    assert sorted(proof.index) == ["prod1", "prod2", "prod3"]
    for host in environment_hosts(cfg, "prod"):
        with host:
            hc = cfg.host_config(host.name)
            release = health.check_on(host, cfg.app_port(hc), python=hc.python).version
        assert proof.loc[host.name, "found on"] == host.name
        assert proof.loc[host.name, "release"] == release
        assert proof.loc[host.name, "status"] == 200
    print("\nlog delay per host:\n" + proof[["visible after (ms)", "shipped in (ms)"]].to_string())


@pytest.mark.ssh
def test_the_error_rate_table_matches_the_requests_sent(logs_sandbox):
    cfg = load_config(logs_sandbox.config_path)
    tag = secrets.token_hex(4)
    paths = ["/health"] * 5 + ["/items/0"] * 3 + ["/items/" + "9" * 30] * 2  # 200s, 404s, 500s (int too large)
    sends = {f"prod{n}": [(p, f"{tag}-{n}-{i}") for i, p in enumerate(paths[: 4 + 2 * n])] for n in (1, 2, 3)}
    sent = _send_and_wait(cfg, sends)
    assert [s.status for s in sent["prod3"]] == [200] * 5 + [404] * 3 + [500] * 2
    logs = rung5b.read_logs(cfg, since_minutes=10, progress=False)
    ours = logs[logs["request_id"].str.startswith(tag)]
    table = rung5b.summarize(ours).table().set_index("host")
    expected = {"prod1": (6, 1, 0), "prod2": (8, 3, 0), "prod3": (10, 3, 2)}
    for host, (requests, client, server) in expected.items():
        assert table.loc[host, ["requests", "4xx", "5xx"]].tolist() == [requests, client, server]
        assert table.loc[host, "error_rate"] == pytest.approx(server / requests)
    top = rung5b.summarize(ours).top_errors()
    assert "internal error (OverflowError)" in set(top[top["host"] == "prod3"]["error"])


@pytest.mark.ssh
def test_nothing_secret_reaches_the_logs(logs_sandbox):
    cfg = load_config(logs_sandbox.config_path)
    values = {name: secrets.token_hex(12) for name in ("bearer", "cookie", "password", "token", "api_key")}
    headers = {"Authorization": f"Bearer {values['bearer']}", "Cookie": f"session={values['cookie']}"}
    query = f"/items?password={values['password']}&token={values['token']}&api_key={values['api_key']}&page=2"
    rid = f"secret-test-{secrets.token_hex(4)}"
    _send_and_wait(cfg, {h: [(query, f"{rid}-{h}")] for h in ("prod1", "prod2", "prod3")}, headers=headers)
    folder = logs_sandbox.dir / "hosts"
    texts = "".join(p.read_text(errors="replace") for p in folder.glob("*/**/*.log") if p.is_file())
    assert rid in texts  # the request was logged, centrally and on the hosts
    leaked = [name for name, value in values.items() if value in texts]
    assert leaked == []
    central = logs_sandbox.dir / "hosts" / "logs" / "central" / "prod1"
    record = next(
        r
        for p in central.glob("*.log")
        for r in map(central_reading.parse_line, p.read_text().splitlines())
        if r and r["request_id"] == f"{rid}-prod1"
    )
    assert record["route"] == "/items"
    raw = next(line for p in central.glob("*.log") for line in p.read_text().splitlines() if f"{rid}-prod1" in line)
    assert '"password": "[redacted]"' in raw and '"page": "2"' in raw
