"""What repository checks read: the clone described, and the streamed history pass."""

from __future__ import annotations

import pytest

from gitrepo import NOW, GitRepo
from ladder.app.git import open_repo
from ladder.assess.repo_facts import (
    EXCLUDE_SPECS,
    RepoFacts,
    describe_repo,
    in_pathspecs,
    is_binary_path,
    same_repository,
)


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
        "root": head,  # the only commit is the first one
        "remote": None,
        "missing_objects": 0,  # a whole clone
    }


@pytest.mark.unit
def test_a_repository_is_known_by_its_root_commit_and_remote_not_its_folder_name():
    shop = {"path": "app", "root": "a" * 40, "remote": "https://git.example/shop.git"}
    assert same_repository(shop, {**shop, "path": "shop-clone"})
    assert same_repository(shop, {**shop, "remote": None})  # a clone without an origin
    assert not same_repository(shop, {**shop, "root": "b" * 40})
    assert not same_repository(shop, {**shop, "remote": "https://git.example/fork.git"})
    assert same_repository({"path": "app"}, {"path": "app", "root": "c" * 40})  # saved before roots


# ---- the history pass (app.history), as RepoFacts streams it -------------------------------------


@pytest.mark.unit
def test_pathspecs_pick_paths_as_git_does():
    code = [":(glob)**/*.py", *EXCLUDE_SPECS]
    assert in_pathspecs("app.py", code) and in_pathspecs("a/b/app.py", code)
    assert not in_pathspecs("web/node_modules/x/app.py", code) and not in_pathspecs("app.js", code)
    assert (
        in_pathspecs("docs/x.md", ["."]) and in_pathspecs("src/a.py", ["src"]) and not in_pathspecs("srcs/a", ["src"])
    )
    assert not in_pathspecs("a.txt", [".", ":(exclude,literal)a.txt"])


@pytest.mark.unit
def test_images_archives_and_fonts_are_nothing_a_text_check_reads():
    assert all(is_binary_path(p) for p in ("static/artboard.psd", "logo.PNG", "dev/example.sql.xz", "f.woff2"))
    assert not any(is_binary_path(p) for p in ("app.py", "fixtures/downloads.json", "openapi.json"))
