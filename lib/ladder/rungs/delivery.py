"""Deploys and rollbacks as journaled runs: the calls rung 4's and 5a's notebooks and `ladder deploy|rollback` make.

Each apply holds the environment's lock, opens a journal row (kind deploy or rollback) before the first host
changes and closes it with the result, so a killed one is later marked abandoned. The row carries what DORA
reads: environment, version, git sha, commit time, start, end, result, approver and each host's timings.
"""

from __future__ import annotations

import getpass
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..app import artifact, rollout
from ..app.artifact import Store
from ..app.git import open_repo
from ..app.rollout import Plan, Rollout
from ..app.switch import VERSION_DEADLINE
from ..core.config import Config
from ..core.errors import LadderError, RolloutFailed
from ..engine import journal, pausepoint, runlock
from . import steps

RUNG = "4"


def commit_time(cfg: Config, sha: str) -> str | None:
    """The committer time (ISO 8601) of sha in the app's repository when it is a folder here; None otherwise."""
    repo = Path(str(cfg.app.repo))
    if not sha or not repo.is_dir():
        return None
    try:
        found = open_repo(repo).text("show", "-s", "--format=%cI", sha, ok_codes=(0, 128)).strip()
    except LadderError:
        return None
    return found or None


def _sha(plan: Plan) -> str:
    """The version's git sha: the deploy's manifest, else the store's (a rollback's release may be pruned there)."""
    if plan.artifact is not None:
        return plan.artifact.git_sha
    try:
        store = artifact.open_store(plan.cfg)
        with store.host:
            return artifact.read_manifest(store, plan.cfg.app.name, plan.version).git_sha
    except LadderError:
        return ""


def params(plan: Plan, approver: str) -> dict[str, Any]:
    """The journal row's parameters: what DORA and a reader need, nothing secret."""
    sha = _sha(plan)
    return {
        "action": plan.action,
        "environment": plan.environment,
        "version": plan.version,
        "commit": sha or None,
        "commit_time": commit_time(plan.cfg, sha),
        "approver": approver,
        "previous": {name: found.current for name, found in plan.releases.items()},
        "dry_run": False,
    }


def apply(plan: Plan, *, approver: str | None = None) -> Rollout:
    """Run a checked plan under the environment's lock, journaled as one row of kind plan.action."""
    with runlock.environments(plan.cfg, plan.cfg.runs_dir, [plan.environment]):
        return journaled(plan, approver=approver)


def journaled(plan: Plan, *, approver: str | None = None, rung: str = RUNG) -> Rollout:
    """Run a checked plan journaled as one row of kind plan.action (the caller holds the environment's lock)."""
    path = journal.journal_path(plan.cfg.runs_dir)
    run_id = journal.new_run_id()
    row = params(plan, approver or getpass.getuser())
    journal.start(path, run_id=run_id, runbook=plan.action, rung=rung, params=row, kind=plan.action)
    try:
        done = rollout.run(plan, dry_run=False, pause=pausepoint.point)
    except RolloutFailed as exc:
        result: Rollout = exc.result
        journal.finish(
            path,
            run_id,
            status="failed",
            changes=result.changed,  # hosts left on the new release: 0 when the first host switched back
            hosts={h.host: h.to_dict() for h in result.hosts},
            error=str(exc),
            summary=result.to_dict(),
        )
        raise
    except BaseException as exc:
        journal.finish(path, run_id, status="failed", error=f"{type(exc).__name__}: {exc}")
        raise
    journal.finish(
        path,
        run_id,
        status="ok",
        changes=done.changed,
        hosts={h.host: h.to_dict() for h in done.hosts},
        summary=done.to_dict(),
    )
    return done


def deploy(
    config: Config | str | Path | None,
    environment: str,
    version: str,
    *,
    dry_run: bool = True,
    approver: str | None = None,
    store: Store | None = None,
    version_deadline: float = VERSION_DEADLINE,
) -> Rollout:
    """A rolling deploy of version to environment; bad input refused first; journaled unless a dry run."""
    cfg = steps.config_of(config)
    plan = rollout.prepare_deploy(cfg, environment, version, store=store)
    plan = replace(plan, version_deadline=version_deadline)
    return rollout.run(plan) if dry_run else apply(plan, approver=approver)


def rollback(
    config: Config | str | Path | None,
    environment: str,
    to: str | None = None,
    *,
    dry_run: bool = True,
    approver: str | None = None,
) -> Rollout:
    """Every host back on the previous release (or to), through the balancer; journaled unless a dry run."""
    cfg = steps.config_of(config)
    plan = rollout.prepare_rollback(cfg, environment, to)
    return rollout.run(plan) if dry_run else apply(plan, approver=approver)
