"""The sandbox's staging host and its load balancer: a real HAProxy on an `lb` host in front of the prod hosts."""

from __future__ import annotations

import hashlib
import shlex
import time
from pathlib import Path

from ..app import balancer
from ..core.errors import LadderError
from ..core.hosts import Host
from .parts import require_tools
from .servers import Paths

q = shlex.quote
STAGING, LB = "staging", "lb"
NAMES = (STAGING, LB)  # the hosts `up` adds with balancer=True, after dev and prod
BACKEND = "app"
START_TIMEOUT = 30


def require() -> None:
    """Refuse, before anything is built, when HAProxy or socat is missing on this machine (the LB host's)."""
    require_tools(("haproxy", "socat"), "load balancer", "haproxy socat", "--no-balancer")


def socket_path(base: str) -> str:
    """The admin socket: in the LB host's folder, or in this user's private temp folder when that path is too long."""
    inside = f"{base.rstrip('/')}/haproxy.sock"
    if len(inside.encode()) <= balancer.SOCKET_MAX:
        return inside
    return f"{Paths(base).socket_dir}/haproxy-{hashlib.sha256(base.encode()).hexdigest()[:16]}.sock"


def forget(folder: Path) -> None:
    """Remove the admin socket HAProxy leaves behind when it lives outside the sandbox folder."""
    socket = Path(socket_path(str(folder / "hosts" / LB)))
    if folder not in socket.parents:
        socket.unlink(missing_ok=True)


def host_entry(lb: dict) -> dict:
    """The LB host as ladder.yml's balancer.host names it (it serves no app, so no app port or Python)."""
    return {k: v for k, v in lb.items() if k not in ("app_port", "python")}


def section(folder: Path, lb: dict) -> dict:
    """ladder.yml's balancer: section for the LB host entry; the frontend listens on the entry's free port."""
    base = str(folder / lb["base"])
    return {"host": host_entry(lb), "port": lb["app_port"], "backend": BACKEND, "socket": socket_path(base)}


def start(
    host: Host,
    lb: dict,
    prod: list[dict],
    *,
    socket: str,
    health_path: str,
    wait: bool,
    metrics_port: int | None = None,
) -> None:
    """Write haproxy.cfg in the LB host's folder, validate it, start HAProxy as a daemon, wait for it.

    The config's path names the sandbox folder on HAProxy's command line, so `down` finds it by its pid file.
    With wait, also wait until the health checks call every prod server UP.
    """
    config, pid_file = host.path("haproxy.cfg"), host.path("haproxy.pid")
    upstreams = [balancer.Upstream(e["name"], f"127.0.0.1:{e['app_port']}") for e in prod]
    host.run(f"mkdir -p -m 0700 {q(str(Path(socket).parent))} && test -O {q(str(Path(socket).parent))}")
    host.write_text(
        config,
        balancer.render(
            port=lb["app_port"],
            backend=BACKEND,
            socket=socket,
            servers=upstreams,
            health_path=health_path,
            metrics_port=metrics_port,
        ),
    )
    balancer.check_config(host, config)
    host.run(balancer.start_command(config, pid_file), timeout=START_TIMEOUT)
    _wait(host, balancer.Balancer(BACKEND, socket), len(upstreams) if wait else 0)


def _wait(host: Host, lb: balancer.Balancer, healthy: int) -> None:
    """Wait until the admin socket answers and at least `healthy` servers are UP."""
    deadline = time.monotonic() + START_TIMEOUT
    last: object = None
    while time.monotonic() < deadline:
        try:
            up = sum(s.health == "UP" for s in balancer.servers(host, lb))
        except LadderError as exc:
            last = exc
        else:
            if up >= healthy:
                return
            last = f"{up} of {healthy} servers UP"
        time.sleep(0.1)
    raise LadderError(f"HAProxy on {host.name} was not ready within {START_TIMEOUT}s ({last}); see {host.base}")
