"""Rung 3a's deploy steps: one artifact, verified and installed as a release on every prod host, switched atomically.

One call per notebook step (setup, prepare, send, install, switch, prune); `deploy` runs them in order.
Each step passes engine.pausepoint.point as the library's pause hook, so a fault test can kill it there.
Before them the runbook lands the packaging recipe, tags the release, builds it once and renders its Dockerfile;
its releases table and switch-time chart are release_report.py's.
With a balancer: in ladder.yml, hosts switch one at a time, and a host whose server must restart is drained first.
"""

from __future__ import annotations

import html
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..app import artifact, balancer, checkout, dockerfile, recipe, release, switch, tags
from ..app.artifact import Built, Source, Store
from ..app.layout import layout_of
from ..app.manifest import Manifest
from ..app.server import get_server
from ..app.switch import Switched
from ..core import ops
from ..core.config import PROD, Config
from ..core.hosts import Host, environment_hosts
from ..engine import pausepoint
from ..engine.record import record_step
from . import steps

RUNBOOK = "3a-packaged-artifacts"  # runbooks/<RUNBOOK>.ipynb, whose steps these are
IMAGE_SERVER = "gunicorn"  # the container recipe's server (the sandbox app's requirements pin it)
STEP_DEADLINE = 600  # a first offline install on a slow host; never a measured time
CHECK_DEADLINE = 60  # reading facts on a host


@dataclass(frozen=True)
class Plan:
    """What a 3a deploy works from, checked before any host changes: config, store, artifact, releases to keep."""

    cfg: Config
    store: Store
    artifact: Manifest | None  # None: a dry run before the version is built; every step plans "after the build"
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


# --- the runbook's steps before the deploy --------------------------------------------------
def begin(config: Config | str | Path, ref: str = "HEAD", keep_releases: int = 5) -> Config:
    """Check the parameters (keep_releases, ref in the shared repository) and ladder.yml before anything changes."""
    release.check_keep(keep_releases)
    cfg = steps.config_of(config)
    artifact.get_source(str(cfg.app.repo), ref, packaged=False)
    artifact.open_store(cfg).host.close()  # a ConfigError naming artifacts: or build: now, not mid-run
    artifact.build_host(cfg).close()
    steps.declare(RUNBOOK, cfg)
    pausepoint.point("setup")
    return cfg


def land_recipe(cfg: Config, *, dry_run: bool = True) -> ops.Change:
    """Commit the packaging recipe (pyproject.toml, version from git tags) on trunk, pushed; planned by default."""
    pausepoint.point("recipe")
    change = recipe.land(str(cfg.app.repo), cfg.app.name, dry_run=dry_run)
    record_step("packaging recipe", [change])
    return change


def release_tag(cfg: Config, ref: str = "HEAD", *, dry_run: bool = True) -> tags.Tagged:
    """Tag ref `v<version>` and push the tag, unless it is on one: the version a dev build of ref leads to."""
    pausepoint.point("release tag")
    source = artifact.get_source(str(cfg.app.repo), ref, packaged=False)
    tagged = tags.tag(str(cfg.app.repo), source.sha, tags.next_release(source.version), dry_run=dry_run)
    record_step("release tag", [tagged.change])
    return tagged


def build(cfg: Config, tagged: tags.Tagged, *, dry_run: bool = True) -> Built:
    """Build the tagged release on the build host into the store, once; a version already there is reused."""
    pausepoint.point("build")
    if dry_run:  # the tag and the recipe may not exist yet: plan from the commit and the version they will give
        source = Source(str(cfg.app.repo), tagged.tag, tagged.sha, tagged.version)
        store = artifact.open_store(cfg)
        with artifact.build_host(cfg) as host, store.host:
            python = cfg.host_config(host.name).python
            built = artifact.build(host, store, source, cfg.app.name, python=python, dry_run=True)
    else:
        built = artifact.build_from_config(cfg, tagged.tag, dry_run=False)
    record_step("build", list(built.changes))
    return built


@dataclass(frozen=True)
class ContainerRecipe:
    """The artifact's Dockerfile, rendered and linted by hadolint beside its wheelhouse in the store; never built."""

    path: str
    text: str
    change: ops.Change

    def summary(self) -> str:
        """One line: where the recipe is, and that no image is built."""
        if not self.text:
            return f"{self.path}: rendered once the artifact is built"
        return f"{self.path}: hadolint finds nothing. Not built: no container daemon or registry here"

    def __repr__(self) -> str:
        return self.summary() + ("\n\n" + self.text if self.text else "")

    def _repr_html_(self) -> str:
        code = f"<pre>{html.escape(self.text)}</pre>" if self.text else ""
        return f"<p>{html.escape(self.summary())}</p>{code}"


def container_recipe(cfg: Config, built: Built, *, dry_run: bool = True) -> ContainerRecipe:
    """Render the Dockerfile that installs the artifact's wheelhouse, lint it, and put it in the artifact's folder."""
    pausepoint.point("container recipe")
    store = artifact.open_store(cfg)
    path = f"{store.folder(cfg.app.name, built.source.version)}/{dockerfile.PATH}"
    if built.manifest is None:
        change = ops.Change(store.host.name, "container recipe", path, (f"render {dockerfile.PATH}",), True)
        record_step("container recipe", [change])
        return ContainerRecipe(path, "", change)
    text = dockerfile.checked(
        dockerfile.render(
            built.manifest, server=IMAGE_SERVER, wsgi=cfg.app.wsgi, port=cfg.app.port, health_path=cfg.app.health_path
        )
    )
    with store.host:
        change = ops.file(store.host, path, text, 0o644, dry_run=dry_run)
    record_step("container recipe", [change])
    return ContainerRecipe(path, text, change)


def plan(cfg: Config, built: Built, keep_releases: int = 5) -> Plan:
    """The deploy's plan for the built (or, in a dry run, planned) version."""
    return Plan(cfg, artifact.open_store(cfg), built.manifest, keep_releases)


def prod_edits_folder(cfg: Config, run_dir: str = "", run_id: str = "") -> Path:
    """Where this run saves prod's in-place edits as patches (the run's folder)."""
    return steps.run_folder(cfg, run_dir, run_id) / "prod-edits"


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

    done = steps.on_hosts(plan.cfg, PROD, one, STEP_DEADLINE)
    record_step("prepare", [_as_change(c) for cs in done.values() for c in cs])
    return done


def _as_change(item: ops.Change | checkout.SavedPatch) -> ops.Change:
    """A prepare result as a row of the run's record: a saved patch is kept on this machine, the host unchanged."""
    if isinstance(item, ops.Change):
        return item
    edited = ", ".join((*item.modified, *item.untracked)) or "files"
    return ops.Change(item.host, "save edits", str(item.path), reason=f"in-place edits of {edited} saved as a patch")


def _after_build(host: Host, step: str) -> ops.Change:
    """A step planned before the version it needs is built (a dry run): it happens once the build has run."""
    return ops.Change(
        host.name, step, layout_of(host).releases, (f"{step} the release",), True, reason="after the build"
    )


def _each(plan: Plan, step: str, fn: Callable[[Host, Manifest], ops.Change]) -> dict[str, ops.Change]:
    """fn on every prod host in parallel (planned after the build when there is no artifact yet), recorded."""
    pausepoint.point(step)
    found = plan.artifact
    done = steps.on_hosts(
        plan.cfg, PROD, lambda h: _after_build(h, step) if found is None else fn(h, found), STEP_DEADLINE
    )
    record_step(step, list(done.values()))
    return done


def send(plan: Plan, *, dry_run: bool = True) -> dict[str, ops.Change]:
    """Copy the artifact to releases/<version>/ on each prod host and verify every file's sha256 there."""
    with tempfile.TemporaryDirectory(prefix="ladder-artifact-") as tmp:
        fetched = release.Fetched(Path(tmp))  # each file leaves the store once, whatever the number of hosts
        return _each(
            plan,
            "send",
            lambda h, a: release.send(
                h, layout_of(h), plan.store, a, dry_run=dry_run, pause=pausepoint.point, fetched=fetched
            ),
        )


def install(plan: Plan, *, dry_run: bool = True) -> dict[str, ops.Change]:
    """Install the release offline on each prod host, then mark it complete."""
    return _each(
        plan,
        "install",
        lambda h, a: release.install(h, layout_of(h), a, python=plan.python, dry_run=dry_run, pause=pausepoint.point),
    )


@dataclass(frozen=True)
class HostSwitch(Switched):
    """A host's switch, and what the balancer did around it (drain before a restart, ready after)."""

    balancer: tuple[ops.Change, ...] = ()
    drained: str = ""  # how the host's users were kept from the restart, in words


def switch_all(plan: Plan, *, dry_run: bool = True) -> dict[str, Switched]:
    """Switch each prod host to the release, reload its server and check it reports the version.

    Without a balancer every host switches at once. With one (ladder.yml's balancer:), hosts switch one at a time,
    as a rolling deploy does, and a host whose server must restart (the first move off rung 1's checkout) is
    drained and waited idle first and made ready after, so users never reach it while it restarts.
    """
    pausepoint.point("switch")
    if plan.cfg.balancer is None:
        done = steps.on_hosts(plan.cfg, PROD, lambda h: _switch_one(plan, h, None, dry_run=dry_run), STEP_DEADLINE)
    else:
        lb_host, lb = balancer.from_config(plan.cfg)
        hosts = environment_hosts(plan.cfg, PROD)
        try:
            done = {h.name: _switch_one(plan, h, (lb_host, lb), dry_run=dry_run) for h in hosts}
        finally:
            for h in [*hosts, lb_host]:
                h.close()
    record_step("switch", [c for s in done.values() for c in (*s.balancer, s.change)])
    return dict(done)


def _switch_one(plan: Plan, host: Host, lb: tuple[Host, balancer.Balancer] | None, *, dry_run: bool) -> HostSwitch:
    """One host's switch; with a balancer, drained around a restart while another server takes its users."""
    if plan.artifact is None:
        return HostSwitch(_after_build(host, "switch"), None)
    lay, target = layout_of(host), _target(plan, host)
    version = plan.artifact.version
    restarts = not switch.serves_from_current(host, lay, get_server(host, target.port))
    if lb is None or not restarts:
        how = "" if not restarts else "no balancer: the server restarts once, its users wait or fail for that moment"
        done = switch.switch(host, lay, version, target, dry_run=dry_run, pause=pausepoint.point)
        return HostSwitch(**vars(done), drained=how)
    lb_host, where = lb
    others = [s.name for s in balancer.servers(lb_host, where) if s.name != host.name and s.serving]
    if not others:
        how = "not drained: the balancer has no other server, so requests fail while it restarts (add a prod host)"
        done = switch.switch(host, lay, version, target, dry_run=dry_run, pause=pausepoint.point)
        return HostSwitch(**vars(done), drained=how)
    before = [
        balancer.drain(lb_host, where, host.name, dry_run=dry_run),
        balancer.wait_idle(lb_host, where, host.name, dry_run=dry_run),
    ]
    done = switch.switch(host, lay, version, target, dry_run=dry_run, pause=pausepoint.point)
    after = balancer.ready(lb_host, where, host.name, dry_run=dry_run)
    if not dry_run:  # UP again before the next host drains, so one server always takes the users
        balancer.wait_serving(lb_host, where, host.name, timeout=STEP_DEADLINE / 10)
        how = f"drained while it restarted; {', '.join(others)} served its users"
    else:
        how = f"drain, restart, ready: {', '.join(others)} serve its users meanwhile"
    return HostSwitch(**vars(done), balancer=(*before, after), drained=how)


def prune(plan: Plan, *, dry_run: bool = True) -> dict[str, ops.Change]:
    """Remove old releases on each prod host, keeping keep_releases with the current one."""
    pausepoint.point("prune")
    done = steps.on_hosts(
        plan.cfg,
        PROD,
        lambda h: release.prune(h, layout_of(h), plan.keep_releases, dry_run=dry_run, pause=pausepoint.point),
        STEP_DEADLINE,
    )
    record_step("prune", list(done.values()))
    return done


def deploy(plan: Plan, folder: str | Path, *, dry_run: bool = True) -> dict[str, dict]:
    """Every step in order: prepare, send, install, switch, prune; each host's results by step."""
    return {
        "prepare": prepare(plan, folder, dry_run=dry_run),
        "send": send(plan, dry_run=dry_run),
        "install": install(plan, dry_run=dry_run),
        "switch": switch_all(plan, dry_run=dry_run),
        "prune": prune(plan, dry_run=dry_run),
    }
