"""HAProxy in front of the app: its config, and its runtime API (the admin socket) driven over the LB host."""

from __future__ import annotations

import csv
import re
import shlex
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ..core.config import Config
from ..core.errors import BalancerError, ConfigError, UnknownServer
from ..core.hosts import Host, connect
from ..core.ops import Change, settle

q = shlex.quote
API_TIMEOUT = 10.0  # seconds one runtime API call may sit idle (socat -T); the host command gets 5 more
MAX_WEIGHT = 256
SOCKET_MAX = 97  # bytes: HAProxy binds PATH.<pid>.tmp, then renames it, inside sun_path's 108
# Debian puts haproxy in /usr/sbin, which a non-root login's PATH lacks.
HAPROXY = 'PATH="$PATH:/usr/sbin:/sbin" haproxy'
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:-]*$")
# show servers state's srv_admin_state is a mask: forced, inherited, configured or DNS maintenance; forced or inherited drain.
_MAINT_MASK = 0x01 | 0x02 | 0x04 | 0x20
_DRAIN_MASK = 0x08 | 0x10


@dataclass(frozen=True)
class Balancer:
    """Where one HAProxy's runtime API is and which backend serves the app."""

    backend: str
    socket: str

    def __post_init__(self) -> None:
        if not _SAFE_NAME.match(self.backend):
            raise BalancerError(f"backend name {self.backend!r} is not a plain HAProxy name (letters, digits, _.:-)")


@dataclass(frozen=True)
class Upstream:
    """One server of the backend as the config names it: a name and a host:port."""

    name: str
    address: str


@dataclass(frozen=True)
class ServerState:
    """One backend server as HAProxy sees it now."""

    name: str
    address: str
    state: str  # ready, drain or maint: what an operator (or Ladder) set
    health: str  # UP or DOWN: what the health check found (DOWN while in maint, whose checks pause)
    weight: int
    sessions: int  # in-flight requests (show stat's scur)
    total: int = 0  # requests (HTTP streams) it has been sent since HAProxy started (stot)

    @property
    def serving(self) -> bool:
        """True when new requests can reach it: ready, UP and with a weight above 0."""
        return self.state == "ready" and self.health == "UP" and self.weight > 0

    def to_dict(self) -> dict:
        """A plain dict for tables and the record."""
        return {
            "name": self.name,
            "address": self.address,
            "state": self.state,
            "health": self.health,
            "weight": self.weight,
            "sessions": self.sessions,
            "total": self.total,
        }


def render(
    *,
    port: int,
    backend: str,
    socket: str,
    servers: Sequence[Upstream],
    health_path: str = "/health",
    bind: str = "127.0.0.1",
    check_interval_ms: int = 1000,
    metrics_port: int | None = None,
) -> str:
    """haproxy.cfg: a frontend on port, a health-checked round-robin backend, an admin socket for Ladder.

    With metrics_port, a frontend of its own serves HAProxy's built-in Prometheus exporter at /metrics.
    """
    if not servers:
        raise BalancerError("the backend needs at least one server; list the prod hosts with their app ports")
    for name in [backend, *(s.name for s in servers)]:
        if not _SAFE_NAME.match(name):
            raise BalancerError(f"{name!r} is not a plain HAProxy name (letters, digits, _.:-)")
    if len(socket.encode()) > SOCKET_MAX:
        raise BalancerError(
            f"the admin socket path {socket} is longer than HAProxy's {SOCKET_MAX} bytes; pick a shorter one"
        )
    if not health_path.startswith("/") or any(c.isspace() for c in health_path):
        raise BalancerError(f"health_path {health_path!r} must be a URL path starting with / and without spaces")
    lines = [
        "# Written by Ladder. HAProxy in front of the app; drive it through the admin socket.",
        "global",
        f"    stats socket {socket} mode 600 level admin expose-fd listeners",
        "    stats timeout 30s",
        "    maxconn 2000",
        "",
        "defaults",
        "    mode http",
        "    option httplog",
        "    timeout connect 2s",
        "    timeout client 30s",
        "    timeout server 30s",
        "    timeout http-request 10s",
        "    timeout http-keep-alive 5s",
        "    timeout queue 10s",
        "    timeout check 2s",
        # A failed connection is retried on another server; retry-on stays at its default (conn-failure) so a
        # request the app may have acted on is never replayed.
        "    option redispatch",
        "    retries 3",
        "",
        "frontend web",
        f"    bind {bind}:{int(port)}",
        f"    default_backend {backend}",
        "",
        f"backend {backend}",
        "    balance roundrobin",
        f"    option httpchk GET {health_path}",
        "    http-check expect status 200",
        f"    default-server check inter {int(check_interval_ms)}ms fall 2 rise 2",
    ]
    lines += [f"    server {s.name} {s.address}" for s in servers]
    if metrics_port is not None:
        lines += [
            "",
            "frontend metrics",
            f"    bind {bind}:{int(metrics_port)}",
            "    no log",
            "    http-request use-service prometheus-exporter if { path /metrics }",
        ]
    return "\n".join(lines) + "\n"


def _state_rows(output: str, backend: str) -> Iterator[dict[str, str]]:
    """show servers state (format 1): one {column: value} per server of the backend."""
    header: list[str] = []
    for line in output.splitlines():
        if line.startswith("# be_id"):
            header = line[2:].split()
            continue
        fields = line.split()
        if header and len(fields) >= len(header) and not line.startswith("#"):
            row = dict(zip(header, fields))
            if row["be_name"] == backend:
                yield row


def parse_servers_state(output: str, backend: str) -> dict[str, tuple[str, str, str, int]]:
    """show servers state (format 1) -> {server: (address:port, state, health, user weight)} for one backend."""
    found = {}
    for row in _state_rows(output, backend):
        admin = int(row["srv_admin_state"])
        state = "maint" if admin & _MAINT_MASK else "drain" if admin & _DRAIN_MASK else "ready"
        health = "DOWN" if row["srv_op_state"] == "0" else "UP"
        found[row["srv_name"]] = (f"{row['srv_addr']}:{row['srv_port']}", state, health, int(row["srv_uweight"]))
    return found


def parse_initial_weights(output: str, backend: str) -> dict[str, int]:
    """show servers state (format 1) -> {server: its weight in the config (srv_iweight)} for one backend."""
    return {row["srv_name"]: int(row["srv_iweight"]) for row in _state_rows(output, backend)}


def parse_stat(output: str, backend: str) -> dict[str, tuple[int, int]]:
    """show stat (CSV) -> {server: (current sessions, total sessions)} (scur, stot) for one backend's servers."""
    lines = output.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("# pxname,")), None)
    if start is None:
        return {}
    rows = csv.DictReader([lines[start][2:], *(line for line in lines[start + 1 :] if line.strip())])
    return {
        row["svname"]: (int(row["scur"] or 0), int(row["stot"] or 0))
        for row in rows
        if row.get("pxname") == backend and row.get("svname") not in ("FRONTEND", "BACKEND")
    }


def parse_servers(output: str, backend: str) -> tuple[ServerState, ...]:
    """One runtime API answer to 'show servers state B; show stat B 4 -1' -> each server's state, in config order."""
    if "Can't find backend" in output or "No such proxy" in output:
        raise BalancerError(f"HAProxy has no backend {backend!r}; check balancer.backend in ladder.yml")
    sessions = parse_stat(output, backend)
    return tuple(
        ServerState(name, address, state, health, weight, *sessions.get(name, (0, 0)))
        for name, (address, state, health, weight) in parse_servers_state(output, backend).items()
    )


def api_command(lb: Balancer, request: str, timeout: float = API_TIMEOUT) -> str:
    """The shell command that sends one request (commands separated by ';') to the admin socket."""
    return f"printf '%s\\n' {q(request)} | socat -T {timeout:g} stdio {q('UNIX-CONNECT:' + lb.socket)}"


def call(host: Host, lb: Balancer, request: str, timeout: float = API_TIMEOUT) -> str:
    """Send one request to the runtime API on the LB host and return HAProxy's answer."""
    result = host.run(api_command(lb, request, timeout), timeout=timeout + 5, warn=True)
    if result.failed:
        why = (result.stderr or result.stdout).strip().splitlines()[-1:] or [f"exit {result.exited}"]
        raise BalancerError(
            f"cannot reach HAProxy's admin socket {lb.socket} ({why[0]}); is HAProxy running there, "
            "is socat installed, and does balancer.socket in ladder.yml name its `stats socket`?",
            host=host.name,
        )
    return result.stdout


def servers(host: Host, lb: Balancer) -> tuple[ServerState, ...]:
    """Every server of the balancer's backend: state, health, weight and in-flight requests."""
    return parse_servers(call(host, lb, f"show servers state {lb.backend}; show stat {lb.backend} 4 -1"), lb.backend)


def server(host: Host, lb: Balancer, name: str) -> ServerState:
    """One server of the backend; UnknownServer naming the backend's servers for any other name."""
    found = servers(host, lb)
    for s in found:
        if s.name == name:
            return s
    raise UnknownServer(lb.backend, name, tuple(s.name for s in found))


def initial_weights(host: Host, lb: Balancer) -> dict[str, int]:
    """Each server's weight as the config sets it, whatever the runtime API has set since."""
    return parse_initial_weights(call(host, lb, f"show servers state {lb.backend}"), lb.backend)


def _set(host: Host, lb: Balancer, request: str) -> object:
    """Send a change; HAProxy answers an accepted one with nothing, a refused one with its reason."""
    answer = call(host, lb, request).strip()
    if answer:
        raise BalancerError(f"HAProxy refused {request!r}: {answer}", host=host.name)
    return answer


def _state(host: Host, lb: Balancer, name: str, wanted: str, *, dry_run: bool) -> Change:
    current = server(host, lb, name)
    target = f"{lb.backend}/{name}"
    if current.state == wanted:
        return settle(host, wanted, target, [], dry_run=dry_run)
    request = f"set server {target} state {wanted}"
    action = (api_command(lb, request), lambda: _set(host, lb, request))
    return settle(host, wanted, target, [action], f"state {current.state} -> {wanted}", dry_run=dry_run)


def drain(host: Host, lb: Balancer, name: str, *, dry_run: bool = True) -> Change:
    """Take a server out of load balancing; its in-flight requests finish (see wait_idle)."""
    return _state(host, lb, name, "drain", dry_run=dry_run)


def ready(host: Host, lb: Balancer, name: str, *, dry_run: bool = True) -> Change:
    """Put a server back into load balancing (it serves once its health check passes)."""
    return _state(host, lb, name, "ready", dry_run=dry_run)


def maint(host: Host, lb: Balancer, name: str, *, dry_run: bool = True) -> Change:
    """Stop all traffic and health checks to a server."""
    return _state(host, lb, name, "maint", dry_run=dry_run)


def set_weight(host: Host, lb: Balancer, name: str, weight: int, *, dry_run: bool = True) -> Change:
    """Set a server's weight (0 takes it out of rotation like drain; 1-256 shares traffic)."""
    if isinstance(weight, bool) or not isinstance(weight, int) or not 0 <= weight <= MAX_WEIGHT:
        raise BalancerError(f"weight must be a whole number from 0 to {MAX_WEIGHT}, not {weight!r}")
    current = server(host, lb, name)
    target = f"{lb.backend}/{name}"
    if current.weight == weight:
        return settle(host, "weight", target, [], dry_run=dry_run)
    request = f"set weight {target} {weight}"
    action = (api_command(lb, request), lambda: _set(host, lb, request))
    return settle(host, "weight", target, [action], f"weight {current.weight} -> {weight}", dry_run=dry_run)


def wait_idle(
    host: Host, lb: Balancer, name: str, timeout: float = 30, *, poll: float = 0.1, dry_run: bool = True
) -> Change:
    """Wait until a (drained) server has no in-flight requests; BalancerError naming the count after timeout."""
    current = server(host, lb, name)
    target = f"{lb.backend}/{name}"
    if current.sessions == 0:
        return settle(host, "wait idle", target, [], dry_run=dry_run)

    def wait() -> int:
        deadline = time.monotonic() + timeout
        sessions = current.sessions
        while sessions and time.monotonic() < deadline:
            time.sleep(poll)
            sessions = server(host, lb, name).sessions
        if sessions:
            raise BalancerError(
                f"{target} still has {sessions} in-flight request(s) after {timeout:g}s "
                f"(state {current.state}); drain it first, or pass a longer timeout",
                host=host.name,
            )
        return sessions

    text = f"wait up to {timeout:g}s for {current.sessions} in-flight request(s) on {target} to finish"
    return settle(host, "wait idle", target, [(text, wait)], f"{current.sessions} in flight", dry_run=dry_run)


def wait_serving(host: Host, lb: Balancer, name: str, timeout: float = 30, *, poll: float = 0.1) -> ServerState:
    """Wait until a server takes requests again (ready, UP by its health check); BalancerError naming it after timeout."""
    deadline = time.monotonic() + timeout
    found = server(host, lb, name)
    while not found.serving and time.monotonic() < deadline:
        time.sleep(poll)
        found = server(host, lb, name)
    if not found.serving:
        raise BalancerError(
            f"{lb.backend}/{name} is {found.state} and {found.health} after {timeout:g}s, not serving; "
            "check its app server and health path, then `ready` it",
            host=host.name,
        )
    return found


def check_config(host: Host, path: str) -> None:
    """Validate a haproxy.cfg on the LB host with `haproxy -c`; BalancerError with HAProxy's words if invalid."""
    result = host.run(f"{HAPROXY} -c -f {q(path)}", warn=True, timeout=30)
    if result.failed:
        said = [
            line for line in (result.stderr + result.stdout).splitlines() if line.strip() and "[NOTICE]" not in line
        ]
        raise BalancerError(f"{path} is not a valid HAProxy config:\n" + "\n".join(said), host=host.name)


def start_command(config: str, pid_file: str) -> str:
    """The command that starts HAProxy as a daemon writing its pid file (no systemd needed)."""
    return f"{HAPROXY} -f {q(config)} -p {q(pid_file)} -D"


def from_config(config: Config) -> tuple[Host, Balancer]:
    """The balancer ladder.yml describes and a connection to its host; ConfigError when it has none."""
    if config.balancer is None:
        raise ConfigError("no balancer: section; add one with host, port, backend and socket", path=config.path)
    return connect(config.balancer.host, config.ssh), Balancer(config.balancer.backend, config.balancer.socket)
