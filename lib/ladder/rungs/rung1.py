"""Rung 1, separate dev and prod: one function per runbook step, each taking the config."""

from __future__ import annotations

import html
import re
import time
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from ..app import adopt, checkout, copied, deploy, devenv, health, parity, reload, routes, service, trunk, versioning
from ..app.checkout import SavedPatch
from ..app.git import open_repo
from ..app.layout import layout_of
from ..app.server import AppServer, get_server
from ..core import ops
from ..core.config import DEV, PROD, Config
from ..core.errors import HostError
from ..core.hosts import Host
from ..engine import pausepoint
from ..engine.record import record_step
from . import steps

RUNBOOK = "1-separate-dev-and-prod"  # runbooks/<RUNBOOK>.ipynb, whose steps these are
BUILD_DEADLINE = 900  # a first pip install on a real host can be slow
DEPLOY_DEADLINE = 300
CHECK_DEADLINE = 120


def setup(config: Config | str | Path, ref: str) -> Config:
    """Load the config and check that every prod host's origin knows ref, before any step changes a host."""
    cfg = steps.config_of(config)
    checkout.check_ref(ref)
    steps.declare(RUNBOOK, cfg)
    pausepoint.point("setup")

    def knows(host: Host) -> str | None:
        app = layout_of(host).app
        # A copied folder has no origin yet: ask the team's repository, which adoption makes its origin.
        remote = cfg.app.repo if adopt.get_kind(host, app) == adopt.FILES else "origin"
        commit = checkout.remote_commit(host, app, ref, remote)
        if commit is None and not checkout.is_commit_id(ref):
            raise HostError(
                f"ref {ref!r} is not a branch or tag on origin; pass an existing one as ref", host=host.name
            )
        return commit

    steps.on_hosts(cfg, PROD, knows, CHECK_DEADLINE)
    return cfg


def dev_env(cfg: Config, host: Host) -> devenv.DevEnv:
    """What the dev environment on a dev host is built from."""
    hc = cfg.host_config(host.name)
    return devenv.DevEnv(host.base, str(cfg.app.repo), hc.python, cfg.app_port(hc), cfg.app.wsgi, cfg.app.health_path)


def prod_target(cfg: Config, host: Host) -> deploy.Target:
    """What the deploy script on a prod host serves and how it reloads: the server found there, else Ladder's gunicorn.

    Ladder starts its own gunicorn (tracked by its pid file) only where nothing listens on the app's port yet;
    a server it did not start is reloaded the gentlest way it allows (app.reload), and an unknown one is refused.
    """
    hc = cfg.host_config(host.name)
    port = cfg.app_port(hc)
    proc = service.get_process(host, layout_of(host).pid_file)
    python = proc.python if proc is not None and proc.python else hc.python
    found = get_server(host, port)
    if (proc is not None and found.pid == proc.pid) or (not found.known and found.pid is None):
        return deploy.Target(host.base, python, port, cfg.app.wsgi, health_path=cfg.app.health_path)
    way = reload.choose(host.name, found)  # an unknown server is one clear error here, before any change
    command = reload.script_command(way, found)
    return deploy.Target(host.base, hc.python, port, cfg.app.wsgi, reload=command, health_path=cfg.app.health_path)


def prod_servers(config: Config | str | Path) -> pd.DataFrame:
    """What serves the app on each prod host, one line per host: server, manager and the reload Ladder will use."""
    cfg = steps.config_of(config)

    def one(host: Host) -> AppServer:
        return get_server(host, cfg.app_port(cfg.host_config(host.name)))

    found = steps.on_hosts(cfg, PROD, one, CHECK_DEADLINE)
    rows = [
        {
            "host": name,
            "server": f"{s.kind} {s.version or ''}".strip(),
            "master pid": s.pid,
            "config": s.config_file or s.app or "; ".join(s.looked_at),
            "manager": "no process manager" if s.manager == "none" else f"{s.manager} {s.manager_name or '(unknown)'}",
            "reload": _way(name, s),
        }
        for name, s in found.items()
    ]
    return steps.table(rows, ["host", "server", "master pid", "config", "manager", "reload"], index="host")


def _way(name: str, found: AppServer) -> str:
    """The reload the deploy step will use, or why there is none."""
    if not found.known:
        return "none yet: Ladder starts its own gunicorn" if found.pid is None else "none: unknown server"
    try:
        return str(reload.choose(name, found))
    except HostError as err:
        return f"none: {err.detail}"


# --- step: dev environment ----------------------------------------------------------------
def build_dev(config: Config | str | Path, *, dry_run: bool = True) -> dict[str, list[ops.Change]]:
    """Build the dev environment on every dev host (plan only unless dry_run is False), and record the step."""
    cfg = steps.config_of(config)
    pausepoint.point("dev environment")
    changes = steps.on_hosts(cfg, DEV, lambda h: devenv.build(h, dev_env(cfg, h), dry_run=dry_run), BUILD_DEADLINE)
    record_step("dev environment", changes)
    return changes


def _health_rows(results: dict[str, health.HealthResult]) -> pd.DataFrame:
    rows = [r.to_dict() for r in results.values()]
    return steps.table(rows, ["host", "url", "ok", "status", "version", "error"], index="host")


def check_dev(config: Config | str | Path, *, dry_run: bool = True) -> pd.DataFrame:
    """The dev app's health over HTTP on each dev host; after an apply (dry_run False) a failure raises."""
    cfg = steps.config_of(config)
    if dry_run:
        results = steps.on_hosts(cfg, DEV, lambda h: _peek_dev(cfg, h), CHECK_DEADLINE)
    else:
        results = steps.on_hosts(cfg, DEV, lambda h: devenv.check(h, dev_env(cfg, h)), CHECK_DEADLINE)
    failed = [name for name, r in results.items() if not r.ok]
    if not dry_run and failed:
        raise HostError(f"the dev app does not answer its health check: {results[failed[0]].error}", host=failed[0])
    return _health_rows(results)


def _peek_dev(cfg: Config, host: Host) -> health.HealthResult:
    """One quick look at the dev app without building anything (a dry run may find nothing there yet)."""
    env = dev_env(cfg, host)
    python = env.venv_python if host.exists(env.venv_python) else env.python
    return health.check_on(host, env.port, env.health_path, python=python, timeout=1)


# --- step: parity -------------------------------------------------------------------------
def measure_parity(config: Config | str | Path) -> parity.Parity:
    """Compare the first dev host with every prod host: parity.measure, the computation the assessment scores."""
    cfg = steps.config_of(config)

    def read(host: Host) -> parity.Facts:
        return parity.get_facts(host, cfg.host_config(host.name).python)

    dev = steps.on_hosts(cfg, DEV, read, CHECK_DEADLINE)
    prod = steps.on_hosts(cfg, PROD, read, CHECK_DEADLINE)
    return parity.measure(next(iter(dev.values())), list(prod.values()))


# --- step: prod edited in place -----------------------------------------------------------
@dataclass(frozen=True)
class Edits:
    """In-place edits found on each prod checkout, and the patches they were saved as (None when not saved).

    A prod folder that is not a checkout (copied) is snapshotted instead: found and saved then hold its
    edits against the nearest commit, and copied its snapshot, which the deploy step adopts it from.
    """

    folder: Path | None
    found: dict[str, checkout.Status] = field(default_factory=dict)
    saved: dict[str, SavedPatch | None] = field(default_factory=dict)
    copied: dict[str, copied.Snapshot] = field(default_factory=dict)

    def table(self) -> pd.DataFrame:
        """One row per prod host: what was edited in place and where its patch is."""
        rows = []
        for h, status in self.found.items():
            patch = self.saved.get(h)
            where = str(patch.path) if patch else ("not saved (dry run)" if not status.clean else "")
            rows.append(
                {
                    "host": h,
                    "modified": ", ".join(status.modified),
                    "untracked": ", ".join(status.untracked),
                    "patch": where,
                    "bytes": patch.size if patch else 0,
                }
            )
        return steps.table(rows, ["host", "modified", "untracked", "patch", "bytes"])

    def __repr__(self) -> str:
        return f"patches in {self.folder or '(none: dry run)'}\n" + self.table().to_string(index=False)

    def _repr_html_(self) -> str:
        where = html.escape(str(self.folder)) if self.folder else "(none: a dry run without a run folder saves nothing)"
        return f"<p>Patches in <code>{where}</code></p>" + self.table().to_html(index=False, escape=True)


def _find_one(
    cfg: Config, host: Host, folder: Path
) -> tuple[checkout.Status, SavedPatch | None, ops.Change, copied.Snapshot | None]:
    app = layout_of(host).app
    if adopt.get_kind(host, app) == adopt.FILES:
        snap = copied.take(host, app, cfg.app.repo, folder)
        reason = f"{snap.summary()}; the deploy step adopts it (a checkout of that commit, its files untouched)"
        return snap.status, snap.patch, ops.Change(host.name, "save edits", app, reason=reason), snap
    status = checkout.get_status(host, app)
    if status is None:
        raise HostError(f"{app} is not a git checkout; rung 1 expects prod to serve one", host=host.name)
    patch = checkout.save_edits(host, app, folder, status) if not status.clean else None
    if status.clean:
        reason = "clean checkout: nothing edited in place"
    else:
        reason = f"edited in place: {', '.join(status.edited)}; " + (
            f"saved as {patch.path.name}" if patch else "would be saved before the deploy"
        )
    return status, patch, ops.Change(host.name, "save edits", app, reason=reason), None


def save_prod_edits(config: Config | str | Path, run_dir: str = "", run_id: str = "") -> Edits:
    """Find edits made in place on each prod checkout and save them as patches into the run's folder.

    A prod folder that is not a checkout (copied there, then edited) is archived into the run's folder too,
    and its patch is against the nearest commit of the team's trunk. Read-only on the hosts, so a dry run
    saves them too: every run has its folder (see steps.run_folder).
    """
    cfg = steps.config_of(config)
    folder = steps.run_folder(cfg, run_dir, run_id) / "prod-edits"
    pausepoint.point("prod edits")
    found = steps.on_hosts(cfg, PROD, lambda h: _find_one(cfg, h, folder), CHECK_DEADLINE)
    record_step("prod edits", [change for _, _, change, _ in found.values()])
    return Edits(
        folder,
        {h: status for h, (status, _, _, _) in found.items()},
        {h: patch for h, (_, patch, _, _) in found.items()},
        {h: snap for h, (_, _, _, snap) in found.items() if snap is not None},
    )


# --- step: repeatable deploy --------------------------------------------------------------
def deploy_prod(
    config: Config | str | Path, ref: str, edits: Edits, *, dry_run: bool = True
) -> dict[str, list[ops.Change]]:
    """Put the deploy script on each prod host and run it for ref (a plan unless dry_run is False); record the step."""
    cfg = steps.config_of(config)
    checkout.check_ref(ref)

    pausepoint.point("deploy step")

    def one(host: Host) -> list[ops.Change]:
        pausepoint.point(f"deploy step:{host.name}")
        target = prod_target(cfg, host)
        installed = deploy.install(host, target, dry_run=dry_run)
        snap = edits.copied.get(host.name)
        adopted = []
        if snap is not None:
            pausepoint.point(f"adopt:{host.name}")
            adopted = [adopt.adopt(host, snap.path, cfg.app.repo, snap.commit, snap.stamp, dry_run=dry_run)]
            pausepoint.point(f"adopted:{host.name}")
            if adopted[0].changed and dry_run:  # not a checkout yet: the deploy is planned from the snapshot
                reason = f"after adoption: {snap.commit[:12]} -> {ref}; discard in-place edits (saved)"
                return installed + adopted + [ops.Change(host.name, "deploy", snap.path, changed=True, reason=reason)]
        saved = edits.saved.get(host.name)
        return installed + adopted + [deploy.deploy(host, target, ref, saved=saved, dry_run=dry_run)]

    changes = steps.on_hosts(cfg, PROD, one, DEPLOY_DEADLINE)
    record_step("deploy step", changes)
    return changes


def _expect(host: Host, ref: str) -> str | None:
    app = layout_of(host).app
    commit = checkout.remote_commit(host, app, ref)
    if commit is None and checkout.is_commit_id(ref):
        status = checkout.get_status(host, app)
        commit = status.head if status and status.head.startswith(ref) else None
    return deploy.version_of(commit) if commit else None


def verify_prod(config: Config | str | Path, ref: str, *, dry_run: bool = True) -> pd.DataFrame:
    """Check each prod host's health over HTTP; after an apply (dry_run False) it must report the ref's commit."""
    cfg = steps.config_of(config)
    pausepoint.point("verify")

    def one(host: Host) -> health.HealthResult:
        target = prod_target(cfg, host)
        version = None if dry_run else _expect(host, ref)
        return health.check_on(host, target.port, cfg.app.health_path, python=target.python, version=version)

    results = steps.on_hosts(cfg, PROD, one, CHECK_DEADLINE)
    checks = [
        ops.Change(
            h,
            "health",
            r.url,
            failed=not r.ok,
            reason=f"HTTP {r.status}, version {r.version}" if r.ok else r.error or f"HTTP {r.status}",
        )
        for h, r in results.items()
    ]
    record_step("verify", checks)
    failed = [h for h, r in results.items() if not r.ok]
    if failed:
        raise HostError(
            f"prod health check failed: {results[failed[0]].error or results[failed[0]].status}", host=failed[0]
        )
    return _health_rows(results)


# --- step: route versions (rung 1+) ---------------------------------------------------------
REPO = "repo"  # the row the team's repository gets in the run's host x step matrix


def version_routes(
    config: Config | str | Path, ref: str, *, dry_run: bool = True, sunset: date | None = None
) -> versioning.Plan:
    """Serve each public route under /v1 too, old paths marked deprecated: a plan, or (dry_run False) a commit.

    The commit lands on the team's trunk (app.repo); the deploy step then ships it. sunset, when given,
    is the day the old paths stop answering (sent as Sunset). When Ladder cannot edit the app safely,
    the plan says what to do by hand and nothing is committed.
    """
    cfg = steps.config_of(config)
    checkout.check_ref(ref)
    with trunk.workspace(cfg.app.repo) as ws:
        head = trunk.git(ws.path, "rev-parse", "HEAD")
        plan = versioning.plan_commit(open_repo(ws.path), head, cfg.app.wsgi, now=int(time.time()), sunset=sunset)
        made = trunk.commit(ws, plan.new, plan.message(), expected=head) if plan.edits and not dry_run else ""
    notes: tuple[str, ...] = ()
    if plan.edits and ref != ws.trunk:
        notes = (f"The deploy step serves ref {ref!r}, not {ws.trunk}: deploy {ws.trunk} to ship the /v1 routes.",)
    plan = replace(plan, committed=made, where=ws.where, notes=notes)
    reason = plan.summary() if plan.edits else ("by hand: " + plan.manual.splitlines()[0] if plan.manual else "")
    commands = (f"git commit -m {plan.message().splitlines()[0]!r}",) if plan.edits else ()
    change = ops.Change(
        REPO, "version routes", ws.where, commands, plan.edits, bool(made), reason=reason or "already as wanted"
    )
    record_step("route versions", [change])
    return plan


@dataclass(frozen=True)
class RouteReport:
    """The app's routes on trunk, the unversioned ones first, and the count the assessment shows too."""

    table: pd.DataFrame
    count: routes.RouteCount
    why: str = routes.WHY

    @property
    def unversioned(self) -> int:
        """How many public routes carry no version."""
        return len(self.count.unversioned)

    def summary(self) -> str:
        """One line: N of M public routes carry a version."""
        return self.count.summary() + "."

    def __repr__(self) -> str:
        return "\n\n".join([self.summary(), self.table.to_string(index=False), self.why])

    def _repr_html_(self) -> str:
        text = html.escape(self.why)
        text = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", text)
        text = re.sub(r"`(.+?)`", r"<code>\1</code>", text)
        head = f"<p>{html.escape(self.summary())}</p>"
        return head + self.table.to_html(index=False, escape=True) + f"<p>{text}</p>"


def route_report(config: Config | str | Path) -> RouteReport:
    """The routes declared on the app repo's trunk, and how many carry a version (read-only)."""
    cfg = steps.config_of(config)
    with trunk.workspace(cfg.app.repo) as ws:
        found = routes.scan(ws.path)
    return RouteReport(routes.table(found), routes.count(found))


def figures(parity_result: parity.Parity, edits: Edits, route_result: RouteReport) -> dict[str, Any]:
    """The run's key figures for ladder.record."""
    out: dict[str, Any] = dict(parity_result.figures())
    out["prod hosts edited in place"] = sum(1 for st in edits.found.values() if not st.clean)
    out["unversioned routes"] = route_result.unversioned
    out["public routes versioned"] = f"{len(route_result.count.versioned)} of {route_result.count.public}"
    return out


def mixed(edits: Edits) -> str | None:
    """'prod is mixed: prod1 at abc123, prod2 at def456' when prod's hosts served different commits; else None.

    Read before the deploy (save_prod_edits), so it tells what an earlier run (one killed halfway) left.
    """
    heads = {host: deploy.version_of(status.head) for host, status in edits.found.items()}
    if len(set(heads.values())) < 2:
        return None
    return "prod is mixed: " + ", ".join(f"{host} at {head}" for host, head in heads.items())


def notices(edits: Edits, *, dry_run: bool = True) -> list[str]:
    """What the report must say first: a mixed prod, prod edits made in place, and where the deploy put them."""
    out = []
    split = mixed(edits)
    if split is not None:
        then = (
            "An apply deploys one ref to every prod host."
            if dry_run
            else "This run deployed one ref to every prod host (see the verify step)."
        )
        out.append(f"{split} (an earlier deploy did not reach every host, e.g. it was stopped). {then}")
    for host, snap in edits.copied.items():
        if dry_run:
            out.append(f"{host}: {snap.summary()}. An apply adopts it: a checkout of that commit, its files untouched.")
        else:
            out.append(f"{host}: {snap.summary()}, adopted: a copy of the archive is kept at {snap.kept}.")
    for host, status in edits.found.items():
        if status.clean:
            continue
        files = ", ".join(status.edited)
        patch = edits.saved.get(host)
        if dry_run:
            saved = f"; it is saved as {patch.path}" if patch is not None else ""
            out.append(
                f"{host}: prod was edited in place ({files}){saved}. An apply's deploy replaces the edit, "
                "after saving it again as a patch in that run's folder."
            )
        elif patch is not None:
            out.append(
                f"{host}: prod was edited in place ({files}). The deploy replaced the edit; it is saved "
                f"as {patch.path} (`git apply` restores it onto commit {patch.head[:10]})."
            )
    return out
