"""ladder.app.trunk: a commit on the team's trunk with real git: in place, or from a clone pushed without force."""

from __future__ import annotations

import pytest

from gitrepo import GitRepo, git
from ladder.app import trunk
from ladder.core.errors import LadderError, PathOutside

pytestmark = pytest.mark.local


@pytest.fixture
def team(tmp_path) -> GitRepo:
    repo = GitRepo(tmp_path / "team", branch="master")
    repo.commit({"app.py": "A = 1\n", "README.md": "# app\n"}, "start")
    return repo


def test_in_place_when_trunk_is_checked_out(team):
    head = team.git("rev-parse", "HEAD")
    (team.path / "README.md").write_text("# app, edited\n")  # someone's unrelated edit stays theirs
    with trunk.workspace(team.path) as ws:
        assert (ws.path, ws.trunk, ws.pushes) == (team.path, "master", False)
        made = trunk.commit(ws, {"app.py": "A = 2\n"}, "Change A\n\nBecause.\n", expected=head)
    assert team.git("rev-parse", "master") == made and team.git("rev-parse", "master^") == head
    assert team.git("show", "--format=%B", "-s", made) == "Change A\n\nBecause."
    assert team.git("show", "--name-only", "--format=", made) == "app.py"
    assert team.git("status", "--porcelain") == "M README.md"


def test_an_uncommitted_edit_of_the_same_file_is_refused(team):
    head = team.git("rev-parse", "HEAD")
    (team.path / "app.py").write_text("A = 'mine'\n")
    with trunk.workspace(team.path) as ws, pytest.raises(LadderError, match="uncommitted edits to app.py"):
        trunk.commit(ws, {"app.py": "A = 2\n"}, "Change A", expected=head)
    assert team.git("rev-parse", "HEAD") == head and (team.path / "app.py").read_text() == "A = 'mine'\n"


def test_a_plan_made_on_an_older_trunk_is_refused(team):
    head = team.git("rev-parse", "HEAD")
    team.commit({"app.py": "A = 3\n"}, "someone else")
    with trunk.workspace(team.path) as ws, pytest.raises(LadderError, match="trunk moved"):
        trunk.commit(ws, {"app.py": "A = 2\n"}, "Change A", expected=head)


def test_a_bare_origin_gets_a_pushed_commit(team, tmp_path):
    origin = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(team.path), str(origin))
    head = git(origin, "rev-parse", "master")
    with trunk.workspace(origin) as ws:
        assert ws.pushes and ws.path != origin and ws.trunk == "master"
        made = trunk.commit(ws, {"app.py": "A = 2\n"}, "Change A", expected=head)
        clone = ws.path
    assert git(origin, "rev-parse", "master") == made and git(origin, "show", "master:app.py") == "A = 2"
    assert not clone.exists()  # the temporary clone is gone


def test_a_push_that_is_not_a_fast_forward_is_refused_not_forced(team, tmp_path):
    origin = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(team.path), str(origin))
    head = git(origin, "rev-parse", "master")
    with trunk.workspace(origin) as ws:
        other = tmp_path / "other"
        git(tmp_path, "clone", "-q", str(origin), str(other))
        (other / "app.py").write_text("A = 'theirs'\n")
        git(other, "commit", "-q", "-am", "theirs")
        git(other, "push", "-q", "origin", "master")
        theirs = git(origin, "rev-parse", "master")
        with pytest.raises(LadderError, match=r"the push was refused \(! \[rejected\].*\); nothing was forced"):
            trunk.commit(ws, {"app.py": "A = 2\n"}, "Change A", expected=head)
    assert git(origin, "rev-parse", "master") == theirs


def test_a_repo_with_another_branch_checked_out_is_committed_to_from_a_clone(team):
    team.branch("feature")
    head = team.git("rev-parse", "master")
    with trunk.workspace(team.path) as ws:
        assert ws.pushes and ws.trunk == "master"
        made = trunk.commit(ws, {"app.py": "A = 2\n"}, "Change A", expected=head)
    assert team.git("rev-parse", "master") == made and team.git("rev-parse", "--abbrev-ref", "HEAD") == "feature"


def test_a_file_name_that_leads_out_of_the_work_tree_is_refused(team, tmp_path):
    head = team.git("rev-parse", "HEAD")
    with trunk.workspace(team.path) as ws, pytest.raises(PathOutside, match="file name"):
        trunk.commit(ws, {"../outside.txt": "x\n"}, "Escape", expected=head)
    assert not (tmp_path / "outside.txt").exists() and team.git("rev-parse", "HEAD") == head


def test_new_files_in_new_folders_are_committed_and_an_untracked_one_is_never_overwritten(team):
    head = team.git("rev-parse", "HEAD")
    with trunk.workspace(team.path) as ws:
        made = trunk.commit(ws, {"tests/test_app.py": "def test_a():\n    pass\n"}, "Add a test", expected=head)
    assert team.git("show", "--name-only", "--format=", made) == "tests/test_app.py"
    assert team.git("status", "--porcelain") == ""
    (team.path / "notes.txt").write_text("mine\n")
    with trunk.workspace(team.path) as ws, pytest.raises(LadderError, match="untracked notes.txt would be overwritten"):
        trunk.commit(ws, {"notes.txt": "theirs\n"}, "Add notes", expected=made)
    assert (team.path / "notes.txt").read_text() == "mine\n" and team.git("rev-parse", "HEAD") == made
