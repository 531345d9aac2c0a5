"""The branches of the team's shared repository: facts, the clean-up plan, trial rebases, and the plan carried out.

Facts are read from a temporary bare clone; the plan is pure; carrying it out is one atomic push to the shared
repository per branch (archive tag and deletion together), never forced, so every tip stays reachable.
"""

from __future__ import annotations

import shlex
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..core import ops
from ..core.errors import GitError, LadderError, ParameterError
from .branch_kinds import set_aside_by_name, set_aside_by_work
from .branch_work import Beyond
from .git import open_repo
from .trunk import FALLBACK_IDENTITY, git

DAY = 86400
ARCHIVE = "refs/tags/archive/"
MERGED, STALE, MAINTENANCE, ACTIVE, KEPT = "merged", "stale", "maintenance", "active", "kept"
DELETE, ARCHIVE_DELETE, KEEP = "delete", "archive, then delete", "keep"


@dataclass(frozen=True)
class Branch:
    """One branch of the shared repository, measured against trunk."""

    name: str
    commit: str
    time: int  # committer time of its tip (unix seconds)
    author: str
    ahead: int
    behind: int
    set_aside: str = ""  # why it is not unfinished work (a release line, pages, a bot), else ""

    @property
    def merged(self) -> bool:
        """True when trunk holds every commit of the branch."""
        return self.ahead == 0

    def age_days(self, now: int) -> float:
        """Days since the tip's commit."""
        return round(max(0, now - self.time) / DAY, 1)


@dataclass(frozen=True)
class Facts:
    """The shared repository's trunk, its other branches, and the archive tags it already holds."""

    repo: str
    trunk: str
    trunk_commit: str
    branches: tuple[Branch, ...]
    archived: dict[str, str]  # archive tag name (without refs/tags/) -> commit
    now: int


@dataclass(frozen=True)
class Planned:
    """What happens to one branch, and why."""

    branch: Branch
    kind: str  # merged, stale, maintenance, active or kept
    action: str  # delete, archive then delete, or keep
    archive_tag: str = ""  # refs/tags/archive/<branch> for a stale branch
    rebase: str = ""  # "clean", the conflicting files, or "" when no trial was made


def check_parameters(max_age_days: float, keep: Sequence[str]) -> None:
    """Parameters alone: an age of 0 or more, branch names as text."""
    if not isinstance(max_age_days, int | float) or isinstance(max_age_days, bool) or max_age_days < 0:
        raise ParameterError(f"parameter 'max_branch_age_days': {max_age_days!r} is not 0 or more days; pass e.g. 2")
    if isinstance(keep, str) or not all(isinstance(k, str) for k in keep):
        raise ParameterError(
            f"parameter 'keep_branches': {keep!r} is not a list of branch names; pass e.g. ['release/1.x']"
        )


def check_keep(facts: Facts, keep: Sequence[str]) -> None:
    """Every branch to keep exists in the shared repository."""
    names = {b.name for b in facts.branches} | {facts.trunk}
    unknown = [k for k in keep if k not in names]
    if unknown:
        raise ParameterError(
            f"parameter 'keep_branches': no branch {unknown[0]!r} in {facts.repo}; "
            f"its branches are {', '.join(sorted(names))}"
        )


def classify(branch: Branch, now: int, max_age_days: float, keep: Sequence[str] = ()) -> str:
    """merged, maintenance, stale (unmerged, last commit older than max_age_days), active, or kept."""
    if branch.name in keep:
        return KEPT
    if branch.merged:
        return MERGED
    if branch.set_aside:
        return MAINTENANCE
    return STALE if now - branch.time > max_age_days * DAY else ACTIVE


def archive_tag(name: str, commit: str, archived: dict[str, str]) -> str:
    """archive/<branch>, or archive/<branch>-<commit> when that tag already holds another commit."""
    tag = f"archive/{name}"
    return tag if archived.get(tag, commit) == commit else f"{tag}-{commit[:12]}"


def plan(facts: Facts, max_age_days: float, keep: Sequence[str] = ()) -> list[Planned]:
    """What to do with each branch: merged and old -> delete; stale -> archive, then delete; others kept."""
    out = []
    for b in facts.branches:
        kind = classify(b, facts.now, max_age_days, keep)
        if kind == MERGED and facts.now - b.time > max_age_days * DAY:
            out.append(Planned(b, kind, DELETE))
        elif kind == STALE:
            out.append(Planned(b, kind, ARCHIVE_DELETE, archive_tag(b.name, b.commit, facts.archived)))
        else:
            out.append(Planned(b, kind, KEEP))
    return out


def rows(facts: Facts, planned: Sequence[Planned]) -> list[dict]:
    """The branch table: one row per branch, oldest first."""
    out = [
        {
            "branch": p.branch.name,
            "age (days)": p.branch.age_days(facts.now),
            "ahead": p.branch.ahead,
            "behind": p.branch.behind,
            "merged": p.branch.merged,
            "last author": p.branch.author,
            "kind": p.kind,
            "plan": p.action + (f" (tag {p.archive_tag})" if p.archive_tag else ""),
            "trial rebase": p.rebase,
        }
        for p in planned
    ]
    return sorted(out, key=lambda r: -r["age (days)"])


# --- facts ------------------------------------------------------------------------------------------------
@contextmanager
def mirror(repo: str | Path) -> Iterator[Path]:
    """A temporary bare clone of the shared repository with all its branches and tags (removed afterwards)."""
    with tempfile.TemporaryDirectory(prefix="ladder-branches-") as tmp:
        path = Path(tmp) / "repo.git"
        git(Path(tmp), "clone", "--quiet", "--bare", "--", str(repo), str(path))
        yield path


def read_facts(path: Path, repo: str, now: int) -> Facts:
    """The branches of a bare clone, measured against its trunk; LadderError when it has no trunk."""
    local = open_repo(path)
    trunk = local.trunk
    if trunk is None or not trunk.name.startswith("refs/heads/"):
        raise ParameterError(
            f"{repo}: no trunk branch (main, master or trunk, or the branch HEAD names); "
            "point app.repo in ladder.yml at the team's repository"
        )
    fmt = "%(refname:lstrip=2)%00%(objectname)%00%(committerdate:unix)%00%(authorname)"
    beyond = Beyond(local, trunk.commit, ("--branches",))
    found = []
    for line in git(path, "for-each-ref", f"--format={fmt}", "refs/heads").splitlines():
        name, commit, when, author = line.split("\0")
        if name == trunk.short:
            continue
        behind, ahead = git(path, "rev-list", "--left-right", "--count", f"{trunk.commit}...{commit}").split()
        why = set_aside_by_name(name)
        if why is None and int(ahead):
            why = set_aside_by_work(beyond.work(commit))
        found.append(Branch(name, commit, int(when), author, int(ahead), int(behind), why[0] if why else ""))
    tags = git(path, "for-each-ref", "--format=%(refname:lstrip=2)%00%(objectname)", ARCHIVE).splitlines()
    archived = dict(line.split("\0") for line in tags)
    return Facts(repo, trunk.short, trunk.commit, tuple(found), archived, now)


def trial_rebase(path: Path, branch: Branch, onto: str) -> str:
    """Rebase a copy of the branch onto trunk in a scratch worktree: 'clean' or the conflicting files."""
    with tempfile.TemporaryDirectory(prefix="ladder-rebase-") as tmp:
        work = Path(tmp) / "work"
        git(path, "worktree", "add", "--quiet", "--detach", str(work), branch.commit)
        try:
            try:
                git(work, *FALLBACK_IDENTITY, "rebase", "--quiet", onto)
                return "clean"
            except GitError:
                files = git(work, "diff", "--name-only", "--diff-filter=U").split()
                git(work, "rebase", "--abort", ok_codes=(0, 1, 128))
                return "conflicts: " + (", ".join(files) if files else "(rebase failed)")
        finally:
            git(path, "worktree", "remove", "--force", str(work), ok_codes=(0, 128))


def with_trials(path: Path, facts: Facts, planned: Sequence[Planned]) -> list[Planned]:
    """The plan with a trial rebase result for every unmerged branch."""
    out = []
    for p in planned:
        trial = trial_rebase(path, p.branch, facts.trunk_commit) if not p.branch.merged else ""
        out.append(Planned(p.branch, p.kind, p.action, p.archive_tag, trial))
    return out


def unreachable(repo: Path, commits: Sequence[str]) -> list[str]:
    """The commits no branch or tag of a local repository reaches (an empty list: nothing was lost)."""
    return [
        c for c in commits if not git(repo, "for-each-ref", f"--contains={c}", "--count=1", "refs/heads", "refs/tags")
    ]


# --- operations -------------------------------------------------------------------------------------------
def push_refspecs(p: Planned) -> list[str]:
    """The refspecs for one branch: its archive tag (when stale), then its deletion; pushed atomically together."""
    tag = [f"{p.branch.commit}:refs/tags/{p.archive_tag}"] if p.archive_tag else []
    return [*tag, f":refs/heads/{p.branch.name}"]


def _still_at(path: Path, repo: str, p: Planned) -> None:
    """The branch still points where the plan saw it; else nothing is pushed (its new commits stay)."""
    now = git(path, "ls-remote", "--heads", "--", repo, f"refs/heads/{p.branch.name}").split("\t")[0]
    if now != p.branch.commit:
        raise LadderError(
            f"{repo}: branch {p.branch.name!r} moved from {p.branch.commit[:12]} to {now[:12] or 'nowhere'} "
            "since the plan; nothing was pushed for it. Run again"
        )


def apply(path: Path, repo: str, planned: Sequence[Planned], *, dry_run: bool = True) -> list[ops.Change]:
    """Archive and delete what the plan says, in the shared repository; one Change per branch, never forced."""
    changes = []
    for p in planned:
        if p.action == KEEP:
            continue
        argv = ["push", "--quiet", "--atomic", "--", repo, *push_refspecs(p)]
        done = f"archived as {p.archive_tag}, then deleted" if p.archive_tag else "deleted (trunk holds every commit)"
        if not dry_run:
            _still_at(path, repo, p)
            git(path, *argv)
        changes.append(
            ops.Change(
                "repo",
                "branches",
                p.branch.name,
                (shlex.join(["git", *argv]),),
                True,
                not dry_run,
                reason=f"{p.kind}: {done}",
            )
        )
    return changes
