"""What repository checks read: the clone described, and the streamed history pass."""

from __future__ import annotations

import pytest

from gitrepo import NOW, GitRepo
from ladder.app.git import open_repo
from ladder.app.history import median, parse_log
from ladder.assess.repo_facts import RepoFacts, describe_repo


@pytest.mark.local
def test_vendored_folders_are_not_the_projects_files(tmp_path):
    repo = GitRepo(tmp_path / "shop")
    repo.commit(
        {
            "app.py": "x = 1\n",
            "requirements.txt": "Flask==3.0\n",
            "node_modules/lib/index.js": "y\n",
            "vendor/pkg/requirements.txt": "django\n",
        }
    )
    facts = RepoFacts(open_repo(repo.path), NOW)
    assert {f.path for f in facts.files} >= {"app.py", "node_modules/lib/index.js"}
    assert [f.path for f in facts.source_files] == ["app.py", "requirements.txt"]
    assert facts.manifests == "flask==3.0\n"
    assert facts.read(["app.py", "missing.py"]) == {"app.py": "x = 1\n"}


@pytest.mark.local
def test_the_clone_is_described_for_the_report(tmp_path):
    repo = GitRepo(tmp_path / "shop")
    head = repo.commit({"a.py": "1\n"})
    assert describe_repo(repo.path) == {
        "path": "shop",
        "trunk": "main",
        "head": head,
        "detached_head": False,
        "shallow": False,
        "empty": False,
        "bare": False,
    }


# ---- the history pass (app.history), as RepoFacts streams it -------------------------------------

RECORDED_LOG = (
    b"\x1e1700000000 aaa\n\n3\t1\tapp.py\n2\t0\ttests/test_app.py\n"
    b"\x1e1700000100 bbb ccc\n"
    b"\x1e1700000200 ddd\n\n-\t-\tdist/app.whl\n100\t0\tpackage-lock.json\n4\t4\tapp.py\n"
    b"\x1e1700000300\n\n1\t1\t\xff\xfe-latin.py\n"
)


@pytest.mark.unit
def test_parse_log_folds_commits():
    s = parse_log(iter(RECORDED_LOG.splitlines(keepends=True)), since=1700000150)
    assert (s.commits, s.merges, s.changed, s.touched_tests) == (3, 1, 3, 1)
    assert dict(s.sizes) == {6: 1, 8: 1, 2: 1}  # lock file and binary not counted
    assert (s.recent_commits, s.recent_changed) == (2, 2)
    assert s.artifact_samples == ["dist/app.whl"] and s.binary_changes == 1


@pytest.mark.unit
def test_parse_log_memory_does_not_grow_with_commits():
    def lines(n):
        for i in range(n):
            yield b"\x1e%d p\n" % (1700000000 + i)
            yield b"\n"
            yield b"%d\t1\tsrc/m%d.py\n" % (i % 7, i % 50)

    s = parse_log(lines(50_000), since=0)
    assert s.commits == 50_000
    assert len(s.sizes) == 7  # one counter slot per distinct size, not per commit


@pytest.mark.unit
def test_median_of_counts():
    from collections import Counter

    assert median(Counter({1: 1, 3: 1})) == 2
    assert median(Counter({5: 3, 100: 1})) == 5
    assert median(Counter()) is None
