"""One streamed `git log --numstat` pass, folded into constant-size statistics."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from .bots import BOT, DEPENDENCY, DEPENDENCY_PATH, TRANSLATION, TRANSLATION_PATH, is_bot

# Record separator, committer time and parent hashes, then the author's name and email; numstat lines follow.
LOG_FORMAT = "%x1e%ct %P%x1f%an%x1f%ae"

TEST_PATH = re.compile(
    r"(^|/)(tests?|specs?|__tests__|testing)/"
    r"|(^|/)test_[^/]*\.py$|(^|/)conftest\.py$|_test\.(py|go|rb|js|ts)$"
    r"|\.(test|spec)\.[cm]?[jt]sx?$|_spec\.rb$|(^|/)[^/]*Tests?\.(java|kt|cs|php|swift)$"
)
TEST_PATH_BYTES = re.compile(TEST_PATH.pattern.encode())
# Folders that show how to use the project rather than being it: their recipes and routes are not the project's own.
# A folder named by a template expression ({{cookiecutter.project_slug}}, copier's {{ name }}) is a template
# for projects its users generate: its files are theirs, not the template repository's own.
SAMPLE_PATH = re.compile(r"(^|/)((examples?|samples?|docs?|docs_src|demos?|tutorials?)|[^/]*\{\{[^/]*\}\}[^/]*)/")

LOCKFILES = frozenset(
    {
        "package-lock.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "poetry.lock",
        "Pipfile.lock",
        "uv.lock",
        "Cargo.lock",
        "go.sum",
        "composer.lock",
        "Gemfile.lock",
        "pdm.lock",
        "npm-shrinkwrap.json",
    }
)
_LOCKFILES_BYTES = frozenset(n.encode() for n in LOCKFILES)

# Build outputs and archives: binaries that belong in an artifact store, not in git.
ARTIFACT_SUFFIXES = (
    ".whl",
    ".egg",
    ".jar",
    ".war",
    ".ear",
    ".exe",
    ".dll",
    ".so",
    ".dylib",
    ".o",
    ".a",
    ".pyc",
    ".pyo",
    ".class",
    ".zip",
    ".tar",
    ".tgz",
    ".tar.gz",
    ".gz",
    ".bz2",
    ".xz",
    ".7z",
    ".rar",
    ".deb",
    ".rpm",
    ".apk",
    ".dmg",
    ".iso",
    ".msi",
    ".bin",
    ".sqlite",
    ".sqlite3",
    ".db",
)
_ARTIFACT_SUFFIXES_BYTES = tuple(s.encode() for s in ARTIFACT_SUFFIXES)
SAMPLE_LIMIT = 20


def is_test_path(path: str) -> bool:
    """True for a file that holds tests, by the common naming conventions."""
    return TEST_PATH.search(path) is not None


def is_sample_path(path: str) -> bool:
    """True for a file in tests, examples, samples, demos, docs or a project template's folder: not the project itself."""
    return is_test_path(path) or SAMPLE_PATH.search(path) is not None


def is_artifact(path: str) -> bool:
    """True for a build output or archive, by its suffix."""
    return path.lower().endswith(ARTIFACT_SUFFIXES)


def log_args(rev: str, until: int | None = None) -> list[str]:
    """Arguments for the single log pass over rev's history (up to a time, when given)."""
    bound = [f"--until=@{until}"] if until is not None else []
    return ["log", "--no-renames", "--numstat", f"--format={LOG_FORMAT}", *bound, rev, "--"]


def log_args_without_blobs(rev: str, until: int | None = None, skip: Iterable[str] = ()) -> list[str]:
    """The log pass for a clone that lacks blobs: numstat around the paths in skip, or (no skip) --raw.

    --raw reads trees and commits only, so commits, files, tests and authors are all still seen; only
    line counts are lost. Numstat with pathspecs that exclude the paths whose blobs are missing keeps
    them for every other file.
    """
    bound = [f"--until=@{until}"] if until is not None else []
    excludes = [f":(exclude,literal){p}" for p in skip]
    diff = ["--numstat"] if excludes else ["--raw", "--no-abbrev"]
    return ["log", "--no-renames", *diff, f"--format={LOG_FORMAT}", *bound, rev, "--", ".", *excludes]


@dataclass
class HistoryStats:
    """What one pass over a history found; size is independent of the number of commits."""

    since: int
    commits: int = 0
    merges: int = 0
    first_time: int | None = None
    last_time: int | None = None
    changed: int = 0
    touched_tests: int = 0
    sizes: Counter = field(default_factory=Counter)
    recent_commits: int = 0
    recent_changed: int = 0
    recent_touched_tests: int = 0
    recent_sizes: Counter = field(default_factory=Counter)
    binary_changes: int = 0
    artifact_changes: int = 0
    artifact_samples: list[str] = field(default_factory=list)
    # Changes that are not people's code (bot, translation, dependency), by kind: not in changed or sizes.
    left_out: Counter = field(default_factory=Counter)
    recent_left_out: Counter = field(default_factory=Counter)
    # A clone missing blobs: False when no line was counted; the paths whose changes were left out of the counts.
    line_counts: bool = True
    uncounted_paths: list[str] = field(default_factory=list)
    # Paths of the changes whose blobs the clone lacks (seen by a --raw pass given their ids).
    missing_paths: set[str] = field(default_factory=set)

    def add(self, when: int, parents: int, size: int, files: int, tests: bool, kind: str | None = None) -> None:
        """Fold one commit into the totals; kind names why a change is not a person's code change."""
        if parents > 1:
            self.merges += 1
            return
        self.commits += 1
        self.first_time = when if self.first_time is None else min(self.first_time, when)
        self.last_time = when if self.last_time is None else max(self.last_time, when)
        recent = when >= self.since
        if recent:
            self.recent_commits += 1
        if files and kind is not None:
            self.left_out[kind] += 1
            if recent:
                self.recent_left_out[kind] += 1
        elif files:
            self.changed += 1
            self.sizes[size] += 1
            self.touched_tests += tests
            if recent:
                self.recent_changed += 1
                self.recent_sizes[size] += 1
                self.recent_touched_tests += tests


def median(counts: Counter) -> float | None:
    """Median of values stored as {value: how many times}."""
    total = sum(counts.values())
    if not total:
        return None
    lo_rank, hi_rank = (total - 1) // 2, total // 2
    seen = 0
    lo: float | None = None
    hi: float | None = None
    for value in sorted(counts):
        seen += counts[value]
        if lo is None and seen > lo_rank:
            lo = value
        if seen > hi_rank:
            hi = value
            break
    assert lo is not None and hi is not None  # hi_rank < total, so the loop found both
    return (lo + hi) / 2


def _kind(bot: bool, translations: bool, dependencies: bool) -> str | None:
    """Why a commit with changes is not a person's code change, or None when it is one."""
    return BOT if bot else TRANSLATION if translations else DEPENDENCY if dependencies else None


def parse_log(lines: Iterable[bytes], since: int, missing: AbstractSet[str] = frozenset()) -> HistoryStats:
    """Fold the output of `git log <log_args>` (or its --raw form) into HistoryStats, one line at a time.

    In a --raw pass, changes whose blob id is in missing have their paths noted in missing_paths.
    """
    stats = HistoryStats(since=since)
    when = parents = size = files = 0
    tests = bot = translations = dependencies = False
    open_commit = False
    test_search = TEST_PATH_BYTES.search
    translation_search, dependency_search = TRANSLATION_PATH.search, DEPENDENCY_PATH.search
    for line in lines:
        if line[:1] == b"\x1e":
            if open_commit:
                stats.add(when, parents, size, files, tests, _kind(bot, translations, dependencies))
            fields = line[1:].rstrip(b"\n").split(b"\x1f")
            head = fields[0].split()
            if not head:
                open_commit = False
                continue
            when, parents = int(head[0]), len(head) - 1
            author = [f.decode(errors="replace") for f in fields[1:3]] + ["", ""]
            bot = is_bot(author[0], author[1])
            size = files = 0
            tests = False
            translations = dependencies = True  # until a file says otherwise
            open_commit = True
            continue
        if not open_commit or line == b"\n":
            continue
        parts = line.rstrip(b"\n").split(b"\t", 2)
        if line[:1] == b":" and len(parts) == 2:  # --raw: ":mode mode old new status\tpath", no line counts
            stats.line_counts = False
            meta, path = parts
            if missing and not missing.isdisjoint(meta.decode().split()[2:4]):
                stats.missing_paths.add(path.decode(errors="replace"))
            added = deleted = b"-" if path.lower().endswith(_ARTIFACT_SUFFIXES_BYTES) else b"0"
        elif len(parts) != 3:
            continue
        else:
            added, deleted, path = parts
        files += 1
        if not tests and test_search(path):
            tests = True
        translations = translations and translation_search(path) is not None
        dependencies = dependencies and dependency_search(path) is not None
        if added == b"-":
            stats.binary_changes += 1
            if path.lower().endswith(_ARTIFACT_SUFFIXES_BYTES):
                stats.artifact_changes += 1
                if len(stats.artifact_samples) < SAMPLE_LIMIT:
                    name = path.decode(errors="replace")
                    if name not in stats.artifact_samples:
                        stats.artifact_samples.append(name)
            continue
        if path.rsplit(b"/", 1)[-1] in _LOCKFILES_BYTES:
            continue
        try:
            size += int(added) + int(deleted)
        except ValueError:
            continue
    if open_commit:
        stats.add(when, parents, size, files, tests, _kind(bot, translations, dependencies))
    return stats
