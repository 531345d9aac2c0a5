"""Practices of every rung: dependency updates."""

from __future__ import annotations

import pytest

from assessing import check
from gitrepo import GitRepo

pytestmark = pytest.mark.local


@pytest.fixture
def repo(tmp_path) -> GitRepo:
    return GitRepo(tmp_path / "repo")


def test_dependency_updates(repo):
    repo.commit({".github/dependabot.yml": "version: 2\n"})
    assert check(repo, "dependency-updates").score == 10
