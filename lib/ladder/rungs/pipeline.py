"""The delivery pipeline's own steps, as `ladder smoke|approve` run them on the build host: smoke over HTTP, the gate."""

from __future__ import annotations

import getpass
import time
from pathlib import Path

from ..app import artifact, http_smoke, routes
from ..app.git import open_repo
from ..app.http_smoke import SmokeReport
from ..core.config import Config
from ..core.errors import LadderError, ParameterError
from ..engine import journal
from . import steps

APPROVAL = "approval"  # the journal kind of a person's decision to ship a version to an environment
POLL = 1.0


def version_sha(cfg: Config, version: str) -> str:
    """The git sha the store's manifest of version records; ParameterError when the store lacks it."""
    store = artifact.open_store(cfg)
    with store.host:
        if version not in artifact.versions(store, cfg.app.name):
            raise ParameterError(
                f"parameter 'version': {version!r} is not in the artifact store {store.host.name}:{store.path}; "
                "build it first (ladder artifact build --ref REF --apply)"
            )
        return artifact.read_manifest(store, cfg.app.name, version).git_sha


def smoke(config: Config | str | Path | None, environment: str, version: str) -> SmokeReport:
    """The HTTP smoke suite against every host of environment: the routes the version's commit declares."""
    cfg = steps.config_of(config)
    hosts = cfg.environment(environment).hosts
    found = routes.in_commit(open_repo(Path(cfg.app.repo)), version_sha(cfg, version))
    reports = [
        http_smoke.run(f"http://{http_address(h.address)}:{cfg.app_port(h)}", found, cfg.app.health_path, version)
        for h in hosts
    ]
    bad = [r for r in reports if not r.ok]
    return bad[0] if bad else reports[0]


def http_address(address: str) -> str:
    """A host's HTTP address: a local folder host serves on loopback."""
    return "127.0.0.1" if address == "local" else address


def approve(config: Config | str | Path | None, environment: str, version: str, approver: str | None = None) -> dict:
    """Journal a person's decision to ship version to environment; the waiting pipeline reads it."""
    cfg = steps.config_of(config)
    cfg.environment(environment)
    version_sha(cfg, version)
    row = {"environment": environment, "version": version, "approver": approver or getpass.getuser()}
    journal.add(journal.journal_path(cfg.runs_dir), run_id=journal.new_run_id(), kind=APPROVAL, params=row)
    return row


def approval(cfg: Config, environment: str, version: str) -> str | None:
    """Who approved version for environment, when someone has."""
    for row in journal.history(journal.journal_path(cfg.runs_dir), kind=APPROVAL):
        params = row.get("params") or {}
        if params.get("environment") == environment and params.get("version") == version:
            return str(params.get("approver"))
    return None


def wait_for_approval(config: Config | str | Path | None, environment: str, version: str, timeout: float) -> str:
    """Block until someone approves (ladder approve, or the notebook's button); the approver's name."""
    cfg = steps.config_of(config)
    deadline = time.monotonic() + timeout
    while (who := approval(cfg, environment, version)) is None:
        if time.monotonic() > deadline:
            raise LadderError(
                f"nobody approved {version} for {environment} within {timeout:g}s; "
                f"run: ladder approve --env {environment} --version {version}, then rebuild"
            )
        time.sleep(POLL)
    return who
