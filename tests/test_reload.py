"""Reloading a detected app server: the method chosen, its command, and real reloads over SSH on both servers."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import require_program, require_sshd

from ladder import sandbox
from ladder.app import health, reload, server
from ladder.app.layout import Layout
from ladder.app.server import AppServer, Reload, get_server
from ladder.core.config import load_config
from ladder.core.errors import HostError
from ladder.core.hosts import LocalHost, connect
from ladder.sandbox.servers import Paths, uwsgi_ini
from ladder.sandbox.sshd import free_port

UWSGI = AppServer(
    8000,
    "uwsgi",
    pid=41,
    manager="supervisor",
    manager_name="shop",
    control=("/opt/venv/bin/python", "-m", "supervisor.supervisorctl", "-c", "/srv/sup.conf"),
    reloads=(
        Reload("uwsgi-touch-chain-reload", "/srv/uwsgi.reload"),
        Reload("uwsgi-fifo", "/srv/uwsgi fifo"),
        Reload("uwsgi-reload-pidfile", "/srv/uwsgi.pid"),
        Reload("supervisorctl-restart", "shop"),
    ),
)
GUNICORN = AppServer(8000, "gunicorn", pid=22690, reloads=(Reload("hup", "22690"), Reload("usr2-quit", "22690")))


@pytest.mark.unit
def test_a_reload_takes_the_gentlest_method_and_a_restart_the_managers():
    assert reload.choose("prod1", UWSGI) == Reload("uwsgi-touch-chain-reload", "/srv/uwsgi.reload")
    assert reload.choose("prod1", UWSGI, restart=True) == Reload("supervisorctl-restart", "shop")
    assert reload.choose("prod1", GUNICORN) == Reload("hup", "22690")
    assert reload.choose("prod1", GUNICORN, restart=True) == Reload("usr2-quit", "22690")
    # Without a chain-reload file or a manager, the master FIFO comes before a re-exec of the master's binary.
    fifo_only = AppServer(8000, "uwsgi", pid=4, reloads=UWSGI.reloads[1:3])
    assert reload.choose("prod1", fifo_only).method == "uwsgi-fifo"
    systemd = AppServer(8000, "uwsgi", pid=4, reloads=(Reload("systemctl-reload", "shop.service"),))
    assert reload.choose("prod1", systemd).method == "systemctl-reload"


@pytest.mark.unit
def test_an_unknown_server_or_no_fitting_method_is_one_error_naming_host_and_findings():
    unknown = AppServer(8000, "unknown", looked_at=("`ss` showed: nothing listening",))
    with pytest.raises(HostError, match=r"prod1: no uWSGI or gunicorn found on port 8000.*nothing listening"):
        reload.choose("prod1", unknown)
    bare = AppServer(8000, "uwsgi", pid=4)
    with pytest.raises(HostError, match=r"prod1: uwsgi .*no reload method.*touch-chain-reload or master-fifo"):
        reload.choose("prod1", bare)


@pytest.mark.unit
def test_each_method_renders_one_quoted_command():
    fifo = Reload("uwsgi-fifo", "/srv/uwsgi fifo")
    assert reload.command(fifo, UWSGI) == "test -p '/srv/uwsgi fifo' && printf %s r > '/srv/uwsgi fifo'"
    assert reload.command(fifo, UWSGI, restart=True).endswith("printf %s R > '/srv/uwsgi fifo'")
    assert reload.command(UWSGI.reloads[0], UWSGI) == "touch /srv/uwsgi.reload"
    assert reload.command(Reload("supervisorctl-restart", "shop"), UWSGI) == (
        "/opt/venv/bin/python -m supervisor.supervisorctl -c /srv/sup.conf restart shop"
    )
    assert reload.command(Reload("systemctl-restart", "a b.service"), UWSGI) == "systemctl restart 'a b.service'"
    assert reload.command(GUNICORN.reloads[0], GUNICORN) == "kill -HUP 22690"
    usr2 = reload.command(GUNICORN.reloads[1], GUNICORN)
    assert usr2.startswith("kill -USR2 22690 && ") and usr2.endswith("kill -QUIT 22690")
    assert "grep -q ' RUNNING '" in reload.preflight_command(Reload("supervisorctl-restart", "shop"), UWSGI)
    assert reload.parse_pids("101 102\n103\n") == {101, 102, 103}


def _prod(box: sandbox.Sandbox, name: str = "prod1"):
    config = load_config(box.config_path)
    entry = config.host_config(name)
    return connect(entry, config.ssh), config.app_port(entry)


@pytest.fixture(scope="module", params=[("uwsgi", "supervisor"), ("gunicorn", "none")], ids=lambda p: p[0])
def served(request, tmp_path_factory):
    """An SSH sandbox whose prod serves with the given server and manager."""
    require_sshd()
    kind, manager = request.param
    box = sandbox.up(tmp_path_factory.mktemp(kind) / "sb", ssh=True, server=kind, manager=manager)
    yield box
    sandbox.down(box.dir)


@pytest.mark.ssh
def test_a_dry_run_changes_nothing_and_an_apply_replaces_the_workers(served):
    host, port = _prod(served)
    with host:
        found = server.get_server(host, port)
        workers = reload.get_workers(host, found.pid)
        plan = reload.reload(host, found)
        assert plan.outcome == "planned" and plan.commands == (reload.command(reload.choose("prod1", found), found),)
        assert reload.get_workers(host, found.pid) == workers and workers
        done = reload.reload(host, found, dry_run=False)
        after = server.get_server(host, port)
        assert done.outcome == "changed" and after.kind == found.kind
        assert reload.get_workers(host, after.pid).isdisjoint(workers)


@pytest.mark.ssh
def test_a_reload_waited_for_on_the_host_returns_once_every_worker_is_new(served):
    host, port = _prod(served)
    with host:
        found = server.get_server(host, port)
        workers = reload.get_workers(host, found.pid)
        cmd = reload.replace_workers_command(reload.choose("prod1", found), found, deadline=60)
        assert cmd is not None, "HUP and uWSGI's chain reload keep the master: the wait can run on the host"
        assert host.run(cmd, timeout=90).ok
        assert reload.get_workers(host, found.pid).isdisjoint(workers) and reload.get_workers(host, found.pid)


@pytest.mark.ssh
def test_a_reload_right_after_another_still_replaces_every_worker(served):
    host, port = _prod(served)
    with host:
        for _ in range(3):  # uWSGI ignores a touch while its last chain is finishing: the touch is repeated
            found = server.get_server(host, port)
            workers = reload.get_workers(host, found.pid)
            cmd = reload.replace_workers_command(reload.choose("prod1", found), found, deadline=60)
            assert cmd is not None and host.run(cmd, timeout=90).ok
            assert reload.get_workers(host, found.pid).isdisjoint(workers)
            reload.reload(host, server.get_server(host, port), dry_run=False, deadline=60)


@pytest.mark.ssh
def test_a_reload_begun_while_the_last_one_is_half_done_still_replaces_every_worker(served):
    # uWSGI ignores a touch while its chain runs; the chain then ends with a worker the new reload counts as old.
    host, port = _prod(served)
    with host:
        found = server.get_server(host, port)
        first = reload.get_workers(host, found.pid)
        host.run(reload.command(reload.choose("prod1", found), found), timeout=30)
        for _ in range(200):  # until the first reload has replaced some workers but not all
            now = reload.get_workers(host, found.pid)
            if now - first:
                break
            time.sleep(0.05)
        before = reload.get_workers(host, found.pid)
        reload.reload(host, found, dry_run=False, deadline=60)
        assert reload.get_workers(host, found.pid).isdisjoint(before | first)


@pytest.mark.unit
def test_only_uwsgis_touch_is_repeated_while_old_workers_stay_and_none_changes():
    touch = reload.replace_workers_command(Reload("uwsgi-touch-chain-reload", "/srv/shop/uwsgi.reload"), UWSGI)
    hup = reload.replace_workers_command(Reload("hup", "22690"), GUNICORN)
    assert touch is not None and touch.count("touch /srv/shop/uwsgi.reload") == 2
    assert hup is not None and hup.count("kill -HUP 22690") == 1  # a second HUP would replace the workers twice


@pytest.mark.unit
def test_only_a_reload_that_keeps_the_master_is_waited_for_on_the_host():
    hup = reload.replace_workers_command(Reload("hup", "22690"), GUNICORN, deadline=5)
    assert hup is not None and "kill -HUP 22690" in hup and "/proc/22690/task/*/children" in hup
    assert "within 5s" in hup and "exit 4" in hup  # a reload that never replaces the workers ends in an error
    assert reload.replace_workers_command(Reload("usr2-quit", "22690"), GUNICORN) is None  # a new master
    assert reload.replace_workers_command(Reload("supervisorctl-restart", "shop"), UWSGI) is None


@pytest.mark.ssh
def test_a_restart_goes_through_the_manager_or_a_new_master(served):
    host, port = _prod(served)
    with host:
        found = server.get_server(host, port)
        done = reload.restart(host, found, dry_run=False)
        after = server.get_server(host, port)
    assert done.reason == ("restart by supervisorctl-restart" if found.kind == "uwsgi" else "restart by usr2-quit")
    assert after.kind == found.kind and after.pid != found.pid


@pytest.mark.ssh
def test_an_unknown_server_is_refused_before_any_change(ssh_sandbox):
    host, port = _prod(ssh_sandbox, "dev")  # dev serves nothing on its app port
    with host:
        found = server.get_server(host, port)
        with pytest.raises(HostError, match=rf"dev: no uWSGI or gunicorn found on port {port}"):
            reload.reload(host, found, dry_run=False)


def _gunicorn(folder, port: int) -> subprocess.Popen:
    """A gunicorn Ladder did not start: two workers, no pid file, no manager."""
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "-w", "2", "-b", f"127.0.0.1:{port}", "app:application"],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        if health.check(f"http://127.0.0.1:{port}/", timeout=1).ok:
            return proc
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("gunicorn did not answer")


@pytest.mark.local
def test_a_kept_scripts_hup_reaches_the_master_running_then_not_the_one_seen_when_written(tmp_path):
    (tmp_path / "app.py").write_text(
        "def application(environ, start):\n    start('200 OK', [('Content-Type', 'text/plain')])\n    return [b'ok']\n"
    )
    port = free_port()
    host = LocalHost("prod1", tmp_path)
    first = _gunicorn(tmp_path, port)
    try:
        written = get_server(host, port)
        cmd = reload.script_command(reload.choose("prod1", written), written)
        assert str(written.pid) not in cmd  # found when the script runs, not when it was written
    finally:
        first.terminate()
        first.wait()
    second = _gunicorn(tmp_path, port)  # restarted (by hand, by a reboot): a new master pid
    try:
        assert second.pid != written.pid
        before = reload.get_workers(host, second.pid)
        assert host.run(cmd, timeout=30, warn=True).ok
        for _ in range(100):
            now = reload.get_workers(host, second.pid)
            if now and not now & before:
                break
            time.sleep(0.1)
        assert now and not now & before, (before, now)
        assert second.poll() is None  # the new master itself lives on
    finally:
        second.terminate()
        second.wait()
    result = host.run(cmd, timeout=30, warn=True)
    assert result.failed and f"no process listens on port {port}" in result.stderr


DEBIAN_UWSGI = "/usr/bin/uwsgi-core"  # what /usr/bin/uwsgi points at on Debian and Ubuntu


@pytest.fixture(scope="module")
def debian_uwsgi(tmp_path_factory):
    """Debian's uWSGI binary with its python3 plugin and `virtualenv =`, as real hosts run it: no pyuwsgi involved."""
    binary = require_program(DEBIAN_UWSGI, "uwsgi-core and uwsgi-plugin-python3")
    lay = Layout(str(tmp_path_factory.mktemp("debian-uwsgi")))
    for folder in (lay.app, lay.logs):
        os.makedirs(folder)
    Path(lay.app, "app.py").write_text(
        "import werkzeug.wrappers  # from the virtualenv, not from Debian\n\n"
        "def application(environ, start):\n    start('200 OK', [('Content-Type', 'text/plain')])\n"
        "    return [b'ok']\n"
    )
    port = free_port()
    paths = Paths(lay.base)
    Path(paths.uwsgi_ini).write_text(uwsgi_ini(lay, port, "app:application", daemonize=False, virtualenv=sys.prefix))
    Path(paths.uwsgi_reload).touch()
    proc = subprocess.Popen(
        [binary, "--ini", paths.uwsgi_ini], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    log = Path(lay.logs, "uwsgi.log")
    for _ in range(100):
        if health.check(f"http://127.0.0.1:{port}/", timeout=1).ok:
            break
        time.sleep(0.1)
    else:
        os.killpg(proc.pid, signal.SIGKILL)
        raise AssertionError(log.read_text())
    yield LocalHost("prod1", lay.base), port, paths, log
    proc.send_signal(signal.SIGINT)  # stops the master and its workers
    try:
        proc.wait(timeout=30)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.mark.local
def test_debians_uwsgi_is_found_with_its_ini_and_its_gentlest_reload(debian_uwsgi):
    host, port, paths, _ = debian_uwsgi
    found = get_server(host, port)
    assert (found.kind, found.manager, found.config_file, found.app) == (
        "uwsgi",
        "none",
        paths.uwsgi_ini,
        "app:application",
    )
    assert found.version and found.version.endswith("-debian")
    assert reload.choose("prod1", found) == Reload("uwsgi-touch-chain-reload", paths.uwsgi_reload)
    assert Reload("uwsgi-fifo", paths.uwsgi_fifo) in found.reloads


@pytest.mark.local
def test_debians_uwsgi_is_chain_reloaded_keeping_its_master_and_the_virtualenv(debian_uwsgi):
    host, port, _, log = debian_uwsgi
    found = get_server(host, port)
    before = reload.get_workers(host, found.pid)
    done = reload.reload(host, found, path="/", python=sys.executable, dry_run=False)
    after = get_server(host, port)
    assert done.outcome == "changed" and after.pid == found.pid  # the master was not re-executed
    assert reload.get_workers(host, after.pid).isdisjoint(before)
    assert "No module named" not in log.read_text()  # new workers found the virtualenv
