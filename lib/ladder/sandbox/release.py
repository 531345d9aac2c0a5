"""The sandbox team's next release: a commit on trunk (a harmless change, a fault left on, or its fix), tagged.

Built here into the store, or (`push`) pushed like a developer's commit and followed through the team's pipeline.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..app import artifact, ci_server, ci_stages, tags, trunk
from ..app.ci_stages import Run
from ..core.config import Config, load_config, sandbox_dir
from ..core.errors import ParameterError
from ..core.hosts import connect
from .repo import FAULTS, commit_fault, commit_fix, commit_notes

PIPELINE_DEADLINE = 1800  # a build, staging, its gates and a canary's steps on a loaded machine


@dataclass(frozen=True)
class Released:
    """A release made: its version, and (pushed) the trunk build that took it through the pipeline."""

    version: str
    fault: str | None = None
    run: Run | None = None

    @property
    def stopped_at(self) -> str:
        """The pipeline stage that failed ('' when none did, or when it was built here)."""
        return self.run.failed_at if self.run is not None else ""

    @property
    def as_expected(self) -> bool:
        """A good release went through every stage; a bad one was stopped."""
        return bool(self.stopped_at) == (self.fault is not None) if self.run is not None else True

    def summary(self) -> str:
        """One line: the version, and where its build ended."""
        if self.run is None:
            return f"{self.version}: tagged and built into the store"
        where = f"trunk build #{self.run.number}"
        return f"{self.version}: {where} " + (f"stopped at {self.stopped_at!r}" if self.stopped_at else "passed")


def _commit(repo: Path, fault: str | None) -> None:
    """The release's commit in repo: the fault forced on, or a fix of a fault left on, or a line of notes."""
    if fault is not None:
        commit_fault(repo, fault)
    elif commit_fix(repo) is None:
        commit_notes(repo, "a small change, released through a canary")


def _tag_next(repo: Path) -> str:
    """Tag HEAD with the next release version; that version."""
    source = artifact.get_source(str(repo), "HEAD")
    version = tags.next_release(source.version)
    tags.tag(str(repo), source.sha, version, dry_run=False)
    return version


def _push_and_follow(cfg: Config, fault: str | None) -> Released:
    """Commit and tag in a clone, push both to trunk and follow the trunk build to its end."""
    branch = ci_server.setup_for(cfg).trunk
    with tempfile.TemporaryDirectory(prefix="ladder-release-") as scratch:
        clone = Path(scratch) / "clone"
        trunk.git(Path(scratch), "clone", "-q", "--branch", branch, str(cfg.app.repo), str(clone))
        _commit(clone, fault)
        version = _tag_next(clone)
        sha = trunk.git(clone, "rev-parse", "HEAD")
        trunk.git(clone, "push", "-q", "origin", f"HEAD:refs/heads/{branch}", f"refs/tags/v{version}")
    ci = ci_server.ci_of(cfg)
    with connect(ci.host, cfg.ssh) as master:
        runs = ci_stages.follow_run(master, ci.url, sha, PIPELINE_DEADLINE)
    return Released(version, fault, next(r for r in reversed(runs) if r.revision == sha))


def release(folder: str | Path | None = None, fault: str | None = None, *, push: bool = False) -> Released:
    """Commit on the sandbox app's trunk and tag the release it leads to: built here, or pushed through the pipeline.

    fault "error" or "slow" commits the app's fault switch left on (the bad release a canary must catch);
    None commits the fix of a fault left on, else a line of release notes.
    """
    if fault is not None and fault not in FAULTS:
        raise ParameterError(f"parameter 'fault' must be one of {', '.join(FAULTS)}, not {fault!r}")
    cfg = load_config(Path(folder or sandbox_dir()) / "ladder.yml")
    if push:
        return _push_and_follow(cfg, fault)
    repo = Path(str(cfg.app.repo))
    _commit(repo, fault)
    version = _tag_next(repo)
    artifact.build_from_config(cfg, f"v{version}", dry_run=False)
    return Released(version, fault)
