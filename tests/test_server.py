"""What serves the app: parses of outputs captured from the sandbox's own servers, and detection over SSH."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest
from conftest import require_sshd

from ladder import sandbox
from ladder.app import server
from ladder.cli import main as ladder_main
from ladder.core.config import load_config
from ladder.core.hosts import connect
from ladder.sandbox.servers import Paths

# Captured from `ladder sandbox up --ssh` (uwsgi+supervisor, gunicorn+none); its folder shown as /srv/sandbox.
CAPTURED = Path(__file__).with_name("servers")


def captured(name: str) -> str:
    return (CAPTURED / f"{name}.txt").read_text()


@pytest.mark.unit
def test_ss_names_every_process_on_the_port_and_only_that_port():
    assert server.parse_ss(captured("uwsgi-supervisor-ss"), 58887) == (13646, 13645, 13644)
    assert server.parse_ss(captured("uwsgi-supervisor-ss"), 5888) == ()
    assert server.parse_ss(captured("gunicorn-none-ss"), 44477) == (22701, 22694, 22690)
    assert server.parse_ss("", 44477) == ()


@pytest.mark.unit
def test_proc_net_tcp_gives_the_listening_inode_and_fd_owners_its_processes():
    tcp = captured("gunicorn-none-proc-net-tcp")  # also holds a client's TIME_WAIT socket to the port
    assert server.parse_proc_net_tcp(tcp, 44477) == (5765971,)
    assert server.parse_proc_net_tcp(tcp, 36050) == ()
    assert server.parse_fd_owners(captured("gunicorn-none-fd")) == (22690, 22694, 22701)


@pytest.mark.unit
def test_uwsgi_chain_finds_the_master_under_supervisord():
    chain = server.parse_chain(captured("uwsgi-supervisor-chain"))
    assert [p.pid for p in chain] == [13644, 13579]
    assert server.kind_of(chain[0]) == "uwsgi"
    assert server.master_of(chain, "uwsgi") == (0, False)
    assert server.manager_of(chain, 0) == ("supervisor", 1, None)
    assert server.supervisorctl_argv(chain[1]) == [
        "/opt/ladder/venv/bin/python",
        "-m",
        "supervisor.supervisorctl",
        "-c",
        "/srv/sandbox/hosts/prod1/supervisor/supervisord.conf",
    ]
    assert server.config_file(chain[0], "uwsgi") == "/srv/sandbox/hosts/prod1/uwsgi.ini"


@pytest.mark.unit
def test_uwsgi_details_give_version_reloads_and_program():
    sections = server.parse_sections(captured("uwsgi-supervisor-details"))
    assert server.parse_version(sections["version"]) == "2.0.30.post1"
    assert server.parse_supervisor_status(sections["supervisor"], {13644}) == "shop"
    assert server.parse_supervisor_status(sections["supervisor"], {1}) is None
    ini = server.parse_uwsgi_ini(base64.b64decode(sections["config"]).decode())
    assert ini["touch-chain-reload"] == "/srv/sandbox/hosts/prod1/uwsgi.reload"
    chain = server.parse_chain(captured("uwsgi-supervisor-chain"))
    reloads = server.reloads_for("uwsgi", chain[0], ini, "supervisor", "shop")
    assert [r.method for r in reloads] == [
        "uwsgi-touch-chain-reload",
        "uwsgi-fifo",
        "uwsgi-reload-pidfile",
        "supervisorctl-restart",
    ]


@pytest.mark.unit
def test_a_daemonized_gunicorn_is_its_own_master_with_no_manager():
    chain = server.parse_chain(captured("gunicorn-none-chain"))
    assert [p.pid for p in chain] == [22690]
    assert server.kind_of(chain[0]) == "gunicorn"
    assert server.manager_of(chain, 0) == ("none", None, None)
    assert server.gunicorn_app(chain[0].argv) == "app:application"
    assert server.parse_version(server.parse_sections(captured("gunicorn-none-details"))["version"]) == "27.0.1"
    assert [str(r) for r in server.reloads_for("gunicorn", chain[0], {}, "none", None)] == [
        "hup 22690",
        "usr2-quit 22690",
    ]


@pytest.mark.unit
def test_a_systemd_unit_is_read_from_the_cgroup():
    proc = server.Proc(7, 1, "/usr/bin/uwsgi-core", "/", ("/usr/bin/uwsgi",), ("0::/system.slice/shop.service",))
    assert proc.systemd_unit == "shop.service"
    assert server.manager_of([proc], 0) == ("systemd", None, "shop.service")
    assert [str(r) for r in server.reloads_for("uwsgi", proc, {}, "systemd", "shop.service")] == [
        "systemctl-reload shop.service",
        "systemctl-restart shop.service",
    ]


def _host(box: sandbox.Sandbox, name: str = "prod1"):
    config = load_config(box.config_path)
    entry = config.host_config(name)
    return connect(entry, config.ssh), config.app_port(entry)


@pytest.fixture(scope="module")
def uwsgi_box(tmp_path_factory):
    """An SSH sandbox whose prod serves with uWSGI under a supervisord of its own."""
    require_sshd()
    box = sandbox.up(tmp_path_factory.mktemp("uw") / "sb", ssh=True, server="uwsgi", manager="supervisor")
    yield box
    sandbox.down(box.dir)


@pytest.mark.ssh
def test_uwsgi_under_supervisor_is_detected_with_its_ini_and_program(uwsgi_box):
    host, port = _host(uwsgi_box)
    with host:
        found = server.get_server(host, port)
        master = int(host.read_text(Paths(host.base).uwsgi_pid).strip())
        kept_script_finds = host.run(server.master_pid_command(port), timeout=30).stdout.strip()
    assert (found.kind, found.manager, found.manager_name) == ("uwsgi", "supervisor", "shop")
    assert found.pid == master == int(kept_script_finds)
    assert found.config_file == Paths(host.base).uwsgi_ini
    assert found.version and found.version.startswith("2.0")
    assert server.Reload("uwsgi-touch-chain-reload", Paths(host.base).uwsgi_reload) in found.reloads
    assert server.Reload("supervisorctl-restart", "shop") in found.reloads


@pytest.mark.ssh
def test_gunicorn_with_no_manager_is_detected(ssh_sandbox):
    host, port = _host(ssh_sandbox)
    with host:
        found = server.get_server(host, port)
        master = int(host.read_text(host.path("gunicorn.pid")).strip())
        kept_script_finds = host.run(server.master_pid_command(port), timeout=30).stdout.strip()
    assert (found.kind, found.pid, found.manager, found.app) == ("gunicorn", master, "none", "app:application")
    assert int(kept_script_finds) == master
    assert found.reloads == (server.Reload("hup", str(master)), server.Reload("usr2-quit", str(master)))


@pytest.mark.ssh
def test_a_port_nobody_listens_on_is_unknown_and_says_what_was_looked_at(ssh_sandbox, capsys):
    host, port = _host(ssh_sandbox, "dev")  # dev runs no server on its app port
    with host:
        found = server.get_server(host, port)
    assert found.kind == "unknown" and found.pid is None and not found.reloads
    assert any("ss -Hltnp" in x and "nothing listening" in x for x in found.looked_at)
    assert any("/proc/net/tcp" in x for x in found.looked_at)
    assert ladder_main(["hosts", "facts", "dev", "--config", str(ssh_sandbox.config_path)]) == 0
    out = capsys.readouterr().out
    assert f"server: unknown (port {port})" in out and "looked at:" in out


@pytest.mark.ssh
def test_hosts_facts_prints_server_and_manager(uwsgi_box, capsys):
    assert ladder_main(["hosts", "facts", "prod1", "--config", str(uwsgi_box.config_path)]) == 0
    out = capsys.readouterr().out
    assert "server: uwsgi" in out and "manager: supervisor shop" in out and "reload: uwsgi-touch-chain-reload" in out


@pytest.mark.ssh
def test_sandbox_down_leaves_no_uwsgi_or_supervisord(tmp_path):
    require_sshd()
    box = sandbox.up(tmp_path / "sb", ssh=True, server="uwsgi", manager="supervisor")
    assert len(sandbox.processes(box.dir)) == 4  # two sshd, supervisord, the uWSGI master
    sandbox.down(box.dir)
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True, timeout=10).stdout
    assert str(box.dir) not in ps


@pytest.mark.ssh
def test_the_assessment_reads_the_same_facts_as_host_evidence(uwsgi_box):
    from ladder.assess.host_facts import read_config_hosts

    (prod,) = read_config_hosts(load_config(uwsgi_box.config_path)).prod
    assert prod.server is not None and prod.server.kind == "uwsgi"
    assert prod.server_evidence is not None and prod.server_evidence.endswith("under supervisor shop")


@pytest.mark.unit
def test_a_gunicorn_re_executed_by_usr2_is_still_gunicorn():
    argv = ("/srv/venv/bin/python", "/srv/venv/lib/python3.11/site-packages/gunicorn/__main__.py", "app:application")
    proc = server.Proc(9, 1, "/usr/bin/python3.11", "/srv", argv)
    assert server.kind_of(proc) == "gunicorn" and server.gunicorn_app(proc.argv) == "app:application"
