"""What the repository checks read from a plain git clone: RepoFacts, each piece fetched once, when asked for."""

from __future__ import annotations

import re
from collections.abc import Iterable
from fnmatch import fnmatch
from functools import cached_property
from pathlib import Path
from typing import Any

from ..app import routes
from ..app.git import GitRepo, TreeFile, open_repo
from ..app.history import HistoryStats, is_artifact, is_test_path, log_args, log_args_without_blobs, parse_log
from ..core.errors import GitError, MissingObjects
from . import ci

DAY = 86400
SAMPLES = 20
# A damaged clone missing blobs of at most this many paths still gets line counts for all other paths.
MAX_UNCOUNTED_PATHS = 100


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
BINARY_SUFFIXES = (
    *(f".{s}" for s in "png jpg jpeg gif bmp ico webp tif tiff psd ai eps sketch xcf svgz heic avif".split()),
    *(f".{s}" for s in "woff woff2 ttf otf eot pdf mp3 mp4 wav ogg webm mov avi flac mkv".split()),
    *(f".{s}" for s in "har parquet npy npz pkl pickle h5 onnx pt".split()),
)
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
        # Text files the running check wanted but the clone lacks; whoever runs the checks clears it between them.
        self.unread: set[str] = set()

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
    def missing_ids(self) -> frozenset[str]:
        """Ids of the objects of the assessed history the clone lacks; empty for a whole clone."""
        return frozenset(self.repo.missing_objects(self.tip)) if self.tip else frozenset()

    @property
    def missing_count(self) -> int:
        """How many objects of the assessed history the clone lacks; 0 for a whole clone."""
        return len(self.missing_ids)

    def _skip(self, paths: Iterable[str]) -> None:
        """Note files a check went without; a binary file (image, archive, font) says nothing to a text check."""
        self.unread.update(p for p in paths if not is_binary_path(p))

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
        """Texts of files in the tree (cached; big files skipped).

        Files the clone lacks are skipped and noted in unread; MissingObjects when it lacks every one asked for.
        """
        paths = list(paths)
        gone = set(paths) & {f.path for f in self.missing_files}
        if gone and gone == set(paths):
            self._missing(gone)
        self._skip(gone)
        wanted = [p for p in dict.fromkeys(paths) if p not in self._texts and p not in gone]
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
        specs = specs or ["."] + EXCLUDE_SPECS
        if self.missing_files:
            scope = [
                f
                for f in self.source_files
                if not is_binary_path(f.path) and (tests or not is_test_path(f.path)) and in_pathspecs(f.path, specs)
            ]
            gone = [f.path for f in scope if not f.present]
            if gone and len(gone) == len(scope):  # not one file to search: nothing can be concluded
                self._missing(gone)
            self._skip(gone)
        hits = self.repo.grep(self.tip, patterns, specs, ignore_case=ignore_case)
        return [h for h in hits if tests or not is_test_path(h[0])]

    # Properties, not cached: each check that uses them reads through read() (texts are cached) and so is told
    # which files the clone lacks.
    @property
    def manifests(self) -> str:
        """Dependency manifests joined, lower-cased: what libraries the project declares."""
        texts = self.read(f.path for f in self.matching(MANIFEST))
        return "\n".join(texts.values()).lower()

    @property
    def ci_configs(self) -> list[ci.CIConfig]:
        """Every CI file in the tree, parsed, with the repository's own scripts, Make targets and templates it runs."""
        paths, parsed = self._ci
        self.read(paths)
        return parsed

    @cached_property
    def _ci(self) -> tuple[list[str], list[ci.CIConfig]]:
        paths = [f.path for f in self.source_files if ci.provider_of(f.path)]
        texts = self.read(paths)
        parsed = (ci.parse_ci(p, texts.get(p, ""), self.read_one) for p in paths)
        return paths, [c for c in parsed if c is not None]

    @property
    def deploy_texts(self) -> dict[str, str]:
        """CI files and deploy scripts or manifests, by path."""
        rx = re.compile(
            r"(^|/)(k8s|kubernetes|deploy|deployment|manifests|helm|charts|infra|terraform|ops)/[^/]*\.(ya?ml|json|tf|hcl|toml|sh)$"
            r"|(^|/)(fabfile\.py|deploy[^/]*\.(sh|py|rb|ya?ml)|fly\.toml|app\.ya?ml|skaffold\.ya?ml|Makefile|justfile|ladder\.ya?ml)$"
        )
        paths = [f.path for f in self.source_files if rx.search(f.path)] + [c.path for c in self.ci_configs]
        return self.read(paths)

    def route_texts(self) -> dict[str, str]:
        """Texts of the source files that may declare routes; those the clone lacks are noted in unread."""
        if not self.tip:
            return {}
        self._skip(f.path for f in self.missing_files if routes.is_source(f.path))
        return routes.source_texts(self.repo, self.tip)

    @cached_property
    def history(self) -> HistoryStats:
        """One streamed `git log --numstat` pass over the assessed history."""
        if not self.tip:
            return HistoryStats(since=self.since)
        try:
            return parse_log(self.repo.stream(*log_args(self.tip, until=self.now)), self.since)
        except GitError:
            # `log --numstat` dies on the first blob a partial or damaged clone lacks.
            if not self.missing_count:
                raise
        return self._history_without_blobs(self.tip)

    def _history_without_blobs(self, tip: str) -> HistoryStats:
        """The history of a clone that lacks blobs: a --raw pass, then line counts around the few missing paths."""
        raw = parse_log(self.repo.stream(*log_args_without_blobs(tip, self.now)), self.since, self.missing_ids)
        if self.repo.partial or not raw.missing_paths or len(raw.missing_paths) > MAX_UNCOUNTED_PATHS:
            return raw  # blobs missing by design (or too many): commits and files are known, line counts are not
        skip = sorted(raw.missing_paths)
        try:
            counted = parse_log(self.repo.stream(*log_args_without_blobs(tip, self.now, skip)), self.since)
        except GitError:
            return raw
        # Commits, files and tests from the pass that saw every change; lines from the one around the missing paths.
        raw.sizes, raw.recent_sizes, raw.binary_changes = counted.sizes, counted.recent_sizes, counted.binary_changes
        raw.line_counts = bool(raw.sizes or not raw.changed) and bool(raw.recent_sizes or not raw.recent_changed)
        raw.uncounted_paths = skip
        return raw

    def line_counts(self) -> HistoryStats:
        """The history, for a check that needs its line counts: MissingObjects when the clone lacks the blobs."""
        h = self.history
        if not h.line_counts:
            raise MissingObjects(self.missing_count, "line counts (blobs missing; commits and files are still counted)")
        self._skip(h.uncounted_paths)
        return h

    def partial_note(self) -> dict[str, Any]:
        """Evidence for a check that went without some files (unread): how many, which; {} when none."""
        if not self.unread:
            return {}
        return {
            "partial": f"partial: {len(self.unread)} files unreadable (missing objects)",
            "unreadable": sorted(self.unread)[:5],
            "missing_objects": self.missing_count,
        }

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


def is_binary_path(path: str) -> bool:
    """True for an image, font, media file, archive or build output: nothing a text check reads."""
    return is_artifact(path) or path.lower().endswith(BINARY_SUFFIXES)


def in_pathspecs(path: str, specs: Iterable[str]) -> bool:
    """Whether git would pick path with these pathspecs (".", plain prefixes, :(glob) and :(exclude...) magic)."""
    picked = excluded = False
    for spec in specs:
        magic, _, pattern = spec[2:].partition(")") if spec.startswith(":(") else ("", "", spec)
        if "glob" in magic:
            hit = fnmatch(path, pattern) or (pattern.startswith("**/") and fnmatch(path, pattern[3:]))
        else:
            hit = pattern in ("", ".") or path == pattern or path.startswith(pattern.rstrip("/") + "/")
        if "exclude" in magic:
            excluded = excluded or hit
        else:
            picked = picked or hit
    return picked and not excluded


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
    """Objects of the assessed history a partial or damaged clone lacks.

    0 when the tree is whole, the clone not partial and no read found one missing: walking every object of a
    healthy history to be sure would cost as much as the assessment.
    """
    tip = repo.tip
    if tip is None or not (repo.partial or repo.found_missing or any(not f.present for f in repo.files(tip))):
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
