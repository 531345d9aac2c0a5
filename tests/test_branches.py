"""ladder.app.branches on small real repositories: classification, the plan, trial rebases, nothing lost."""

from __future__ import annotations

import pytest

from gitrepo import NOW, GitRepo, git
from ladder.app import branches
from ladder.core.errors import ParameterError

pytestmark = pytest.mark.local


@pytest.fixture
def team(tmp_path):
    """A shared bare repository with main and one branch of each kind, pushed from a clone."""
    work = GitRepo(tmp_path / "work")
    work.commit({"app.py": "a = 1\n"}, "start", days_ago=60)
    work.branch("feature/old-merged")
    work.commit({"merged.py": "m = 1\n"}, "merged work", days_ago=40)
    work.checkout("main")
    work.merge("feature/old-merged", days_ago=39)
    work.branch("feature/stale")
    work.commit({"app.py": "a = 2\n"}, "stale work", days_ago=30)
    work.checkout("main")
    work.branch("release/1.x")
    work.commit({"fix.py": "f = 1\n"}, "fix", days_ago=20)
    work.tag("v1.0.1", days_ago=20)
    work.checkout("main")
    work.commit({"app.py": "a = 3\n"}, "trunk moves on", days_ago=10)
    work.branch("feature/fresh")
    work.commit({"fresh.py": "x = 1\n"}, "fresh work", days_ago=0.5)
    work.checkout("main")
    bare = tmp_path / "shared.git"
    git(tmp_path, "clone", "-q", "--bare", str(work.path), str(bare))
    return bare


def facts_of(bare):
    with branches.mirror(bare) as path:
        return branches.read_facts(path, str(bare), NOW)


def test_facts_measure_each_branch_against_trunk(team):
    facts = facts_of(team)
    by = {b.name: b for b in facts.branches}
    assert facts.trunk == "main" and set(by) == {"feature/old-merged", "feature/stale", "release/1.x", "feature/fresh"}
    assert by["feature/old-merged"].merged and by["feature/old-merged"].behind == 2
    assert (by["feature/stale"].ahead, by["feature/stale"].behind) == (1, 1)
    assert by["release/1.x"].set_aside == "release line"
    assert by["feature/fresh"].author == "Dev" and by["feature/fresh"].age_days(NOW) == 0.5


def test_classification_and_plan(team):
    facts = facts_of(team)
    planned = {p.branch.name: p for p in branches.plan(facts, 2)}
    assert {n: (p.kind, p.action) for n, p in planned.items()} == {
        "feature/old-merged": ("merged", "delete"),
        "feature/stale": ("stale", "archive, then delete"),
        "release/1.x": ("maintenance", "keep"),
        "feature/fresh": ("active", "keep"),
    }
    assert planned["feature/stale"].archive_tag == "archive/feature/stale"
    kept = {p.branch.name: p.kind for p in branches.plan(facts, 2, keep=["feature/stale"])}
    assert kept["feature/stale"] == "kept"
    assert {p.branch.name: p.kind for p in branches.plan(facts, 45)}["feature/stale"] == "active"


def test_trial_rebase_shows_clean_or_the_conflicting_files(team):
    facts = facts_of(team)
    with branches.mirror(team) as path:
        tried = {p.branch.name: p.rebase for p in branches.with_trials(path, facts, branches.plan(facts, 2))}
        assert git(path, "worktree", "list").count("\n") == 0  # the scratch worktrees are gone
    assert tried == {
        "feature/old-merged": "",
        "feature/stale": "conflicts: app.py",
        "release/1.x": "clean",
        "feature/fresh": "clean",
    }


def test_apply_archives_and_deletes_and_loses_nothing(team):
    before = dict(line.split()[::-1] for line in git(team, "show-ref").splitlines())
    facts = facts_of(team)
    planned = branches.plan(facts, 2)
    with branches.mirror(team) as path:
        dry = branches.apply(path, str(team), planned, dry_run=True)
    assert [c.outcome for c in dry] == ["planned", "planned"]
    assert dict(line.split()[::-1] for line in git(team, "show-ref").splitlines()) == before

    with branches.mirror(team) as path:
        done = branches.apply(path, str(team), planned, dry_run=False)
    assert [c.outcome for c in done] == ["changed", "changed"]
    refs = git(team, "for-each-ref", "--format=%(refname)").split()
    assert "refs/heads/feature/stale" not in refs and "refs/heads/feature/old-merged" not in refs
    assert git(team, "rev-parse", "refs/tags/archive/feature/stale") == before["refs/heads/feature/stale"]
    assert branches.unreachable(team, list(before.values())) == []

    again = facts_of(team)
    assert branches.apply(team, str(team), branches.plan(again, 2), dry_run=True) == []


def test_an_archive_tag_already_taken_gets_the_commit_in_its_name():
    assert branches.archive_tag("x", "a" * 40, {"archive/x": "a" * 40}) == "archive/x"
    assert branches.archive_tag("x", "b" * 40, {"archive/x": "a" * 40}) == "archive/x-" + "b" * 12


def test_bad_input_is_refused(team, tmp_path):
    facts = facts_of(team)
    with pytest.raises(ParameterError, match="keep_branches.*no branch 'nope'"):
        branches.check_keep(facts, ["nope"])
    with pytest.raises(ParameterError, match="max_branch_age_days"):
        branches.check_parameters(-1, [])
    lone = GitRepo(tmp_path / "lone", branch="dev")
    lone.commit({"a": "1"})
    lone.branch("other")
    bare = tmp_path / "lone.git"
    git(tmp_path, "clone", "-q", "--bare", str(lone.path), str(bare))
    git(bare, "symbolic-ref", "HEAD", "refs/heads/nowhere")
    with pytest.raises(ParameterError, match="no trunk branch"), branches.mirror(bare) as path:
        branches.read_facts(path, str(bare), NOW)
