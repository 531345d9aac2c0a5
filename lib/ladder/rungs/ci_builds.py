"""The CI server's builds brought back to the team: read over REST, one journal row per finished build."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..app import ci_server
from ..app.ci_server import Build
from ..core.config import Config
from ..core.hosts import connect
from ..engine import journal


def row_id(build: Build) -> str:
    """The journal id of a build: its builder and number, so reading it again never adds a second row."""
    return f"{journal.BUILD}-{build.builder}-{build.number}"


def record(path: str | Path, builds: Sequence[Build]) -> int:
    """Journal each finished build once (started: its push; ended: its result); the number of rows added."""
    added = 0
    for b in builds:
        if b.complete is None:
            continue
        summary = {
            "builder": b.builder,
            "number": b.number,
            "revision": b.revision,
            "branch": b.branch,
            "result": b.result,
            "pushed": b.pushed.isoformat() if b.pushed else None,
            "build_started": b.started.isoformat(),
            "complete": b.complete.isoformat(),
            "push_to_result": b.push_to_result,
        }
        added += journal.add(
            path,
            run_id=row_id(b),
            kind=journal.BUILD,
            rung="3b",
            started=(b.pushed or b.started).isoformat(timespec="milliseconds"),
            ended=b.complete.isoformat(timespec="milliseconds"),
            status="ok" if b.green else "failed",
            error=None if b.green else f"{b.builder} build {b.number} of {b.revision[:12]} on {b.branch}: {b.result}",
            summary=summary,
            if_new=True,
        )
    return added


def sync(config: Config, *, limit: int = 50) -> tuple[list[Build], int]:
    """Read the latest builds from the CI server that ladder.yml names and journal the finished ones."""
    ci = ci_server.ci_of(config)
    with connect(ci.host, config.ssh) as host:
        builds = ci_server.get_builds(host, ci.url, limit)
    return builds, record(journal.journal_path(config.runs_dir), builds)
