"""The commit of the team's repository nearest to a copied folder (most identical files), and the folder's diff
against it as a patch, made here from the folder's archive without touching the repository's index or objects."""

from __future__ import annotations

import os
import subprocess
import tarfile
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import GitError
from .adopt import CACHE_SUFFIXES, CACHES, KEPT_APART, FileInfo, kept_apart
from .git import GIT_ARGV

HISTORY = 500  # how many trunk commits are compared, newest first
TIMEOUT = 120


@dataclass(frozen=True)
class Match:
    """The nearest commit and how the folder differs from it, by path."""

    commit: str
    same: int
    changed: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


def compare(commit: str, tree: Mapping[str, str], files: Mapping[str, str]) -> Match:
    """How files ({path: blob}) differ from a commit's tree ({path: blob}); kept-apart paths are left out."""
    tree = {p: b for p, b in tree.items() if not kept_apart(p)}
    same = sum(1 for p, b in files.items() if tree.get(p) == b)
    changed = tuple(sorted(p for p, b in files.items() if p in tree and tree[p] != b))
    added = tuple(sorted(p for p in files if p not in tree))
    removed = tuple(sorted(p for p in tree if p not in files))
    return Match(commit, same, changed, added, removed)


def pick(files: Mapping[str, str], trees: Iterable[tuple[str, Mapping[str, str]]]) -> Match | None:
    """The commit sharing most identical files, then fewest differences, then the newest (trees come newest first);
    None when no commit shares a file."""
    best: Match | None = None
    for commit, tree in trees:
        m = compare(commit, tree, files)
        score = (m.same, -(len(m.changed) + len(m.added) + len(m.removed)))
        if m.same and (best is None or score > (best.same, -(len(best.changed) + len(best.added) + len(best.removed)))):
            best = m
    return best


def _git(repo: Path, *args: str, env: Mapping[str, str] | None = None) -> bytes:
    done = subprocess.run(
        [*GIT_ARGV, *args], cwd=repo, env={**os.environ, "LC_ALL": "C", **(env or {})}, capture_output=True,
        timeout=TIMEOUT,
    )  # fmt: skip
    if done.returncode:
        raise GitError(args, done.returncode, done.stderr.decode(errors="replace"))
    return done.stdout


def parse_ls_tree(output: str) -> dict[str, str]:
    """Parse `git ls-tree -r -z` into {path: blob} (submodules left out)."""
    out = {}
    for record in output.split("\0"):
        head, _, path = record.partition("\t")
        parts = head.split()
        if len(parts) == 3 and parts[1] == "blob":
            out[path] = parts[2]
    return out


def trees(repo: Path, ref: str, limit: int = HISTORY) -> list[tuple[str, dict[str, str]]]:
    """The last limit commits of ref (first parents, newest first) with their trees; one ls-tree per distinct tree."""
    log = _git(repo, "log", "--first-parent", f"--max-count={limit}", "--format=%H %T", ref, "--").decode().split()
    cache: dict[str, dict[str, str]] = {}
    out = []
    for commit, tree in zip(log[::2], log[1::2], strict=True):
        if tree not in cache:
            cache[tree] = parse_ls_tree(_git(repo, "ls-tree", "-r", "-z", "--full-tree", tree).decode())
        out.append((commit, cache[tree]))
    return out


def nearest(repo: Path, ref: str, files: Sequence[FileInfo], limit: int = HISTORY) -> Match | None:
    """The commit of ref's last limit commits nearest to the folder's files, or None when none shares a file."""
    return pick({f.path: f.blob for f in files}, trees(repo, ref, limit))


def _extract(archive: Path, into: Path) -> Path:
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    [top] = [p for p in into.iterdir()]
    return top


def _names(output: bytes) -> tuple[tuple[str, ...], tuple[str, ...]]:
    modified: list[str] = []
    added: list[str] = []
    parts = output.decode().split("\0")
    for status, path in zip(parts[::2], parts[1::2], strict=False):
        (added if status == "A" else modified).append(path)
    return tuple(modified), tuple(added)


def diff(repo: Path, commit: str, archive: Path) -> tuple[bytes, tuple[str, ...], tuple[str, ...]]:
    """The archived folder against commit: (binary patch, modified or removed paths, added paths).

    The folder's .gitignore rules apply, as they will once it is a checkout; kept-apart paths are left out.
    A temporary index and object folder are used, so the repository is only read.
    """
    git_dir = _git(repo, "rev-parse", "--absolute-git-dir").decode().strip()
    with tempfile.TemporaryDirectory(prefix="ladder-nearest-") as tmp:
        work = _extract(archive, Path(tmp) / "tree")
        objects = Path(tmp) / "objects"
        objects.mkdir()
        env = {
            "GIT_DIR": git_dir,
            "GIT_WORK_TREE": str(work),
            "GIT_INDEX_FILE": str(Path(tmp) / "index"),
            "GIT_OBJECT_DIRECTORY": str(objects),
            "GIT_ALTERNATE_OBJECT_DIRECTORIES": os.path.join(git_dir, "objects"),
        }
        apart = [f":(exclude,top){name}" for name in KEPT_APART]
        apart += [f":(exclude,glob)**/{name}/**" for name in CACHES] + [
            f":(exclude,glob)**/*{s}" for s in CACHE_SUFFIXES
        ]
        _git(work, "read-tree", commit, env=env)
        _git(work, "add", "-A", "--", ".", *apart, env=env)
        patch = _git(work, "diff", "--cached", "--binary", "--full-index", "--no-ext-diff", commit, env=env)
        names = _git(work, "diff", "--cached", "--name-status", "-z", "--no-renames", commit, env=env)
    modified, added = _names(names)
    return patch, modified, added
