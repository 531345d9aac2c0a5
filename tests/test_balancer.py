"""ladder.app.balancer: HAProxy's config, its runtime API parsed from recorded output, and a real HAProxy in the sandbox."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import require_sshd

from ladder import sandbox
from ladder.app import balancer as b
from ladder.app.layout import layout_of
from ladder.core.config import load_config
from ladder.core.errors import BalancerError, UnknownServer
from ladder.core.hosts import LocalHost, environment_hosts
from ladder.sandbox.servers import Serving, serve

RECORDED = Path(__file__).parent / "balancer"
UPSTREAMS = [b.Upstream("prod1", "127.0.0.1:8001"), b.Upstream("prod2", "127.0.0.1:8002")]


def recorded(name: str) -> str:
    return (RECORDED / name).read_text()


# --- unit: rendering and parsing --------------------------------------------------------------------------------
@pytest.mark.unit
def test_render_has_frontend_checked_backend_and_admin_socket():
    cfg = b.render(port=8080, backend="app", socket="/run/lb/admin.sock", servers=UPSTREAMS, health_path="/healthz")
    lines = [line.strip() for line in cfg.splitlines()]
    for wanted in (
        "stats socket /run/lb/admin.sock mode 600 level admin expose-fd listeners",
        "bind 127.0.0.1:8080",
        "default_backend app",
        "backend app",
        "option httpchk GET /healthz",
        "http-check expect status 200",
        "option redispatch",
        "retries 3",
        "server prod1 127.0.0.1:8001",
        "server prod2 127.0.0.1:8002",
    ):
        assert wanted in lines, wanted
    assert any(line.startswith("timeout server ") for line in lines)
    assert "prometheus-exporter" not in cfg


@pytest.mark.unit
def test_render_with_metrics_port_adds_a_frontend_serving_the_prometheus_exporter():
    cfg = b.render(port=8080, backend="app", socket="/run/lb/admin.sock", servers=UPSTREAMS, metrics_port=8404)
    tail = [line.strip() for line in cfg.split("frontend metrics\n", 1)[1].splitlines()]
    assert tail == [
        "bind 127.0.0.1:8404",
        "no log",
        "http-request use-service prometheus-exporter if { path /metrics }",
    ]


@pytest.mark.unit
@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"servers": []}, "at least one server"),
        ({"backend": "app; rm"}, "not a plain HAProxy name"),
        ({"servers": [b.Upstream("prod 1", "127.0.0.1:1")]}, "'prod 1' is not a plain HAProxy name"),
        ({"health_path": "health"}, "health_path 'health' must be a URL path"),
        ({"socket": "/run/" + "x" * 100}, "longer than HAProxy's 97 bytes"),
    ],
)
def test_render_refuses_what_haproxy_would_misread(kwargs, words):
    args = {"port": 8080, "backend": "app", "socket": "/run/lb.sock", "servers": UPSTREAMS, **kwargs}
    with pytest.raises(BalancerError, match=words):
        b.render(**args)


@pytest.mark.unit
def test_parse_recorded_drain_weight_zero_and_an_in_flight_request():
    found = b.parse_servers(recorded("show-stat-inflight.txt"), "app")
    assert [s.to_dict() for s in found] == [
        {"name": "prod1", "address": "127.0.0.1:55087", "state": "drain", "health": "UP", "weight": 1}
        | {"sessions": 1, "total": 3},
        {"name": "prod2", "address": "127.0.0.1:49291", "state": "ready", "health": "UP", "weight": 0}
        | {"sessions": 0, "total": 2},
    ]
    assert not any(s.serving for s in found)


@pytest.mark.unit
def test_parse_initial_weights_reads_the_configured_weight_not_the_runtime_one():
    text = recorded("show-stat-inflight.txt")
    assert b.parse_initial_weights(text, "app") == {"prod1": 1, "prod2": 1}, "prod2's runtime weight is 0"
    assert b.parse_initial_weights(text, "other") == {}


@pytest.mark.unit
def test_parse_recorded_maint_and_a_stopped_app():
    prod1, prod2 = b.parse_servers(recorded("show-stat-down.txt"), "app")
    assert (prod1.state, prod1.health) == ("maint", "DOWN")
    assert (prod2.state, prod2.health, prod2.weight) == ("ready", "DOWN", 0)


@pytest.mark.unit
def test_parse_stat_skips_frontend_and_backend_rows_and_other_backends():
    assert b.parse_stat(recorded("show-stat-all.txt"), "app") == {"prod1": (0, 3), "prod2": (0, 2)}
    assert b.parse_stat(recorded("show-stat-all.txt"), "web") == {}
    assert b.parse_servers_state(recorded("show-stat-down.txt"), "other") == {}


@pytest.mark.unit
def test_an_unknown_backend_is_named():
    with pytest.raises(BalancerError, match="no backend 'nope'; check balancer.backend"):
        b.parse_servers("Can't find backend.\n\nNo such proxy.\n", "nope")


@pytest.mark.unit
def test_api_command_quotes_every_value():
    cmd = b.api_command(b.Balancer("app", "/tmp/my lb/admin.sock"), "set server app/prod1 state drain", 7)
    assert cmd == (
        "printf '%s\\n' 'set server app/prod1 state drain' | socat -T 7 stdio 'UNIX-CONNECT:/tmp/my lb/admin.sock'"
    )


# --- local: HAProxy's own config check ---------------------------------------------------------------------------
@pytest.mark.local
def test_the_rendered_config_passes_haproxy_check_and_a_broken_one_is_refused(tmp_path):
    host = LocalHost("lb", tmp_path)
    host.write_text(
        host.path("ok.cfg"),
        b.render(port=8080, backend="app", socket=host.path("a.sock"), servers=UPSTREAMS, metrics_port=8404),
    )
    b.check_config(host, host.path("ok.cfg"))
    host.write_text(host.path("bad.cfg"), "frontend web\n    bind 127.0.0.1:8080\n    default_backend missing\n")
    with pytest.raises(BalancerError, match="bad.cfg is not a valid HAProxy config:\n.*ALERT.*missing") as err:
        b.check_config(host, host.path("bad.cfg"))
    assert "NOTICE" not in str(err.value)


@pytest.mark.local
def test_a_socket_nobody_listens_on_is_named_with_the_fix(tmp_path):
    with pytest.raises(BalancerError, match=r"lb: cannot reach HAProxy's admin socket .*gone.sock \(.*\); is HAProxy"):
        b.servers(LocalHost("lb", tmp_path), b.Balancer("app", str(tmp_path / "gone.sock")))


@pytest.mark.local
def test_local_sandbox_with_balancer_has_staging_and_leaves_nothing_running(tmp_path):
    box = sandbox.up(tmp_path / "box", balancer=True)
    try:
        cfg = load_config(box.config_path)
        (staging,) = environment_hosts(cfg, "staging")
        assert get(cfg.app_port(cfg.host_config("staging"))).status == 200
        assert "APP_ENV=staging" in staging.read_text(layout_of(staging).env_file)
        assert staging.run("git status --porcelain", cwd=layout_of(staging).app).stdout == "", "staging is unedited"
        assert get(cfg.balancer.port).status == 200
        assert "hosts/lb/haproxy.pid" in sandbox.processes(box.dir)
    finally:
        sandbox.down(box.dir)
    leftover = subprocess.run(["pgrep", "-f", str(box.dir)], capture_output=True, text=True).stdout
    assert leftover == "", f"processes left behind: {leftover}"


# --- ssh: a real HAProxy in front of two prod hosts, driven over SSH ------------------------------------------------
def get(port: int, path: str = "/health") -> urllib.response.addinfourl:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as resp:
        resp.read()
        return resp


@pytest.fixture(scope="module")
def balanced(tmp_path_factory):
    """An SSH sandbox with two prod hosts behind HAProxy: (config, LB host, balancer)."""
    require_sshd()
    box = sandbox.up(tmp_path_factory.mktemp("lb") / "sandbox", ssh=True, hosts=2, balancer=True)
    cfg = load_config(box.config_path)
    host, lb = b.from_config(cfg)
    yield cfg, host, lb
    host.close()
    sandbox.down(box.dir)


def totals(host, lb) -> dict[str, int]:
    return {s.name: s.total for s in b.servers(host, lb)}


def send(cfg, count: int) -> None:
    for _ in range(count):
        assert get(cfg.balancer.port).status == 200


@pytest.mark.ssh
def test_requests_through_the_frontend_reach_every_prod_host(balanced):
    cfg, host, lb = balanced
    assert {(s.name, s.health, s.state) for s in b.servers(host, lb)} == {
        ("prod1", "UP", "ready"),
        ("prod2", "UP", "ready"),
    }
    before = totals(host, lb)
    send(cfg, 10)
    after = totals(host, lb)
    assert all(after[name] > before[name] for name in before), (before, after)


@pytest.mark.ssh
def test_drain_then_ready_moves_traffic_and_a_second_apply_changes_nothing(balanced):
    cfg, host, lb = balanced
    plan = b.drain(host, lb, "prod1")
    assert plan.outcome == "planned" and b.server(host, lb, "prod1").state == "ready", "a dry run changes nothing"
    try:
        assert b.drain(host, lb, "prod1", dry_run=False).outcome == "changed"
        assert b.drain(host, lb, "prod1", dry_run=False).outcome == "ok"
        assert b.wait_idle(host, lb, "prod1", timeout=10, dry_run=False).outcome == "ok"
        before = totals(host, lb)
        send(cfg, 6)
        after = totals(host, lb)
        assert after["prod1"] == before["prod1"] and after["prod2"] == before["prod2"] + 6
    finally:
        assert b.ready(host, lb, "prod1", dry_run=False).changed
    assert not b.ready(host, lb, "prod1", dry_run=False).changed
    before = totals(host, lb)
    send(cfg, 6)
    assert totals(host, lb)["prod1"] > before["prod1"]


@pytest.mark.ssh
def test_wait_idle_waits_for_an_in_flight_request(balanced):
    cfg, host, lb = balanced
    # A POST whose body is still coming: HAProxy has passed it to a server, whose worker waits for the rest.
    conn = socket.create_connection(("127.0.0.1", cfg.balancer.port), timeout=10)
    body = b'{"name": "slow"}'
    conn.sendall(b"POST /items HTTP/1.1\r\nHost: lb\r\nContent-Type: application/json\r\n")
    conn.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body[:5])
    busy = wait_for(lambda: next((s for s in b.servers(host, lb) if s.sessions), None))
    done: list = []
    try:
        b.drain(host, lb, busy.name, dry_run=False)
        plan = b.wait_idle(host, lb, busy.name)
        assert plan.outcome == "planned" and "1 in-flight request" in plan.commands[0]
        waiter = threading.Thread(
            target=lambda: done.append(b.wait_idle(host, lb, busy.name, timeout=60, dry_run=False))
        )
        waiter.start()
        waiter.join(1)
        assert waiter.is_alive(), "wait_idle returned while a request was in flight"
        conn.sendall(body[5:])
        assert conn.recv(100).startswith(b"HTTP/1.1 201")
        waiter.join(60)
        assert done and done[0].outcome == "changed"
        assert b.server(host, lb, busy.name).sessions == 0
    finally:
        conn.close()
        b.ready(host, lb, busy.name, dry_run=False)


@pytest.mark.ssh
def test_weight_zero_takes_a_server_out_and_back(balanced):
    cfg, host, lb = balanced
    try:
        assert b.set_weight(host, lb, "prod2", 0, dry_run=False).reason == "weight 1 -> 0"
        assert not b.set_weight(host, lb, "prod2", 0, dry_run=False).changed
        before = totals(host, lb)
        send(cfg, 4)
        assert totals(host, lb)["prod2"] == before["prod2"]
    finally:
        b.set_weight(host, lb, "prod2", 1, dry_run=False)
    before = totals(host, lb)
    send(cfg, 4)
    assert totals(host, lb)["prod2"] > before["prod2"]


@pytest.mark.ssh
def test_unknown_server_and_bad_weight_are_refused_before_anything_changes(balanced):
    _, host, lb = balanced
    with pytest.raises(UnknownServer, match="backend 'app' has no server 'prod9'; its servers: prod1, prod2"):
        b.drain(host, lb, "prod9", dry_run=False)
    with pytest.raises(BalancerError, match="weight must be a whole number from 0 to 256"):
        b.set_weight(host, lb, "prod1", 300, dry_run=False)


@pytest.mark.ssh
def test_a_stopped_prod_app_is_marked_down_and_gets_no_traffic(balanced):
    cfg, host, lb = balanced
    hc = cfg.host_config("prod2")
    (prod2,) = [h for h in environment_hosts(cfg, "prod") if h.name == "prod2"]
    lay = layout_of(prod2)
    prod2.run(f"kill $(cat {lay.pid_file})")
    try:
        wait_for(lambda: b.server(host, lb, "prod2").health == "DOWN" or None)
        before = totals(host, lb)
        send(cfg, 6)
        assert totals(host, lb)["prod2"] == before["prod2"]
    finally:
        serve(prod2, lay, python=hc.python, port=cfg.app_port(hc), wsgi=cfg.app.wsgi, program="shop", serving=Serving())
        prod2.close()
    wait_for(lambda: b.server(host, lb, "prod2").health == "UP" or None)


def wait_for(probe, timeout: float = 30):
    """Poll until probe returns something truthy; fail naming what never happened."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = probe()
        if got:
            return got
        time.sleep(0.1)
    pytest.fail(f"not reached within {timeout:g}s: {probe}")


@pytest.mark.unit
def test_the_sandbox_socket_moves_to_a_private_temp_folder_when_its_path_is_too_long_for_haproxy():
    from ladder.sandbox import balancer as sandbox_lb

    assert sandbox_lb.socket_path("/srv/box/hosts/lb") == "/srv/box/hosts/lb/haproxy.sock"
    far = sandbox_lb.socket_path("/srv/" + "deep/" * 20 + "hosts/lb")
    assert len(far.encode()) <= b.SOCKET_MAX and far.endswith(".sock") and "/ladder-" in far
