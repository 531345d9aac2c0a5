"""Tests for ladder.sandbox.repo: the team's seeded git repo, read back with real git."""

from __future__ import annotations

import os
import re
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ladder.core.errors import SeedError
from ladder.sandbox.app import app_files
from ladder.sandbox.repo import STALE_BRANCH, seed_repo

NOW = datetime(2024, 3, 15, 17, 30, tzinfo=UTC)
DAY = 86400
NOT_THE_STORY = re.compile(
    r"(^|/)(tests?/|test_[^/]*\.py$|[^/]*_test\.py$|conftest\.py$|\.github/|\.gitlab-ci\.yml$"
    r"|Jenkinsfile$|\.circleci/|tox\.ini$|pyproject\.toml$|setup\.py$|setup\.cfg$)"
)


def git(repo: Path, *args: str, check: bool = True) -> str:
    """Run git in `repo` without the user's config; return stdout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)
    done = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, timeout=60, check=check)
    return done.stdout


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seed_repo(tmp_path_factory.mktemp("seeded") / "items", now=NOW)


def commit_times(repo: Path, ref: str) -> list[int]:
    return [int(t) for t in git(repo, "log", "--format=%ct", ref).split()]


@pytest.mark.local
def test_seed_repo_returns_the_path_it_filled(tmp_path: Path) -> None:
    target = tmp_path / "new" / "items"
    assert seed_repo(target, now=NOW) == target
    assert (target / ".git").is_dir() and (target / "app.py").is_file()


@pytest.mark.local
def test_history_spans_six_months_and_ends_at_now(repo: Path) -> None:
    times = commit_times(repo, "master")
    assert max(times) == int(NOW.timestamp())
    assert max(times) - min(times) >= 150 * DAY


@pytest.mark.local
def test_default_now_is_the_current_time(tmp_path: Path) -> None:
    before = int(time.time())
    seed_repo(tmp_path / "items")
    after = int(time.time())
    assert before <= max(commit_times(tmp_path / "items", "master")) <= after


@pytest.mark.local
def test_master_has_100_to_150_commits_by_one_developer_and_no_merges(repo: Path) -> None:
    assert 100 <= int(git(repo, "rev-list", "--count", "master")) <= 150
    assert git(repo, "rev-list", "--merges", "--all") == ""
    assert set(git(repo, "log", "--all", "--format=%an <%ae>|%cn <%ce>").splitlines()) == {
        "Sam Solo <sam@example.com>|Sam Solo <sam@example.com>"
    }


@pytest.mark.local
def test_messages_read_like_a_solo_developers(repo: Path) -> None:
    subjects = git(repo, "log", "--format=%s", "master").splitlines()
    assert {"fix typo", "wip", "initial commit", "add items endpoint"} <= set(subjects)
    assert any(s.startswith("hotfix") for s in subjects)
    assert sum(s.startswith('Revert "') for s in subjects) >= 3


@pytest.mark.local
def test_commit_sizes_vary(repo: Path) -> None:
    sizes = []
    for block in git(repo, "log", "--numstat", "--format=format:@", "master").split("@")[1:]:
        sizes.append(sum(int(a) + int(d) for a, d, _ in (ln.split("\t") for ln in block.split("\n") if ln)))
    assert min(sizes) <= 2 and max(sizes) >= 30


@pytest.mark.local
def test_every_master_commit_holds_an_app_py_that_compiles(repo: Path) -> None:
    commits = git(repo, "rev-list", "master").split()
    requests = "".join(f"{c}:app.py\n" for c in commits)
    batch = subprocess.run(
        ["git", "cat-file", "--batch"], cwd=repo, input=requests.encode(), capture_output=True, timeout=60, check=True
    ).stdout
    compiled = 0
    while batch:
        header, _, batch = batch.partition(b"\n")
        if header.endswith(b"missing"):
            continue
        size = int(header.split()[2])
        compile(batch[:size], "app.py", "exec")
        batch = batch[size + 1 :]
        compiled += 1
    assert compiled >= len(commits) - 3  # only the first commits predate app.py


@pytest.mark.local
def test_stale_branch_is_old_and_never_merged(repo: Path) -> None:
    assert set(git(repo, "branch", "--format=%(refname:short)").split()) == {"master", STALE_BRANCH}
    ancestor = subprocess.run(["git", "merge-base", "--is-ancestor", STALE_BRANCH, "master"], cwd=repo, timeout=60)
    assert ancestor.returncode == 1
    fork = git(repo, "merge-base", "master", STALE_BRANCH).strip()
    fork_age = NOW.timestamp() - int(git(repo, "log", "-1", "--format=%ct", fork))
    assert 100 * DAY <= fork_age <= 140 * DAY
    assert NOW.timestamp() - max(commit_times(repo, STALE_BRANCH)) >= 90 * DAY
    assert int(git(repo, "rev-list", "--count", f"master..{STALE_BRANCH}")) >= 3


@pytest.mark.local
def test_no_tags(repo: Path) -> None:
    assert git(repo, "tag") == ""


@pytest.mark.local
def test_no_tests_ci_or_packaging_anywhere_in_history(repo: Path) -> None:
    paths = set(git(repo, "log", "--all", "--name-only", "--format=").split())
    assert {"app.py", "config.py", "README.md", "requirements.txt"} <= paths
    assert [p for p in paths if NOT_THE_STORY.search(p)] == []


@pytest.mark.local
def test_final_tree_of_master_is_the_template_app(repo: Path) -> None:
    files = app_files()
    assert sorted(git(repo, "ls-tree", "-r", "--name-only", "master").split()) == sorted(files)
    for path, text in files.items():
        assert git(repo, "show", f"master:{path}") == text, path
        assert (repo / path).read_text() == text, path


@pytest.mark.local
def test_work_tree_is_clean_on_master(repo: Path) -> None:
    assert git(repo, "symbolic-ref", "HEAD").strip() == "refs/heads/master"
    assert git(repo, "status", "--porcelain", "--ignored") == ""


@pytest.mark.local
def test_seeding_is_deterministic(repo: Path, tmp_path: Path) -> None:
    again = seed_repo(tmp_path / "again", now=NOW)
    refs = ["master", STALE_BRANCH]
    assert git(again, "rev-parse", *refs) == git(repo, "rev-parse", *refs)


@pytest.mark.local
def test_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine\n")
    with pytest.raises(SeedError, match="not an empty folder") as caught:
        seed_repo(tmp_path, now=NOW)
    assert caught.value.path == tmp_path
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


@pytest.mark.local
def test_the_team_repository_takes_a_push_and_its_checkout_follows(repo: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", str(repo), str(work))
    (work / "NOTES.md").write_text("pushed\n")
    git(work, "add", "NOTES.md")
    git(work, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "notes")
    git(work, "push", "-q", "origin", "master")
    assert git(repo, "rev-parse", "master") == git(work, "rev-parse", "HEAD")
    assert (repo / "NOTES.md").read_text() == "pushed\n" and git(repo, "status", "--porcelain") == ""
