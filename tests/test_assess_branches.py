"""Branch kinds: release lines, published pages and bots' branches told apart from unfinished work."""

from __future__ import annotations

import pytest

from ladder.app.branch_work import BranchWork
from ladder.assess.branches import set_aside_by_name, set_aside_by_work

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "name",
    [
        "stable-2.17",
        "release/1.x",
        "2.x",
        "v3-maintenance",
        "1.4",
        "release-2024.05",
        "support/3.x",
        "stable/2023.1",
        "release1.5.1",
    ],
)
def test_release_line_names(name):
    assert set_aside_by_name(name) == ("release line", "its name says release, stable, maintenance or a version")


@pytest.mark.parametrize("name", ["l10n_main", "crowdin-main", "weblate-app", "dependabot/npm/x", "renovate/y"])
def test_bot_names(name):
    assert set_aside_by_name(name)[0] == "bot"


@pytest.mark.parametrize(
    "name", ["feature/release-notes", "fix-stable-sort", "wip", "v2-redesign", "translate-ui", "released-flag"]
)
def test_work_names_are_kept(name):
    assert set_aside_by_name(name) is None


def test_pages_and_work():
    assert set_aside_by_name("gh-pages")[0] == "published pages"
    assert set_aside_by_work(BranchWork(3, 1, ("v1.2.1", "v1.2.2"), 0))[1] == "2 tag(s) on it (v1.2.1, v1.2.2)"
    assert set_aside_by_work(BranchWork(3, 1, (), 2))[1] == "receives fixes: 2 cherry-picked commit(s)"
    assert set_aside_by_work(BranchWork(3, 1, (), 0)) is None


def test_the_ci_merge_queue_status_branches_are_not_work() -> None:
    assert set_aside_by_name("ci/passed/review/login")[0] == "ci status"
    assert set_aside_by_name("ci/failed/review/login")[0] == "ci status"
    assert set_aside_by_name("ci-fixes") is None
