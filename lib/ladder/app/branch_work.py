"""What branches hold beyond the trunk: one streamed `git log` walk for every branch at once, split per branch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .git import GitRepo

CHERRY_PICK = "(cherry picked from commit "
# One record per commit: \x1e, id and parents, \x1f, committer time, \x1f, ref decorations, \x1f, message.
RECORD = "--format=%x1e%H %P%x1f%ct%x1f%D%x1f%B"


@dataclass(frozen=True)
class BranchWork:
    """What a branch holds beyond a base: its commits, the oldest one's time, tags on them, cherry-picked fixes."""

    commits: int = 0
    oldest: int | None = None
    tags: tuple[str, ...] = ()
    cherry_picks: int = 0


@dataclass(frozen=True)
class _Commit:
    parents: tuple[str, ...]
    when: int
    tags: tuple[str, ...]
    picks: int


class Beyond:
    """The commits that some refs reach and a base does not, from one walk: base's history is read once, not per branch."""

    def __init__(self, repo: GitRepo, base: str, revs: Sequence[str] = ("--branches", "--remotes")) -> None:
        self.commits = _walk(repo, base, revs)
        self._place = {commit: n for n, commit in enumerate(self.commits)}

    def holds(self, tip: str) -> bool:
        """Whether the commit tip is beyond the base: a branch there is not merged (`--no-merged`)."""
        return tip in self.commits

    def work(self, tip: str) -> BranchWork:
        """What tip (a commit id among the walked refs') holds beyond the base, as `git log base..tip` would show."""
        seen: set[str] = set()
        stack = [tip] if tip in self.commits else []
        while stack:
            commit = stack.pop()
            if commit not in seen:
                seen.add(commit)
                stack.extend(p for p in self.commits[commit].parents if p in self.commits)
        # The walk is newest first; keeping its order lists tags as a per-branch `git log` does.
        mine = [self.commits[c] for c in sorted(seen, key=self._place.__getitem__)]
        return BranchWork(
            len(mine),
            min((c.when for c in mine), default=None),
            tuple(t for c in mine for t in c.tags),
            sum(c.picks for c in mine),
        )


def _walk(repo: GitRepo, base: str, revs: Sequence[str]) -> dict[str, _Commit]:
    """Every commit reachable from revs and not from base, newest first (a dict keeps the order)."""
    walked: dict[str, _Commit] = {}
    fields: list[str] = []
    picks = 0

    def close() -> None:
        if fields:
            commit, *parents = fields[0].split()
            tags = tuple(r[len("tag: ") :] for r in fields[2].split(", ") if r.startswith("tag: "))
            walked[commit] = _Commit(tuple(parents), int(fields[1]), tags, picks)

    for raw in repo.stream("log", RECORD, *revs, f"^{base}", "--"):
        line = raw.decode(errors="replace")
        if line.startswith("\x1e"):
            close()
            *fields, line = (line[1:].split("\x1f", 3) + ["", "", ""])[:4]
            picks = 0
        if CHERRY_PICK in line:
            picks += 1
    close()
    return walked
