"""A rolling deploy or rollback over an environment's hosts, one host at a time, through the load balancer.

For each host in turn: send and install the release (release.py) while it still serves, drain it in HAProxy
(prod, when ladder.yml has a balancer), wait for its in-flight requests, switch `current`, reload and check
the version (switch.py), ready it again and wait until HAProxy calls it UP. The first failure stops the rollout: that
host is back on its previous release (switch.py switches back) and is readied only if it answers health;
the hosts after it keep theirs. A rollback is the same walk to a release the hosts keep (Capistrano's).
A host a killed rollout left drained is readied in its turn; one in maintenance is refused up front.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from ..core.config import PROD, Config
from ..core.errors import BalancerError, FleetError, LadderError, ParameterError, RolloutFailed, UnknownServer
from ..core.hosts import Host, environment_hosts
from . import artifact, balancer, release, switch
from .artifact import Store
from .balancer import Balancer
from .layout import layout_of
from .manifest import Manifest
from .release import Pause, Releases, no_pause
from .server import get_server

CONNECT_TIMEOUT = 15.0  # the quick reachability check of each host before anything runs
IDLE_TIMEOUT = 30.0  # how long a drained host's in-flight requests may take to finish
READY_DEADLINE = 30.0  # how long HAProxy may take to call a readied host UP (its checks: rise 2)
POLL = 0.1


@dataclass(frozen=True)
class HostRollout:
    """What a rollout did (or would do) on one host, with its out-of-rotation and switch times in seconds."""

    host: str
    previous: str | None
    outcome: str  # planned, changed, ok (already there), failed, skipped (not reached)
    steps: tuple[str, ...] = ()
    current: str | None = None  # the release `current` points at afterwards
    out_of_rotation: float = 0.0
    switch_seconds: float = 0.0
    ready: bool | None = None  # ready in HAProxy afterwards; None without a balancer
    error: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A plain dict for tables, the record and the journal."""
        return {
            "host": self.host,
            "previous": self.previous,
            "outcome": self.outcome,
            "current": self.current,
            "out_of_rotation_s": round(self.out_of_rotation, 3),
            "switch_s": round(self.switch_seconds, 3),
            "ready": self.ready,
            "steps": list(self.steps),
            "error": self.error,
        }


@dataclass(frozen=True)
class Rollout:
    """A whole rollout: what, where, when (ISO UTC), and each host's result in rolling order."""

    action: str  # deploy or rollback
    environment: str
    version: str
    dry_run: bool
    hosts: tuple[HostRollout, ...]
    started: str
    ended: str

    @property
    def ok(self) -> bool:
        """True when no host failed."""
        return all(h.outcome != "failed" for h in self.hosts)

    @property
    def changed(self) -> int:
        """How many hosts were changed."""
        return sum(h.outcome == "changed" for h in self.hosts)

    def to_dict(self) -> dict[str, Any]:
        """A plain dict for the record and the journal."""
        return {
            "action": self.action,
            "environment": self.environment,
            "version": self.version,
            "dry_run": self.dry_run,
            "ok": self.ok,
            "started": self.started,
            "ended": self.ended,
            "hosts": [h.to_dict() for h in self.hosts],
        }

    def rows(self) -> list[dict[str, Any]]:
        """One row per host for a table: outcome, releases, timings, error."""
        keys = ("host", "outcome", "previous", "current", "out_of_rotation_s", "switch_s", "ready", "error")
        return [{k: h.to_dict()[k] for k in keys} for h in self.hosts]


@dataclass(frozen=True)
class Plan:
    """A rollout checked before any host changes: hosts in order, their releases, the balancer, the artifact."""

    cfg: Config
    action: str
    environment: str
    version: str
    releases: dict[str, Releases]  # each host's releases before the rollout
    artifact: Manifest | None = None  # what a deploy sends and installs; None for a rollback
    store: Store | None = None
    balancer: Balancer | None = None  # None: the environment has no balancer (staging)
    drained: tuple[str, ...] = ()  # hosts HAProxy has drained already (e.g. by a killed rollout)
    python: str = "python3"  # the hosts' interpreter with pip: it makes each release's venv
    version_deadline: float = switch.VERSION_DEADLINE
    only: tuple[str, ...] = ()  # the hosts to roll, in the environment's order (a canary); () for every host


def now() -> str:
    """The current time as an ISO 8601 UTC timestamp."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


# --- checks before anything runs -------------------------------------------------------
def check_reachable(hosts: Sequence[Host]) -> None:
    """Run `true` on each host with a short timeout; one FleetError naming every host that cannot be reached."""
    results: dict[str, Any] = {}
    for host in hosts:
        try:
            host.run("true", timeout=CONNECT_TIMEOUT)
            results[host.name] = "reachable"
        except (LadderError, OSError) as exc:
            results[host.name] = exc
    if any(isinstance(r, BaseException) for r in results.values()):
        raise FleetError(results)


def _balanced(cfg: Config, environment: str, names: Sequence[str]) -> tuple[Balancer | None, tuple[str, ...]]:
    """The balancer in front of the environment (prod only) and the hosts it has drained; refuses maint or unknown."""
    if environment != PROD or cfg.balancer is None:
        return None, ()
    lb_host, lb = balancer.from_config(cfg)
    with lb_host:
        check_reachable([lb_host])
        found = {s.name: s for s in balancer.servers(lb_host, lb)}
    for name in names:
        if name not in found:
            raise UnknownServer(lb.backend, name, tuple(found))
    maint = [n for n in names if found[n].state == "maint"]
    if maint:
        raise ParameterError(
            f"{', '.join(maint)} in maintenance in HAProxy's {lb.backend} backend; a rollout will not undo that: "
            f"`set server {lb.backend}/{maint[0]} state ready` on its admin socket (or leave the host out) first"
        )
    return lb, tuple(n for n in names if found[n].state == "drain")


def _hosts_of(cfg: Config, environment: str) -> list[Host]:
    cfg.environment(environment)  # ConfigError naming the environments defined
    return environment_hosts(cfg, environment)


def prepare_deploy(
    cfg: Config, environment: str, version: str, *, store: Store | None = None, python: str = "python3"
) -> Plan:
    """Check a deploy: the environment, the version in the store (naming those there), every host and the LB."""
    release.check_version(version)
    hosts = _hosts_of(cfg, environment)
    where = store or artifact.open_store(cfg)
    found = artifact.read_manifest(where, cfg.app.name, version)
    release.check_artifact(found, cfg.app.name, version)
    try:
        check_reachable(hosts)
        releases = {h.name: release.get_releases(h, layout_of(h)) for h in hosts}
    finally:
        for h in hosts:
            h.close()
    lb, drained = _balanced(cfg, environment, [h.name for h in hosts])
    return Plan(cfg, "deploy", environment, version, releases, found, where, lb, drained, python)


def previous(found: Releases) -> str | None:
    """The complete release before the current one (by completion), as Capistrano's rollback picks it."""
    done = found.complete
    if found.current not in done:
        return None
    at = done.index(found.current)
    return done[at - 1] if at > 0 else None


def prepare_rollback(cfg: Config, environment: str, to: str | None = None) -> Plan:
    """Check a rollback: every host keeps the release (to, else the one before the first host's current)."""
    if to is not None:
        release.check_version(to)
    hosts = _hosts_of(cfg, environment)
    try:
        check_reachable(hosts)
        releases = {h.name: release.get_releases(h, layout_of(h)) for h in hosts}
    finally:
        for h in hosts:
            h.close()
    first = hosts[0].name
    version = to or previous(releases[first])
    if version is None:
        raise ParameterError(
            f"{first} has no release before {releases[first].current or 'none'} to roll back to "
            f"(kept: {', '.join(releases[first].complete) or 'none'}); name one with to= (--to)"
        )
    lacking = {n: r for n, r in releases.items() if not r.is_complete(version)}
    if lacking:
        kept = "; ".join(f"{n} keeps {', '.join(r.complete) or 'none'}" for n, r in lacking.items())
        raise ParameterError(
            f"release {version} is not kept on {', '.join(lacking)} (unknown, or pruned): {kept}; "
            "roll back to a kept one, or deploy it from the store"
        )
    lb, drained = _balanced(cfg, environment, [h.name for h in hosts])
    return Plan(cfg, "rollback", environment, version, releases, balancer=lb, drained=drained)


# --- one host --------------------------------------------------------------------------
def _target(plan: Plan, host: Host) -> switch.Target:
    hc = plan.cfg.host_config(host.name)
    port = plan.cfg.app_port(hc)
    return switch.Target(port, plan.cfg.app.wsgi, hc.python, plan.cfg.app.health_path, plan.version_deadline)


def _on_version(host: Host, plan: Plan, target: switch.Target) -> bool:
    """True when the host's current is the version, its server serves from current, and health reports it."""
    lay = layout_of(host)
    if release.get_releases(host, lay).current != plan.version:
        return False
    server = get_server(host, target.port)
    return switch.serves_from_current(host, lay, server) and switch.served_version(host, target) == plan.version


def _wait_serving(lb_host: Host, lb: Balancer, name: str) -> None:
    """Wait until HAProxy has the server ready and UP again; BalancerError-like LadderError after READY_DEADLINE."""
    deadline = time.monotonic() + READY_DEADLINE
    state = balancer.server(lb_host, lb, name)
    while not (state.state == "ready" and state.health == "UP"):
        if time.monotonic() > deadline:
            raise BalancerError(
                f"HAProxy does not call {lb.backend}/{name} UP {READY_DEADLINE:g}s after it was readied "
                f"(state {state.state}, health {state.health}); check its health at {lb.backend}'s check path",
                host=lb_host.name,
            )
        time.sleep(POLL)
        state = balancer.server(lb_host, lb, name)


def _plan_host(plan: Plan, host: Host, target: switch.Target) -> HostRollout:
    """The steps a rollout would take on one host (facts only)."""
    before = plan.releases[host.name].current
    drained = host.name in plan.drained
    if _on_version(host, plan, target):
        left = (f"ready {host.name} (left drained)",) if drained else ()
        return HostRollout(host.name, before, "planned" if drained else "ok", left, before)
    lay = layout_of(host)
    steps = [f"{host.name} was left drained (by a killed rollout?): readied in its turn"] if drained else []
    if plan.artifact is not None and plan.store is not None:
        steps += [c for c in release.send(host, lay, plan.store, plan.artifact, dry_run=True).commands]
        steps += [c for c in release.install(host, lay, plan.artifact, dry_run=True).commands]
    if plan.balancer is not None:
        steps += [f"drain {plan.balancer.backend}/{host.name}", f"wait up to {IDLE_TIMEOUT:g}s for in-flight requests"]
    steps.append(f"current -> releases/{plan.version}; reload; health must report {plan.version}")
    if plan.balancer is not None:
        steps.append(f"ready {plan.balancer.backend}/{host.name}; wait until HAProxy calls it UP")
    return HostRollout(host.name, before, "planned", tuple(steps), before)


def _recover(plan: Plan, host: Host, target: switch.Target, lb_host: Host | None) -> bool | None:
    """After a failure: ready the host again only if it answers health; whether it is ready (None: no balancer)."""
    if plan.balancer is None or lb_host is None:
        return None
    try:
        if switch.served_version(host, target) is None:
            return False
        balancer.ready(lb_host, plan.balancer, host.name, dry_run=False)
        _wait_serving(lb_host, plan.balancer, host.name)
        return True
    except (LadderError, OSError):
        return False


def _apply_host(plan: Plan, host: Host, target: switch.Target, lb_host: Host | None, pause: Pause) -> HostRollout:
    """Send, install, drain, wait, switch, ready on one host; a failed HostRollout instead of an exception."""
    name, lay, lb = host.name, layout_of(host), plan.balancer
    before = plan.releases[name].current
    steps: list[str] = []
    drained_at: float | None = None
    switched: switch.Switched | None = None
    try:
        on_version = _on_version(host, plan, target)
        if on_version and name not in plan.drained:
            return HostRollout(name, before, "ok", (), before, ready=None if lb is None else True)
        if not on_version and plan.artifact is not None and plan.store is not None:
            # Sent and installed while the host still serves: only the switch happens out of rotation.
            release.shared(host, lay, dry_run=False)
            release.send(host, lay, plan.store, plan.artifact, dry_run=False, pause=pause)
            release.install(host, lay, plan.artifact, python=plan.python, dry_run=False, pause=pause)
            steps.append(f"installed {plan.version}")
        if lb is not None and lb_host is not None:
            drained_at = time.monotonic()
            balancer.drain(lb_host, lb, name, dry_run=False)
            steps.append("drained")
            pause(f"drain:{name}")
            balancer.wait_idle(lb_host, lb, name, IDLE_TIMEOUT, dry_run=False)
            steps.append("idle")
        if not on_version:
            switched = switch.switch(host, lay, plan.version, target, dry_run=False, pause=pause)
            steps.append(f"switched {switched.previous} -> {plan.version} ({switched.method or 'as it was'})")
        if lb is not None and lb_host is not None:
            pause(f"ready:{name}")
            balancer.ready(lb_host, lb, name, dry_run=False)
            _wait_serving(lb_host, lb, name)
            steps.append("ready")
    except (LadderError, OSError) as exc:
        ready = _recover(plan, host, target, lb_host)
        now_on = release.get_releases(host, lay).current
        out = time.monotonic() - drained_at if drained_at is not None else 0.0
        return HostRollout(name, before, "failed", tuple(steps), now_on, out, 0.0, ready, str(exc))
    out = time.monotonic() - drained_at if drained_at is not None else 0.0
    seconds = switched.seconds if switched is not None else 0.0
    return HostRollout(name, before, "changed", tuple(steps), plan.version, out, seconds, None if lb is None else True)


# --- the rollout -------------------------------------------------------------------------
def run(plan: Plan, *, dry_run: bool = True, pause: Pause = no_pause) -> Rollout:
    """Walk the hosts in order; stop at the first failure and raise RolloutFailed with every host's result."""
    started = now()
    hosts = [h for h in environment_hosts(plan.cfg, plan.environment) if not plan.only or h.name in plan.only]
    lb_host = balancer.from_config(plan.cfg)[0] if plan.balancer is not None else None
    done: list[HostRollout] = []
    try:
        for host in hosts:
            target = _target(plan, host)
            if dry_run:
                done.append(_plan_host(plan, host, target))
                continue
            if done and done[-1].outcome == "failed":
                current = plan.releases[host.name].current
                done.append(HostRollout(host.name, current, "skipped", (), current))
                continue
            done.append(_apply_host(plan, host, target, lb_host, pause))
    finally:
        for h in [*hosts, *([lb_host] if lb_host else [])]:
            h.close()
    result = Rollout(plan.action, plan.environment, plan.version, dry_run, tuple(done), started, now())
    if not result.ok:
        failed = next(h for h in done if h.outcome == "failed")
        lines = [f"  {h.host}: {h.outcome}, on {h.current}" + _ready_word(h) for h in done]
        raise RolloutFailed(
            f"{plan.action} of {plan.version} to {plan.environment} stopped at {failed.host}: {failed.error}\n"
            + "\n".join(lines)
            + "\nthe hosts after it keep their release; fix the cause, then run it again",
            host=failed.host,
            result=result,
        )
    return result


def _ready_word(h: HostRollout) -> str:
    return "" if h.ready is None else ", ready in HAProxy" if h.ready else ", left drained (not healthy)"


def deploy(
    cfg: Config,
    environment: str,
    version: str,
    *,
    dry_run: bool = True,
    store: Store | None = None,
    pause: Pause = no_pause,
    version_deadline: float = switch.VERSION_DEADLINE,
) -> Rollout:
    """Check, then roll the version out host by host (a plan unless dry_run is False)."""
    plan = replace(prepare_deploy(cfg, environment, version, store=store), version_deadline=version_deadline)
    return run(plan, dry_run=dry_run, pause=pause)


def rollback(cfg: Config, environment: str, to: str | None = None, *, dry_run: bool = True) -> Rollout:
    """Check, then put every host back on the previous release (or to), host by host through the balancer."""
    return run(prepare_rollback(cfg, environment, to), dry_run=dry_run)
