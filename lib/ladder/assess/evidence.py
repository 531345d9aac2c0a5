"""Evidence: read the repository, the hosts or the deploys once, run the catalogue's checks, sum a source up in a line."""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from ..app.git import GitRepo, open_repo
from ..core.config import Config
from ..core.hosts import Host
from .catalogue import of_source, run_checks
from .checks import DORA, HOST, INCONCLUSIVE, LABELS, REPO, CheckResult, inconclusive, run_check
from .dora import DoraReport
from .host_facts import read_config_hosts, read_hosts
from .repo_facts import RepoFacts


def gather_repo_evidence(
    repo: str | Path | GitRepo | RepoFacts,
    *,
    now: float | None = None,
    window_days: int = 90,
    checks: Iterable[str] | None = None,
    progress: Callable[[int, str], None] | None = None,
) -> list[CheckResult]:
    """Run every repository check (or the named ones) on a clone, or on facts already read; NotARepository if not one.

    progress, when given, is called with how many checks are done and the next one's id.
    """
    if isinstance(repo, RepoFacts):
        facts = repo
    else:
        git = repo if isinstance(repo, GitRepo) else open_repo(repo)
        facts = RepoFacts(git, int(time.time() if now is None else now), window_days)
    wanted = set(checks) if checks is not None else None
    specs = [spec for spec in of_source(REPO).values() if wanted is None or spec.id in wanted]
    results = []
    for done, spec in enumerate(specs):
        if progress is not None:
            progress(done, spec.id)
        if facts.tip is None:
            results.append(inconclusive(spec.id, REPO, "the repository has no commits"))
        else:
            results.append(run_check(spec, facts))
    return results


def assess_hosts(
    environments: Mapping[str, list[Host]],
    *,
    python: Mapping[str, str] | None = None,
    health_urls: Mapping[str, str] | None = None,
    workers: int = 10,
) -> list[CheckResult]:
    """Read every host (in parallel) and run every host check on what was read."""
    return run_checks(HOST, read_hosts(environments, python=python, health_urls=health_urls, workers=workers))


def gather_host_evidence(config: Config) -> list[CheckResult]:
    """Host evidence for every environment in a loaded ladder.yml, read-only."""
    return run_checks(HOST, read_config_hosts(config))


def dora_evidence(report: DoraReport) -> list[CheckResult]:
    """The checks that score practices from DORA metrics (deploy frequency, recorded deploys)."""
    return run_checks(DORA, report)


class Evidence(list):
    """Check results of one source, shown as a one-line summary (the detail table comes after scoring)."""

    def __init__(self, results: Iterable[CheckResult] = (), what: str = "Evidence", note: str = "") -> None:
        super().__init__(results)
        self.what, self.note = what, note

    def counts(self) -> dict[str, int]:
        """How many checks carry each label."""
        labels = [INCONCLUSIVE if c.score is None else c.label for c in self]
        return {label: labels.count(label) for label in LABELS if label in labels}

    def summary(self) -> str:
        """One line: how many checks, by label, and a note."""
        if not self:
            return f"{self.what}: none. {self.note}".strip()
        counts = ", ".join(f"{n} {label}" for label, n in self.counts().items())
        return f"{self.what}: {len(self)} checks ({counts}). {self.note}".strip()

    def __add__(self, other: Iterable[CheckResult]) -> Evidence:  # type: ignore[override]  # list's takes a list
        return Evidence([*self, *other])

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(self.summary())}</p>"

    def __repr__(self) -> str:
        return self.summary()
