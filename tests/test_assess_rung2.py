"""Rung 2's checks: long-lived branches, landings on trunk, change size, flags, tests."""

from __future__ import annotations

import pytest

from assessing import check
from gitrepo import GitRepo

pytestmark = pytest.mark.local


@pytest.fixture
def repo(tmp_path) -> GitRepo:
    return GitRepo(tmp_path / "repo")


def test_stale_and_active_long_lived_branches(repo):
    repo.commit({"a.py": "1\n"}, days_ago=60)
    repo.branch("feature/stale")
    repo.commit({"b.py": "1\n"}, days_ago=50)
    repo.checkout("main")
    repo.branch("feature/active")
    repo.commit({"c.py": "1\n"}, days_ago=20)
    repo.commit({"c.py": "2\n"}, days_ago=1)
    repo.checkout("main")
    repo.branch("feature/merged")
    repo.commit({"d.py": "1\n"}, days_ago=40)
    repo.checkout("main")
    repo.merge("feature/merged", days_ago=39)
    res = check(repo, "long-lived-branches")
    rows = {r["branch"]: r for r in res.evidence["long_lived"]}
    assert set(rows) == {"feature/stale", "feature/active"}
    assert rows["feature/active"]["active"] and not rows["feature/stale"]["active"]
    assert rows["feature/stale"]["age_days"] == pytest.approx(50, abs=0.1)
    assert res.score == 10 - 4 - 2


def test_no_long_lived_branches_scores_ten(repo):
    repo.commit({"a.py": "1\n"}, days_ago=3)
    repo.branch("fix")
    repo.commit({"a.py": "2\n"}, days_ago=2)
    assert check(repo, "long-lived-branches").score == 10


def test_trunk_frequency_direct_commits(repo):
    repo.daily(20, start_days_ago=40)
    res = check(repo, "trunk-frequency")
    assert res.score == 10 and res.evidence["landings"] == 20


def test_trunk_frequency_work_kept_on_branches(repo):
    repo.commit({"a.py": "0\n"}, days_ago=80)
    for week in range(4):
        repo.branch(f"f{week}")
        for d in range(5):
            repo.commit({"a.py": f"{week}{d}\n"}, days_ago=70 - week * 7 - d)
        repo.checkout("main")
        repo.merge(f"f{week}", days_ago=70 - week * 7 - 5)
    res = check(repo, "trunk-frequency")
    # 5 landings (1 commit + 4 merges) over 25 active days (20 branch commits, 4 merges, 1 start)
    assert res.evidence["landings"] == 5 and res.evidence["active_days"] == 25
    assert res.score == pytest.approx(2.0)


def test_trunk_frequency_inconclusive_with_few_active_days(repo):
    repo.commit({"a.py": "1\n"}, days_ago=1)
    res = check(repo, "trunk-frequency")
    assert res.inconclusive and "active day" in res.reason


def test_change_size_small_and_large(repo):
    repo.daily(12, start_days_ago=30, lines=2)
    assert check(repo, "change-size").score == 10
    big = GitRepo(repo.path.parent / "big")
    for i in range(12):
        big.commit(
            {"a.py": "\n".join(f"x{j} = {i}" for j in range(1500)) + "\n", "package-lock.json": "{}\n" * (i + 1)},
            days_ago=20 - i,
        )
    res = check(big, "change-size")
    assert res.score == 0 and res.evidence["median_lines"] == 3000


def test_change_size_inconclusive_with_few_commits(repo):
    repo.commit({"a.py": "1\n"})
    assert check(repo, "change-size").inconclusive


def test_feature_flags_library_and_module(repo):
    repo.commit({"requirements.txt": "flask==3.0\nUnleashClient==5.0\n"})
    assert check(repo, "feature-flags").evidence["libraries"] == ["unleash"]
    other = GitRepo(repo.path.parent / "mod")
    other.commit({"app/flags.py": "NEW_UI = False\n"})
    assert check(other, "feature-flags").score == 10
    none = GitRepo(repo.path.parent / "none")
    none.commit({"app.py": "x = 1\n"})
    assert check(none, "feature-flags").score == 0


def test_tests_present_share(repo):
    repo.commit({"app.py": "x = 1\n" * 70, "tests/test_app.py": "y = 2\n" * 30})
    res = check(repo, "tests-present")
    assert res.evidence["test_share"] == pytest.approx(0.3)
    assert res.score == pytest.approx(10)
    no_tests = GitRepo(repo.path.parent / "nt")
    no_tests.commit({"app.py": "x = 1\n"})
    assert check(no_tests, "tests-present").score == 0
    no_code = GitRepo(repo.path.parent / "nc")
    no_code.commit({"README.md": "hi\n"})
    assert check(no_code, "tests-present").inconclusive


def test_tests_with_changes_share(repo):
    repo.daily(20, start_days_ago=40, tests_every=2)
    res = check(repo, "tests-with-changes")
    assert res.evidence["share"] == pytest.approx(0.5) and res.score == 10


def test_bot_translation_and_dependency_commits_do_not_dilute_the_test_share(repo):
    repo.daily(20, start_days_ago=40, tests_every=2)
    bot = "dependabot[bot] <49699333+dependabot[bot]@users.noreply.github.com>"
    for i in range(15):
        repo.commit({"src/app.js": f"x = {i}\n"}, f"build {i}", days_ago=10 - i / 2, author=bot)
        repo.commit({"app/locale/fr/messages.po": f'msgstr "{i}"\n'}, f"Translated {i}", days_ago=10 - i / 2)
        repo.commit({"requirements.txt": f"flask==3.{i}\n"}, f"Bump flask to 3.{i}", days_ago=10 - i / 2)
    res = check(repo, "tests-with-changes")
    assert res.evidence["share"] == pytest.approx(0.5) and res.evidence["commits"] == 20
    assert res.evidence["left_out"] == {"bot": 15, "translation": 15, "dependency": 15}
    assert res.reason == (
        "50% of 20 people's code changes touch tests (last 90 days); "
        "15 bot, 15 translation-only and 15 dependency-only commit(s) left out"
    )
    assert check(repo, "change-size").evidence["commits"] == 20


def test_release_lines_pages_and_bots_are_set_aside(repo):
    repo.commit({"a.py": "1\n"}, days_ago=200)
    named = ("stable-2.17", "release/1.x", "2.x", "v3-maintenance", "gh-pages", "l10n_main", "crowdin-main")
    named += ("weblate-app", "dependabot/pip/requests-2.32", "renovate/django-5.x")
    for name in named:
        repo.checkout("main")
        repo.branch(name)
        repo.commit({f"{name.replace('/', '_')}.txt": "1\n"}, days_ago=150)
    repo.checkout("main")
    repo.branch("old-line")
    repo.commit({"a.py": "fix\n"}, days_ago=120)
    repo.tag("v1.0.1", days_ago=120)
    repo.checkout("main")
    repo.branch("backports")
    repo.commit({"a.py": "pick\n"}, "fix a crash\n\n(cherry picked from commit 0123abc)", days_ago=100)
    repo.checkout("main")
    repo.branch("feature/abandoned")
    repo.commit({"b.py": "1\n"}, days_ago=90)
    repo.checkout("main")
    repo.commit({"a.py": "2\n"}, days_ago=1)
    res = check(repo, "long-lived-branches")
    assert [r["branch"] for r in res.evidence["long_lived"]] == ["feature/abandoned"]
    assert res.score == 8
    aside = {s["branch"]: s for s in res.evidence["set_aside"]}
    assert set(aside) == {*named, "old-line", "backports"}
    assert {aside[n]["kind"] for n in named[:4]} == {"release line"}
    assert aside["gh-pages"]["kind"] == "published pages"
    assert {aside[n]["kind"] for n in named[5:]} == {"bot"}
    assert "v1.0.1" in aside["old-line"]["why"] and "cherry-picked" in aside["backports"]["why"]
    assert "12 set aside" in res.reason


def test_a_feature_branch_named_like_a_release_note_is_still_work(repo):
    repo.commit({"a.py": "1\n"}, days_ago=60)
    repo.branch("feature/release-notes")
    repo.commit({"notes.md": "1\n"}, days_ago=50)
    res = check(repo, "long-lived-branches")
    assert [r["branch"] for r in res.evidence["long_lived"]] == ["feature/release-notes"]
    assert res.evidence["set_aside"] == []


def test_abandoned_branches_alone_are_housekeeping_but_an_active_one_is_the_anti_pattern(repo):
    repo.commit({"a.py": "1\n"}, days_ago=200)
    for i in range(4):
        repo.branch(f"feature/old-{i}")
        repo.commit({f"b{i}.py": "1\n"}, days_ago=150 - i)
        repo.checkout("main")
    repo.commit({"a.py": "2\n"}, days_ago=1)
    res = check(repo, "long-lived-branches")
    assert res.score == 7 and "4 abandoned branch(es), none active: delete or archive them" in res.reason
    repo.branch("feature/kept-off-trunk")
    repo.commit({"c.py": "1\n"}, days_ago=40)
    repo.commit({"c.py": "2\n"}, days_ago=1)
    repo.checkout("main")
    res = check(repo, "long-lived-branches")
    assert res.score == 0 and "1 active and 4 stale" in res.reason
