"""A canary release on plain hosts, Flagger's model: one prod host first, traffic shifted in steps, checked, then
promoted or rolled back.

The first prod host is the canary. Its HAProxy weight goes to 0 and the stable hosts' to one weight for all the
steps; the release is deployed to it as rung 4 deploys (sent and installed while it serves, drained, switched,
readied). At each step its weight gives it the step's share of the traffic; after the interval Prometheus says its
success rate and p99 (canary_analysis.py judges them). After max_failed_checks failed checks its weight goes to 0,
it is rolled back to the stable hosts' release through the balancer and the configured weights come back. Else
it is promoted: rung 4's rolling deploy to the rest, then the configured (equal) weights.

A canary killed at any point leaves HAProxy routing only to hosts on complete releases (rung 4's rollout only
ever switches a drained host); a re-run reads where the hosts are and resumes or cleans up (see Prepared.state).
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from ..core.config import PROD, Config
from ..core.errors import ConfigError, ParameterError, PrometheusError, RolloutFailed
from ..core.hosts import Host
from . import balancer, load, prometheus, rollout
from .artifact import Store
from .balancer import Balancer
from .canary_analysis import Check, Settings, Weights, judge, shift_order, weights
from .prometheus import Prometheus
from .release import Pause, no_pause
from .rollout import Plan, Rollout

Roll = Callable[[Plan], Rollout]  # applies a rollout plan (rung 5a's journals it)
STATES = {
    "new": "the canary and the stable hosts serve the stable release",
    "resume": "the canary already serves the release (a killed canary): its analysis starts again at the first step",
    "promoting": "some stable hosts already serve the release (a killed promotion): the promotion resumes",
    "leftover": "the canary serves another release (a killed canary): it goes back to the stable release first",
    "done": "every prod host serves the release: only the configured weights are restored",
}


@dataclass(frozen=True)
class Prepared:
    """A canary checked before any host changes: who is canary and stable, on what, and where the tools are."""

    cfg: Config
    settings: Settings
    version: str
    canary: str
    stable: tuple[str, ...]
    stable_version: str  # what the stable hosts serve: the canary's rollback target
    deploy: Plan  # a checked deploy of version to prod; `only` narrows it to the canary
    prom: Prometheus
    lb: Balancer
    initial: dict[str, int]  # each server's weight in HAProxy's config: what the canary restores
    weights: tuple[Weights, ...]  # the canary's and the stable hosts' weights at each step
    state: str  # a key of STATES


@dataclass(frozen=True)
class CanaryRun:
    """What a canary did (or would do): its checks, its outcome, the rollouts it made and its timings."""

    version: str
    canary: str
    stable_version: str
    dry_run: bool
    outcome: str  # planned, promoted, rolled back, failed (its deploy failed: the canary is back), ok (nothing to do)
    state: str
    settings: Settings = Settings()
    checks: tuple[Check, ...] = ()
    plan: tuple[str, ...] = ()
    rollouts: tuple[Rollout, ...] = ()
    max_share: float = 0.0  # the largest share of the traffic the canary was given (percent)
    seconds: float = 0.0  # from the canary's deploy to its outcome (for a bad release: to its automatic rollback)
    started: str = ""
    ended: str = ""

    @property
    def promoted(self) -> bool:
        """True when the release went to every host."""
        return self.outcome == "promoted"

    def rows(self) -> list[dict[str, Any]]:
        """One row per check for a table and the charts."""
        return [c.to_dict() for c in self.checks]

    def to_dict(self) -> dict[str, Any]:
        """A plain dict for the journal and the report."""
        return {
            "version": self.version,
            "canary": self.canary,
            "stable_version": self.stable_version,
            "dry_run": self.dry_run,
            "outcome": self.outcome,
            "state": self.state,
            "settings": self.settings.to_dict(),
            "checks": self.rows(),
            "plan": list(self.plan),
            "rollouts": [r.to_dict() for r in self.rollouts],
            "max_share": round(self.max_share, 2),
            "seconds": round(self.seconds, 3),
            "started": self.started,
            "ended": self.ended,
        }


# --- checks before anything runs ---------------------------------------------------------------------------------
def _state(plan: Plan, version: str, canary: str, stable: tuple[str, ...]) -> tuple[str, str]:
    """(state, stable release) from each host's current release; ParameterError when the stable hosts disagree."""
    current = {name: found.current for name, found in plan.releases.items()}
    others = {current[n] for n in stable if current[n] != version}
    if not others:
        return ("done" if current[canary] == version else "promoting"), version
    if len(others) > 1 or None in others:
        on = ", ".join(f"{n} on {current[n] or 'no release'}" for n in stable)
        raise ParameterError(
            f"the stable hosts do not serve one release ({on}); roll them to one first (ladder deploy --env prod)"
        )
    stable_version = str(others.pop())
    if any(current[n] == version for n in stable):
        return "promoting", stable_version
    if current[canary] == version:
        return "resume", stable_version
    if current[canary] != stable_version and not plan.releases[canary].is_complete(stable_version):
        raise ParameterError(f"{canary} does not keep the stable release {stable_version} to go back to; deploy it")
    return ("new" if current[canary] == stable_version else "leftover"), stable_version


def prepare(cfg: Config, version: str, s: Settings, *, store: Store | None = None) -> Prepared:
    """Check a canary: a balancer, Prometheus answering, two prod hosts or more, the version in the store."""
    if cfg.balancer is None:
        raise ConfigError("a canary shifts traffic in HAProxy: add a balancer: section", path=cfg.path, key="balancer")
    if cfg.monitoring is None:
        raise ConfigError(
            "a canary is judged by Prometheus: add a monitoring: section", path=cfg.path, key="monitoring"
        )
    prom = Prometheus(cfg.monitoring.url)
    if not prometheus.ready(prom):
        raise PrometheusError("does not answer /-/ready; start it (ladder sandbox up --monitoring)", url=prom.url)
    names = tuple(h.name for h in cfg.environment(PROD).hosts)
    if len(names) < 2:
        raise ParameterError(f"a canary needs two prod hosts or more (the canary and a stable one), not {names}")
    canary, stable = names[0], names[1:]
    per_step = tuple(weights(step, len(stable)) for step in s.steps)
    plan = rollout.prepare_deploy(cfg, PROD, version, store=store)
    state, stable_version = _state(plan, version, canary, stable)
    lb_host, lb = balancer.from_config(cfg)
    with lb_host:
        initial = {n: w for n, w in balancer.initial_weights(lb_host, lb).items() if n in names}
    return Prepared(cfg, s, version, canary, stable, stable_version, plan, prom, lb, initial, per_step, state)


def planned(p: Prepared) -> tuple[str, ...]:
    """What a canary would do, step by step, in words."""
    s = p.settings
    lines = [f"{p.canary}: {STATES[p.state]}"]
    if p.state == "done":
        return (*lines, f"weights back to the configured ones: {p.initial}")
    if p.state == "leftover":
        lines.append(f"{p.canary}: weight 0, roll back to {p.stable_version} (drain, switch, ready)")
    if p.state != "promoting":
        lines.append(f"{p.canary}: weight 0; {', '.join(p.stable)}: weight {p.weights[0].stable}")
        lines.append(f"{p.canary}: deploy {p.version} (send, install, drain, switch, health, ready)")
        for step, w in zip(s.steps, p.weights, strict=True):
            lines.append(
                f"step {step:g}%: {p.canary} weight {w.canary}, stable {w.stable} ({w.share:.1f}% of requests); wait {s.interval:g} s; "
                f"check success >= {s.min_success:.2%} and p99 <= "
                + (f"{s.max_p99_ms:g} ms" if s.max_p99_ms is not None else "1.5x the stable hosts'")
            )
        lines.append(
            f"after {s.max_failed_checks} failed check(s): {p.canary} weight 0, back to {p.stable_version}, "
            "configured weights"
        )
    lines.append(f"promote: rolling deploy of {p.version} to {', '.join(p.stable)}, then the configured weights")
    if s.load_rps:
        lines.insert(0, f"load tester: {s.load_rps:g} GET / per second through HAProxy while the canary runs")
    return tuple(lines)


# --- driving -----------------------------------------------------------------------------------------------------
@contextlib.contextmanager
def _load_tester(p: Prepared) -> Iterator[None]:
    """Flagger's load tester: steady GETs of / through the balancer while the canary runs, so each check has traffic."""
    rps = p.settings.load_rps
    if not rps or p.cfg.balancer is None:
        yield
        return
    lb = p.cfg.balancer.host
    url = f"http://{'127.0.0.1' if lb.is_local else lb.address}:{p.cfg.balancer.port}/"
    run = load.steady(url, rate=rps, duration=min(load.MAX_DURATION, load.MAX_REQUESTS / rps))
    try:
        yield
    finally:
        run.stop()
        run.result(timeout=load.DEFAULT_TIMEOUT + 5)


def _weigh(lb_host: Host, p: Prepared, wanted: dict[str, int]) -> None:
    for name, weight in wanted.items():
        balancer.set_weight(lb_host, p.lb, name, weight, dry_run=False)


def _shift(lb_host: Host, p: Prepared, before: Weights, after: Weights) -> None:
    """Set a step's weights in the order that never gives the canary more than after's share on the way."""
    for part in shift_order(before, after):
        _weigh(lb_host, p, {p.canary: after.canary} if part == "canary" else {n: after.stable for n in p.stable})


def measure(p: Prepared, step: float, w: Weights, at: float) -> Check:
    """Query Prometheus over the last interval and judge the canary against the thresholds and the stable hosts."""
    window = f"{math.ceil(p.settings.interval)}s"
    try:
        success = prometheus.success_rate(p.prom, window)
        p99 = {h: v * 1000 for h, v in prometheus.p99_seconds(p.prom, window).items()}
    except PrometheusError as exc:  # no answer is no evidence the canary is good: a failed check, as in Flagger
        return replace(judge(p.settings, w, step, None, None, at=at), reasons=(f"Prometheus: {exc}",))
    stable_success = [success[n] for n in p.stable if n in success]
    stable_p99 = [p99[n] for n in p.stable if n in p99]
    return judge(
        p.settings,
        w,
        step,
        success.get(p.canary),
        p99.get(p.canary),
        min(stable_success) if stable_success else None,
        max(stable_p99) if stable_p99 else None,
        at=at,
    )


def _back(p: Prepared, lb_host: Host, roll: Roll) -> Rollout:
    """The canary out of rotation, rolled back to the stable release through the balancer, weights restored."""
    balancer.set_weight(lb_host, p.lb, p.canary, 0, dry_run=False)
    plan = replace(rollout.prepare_rollback(p.cfg, PROD, p.stable_version), only=(p.canary,))
    done = roll(plan)
    _weigh(lb_host, p, p.initial)
    return done


def run(
    p: Prepared,
    *,
    dry_run: bool = True,
    pause: Pause = no_pause,
    roll: Roll | None = None,
) -> CanaryRun:
    """Run the canary (a plan unless dry_run is False); RolloutFailed when a rollout fails (the canary is back)."""
    started = rollout.now()
    base = CanaryRun(
        p.version, p.canary, p.stable_version, dry_run, "planned", p.state, p.settings, plan=planned(p), started=started
    )
    if dry_run:
        return replace(base, ended=rollout.now())
    apply: Roll = roll or (lambda plan: rollout.run(plan, dry_run=False, pause=pause))
    lb_host, _ = balancer.from_config(p.cfg)
    rollouts: list[Rollout] = []
    checks: list[Check] = []
    t0 = time.monotonic()
    with lb_host, _load_tester(p):
        if p.state == "leftover":
            rollouts.append(_back(p, lb_host, apply))
        if p.state == "done":
            _weigh(lb_host, p, p.initial)
            return replace(base, outcome="ok", ended=rollout.now())
        top = 0.0
        if p.state != "promoting":
            now = Weights(0, p.weights[0].stable, 0.0)
            _weigh(lb_host, p, {p.canary: 0, **{n: now.stable for n in p.stable}})
            pause("canary:deploy")
            try:
                rollouts.append(apply(replace(p.deploy, only=(p.canary,))))
            except RolloutFailed:
                _weigh(lb_host, p, p.initial)  # the rollout switched the canary back; it serves the stable release
                raise
            failed = 0
            for step, w in zip(p.settings.steps, p.weights, strict=True):
                _shift(lb_host, p, now, w)
                now, top = w, max(top, w.share)
                while True:
                    pause(f"canary:step:{step:g}")
                    time.sleep(p.settings.interval)
                    check = measure(p, step, w, time.monotonic() - t0)
                    checks.append(check)
                    if check.passed:
                        break
                    failed += 1
                    if failed >= p.settings.max_failed_checks:
                        rollouts.append(_back(p, lb_host, apply))
                        return replace(
                            base, outcome="rolled back", checks=tuple(checks), rollouts=tuple(rollouts),
                            max_share=top, seconds=time.monotonic() - t0, ended=rollout.now(),
                        )  # fmt: skip
        pause("canary:promote")
        rollouts.append(apply(replace(p.deploy, only=())))
        _weigh(lb_host, p, p.initial)
    return replace(
        base, outcome="promoted", checks=tuple(checks), rollouts=tuple(rollouts), max_share=top,
        seconds=time.monotonic() - t0, ended=rollout.now(),
    )  # fmt: skip
