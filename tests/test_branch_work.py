"""ladder.app.branch_work: one walk for every branch gives what a `git log base..tip` per branch gives."""

from __future__ import annotations

import pytest

from gitrepo import DAY, NOW, GitRepo
from ladder.app.branch_work import Beyond, BranchWork
from ladder.app.git import open_repo

pytestmark = pytest.mark.local


@pytest.fixture
def repo(tmp_path) -> GitRepo:
    """A trunk with a merged branch, a stale and a fresh unmerged one, a branch off a branch, a tagged maintenance line."""
    made = GitRepo(tmp_path / "shop", branch="master")
    made.commit({"app.py": "v = 0\n"}, "first", days_ago=60)
    made.branch("feature/merged")
    made.commit({"merged.py": "x = 1\n"}, "merged work", days_ago=50)
    made.checkout("master")
    made.merge("feature/merged", days_ago=49)
    made.branch("wip/stale")
    made.commit({"stale.py": "x = 1\n"}, "stale 1", days_ago=40)
    made.commit({"stale.py": "x = 2\n"}, "stale 2", days_ago=39)
    made.branch("wip/stale-child")
    made.commit({"child.py": "x = 1\n"}, "on top of stale", days_ago=38)
    made.checkout("master")
    made.branch("release/1.x")
    made.commit({"app.py": "v = 1\n"}, "fix\n\n(cherry picked from commit 0123abc)", days_ago=20)
    made.tag("v1.0.1", days_ago=20)
    made.commit({"app.py": "v = 2\n"}, "fix 2\n\n(cherry picked from commit 4567def)", days_ago=10)
    made.tag("v1.0.2", annotated=False)
    made.checkout("master")
    made.commit({"app.py": "v = 3\n"}, "trunk moves on", days_ago=5)
    made.branch("feature/fresh")
    made.commit({"fresh.py": "x = 1\n"}, "fresh", days_ago=1)
    made.checkout("master")
    return made


def one_branch(repo: GitRepo, base: str, tip: str) -> BranchWork:
    """What plain per-branch git commands say a branch holds beyond base."""
    times = [int(t) for t in repo.git("log", "--format=%ct", f"{base}..{tip}").split()]
    decorations = repo.git("log", "--format=%D", f"{base}..{tip}").splitlines()
    tags = tuple(r[len("tag: ") :] for line in decorations for r in line.split(", ") if r.startswith("tag: "))
    body = repo.git("log", "--format=%B", f"{base}..{tip}")
    return BranchWork(len(times), min(times, default=None), tags, body.count("(cherry picked from commit "))


def test_one_walk_equals_a_log_per_branch_for_merged_unmerged_and_maintenance_branches(repo):
    git = open_repo(repo.path)
    trunk = git.trunk.commit
    beyond = Beyond(git, trunk)
    unmerged = repo.git("for-each-ref", f"--no-merged={trunk}", "--format=%(refname)", "refs/heads").split()
    assert sorted(b.name for b in git.branches if beyond.holds(b.commit)) == sorted(unmerged)
    assert len(unmerged) == 4  # stale, its child, release/1.x and fresh; the merged branch and master are not
    for b in git.branches:
        assert beyond.work(b.commit) == one_branch(repo, trunk, b.commit), b.name


def test_the_work_beyond_the_trunk_counts_commits_tags_and_cherry_picks(repo):
    git = open_repo(repo.path)
    stable = next(b for b in git.branches if b.short == "release/1.x")
    work = Beyond(git, git.trunk.commit).work(stable.commit)
    assert work.commits == 2 and work.cherry_picks == 2
    assert work.tags == ("v1.0.2", "v1.0.1")  # newest first, as git log lists them
    assert work.oldest == int(NOW - 20 * DAY)
    child = next(b for b in git.branches if b.short == "wip/stale-child")
    assert Beyond(git, git.trunk.commit).work(child.commit).commits == 3  # its own commit and the two below it
    assert Beyond(git, stable.commit).work(git.trunk.commit).commits == 1  # the one trunk commit after the fork
