"""ladder.app.balancer: HAProxy's config, its runtime API parsed from recorded output, and a real HAProxy in the sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from ladder.app import balancer as b
from ladder.core.errors import BalancerError
from ladder.core.hosts import LocalHost

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


@pytest.mark.unit
@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"servers": []}, "at least one server"),
        ({"backend": "app; rm"}, "not a plain HAProxy name"),
        ({"servers": [b.Upstream("prod 1", "127.0.0.1:1")]}, "'prod 1' is not a plain HAProxy name"),
        ({"health_path": "health"}, "health_path 'health' must be a URL path"),
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
        "printf '%s\\n' 'set server app/prod1 state drain' | socat -t 7 stdio 'UNIX-CONNECT:/tmp/my lb/admin.sock'"
    )


# --- local: HAProxy's own config check ---------------------------------------------------------------------------
@pytest.mark.local
def test_the_rendered_config_passes_haproxy_check_and_a_broken_one_is_refused(tmp_path):
    host = LocalHost("lb", tmp_path)
    host.write_text(
        host.path("ok.cfg"), b.render(port=8080, backend="app", socket=host.path("a.sock"), servers=UPSTREAMS)
    )
    b.check_config(host, host.path("ok.cfg"))
    host.write_text(host.path("bad.cfg"), "frontend web\n    bind 127.0.0.1:8080\n    default_backend missing\n")
    with pytest.raises(BalancerError, match="bad.cfg is not a valid HAProxy config"):
        b.check_config(host, host.path("bad.cfg"))
