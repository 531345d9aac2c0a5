"""Rung 5a, canary releases with automatic analysis: the calls runbooks/5a-canary-release.ipynb makes, one per step.

A canary applies under prod's lock and is journaled as one row of kind `canary` (its settings, each check, its
outcome, the largest share it reached); the rollouts it makes (the canary's deploy, its rollback, the promotion)
are journaled as rung 4's rows of kind deploy and rollback, which DORA reads.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd
from packaging.version import Version

from ..app import artifact, canary, canary_analysis, ci_server
from ..app.artifact import Store
from ..app.canary import CanaryRun, Prepared
from ..app.parity import Chart
from ..app.rollout import Rollout
from ..core import ops
from ..core.config import PROD, Config
from ..core.errors import CanaryRolledBack, ConfigError, ParameterError
from ..engine import journal, pausepoint
from ..engine.record import record_step
from . import delivery, steps

NOTHING_BUILT = (
    "no version named and the artifact store has none yet; build one (ladder artifact build --ref REF --apply, "
    "or rungs 3a and 4), then run again, naming it with -p version V or taking the newest"
)
RUNBOOK = "5a-canary-release"
RUNG = "5a"
KIND = "canary"


def setup(
    config: Config | str | Path | None,
    version: str,
    steps_percent: Sequence[float] = canary_analysis.DEFAULT_STEPS,
    interval: float = canary_analysis.DEFAULT_INTERVAL,
    min_success: float = canary_analysis.DEFAULT_MIN_SUCCESS,
    max_p99_ms: float | None = None,
    max_failed_checks: int = 1,
    load_rps: float = 0.0,
    *,
    store: Store | None = None,
) -> Prepared | Unready:
    """Check the parameters (before any host is reached), then the config, Prometheus, the hosts and the version.

    No version named: the newest in the artifact store; with none there yet, an Unready that says what to do.
    """
    settings = canary_analysis.settings(steps_percent, interval, min_success, max_p99_ms, max_failed_checks, load_rps)
    cfg = steps.config_of(config)
    steps.declare(RUNBOOK, cfg)
    pausepoint.point("setup")
    if not version:
        store = store or artifact.open_store(cfg)
        with store.host:
            built = artifact.versions(store, cfg.app.name)
        if not built:
            return Unready(cfg, settings, NOTHING_BUILT)
        version = max(built, key=Version)
    return canary.prepare(cfg, version, settings, store=store)


@dataclass(frozen=True)
class Unready:
    """A canary with nothing to release yet, and what to do about it."""

    cfg: Config
    settings: canary_analysis.Settings
    reason: str


def plan(prepared: Prepared | Unready) -> Any:
    """What the canary will do, one line per action, shown whole (a pandas Styler: no cut cells)."""
    actions = [f"nothing to canary: {prepared.reason}"] if isinstance(prepared, Unready) else canary.planned(prepared)
    frame = pd.DataFrame({"action": list(actions)})
    return frame.style.hide(axis="index").set_properties(**{"text-align": "left"})


def release(prepared: Prepared | Unready, *, dry_run: bool = True, approver: str | None = None) -> CanaryRun:
    """Run the canary, journaled as a `canary` row; a plan unless dry_run is False."""
    if isinstance(prepared, Unready):
        return CanaryRun("", "", "", dry_run, "nothing to do", "unready", prepared.settings, plan=(prepared.reason,))
    if dry_run:
        return canary.run(prepared, dry_run=True)
    cfg = prepared.cfg
    who = approver or getpass.getuser()
    path = journal.journal_path(cfg.runs_dir)
    run_id = journal.new_run_id()
    row = {"version": prepared.version, "canary": prepared.canary, "stable_version": prepared.stable_version,
           "environment": PROD, "approver": who, "state": prepared.state, **prepared.settings.to_dict()}  # fmt: skip

    def roll(p: Any) -> Rollout:
        # The promotion is rung 4's rolling deploy, which DORA counts; the canary's own rollouts are rung 5a's.
        return delivery.journaled(p, approver=who, rung=RUNG if p.only else delivery.RUNG)

    # Prod's apply lock is the runner's (an apply holds every environment's), as for every rung.
    journal.start(path, run_id=run_id, runbook=RUNBOOK, rung=RUNG, params=row, kind=KIND)
    try:
        done = canary.run(prepared, dry_run=False, pause=pausepoint.point, roll=roll)
    except BaseException as exc:
        journal.finish(path, run_id, status="failed", error=f"{type(exc).__name__}: {exc}")
        raise
    record_step("canary", rollout_changes(done))
    # A rolled-back canary did its job: the row says so in its summary; failed is for a canary that broke.
    row |= {"outcome": done.outcome, "max_share": round(done.max_share, 2), "seconds": round(done.seconds, 3)}
    journal.finish(path, run_id, status="ok", changes=len(done.rollouts), summary=done.to_dict(), params=row)
    return done


def rollout_changes(done: CanaryRun) -> list[ops.Change]:
    """Each host's part in the canary's rollouts (its deploy, a rollback, the promotion), as a run counts changes."""
    return [
        ops.Change(
            h.host,
            f"{r.action} {r.version}",
            "current",
            h.steps,
            h.outcome in ("changed", "failed"),
            not r.dry_run,
            h.outcome == "failed",
            f"{h.previous or 'no release'} -> {h.current or 'none'}",
        )  # fmt: skip
        for r in done.rollouts
        for h in r.hosts
        if h.outcome != "skipped"
    ]


def check_shipped(done: CanaryRun, fail_on_rollback: bool) -> str:
    """The outcome; CanaryRolledBack when the analysis rolled the release back and the run must fail on it."""
    if fail_on_rollback and done.outcome == "rolled back":
        failed = [c for c in done.checks if not c.passed]
        why = (
            f"{len(failed)} failed check(s), the last at {failed[-1].step:g}%: {'; '.join(failed[-1].reasons)}"
            if failed
            else ""
        )
        raise CanaryRolledBack(done.version, done.stable_version, why or "its analysis failed")
    return done.outcome


def pipeline_params(settings: canary_analysis.Settings) -> tuple[tuple[str, str], ...]:
    """The runbook parameters (name, text) that give a pipeline's canary these settings."""

    def whole(v: Any) -> Any:  # the runbook's int parameters (interval = 60) refuse "10.0"
        if isinstance(v, list):
            return [whole(x) for x in v]
        return int(v) if isinstance(v, float) and v.is_integer() else v

    given = {k: v for k, v in settings.to_dict().items() if v is not None}
    return tuple((k, json.dumps(whole(v))) for k, v in given.items())


def pipeline_stage(prepared: Prepared | Unready, *, dry_run: bool = True) -> list[ops.Change]:
    """Make this canary, with its settings, the prod stage of rung 4's pipeline: every green trunk build ends in one."""
    cfg = prepared.cfg
    pausepoint.point("pipeline stage")
    installed = ci_server.installed_pipeline(cfg)
    if installed is None:
        raise ConfigError(
            "the CI server has no delivery pipeline yet; apply rung 4 first (runbooks/4-continuous-delivery)",
            path=cfg.path,
            key="ci",
        )
    pipeline = replace(installed, canary=pipeline_params(prepared.settings))
    changes = ci_server.install(cfg, pipeline=pipeline, dry_run=dry_run)
    record_step("pipeline stage", changes)
    return changes


def rollback_plan(prepared: Prepared | Unready) -> pd.DataFrame:
    """The one-command rollback of prod as it stands now (`ladder rollback --env prod --apply`), planned per host."""
    try:
        planned = delivery.rollback(prepared.cfg, PROD)
    except ParameterError as exc:  # e.g. prod's first release: there is nothing before it yet
        return pd.DataFrame({"rollback": [f"nothing to roll back to: {exc}"]})
    return pd.DataFrame(planned.rows())


def checks(done: CanaryRun) -> pd.DataFrame:
    """One row per check: the step, the canary's share, success and p99 against the stable hosts and the limits."""
    columns = ["step", "share", "success", "stable_success", "p99_ms", "stable_p99_ms", "p99_limit_ms", "verdict",
               "reasons", "at_s"]  # fmt: skip
    return pd.DataFrame(done.rows(), columns=columns)


def chart(done: CanaryRun) -> Chart:
    """Per check: success rate and p99, canary against stable, with the thresholds."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = checks(done)
    fig = Figure(figsize=(10, 3.6), layout="constrained")
    FigureCanvasAgg(fig)
    rate, p99 = fig.subplots(1, 2)
    labels = [f"{s:g}%\n{v}" for s, v in zip(rows["step"], rows["verdict"], strict=True)]
    xs = list(range(len(rows)))
    rate.plot(xs, rows["success"].astype(float) * 100, "o-", color="#e57373", label=f"canary {done.version}")
    rate.plot(
        xs, rows["stable_success"].astype(float) * 100, "s--", color="#64b5f6", label=f"stable {done.stable_version}"
    )
    rate.axhline(done.settings.min_success * 100, color="grey", linestyle=":", label="min_success")
    rate.set(title="success rate per check", ylabel="% of user requests not 5xx", xticks=xs, xticklabels=labels)
    rate.legend()
    p99.plot(xs, rows["p99_ms"].astype(float), "o-", color="#e57373", label="canary")
    p99.plot(xs, rows["stable_p99_ms"].astype(float), "s--", color="#64b5f6", label="stable")
    p99.plot(xs, rows["p99_limit_ms"].astype(float), ":", color="grey", label="limit")
    p99.set(title="p99 latency per check", ylabel="ms", xticks=xs, xticklabels=labels)
    p99.legend()
    fig.suptitle(f"canary {done.version} on {done.canary}: {done.outcome}")
    return Chart(fig)


def figures(done: CanaryRun) -> dict[str, object]:
    """The run's key figures for ladder.record: outcome, checks, largest share, time to the outcome."""
    return {
        "outcome": done.outcome,
        "checks": len(done.checks),
        "failed checks": sum(not c.passed for c in done.checks),
        "largest canary share (%)": round(done.max_share, 1),
        "deploy to outcome (s)": round(done.seconds, 1),
    }
