"""Rung 3b's measured evidence: the CI server's builds, read over REST with a short timeout, against trunk's commits."""

from __future__ import annotations

from dataclasses import dataclass

from ..app import ci_server
from ..app.ci_server import Build
from ..app.git import open_repo
from ..core.config import Config
from ..core.errors import LadderError
from ..core.hosts import connect

TIMEOUT = 10.0  # the assessment waits this long for the CI server's REST API, then calls it inconclusive
RECENT = 20  # trunk's latest commits looked at, at most


@dataclass(frozen=True)
class ServerBuilds:
    """What the CI server that ladder.yml names said: its builds, and trunk's latest commits (newest first)."""

    url: str
    builds: tuple[Build, ...] = ()
    trunk: tuple[str, ...] = ()  # trunk's latest first-parent commits
    error: str | None = None

    def expected(self) -> list[str]:
        """The trunk commits CI should have built: trunk's head down to the oldest one it built (the head at least)."""
        built = {b.revision for b in self.builds}
        oldest = max((i for i, c in enumerate(self.trunk) if c in built), default=0)
        return list(self.trunk[: oldest + 1])

    def results(self) -> dict[str, str]:
        """Each built commit's latest finished result (a running build has none yet)."""
        return {b.revision: b.result for b in self.builds if b.complete is not None}


def trunk_commits(repo: str, limit: int = RECENT) -> tuple[str, ...]:
    """Trunk's latest first-parent commits in the shared repository, newest first."""
    git = open_repo(repo)
    if git.trunk is None:
        return ()
    lines = git.stream("log", "--first-parent", "--format=%H", f"-n{limit}", git.trunk.short, "--")
    return tuple(line.decode().strip() for line in lines if line.strip())


def read(config: Config, timeout: float = TIMEOUT) -> ServerBuilds | None:
    """The builds of ladder.yml's CI server (None without a ci: section); an unreachable one is an error, not a 0."""
    if config.ci is None:
        return None
    ci = config.ci
    try:
        commits = trunk_commits(config.app.repo)
        with connect(ci.host, config.ssh) as host:
            builds = ci_server.get_builds(host, ci.url, timeout=timeout)
    except LadderError as exc:
        return ServerBuilds(ci.url, error=str(exc))
    return ServerBuilds(ci.url, tuple(builds), commits)
