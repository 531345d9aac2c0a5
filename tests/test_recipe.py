"""ladder.app.recipe: the pyproject.toml that packages the team's top-level modules, landed on trunk as one commit."""

import tomllib

import pytest

from gitrepo import git
from ladder.app import recipe
from ladder.sandbox.repo import seed_repo


@pytest.mark.unit
def test_modules_are_the_root_python_files_but_setup_and_tests():
    tree = ["app.py", "config.py", "flags.py", "setup.py", "conftest.py", "test_app.py", "tests/test_routes.py"]
    tree += ["README.md", "requirements.txt", "pkg/mod.py", "gunicorn.conf.py"]
    assert recipe.modules(tree) == ["app", "config", "flags"]


@pytest.mark.unit
def test_the_pyproject_builds_the_modules_with_the_version_from_git_and_the_locked_requirements():
    data = tomllib.loads(recipe.pyproject("shop", ["app", "config"]))
    assert data["build-system"]["build-backend"] == "setuptools.build_meta"
    assert any(r.startswith("setuptools-scm") for r in data["build-system"]["requires"])
    assert data["project"] == {"name": "shop", "dynamic": ["version", "dependencies"]}
    assert data["tool"]["setuptools"]["py-modules"] == ["app", "config"]
    assert data["tool"]["setuptools"]["dynamic"]["dependencies"] == {"file": ["requirements.txt"]}
    assert "setuptools_scm" in data["tool"]


@pytest.mark.unit
def test_files_is_empty_once_the_recipe_is_current_and_follows_new_modules():
    tree = {"app.py": "", "requirements.txt": "gunicorn==23.0.0\n"}
    first = recipe.files(tree, "shop")
    assert list(first) == ["pyproject.toml"]
    assert recipe.files({**tree, **first}, "shop") == {}
    grown = recipe.files({**tree, **first, "flags.py": ""}, "shop")  # rung 2 lands flags.py
    assert 'py-modules = ["app", "flags"]' in grown["pyproject.toml"]


@pytest.mark.local
def test_land_plans_then_commits_once_on_trunk(tmp_path):
    repo = seed_repo(tmp_path / "app")
    head = git(repo, "rev-parse", "HEAD")
    plan = recipe.land(str(repo), "shop")
    assert plan.changed and not plan.applied and git(repo, "rev-parse", "HEAD") == head
    done = recipe.land(str(repo), "shop", dry_run=False)
    assert done.applied and git(repo, "rev-parse", "HEAD^") == head
    assert git(repo, "show", "--name-only", "--format=%s", "HEAD").split() == [
        *recipe.MESSAGE.split(),
        "pyproject.toml",
    ]
    again = recipe.land(str(repo), "shop", dry_run=False)
    assert not again.changed and not again.applied
