"""ladder.app.git: read-only access to a real repository: refs, trunk, files, grep, and what is not a repository."""

from __future__ import annotations

import pytest

from gitrepo import DAY, NOW, GitRepo
from ladder.app.git import open_repo, without_credentials
from ladder.core.errors import GitError, NotARepository

pytestmark = pytest.mark.local


@pytest.fixture
def repo(tmp_path) -> GitRepo:
    made = GitRepo(tmp_path / "shop", branch="master")
    made.commit({"app.py": "print('hello')\n", "README.md": "# shop\n"}, "first", days_ago=3)
    made.commit({"app.py": "print('hello, world')\n"}, "second", days_ago=1)
    return made


def test_the_trunk_the_branches_and_the_tags_are_read(repo):
    repo.git("branch", "feature")
    repo.git("tag", "-a", "v1.0", "-m", "release")
    git = open_repo(repo.path)
    assert git.trunk is not None and git.trunk.name == "refs/heads/master"
    assert {r.name for r in git.branches} == {"refs/heads/master", "refs/heads/feature"}
    [tag] = git.tags
    assert tag.name == "refs/tags/v1.0" and tag.commit == git.head  # an annotated tag is peeled to its commit
    assert not git.empty and not git.shallow and not git.detached


def test_files_are_listed_read_and_grepped_at_a_commit(repo):
    git = open_repo(repo.path)
    assert {f.path for f in git.files(git.tip)} == {"app.py", "README.md"}
    assert git.read(git.tip, ["app.py", "missing.py"]) == {"app.py": "print('hello, world')\n"}
    assert git.grep(git.tip, ["hello"]) == [("app.py", 1, "print('hello, world')")]


def test_commit_times_stream_newest_first_and_honour_since(repo):
    git = open_repo(repo.path)
    times = list(git.commit_times(git.tip))
    assert len(times) == 2 and times[0] > times[1]
    assert list(git.commit_times(git.tip, since=int(NOW - 2 * DAY))) == times[:1]


def test_what_is_not_a_repository_is_refused_with_the_fix(repo, tmp_path):
    with pytest.raises(NotARepository, match="no such folder"):
        open_repo(tmp_path / "nowhere")
    (tmp_path / "plain").mkdir()
    with pytest.raises(NotARepository, match="no .git here"):
        open_repo(tmp_path / "plain")
    (repo.path / "sub").mkdir()
    with pytest.raises(NotARepository, match="pass .* instead") as err:
        open_repo(repo.path / "sub")
    assert err.value.path.endswith("sub")


def test_a_failing_git_command_carries_its_exit_and_stderr(repo):
    git = open_repo(repo.path)
    with pytest.raises(GitError) as err:
        git.text("rev-parse", "--verify", "no-such-ref")
    assert err.value.exited != 0 and err.value.stderr


def test_the_root_commit_and_the_origin_say_which_repository_this_is(repo, tmp_path):
    git = open_repo(repo.path)
    first = repo.git("rev-list", "--max-parents=0", "HEAD")
    assert git.root == first and git.origin is None
    repo.git("remote", "add", "origin", "https://deploy:s3cr3t-token@git.example/shop.git")
    assert open_repo(repo.path).origin == "https://git.example/shop.git"  # no user or password kept
    assert without_credentials("git@git.example:shop.git") == "git@git.example:shop.git"


def test_a_bare_mirror_s_trunk_is_its_head_branch_whatever_its_name(tmp_path):
    made = GitRepo(tmp_path / "tool", branch="devel")
    made.commit({"tool.py": "x = 1\n"}, "first", days_ago=2)
    made.git("branch", "stable-2.17")
    made.git("branch", "master")  # an old, frozen master: the default branch is devel
    mirror = tmp_path / "tool.git"
    made.git("clone", "-q", "--mirror", str(made.path), str(mirror))
    git = open_repo(mirror)
    assert git.bare and git.trunk is not None and git.trunk.name == "refs/heads/devel"
