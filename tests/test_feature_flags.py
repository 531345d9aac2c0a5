"""ladder.rungs.feature_flags and `ladder flags`: the flagged app on the sandbox's hosts, flipped without a restart."""

from __future__ import annotations

import getpass
import sys

import pytest

from ladder import cli
from ladder.app import flags, page, service
from ladder.app.layout import layout_of
from ladder.core.config import load_config
from ladder.core.hosts import Host, environment_hosts
from ladder.engine.journal import history, journal_path
from ladder.rungs import feature_flags
from ladder.rungs.flagged_app import FLAG, REDESIGN_MARK, with_flags
from ladder.sandbox.app import app_files
from ladder.sandbox.sshd import free_port

pytestmark = pytest.mark.ssh

FOLDER = "flagged"  # the flagged app's checkout on each host, next to shared/ as app/ is


def serve_flagged(host: Host) -> tuple[int, str]:
    """Serve the sandbox's app with rung 2's flags from <base>/flagged on a port of its own: (port, pid file)."""
    tree = app_files()
    tree.update(with_flags(tree))
    code = host.path(FOLDER)
    host.run(f"mkdir -p {code}")
    for name, text in tree.items():
        host.write_text(f"{code}/{name}", text)
    port, pid_file, logs = free_port(), host.path("flagged.pid"), host.path("flagged-logs")
    host.run(f"mkdir -p {logs} {host.path('flagged-data')}")
    host.write_text(host.path("flagged.env"), f"APP_ENV=test\nAPP_DB_PATH={host.path('flagged-data', 'app.db')}\n")
    service.start(
        host,
        chdir=code,
        python=sys.executable,  # Ladder's venv holds gunicorn and openfeature-sdk, as the app's requirements pin
        port=port,
        wsgi="app:application",
        env_file=host.path("flagged.env"),
        pid_file=pid_file,
        logs=logs,
        timeout=60,
    )
    return port, pid_file


def home(host: Host, port: int) -> str:
    """The home page, fetched over HTTP on the host."""
    got = page.fetch_on(host, port, "/", python=sys.executable)
    assert got.status == 200, got.error
    return got.body


def file_bytes(host: Host) -> str:
    return host.run(f"cat {flags.flags_path(layout_of(host))}").stdout


def test_flag_is_on_in_dev_off_in_prod_then_set_flips_prod_without_a_restart(
    ssh_sandbox, capsys, monkeypatch, tmp_path
):
    monkeypatch.setenv("LADDER_HOME", str(tmp_path / "home"))  # a journal of this test's flips only
    config = load_config(ssh_sandbox.config_path)
    (dev,), (prod,) = environment_hosts(config, "dev"), environment_hosts(config, "prod")
    cfg = str(ssh_sandbox.config_path)

    planned = feature_flags.install(config)
    assert [c.outcome for c in planned] == ["planned", "planned"]
    assert flags.get_flags(dev) is None and flags.get_flags(prod) is None  # the dry run wrote nothing
    assert [c.outcome for c in feature_flags.install(config, dry_run=False)] == ["changed", "changed"]
    assert [c.outcome for c in feature_flags.install(config, dry_run=False)] == ["ok", "ok"]
    assert flags.get_flags(dev) == {FLAG: True} and flags.get_flags(prod) == {FLAG: False}

    (dev_port, _), (prod_port, prod_pid) = serve_flagged(dev), serve_flagged(prod)
    assert REDESIGN_MARK in home(dev, dev_port)
    assert REDESIGN_MARK not in home(prod, prod_port)
    assert cli.main(["flags", "list", "--config", cfg]) == 0
    listed = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert listed == [["flag", "env", "host", "value"], [FLAG, "dev", "dev", "on"], [FLAG, "prod", "prod1", "off"]]

    before, pid = file_bytes(prod), service.get_process(prod, prod_pid)
    assert cli.main(["flags", "set", FLAG, "on", "--env", "prod", "--config", cfg]) == 0  # a dry run
    assert "would change" in capsys.readouterr().out
    assert file_bytes(prod) == before and REDESIGN_MARK not in home(prod, prod_port)
    for bad in (
        ["flags", "set", FLAG, "on", "--env", "qa"],
        ["flags", "set", "No Such", "on", "--env", "prod"],
        ["flags", "set", "nosuch", "on", "--env", "prod"],
        ["flags", "set", FLAG, "maybe", "--env", "prod"],
    ):
        assert cli.main([*bad, "--apply", "--config", cfg]) == 2
        assert file_bytes(prod) == before
    errors = capsys.readouterr().err
    assert "no environment 'qa'" in errors and "NAME 'No Such'" in errors and "known: redesign" in errors
    assert "VALUE 'maybe': a flag is turned on or off" in errors
    assert history(journal_path(config.runs_dir), kind=feature_flags.KIND) == []

    assert cli.main(["flags", "set", FLAG, "on", "--env", "prod", "--apply", "--config", cfg]) == 0
    assert "1 host(s) changed" in capsys.readouterr().out
    assert REDESIGN_MARK in home(prod, prod_port)
    assert service.get_process(prod, prod_pid) == pid  # the same server: no restart, no reload
    assert cli.main(["flags", "set", FLAG, "on", "--env", "prod", "--apply", "--config", cfg]) == 0
    assert "0 host(s) changed" in capsys.readouterr().out
    assert REDESIGN_MARK in home(dev, dev_port)

    rows = history(journal_path(config.runs_dir), kind=feature_flags.KIND)
    assert [r["changes"] for r in rows] == [1, 0]
    first = rows[0]["summary"]
    assert first["who"] == getpass.getuser() and first["env"] == "prod" and rows[0]["started"]
    assert first["flips"] == [{"host": "prod1", "flag": FLAG, "old": "off", "new": "on", "outcome": "changed"}]
