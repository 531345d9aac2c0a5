"""What the repository checks read from a plain git clone: RepoFacts, each piece fetched once, when asked for."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cached_property
from pathlib import Path
from typing import Any

from ..app.git import GitRepo, TreeFile, open_repo
from ..app.history import HistoryStats, is_test_path, log_args, parse_log
from ..core.errors import GitError, MissingObjects
from . import ci

DAY = 86400
SAMPLES = 20


VENDORED = re.compile(r"(^|/)(node_modules|vendor|third_party|dist|build|\.venv|venv|site-packages|\.tox)/")
CODE_SUFFIXES = (
    ".py",
    ".js",
    ".mjs",
    ".cjs",
    ".ts",
    ".tsx",
    ".jsx",
    ".rb",
    ".go",
    ".java",
    ".kt",
    ".php",
    ".cs",
    ".rs",
    ".scala",
    ".swift",
    ".ex",
    ".exs",
    ".c",
    ".cc",
    ".cpp",
    ".h",
    ".hpp",
)
EXCLUDE_SPECS = [
    ":(exclude,glob)**/node_modules/**",
    ":(exclude,glob)**/vendor/**",
    ":(exclude,glob)**/*.min.js",
    ":(exclude,glob)**/.venv/**",
    ":(exclude,glob)**/site-packages/**",
]
CODE_SPECS = [f":(glob)**/*{s}" for s in CODE_SUFFIXES] + EXCLUDE_SPECS
MANIFEST = re.compile(
    r"(^|/)(requirements[^/]*\.(txt|in)|pyproject\.toml|setup\.py|setup\.cfg|Pipfile|package\.json|Gemfile"
    r"|go\.mod|composer\.json|pom\.xml|build\.gradle(\.kts)?|Cargo\.toml|environment\.ya?ml)$"
)


class RepoFacts:
    """What the checks read from one repository, each piece fetched once and only when asked for."""

    def __init__(self, repo: GitRepo, now: int, window_days: int = 90) -> None:
        self.repo = repo
        self.now = now
        self.window_days = window_days
        self.since = now - window_days * DAY
        self._texts: dict[str, str] = {}

    @property
    def tip(self) -> str | None:
        """The assessed commit: trunk tip, else HEAD; None when there are no commits."""
        return self.repo.tip

    @cached_property
    def files(self) -> list[TreeFile]:
        """Files in the assessed tree."""
        return self.repo.files(self.tip) if self.tip else []

    @cached_property
    def source_files(self) -> list[TreeFile]:
        """Files outside vendored and build folders."""
        return [f for f in self.files if not VENDORED.search(f.path)]

    @cached_property
    def missing_files(self) -> list[TreeFile]:
        """Files of the tree whose content the clone lacks (partial or damaged clone)."""
        return [f for f in self.files if not f.present]

    @cached_property
    def missing_count(self) -> int:
        """How many objects of the assessed history the clone lacks; 0 for a whole clone."""
        return len(self.repo.missing_objects(self.tip)) if self.tip else 0

    def _missing(self, files: Iterable[TreeFile | str]) -> None:
        paths = sorted(f if isinstance(f, str) else f.path for f in files)
        if paths:
            more = f" and {len(paths) - 3} more" if len(paths) > 3 else ""
            raise MissingObjects(max(self.missing_count, len(paths)), f"{', '.join(paths[:3])}{more}")

    def matching(self, pattern: str | re.Pattern) -> list[TreeFile]:
        """Non-vendored files whose path matches a regex."""
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        return [f for f in self.source_files if rx.search(f.path)]

    def read(self, paths: Iterable[str]) -> dict[str, str]:
        """Texts of files in the tree (cached; big files skipped)."""
        paths = list(paths)
        wanted = [p for p in dict.fromkeys(paths) if p not in self._texts]
        self._missing(set(wanted) & {f.path for f in self.missing_files})
        if wanted and self.tip:
            got = self.repo.read(self.tip, wanted)
            for p in wanted:
                self._texts[p] = got.get(p, "")
        return {p: self._texts[p] for p in paths if self._texts.get(p)}

    def read_one(self, path: str) -> str:
        """The text of one file in the tree; "" when it is absent or too big."""
        return self.read([path]).get(path, "")

    def grep(
        self, patterns: list[str], specs: list[str] | None = None, *, ignore_case: bool = False, tests: bool = True
    ) -> list[tuple[str, int, str]]:
        """Matching lines in the tree's text files, vendored folders excluded (and tests, unless tests=True)."""
        if not self.tip:
            return []
        self._missing(
            f for f in self.missing_files if not VENDORED.search(f.path) and (tests or not is_test_path(f.path))
        )
        hits = self.repo.grep(self.tip, patterns, specs or ["."] + EXCLUDE_SPECS, ignore_case=ignore_case)
        return [h for h in hits if tests or not is_test_path(h[0])]

    @cached_property
    def manifests(self) -> str:
        """Dependency manifests joined, lower-cased: what libraries the project declares."""
        texts = self.read(f.path for f in self.matching(MANIFEST))
        return "\n".join(texts.values()).lower()

    @cached_property
    def ci_configs(self) -> list[ci.CIConfig]:
        """Every CI file in the tree, parsed, with the repository's own scripts, Make targets and templates it runs."""
        paths = [f.path for f in self.source_files if ci.provider_of(f.path)]
        texts = self.read(paths)
        parsed = (ci.parse_ci(p, texts.get(p, ""), self.read_one) for p in paths)
        return [c for c in parsed if c is not None]

    @cached_property
    def deploy_texts(self) -> dict[str, str]:
        """CI files and deploy scripts or manifests, by path."""
        rx = re.compile(
            r"(^|/)(k8s|kubernetes|deploy|deployment|manifests|helm|charts|infra|terraform|ops)/[^/]*\.(ya?ml|json|tf|hcl|toml|sh)$"
            r"|(^|/)(fabfile\.py|deploy[^/]*\.(sh|py|rb|ya?ml)|fly\.toml|app\.ya?ml|skaffold\.ya?ml|Makefile|justfile|ladder\.ya?ml)$"
        )
        paths = [f.path for f in self.source_files if rx.search(f.path)] + [c.path for c in self.ci_configs]
        return self.read(paths)

    @cached_property
    def history(self) -> HistoryStats:
        """One streamed `git log --numstat` pass over the assessed history."""
        if not self.tip:
            return HistoryStats(since=self.since)
        try:
            return parse_log(self.repo.stream(*log_args(self.tip, until=self.now)), self.since)
        except GitError:
            # `log --numstat` dies on the first blob a partial or damaged clone lacks.
            if self.missing_count:
                raise MissingObjects(self.missing_count, "the history's changes") from None
            raise

    @cached_property
    def shallow(self) -> bool:
        """True for a shallow clone."""
        return self.repo.shallow

    def history_note(self) -> dict:
        """Evidence fields every history-based check carries."""
        note: dict[str, Any] = {"shallow_clone": self.shallow}
        if self.repo.trunk is None:
            note["history_of"] = "HEAD (no main or master branch)"
        else:
            note["history_of"] = self.repo.trunk.short
        return note


def sample_paths(files: Iterable[TreeFile]) -> list[str]:
    """The first few paths of some files, sorted: what a check shows as its evidence."""
    return sorted(f.path for f in files)[:SAMPLES]


def days(seconds: float) -> float:
    """Seconds as days, to one decimal."""
    return round(seconds / DAY, 1)


def describe_repo(repo: str | Path | GitRepo) -> dict:
    """Facts about the clone itself for the report: trunk, HEAD, shallow, empty; its root commit and remote say which."""
    r = repo if isinstance(repo, GitRepo) else open_repo(repo)
    return {
        "path": r.path.name,
        "trunk": r.trunk.short if r.trunk else None,
        "head": r.head,
        "detached_head": r.detached,
        "shallow": r.shallow,
        "empty": r.head is None,
        "bare": r.bare,
        "root": r.root,
        "remote": r.origin,
        "missing_objects": missing_objects(r),
    }


def missing_objects(repo: GitRepo) -> int:
    """Objects of the assessed history a partial or damaged clone lacks; 0 when the tree is whole and not partial."""
    tip = repo.tip
    if tip is None or not (repo.partial or any(not f.present for f in repo.files(tip))):
        return 0
    return len(repo.missing_objects(tip))


def same_repository(a: dict | None, b: dict | None) -> bool:
    """Whether two descriptions (describe_repo's) name one repository: the same root commit and, where both have one, remote.

    A folder's name says nothing (every sandbox clone is "app"); it decides only for an empty repository
    or an assessment saved before roots were recorded.
    """
    a, b = a or {}, b or {}
    if a.get("root") and b.get("root"):
        remotes = a.get("remote"), b.get("remote")
        return a["root"] == b["root"] and (None in remotes or remotes[0] == remotes[1])
    return a.get("path") == b.get("path")
