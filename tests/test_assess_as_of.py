"""ladder.assess.as_of: where the time windows end (now, a day, the last commit), and what the header says."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from assessing import by_id
from gitrepo import DAY, NOW, GitRepo
from ladder import cli
from ladder.app.git import open_repo
from ladder.assess.as_of import AsOf, LastActivity, header_facts, iso, resolve_as_of, stale_warning
from ladder.assess.dora import dora_metrics
from ladder.assess.evidence import gather_repo_evidence
from ladder.core.errors import OptionError


def day(days_ago: float) -> str:
    """The UTC day some days ago, as YYYY-MM-DD."""
    return datetime.fromtimestamp(NOW - days_ago * DAY, UTC).strftime("%Y-%m-%d")


@pytest.fixture
def archived(tmp_path) -> GitRepo:
    """A repository whose work stopped 300 days ago: 12 daily commits with tags, a branch, a last commit."""
    repo = GitRepo(tmp_path / "archived")
    for i in range(12):
        repo.commit({"app.py": f"X = {i}\n", "tests/test_app.py": f"def test_{i}(): pass\n"}, f"c{i}", days_ago=330 - i)
        if i % 4 == 3:
            repo.tag(f"v1.{i}", days_ago=330 - i)
    repo.branch("feature")
    repo.commit({"feature.py": "F = 1\n"}, "feature", days_ago=315)
    repo.checkout("main")
    repo.commit({"app.py": "X = 99\n"}, "last on main", days_ago=300)
    return repo


@pytest.mark.local
def test_the_forms_it_takes(archived):
    git = open_repo(archived.path)
    now = AsOf(NOW, "", LastActivity(int(NOW - 300 * DAY), "main"))
    assert resolve_as_of("", git, NOW) == now
    last = resolve_as_of("last-commit", git, NOW)
    assert last.time == NOW - 300 * DAY and last.last == LastActivity(int(NOW - 300 * DAY), "main")
    given = resolve_as_of(day(310), git, NOW)
    assert iso(given.time) == f"{day(310)}T23:59:59+00:00" and given.option == day(310)
    assert resolve_as_of(day(0), git, NOW).time >= NOW  # today: its end


@pytest.mark.local
@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("yesterday", "give YYYY-MM-DD"),
        ("2024-02-30", "not a calendar day"),
        ("2024-1-5", "give YYYY-MM-DD"),
        (day(-2), "is in the future"),
        (day(400), f"is before the first commit ({day(330)})"),
    ],
)
def test_a_bad_value_names_the_option_the_value_and_the_forms(archived, value, says):
    with pytest.raises(OptionError) as e:
        resolve_as_of(value, open_repo(archived.path), NOW)
    assert str(e.value).startswith(f"--as-of {value!r}: ") and says in str(e.value)
    assert "last-commit" in str(e.value)


@pytest.mark.local
def test_an_empty_repository_has_no_last_commit(tmp_path):
    with pytest.raises(OptionError, match="no commits"):
        resolve_as_of("last-commit", open_repo(GitRepo(tmp_path / "empty").path), NOW)


@pytest.mark.local
def test_ladder_assess_refuses_a_bad_as_of_with_exit_2_before_anything_runs(archived, tmp_path, capsys):
    code = cli.main(["assess", str(archived.path), "--as-of", day(-3), "--out", str(tmp_path / "runs")])
    err = capsys.readouterr().err
    assert code == 2 and f"--as-of '{day(-3)}': is in the future" in err and "last-commit" in err
    assert not (tmp_path / "runs").exists()


@pytest.mark.local
def test_windows_end_at_the_as_of_instant(archived):
    today = by_id(gather_repo_evidence(archived.path, now=NOW))
    assert today["trunk-frequency"].evidence["active_days"] == 0
    assert today["tests-with-changes"].evidence["span"] == "all history"
    at = resolve_as_of("last-commit", open_repo(archived.path), NOW).time
    then = by_id(gather_repo_evidence(archived.path, now=at))
    assert then["trunk-frequency"].evidence["active_days"] == 14  # 12 days, the feature branch, the last commit
    assert then["tests-with-changes"].evidence["span"] == "last 90 days"
    (branch,) = then["long-lived-branches"].evidence["long_lived"]
    assert branch["branch"] == "feature" and branch["last_commit_days_ago"] == 15 and branch["active"]
    assert then["release-tags"].evidence["recent_180_days"] == 3


@pytest.mark.local
def test_commits_and_tags_after_the_as_of_day_are_ignored(archived):
    at = resolve_as_of(day(325), open_repo(archived.path), NOW).time
    checks = by_id(gather_repo_evidence(archived.path, now=at))
    assert checks["trunk-frequency"].evidence["active_days"] == 6  # 330 .. 325 days ago
    assert checks["release-tags"].evidence["tags"] == 1  # v1.3; v1.7 and v1.11 came later
    assert checks["long-lived-branches"].evidence["long_lived"] == []  # the feature branch began later
    assert checks["tests-with-changes"].evidence["commits"] == 6  # too few in the window: all history, to then
    frequency = dora_metrics(archived.path, None, now=at).metric("deploy_frequency")
    assert frequency.samples == 1 and frequency.value is None  # one tag by then: too few deploys


@pytest.mark.unit
def test_the_header_shows_the_last_activity_and_a_day_that_is_not_today():
    last = {"date": "2025-03-01T10:00:00+00:00", "ref": "main"}
    now = {"date": "2026-11-26T21:00:00+00:00", "option": "", "window_days": 90, "last_activity": last}
    rows = header_facts(now, "2026-11-26T21:00:00+00:00")
    assert rows == {"last activity": "2025-03-01 (newest commit, on main)"}
    ended = {**now, "date": "2025-03-01T10:00:00+00:00", "option": "last-commit"}
    rows = header_facts(ended, "2026-11-26T21:00:00+00:00")
    assert rows["as of"] == "2025-03-01 (--as-of last-commit): every time window ends there"
    assert header_facts(None, "2026-11-26") == {}


@pytest.mark.unit
def test_a_last_commit_older_than_the_window_is_said_with_the_fix_unless_as_of_was_given():
    last = {"date": "2025-03-01T10:00:00+00:00", "ref": "main"}
    doc = {"date": "2026-11-26T21:00:00+00:00", "option": "", "window_days": 90, "last_activity": last}
    warning = stale_warning(doc)
    assert warning is not None and "(2025-03-01, on main) is 635 days old, older than the 90-day window" in warning
    assert "--as-of last-commit" in warning
    assert stale_warning({**doc, "option": "last-commit"}) is None
    assert stale_warning({**doc, "date": "2025-05-01T10:00:00+00:00"}) is None  # 61 days: inside the window
    assert stale_warning({**doc, "last_activity": None}) is None
