"""Rung 3a's deploy steps: one artifact, verified and installed as a release on every prod host, switched atomically.

One call per notebook step (setup, prepare, send, install, switch, prune); `deploy` runs them in order.
Each step passes engine.pausepoint.point as the library's pause hook, so a fault test can kill it there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..app import artifact, checkout, release, switch
from ..app.artifact import Store
from ..app.layout import layout_of
from ..app.manifest import Manifest
from ..app.switch import Switched
from ..core import ops
from ..core.config import PROD, Config
from ..core.hosts import Host
from ..engine import pausepoint
from . import steps

STEP_DEADLINE = 600  # a first offline install on a slow host; never a measured time


@dataclass(frozen=True)
class Plan:
    """What a 3a deploy works from, checked before any host changes: config, store, artifact, releases to keep."""

    cfg: Config
    store: Store
    artifact: Manifest
    keep_releases: int = 5
    python: str = "python3"  # the prod hosts' interpreter with pip: it makes each release's venv


def setup(
    config: Config | str | Path,
    version: str,
    *,
    keep_releases: int = 5,
    store: Store | None = None,
    python: str = "python3",
) -> Plan:
    """Check the parameters and read the artifact's manifest from the store (ladder.yml's artifacts: unless given)."""
    release.check_keep(keep_releases)
    release.check_version(version)
    cfg = steps.config_of(config)
    where = store or artifact.open_store(cfg)
    found = artifact.read_manifest(where, cfg.app.name, version)
    release.check_artifact(found, cfg.app.name, version)
    pausepoint.point("setup")
    return Plan(cfg, where, found, keep_releases, python)


def _target(plan: Plan, host: Host) -> switch.Target:
    hc = plan.cfg.host_config(host.name)
    return switch.Target(plan.cfg.app_port(hc), plan.cfg.app.wsgi, hc.python, plan.cfg.app.health_path)


def prepare(plan: Plan, folder: str | Path, *, dry_run: bool = True) -> dict[str, list]:
    """shared/ on each prod host, and rung 1's checkout's in-place edits saved as a patch in folder (kept in place)."""

    def one(host: Host) -> list:
        lay = layout_of(host)
        changes: list = release.shared(host, lay, dry_run=dry_run)
        status = checkout.get_status(host, lay.app) if host.exists(lay.app) else None
        if status is not None and not status.clean and not dry_run:
            changes.append(checkout.save_edits(host, lay.app, folder, status))
        return changes

    return steps.on_hosts(plan.cfg, PROD, one, STEP_DEADLINE)


def send(plan: Plan, *, dry_run: bool = True) -> dict[str, ops.Change]:
    """Copy the artifact to releases/<version>/ on each prod host and verify every file's sha256 there."""
    pausepoint.point("send")
    return steps.on_hosts(
        plan.cfg,
        PROD,
        lambda h: release.send(h, layout_of(h), plan.store, plan.artifact, dry_run=dry_run, pause=pausepoint.point),
        STEP_DEADLINE,
    )


def install(plan: Plan, *, dry_run: bool = True) -> dict[str, ops.Change]:
    """Install the release offline on each prod host, then mark it complete."""
    pausepoint.point("install")
    return steps.on_hosts(
        plan.cfg,
        PROD,
        lambda h: release.install(
            h, layout_of(h), plan.artifact, python=plan.python, dry_run=dry_run, pause=pausepoint.point
        ),
        STEP_DEADLINE,
    )


def switch_all(plan: Plan, *, dry_run: bool = True) -> dict[str, Switched]:
    """Switch each prod host to the release, reload its server and check it reports the version."""
    pausepoint.point("switch")
    return steps.on_hosts(
        plan.cfg,
        PROD,
        lambda h: switch.switch(
            h, layout_of(h), plan.artifact.version, _target(plan, h), dry_run=dry_run, pause=pausepoint.point
        ),
        STEP_DEADLINE,
    )


def prune(plan: Plan, *, dry_run: bool = True) -> dict[str, ops.Change]:
    """Remove old releases on each prod host, keeping keep_releases with the current one."""
    pausepoint.point("prune")
    return steps.on_hosts(
        plan.cfg,
        PROD,
        lambda h: release.prune(h, layout_of(h), plan.keep_releases, dry_run=dry_run, pause=pausepoint.point),
        STEP_DEADLINE,
    )


def deploy(plan: Plan, folder: str | Path, *, dry_run: bool = True) -> dict[str, dict]:
    """Every step in order: prepare, send, install, switch, prune; each host's results by step."""
    return {
        "prepare": prepare(plan, folder, dry_run=dry_run),
        "send": send(plan, dry_run=dry_run),
        "install": install(plan, dry_run=dry_run),
        "switch": switch_all(plan, dry_run=dry_run),
        "prune": prune(plan, dry_run=dry_run),
    }
