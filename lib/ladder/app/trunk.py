"""A change committed to the team's trunk: in the repository itself when trunk is checked out there, else in a
temporary clone that is pushed back (fast-forward only, never forced)."""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import GitError, LadderError
from ..core.paths import inside
from .git import GIT_ARGV, open_repo

TIMEOUT = 120
# Used only when the repository and the user's git config name nobody, so a commit can still be made.
FALLBACK_IDENTITY = ("-c", "user.name=Ladder", "-c", "user.email=ladder@localhost")


@dataclass(frozen=True)
class Workspace:
    """A work tree with the team's trunk checked out: the repository itself, or a clone pushed back to origin."""

    path: Path
    trunk: str
    repo: str
    pushes: bool

    @property
    def where(self) -> str:
        """Where a commit lands, in words."""
        return f"{self.trunk} of {self.repo}" + (" (pushed from a temporary clone)" if self.pushes else "")


def git(cwd: Path, *args: str, input: bytes | None = None, ok_codes: tuple[int, ...] = (0,)) -> str:
    """Run one git command that may change the repository; stdout, or GitError naming the command."""
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", LC_ALL="C", LANG="C")
    try:
        done = subprocess.run([*GIT_ARGV, *args], cwd=cwd, env=env, input=input, capture_output=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        raise GitError(args, -1, f"killed after {TIMEOUT}s") from None
    if done.returncode not in ok_codes:
        raise GitError(args, done.returncode, done.stderr.decode(errors="replace"))
    return done.stdout.decode(errors="replace").strip()


def _is_url(repo: str) -> bool:
    return "://" in repo or (":" in repo.split("/", 1)[0] and not Path(repo).exists())


def _checked_out(path: Path) -> str:
    """The branch checked out in a work tree ('' when HEAD is detached)."""
    return git(path, "symbolic-ref", "-q", "--short", "HEAD", ok_codes=(0, 1))


@contextmanager
def workspace(repo: str | Path) -> Iterator[Workspace]:
    """The team's trunk to read and commit on: the repository when trunk is checked out there, else a clone."""
    spec = str(repo)
    branch = ""
    if not _is_url(spec):
        local = open_repo(spec)
        if local.trunk is None or not local.trunk.name.startswith("refs/heads/"):
            raise LadderError(
                f"{spec}: no local trunk branch (main, master or trunk); point app.repo in ladder.yml "
                "at the team's repository"
            )
        branch = local.trunk.short
        if not local.bare and _checked_out(local.path) == branch:
            yield Workspace(local.path, branch, spec, pushes=False)
            return
    with tempfile.TemporaryDirectory(prefix="ladder-trunk-") as tmp:
        clone = Path(tmp) / "repo"
        picked = ["--branch", branch] if branch else []
        git(Path(tmp), "clone", "--quiet", "--no-tags", "--single-branch", *picked, "--", spec, str(clone))
        yield Workspace(clone, branch or _checked_out(clone), spec, pushes=True)


def _identity(path: Path) -> tuple[str, ...]:
    named = git(path, "config", "--get", "user.email", ok_codes=(0, 1))
    return () if named else FALLBACK_IDENTITY


def commit(ws: Workspace, texts: Mapping[str, str], message: str, *, expected: str) -> str:
    """Write files on trunk and commit exactly them (then push, for a clone); the new commit's id.

    expected is the commit the texts were planned on: if trunk moved since, nothing is written.
    """
    files: Sequence[str] = sorted(texts)
    targets = {name: inside(ws.path, name, what="file name") for name in files}  # before git is asked anything
    head = git(ws.path, "rev-parse", "HEAD")
    if head != expected:
        raise LadderError(f"{ws.where}: trunk moved from {expected[:12]} to {head[:12]} since the plan; run again")
    dirty = git(ws.path, "diff", "--name-only", "HEAD", "--", *files)
    if dirty:
        raise LadderError(
            f"{ws.repo}: uncommitted edits to {', '.join(dirty.splitlines())}; "
            "commit or stash them there first, then run again"
        )
    tracked = set(git(ws.path, "ls-files", "-z", "--", *files).split("\0")) - {""}
    strays = [name for name in files if name not in tracked and targets[name].exists()]
    if strays:
        raise LadderError(
            f"{ws.repo}: untracked {', '.join(strays)} would be overwritten; move it away or commit it, then run again"
        )
    for name in files:
        targets[name].parent.mkdir(parents=True, exist_ok=True)  # a new file may be in a new folder (tests/)
        targets[name].write_bytes(texts[name].encode())
    new = [name for name in files if name not in tracked]
    if new:
        git(ws.path, "add", "--intent-to-add", "--", *new)  # so that `commit --only` may name them
    git(ws.path, *_identity(ws.path), "commit", "--quiet", "--file=-", "--only", "--", *files, input=message.encode())
    made = git(ws.path, "rev-parse", "HEAD")
    if ws.pushes:
        push(ws)
    return made


def push(ws: Workspace) -> None:
    """Push the work tree's HEAD to origin's trunk, as a fast-forward only; a refusal names git's reason."""
    try:
        git(ws.path, "push", "--quiet", "origin", f"HEAD:refs/heads/{ws.trunk}")
    except GitError as err:
        said = [line.strip() for line in err.stderr.splitlines() if line.strip() and not line.startswith("hint:")]
        why = next((line for line in said if "rejected" in line), said[-1] if said else "no reason given")
        raise LadderError(
            f"{ws.where}: the push was refused ({why}); nothing was forced. Run the step again to plan on the new trunk"
        ) from None


def commit_made(
    repo: str | Path, make: Callable[[Mapping[str, str], Path], dict[str, str]], message: str, *, dry_run: bool = True
) -> tuple[str, dict[str, str], str]:
    """Commit make(files at trunk's head, work tree) as one commit on trunk unless a dry run: (where, texts, commit)."""
    with workspace(repo) as ws:
        head = git(ws.path, "rev-parse", "HEAD")
        local = open_repo(ws.path)
        texts = make(local.read(head, [f.path for f in local.files(head)]), ws.path)
        made = commit(ws, texts, message, expected=head) if texts and not dry_run else ""
    return ws.where, texts, made
