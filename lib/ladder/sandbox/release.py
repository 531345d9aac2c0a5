"""The sandbox team's next release: a commit on trunk (a harmless change, or a fault left on), tagged and built."""

from __future__ import annotations

from pathlib import Path

from ..app import artifact, tags
from ..core.config import load_config, sandbox_dir
from ..core.errors import ParameterError
from .repo import FAULTS, commit_fault, commit_notes


def release(folder: str | Path | None = None, fault: str | None = None) -> str:
    """Commit on the sandbox app's trunk, tag the release it leads to and build it into the store; its version.

    fault "error" or "slow" commits the app's fault switch left on (the bad release a canary must catch);
    None commits a line of release notes.
    """
    if fault is not None and fault not in FAULTS:
        raise ParameterError(f"parameter 'fault' must be one of {', '.join(FAULTS)}, not {fault!r}")
    cfg = load_config(Path(folder or sandbox_dir()) / "ladder.yml")
    repo = Path(str(cfg.app.repo))
    if fault is None:
        commit_notes(repo, "a small change, released through a canary")
    else:
        commit_fault(repo, fault)
    source = artifact.get_source(str(repo), "HEAD")
    version = tags.next_release(source.version)
    tags.tag(str(repo), source.sha, version, dry_run=False)
    artifact.build_from_config(cfg, f"v{version}", dry_run=False)
    return version
