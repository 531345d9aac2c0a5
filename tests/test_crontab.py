"""ladder.engine.crontab: Ladder's lines rendered for cron's bare environment, and edited in the real crontab."""

from __future__ import annotations

import shlex

import pytest

from ladder.engine import crontab
from ladder.engine.interval import parse_every
from scheduling import USERS_LINES, crontab_text, example, saved_crontab


@pytest.mark.unit
def test_a_line_runs_ladder_by_absolute_path_with_its_environment_log_and_mark(monkeypatch):
    monkeypatch.setenv("LADDER_HOME", "/srv/ladder-home")
    entry = crontab.line(example())
    fields, command = entry.split(None, 5)[:5], crontab.command_of(entry)
    assert fields[1:] == ["*", "*", "*", "*"] and fields[0].isdigit()  # hourly, at a minute of its own
    words = shlex.split(command, comments=True)
    assert words[:2] == [
        "LADDER_HOME=/srv/ladder-home",
        "PATH=/opt/ladder/bin:" + "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    ]
    assert words[2:] == [
        "/opt/ladder/bin/ladder",
        "run",
        "/srv/team/runbooks/1-separate-dev-and-prod.ipynb",
        "--scheduled",
        "--config",
        "/srv/team/ladder.yml",
        "-p",
        "ref",
        "v1.2",
        ">>",
        "/srv/team/runs/schedule/1-separate-dev-and-prod.log",
        "2>&1",
    ]
    assert entry.endswith(" # ladder-schedule name=1-separate-dev-and-prod every=1h")


@pytest.mark.unit
def test_values_are_shell_quoted_and_a_percent_sign_is_escaped_for_cron():
    entry = crontab.line(example(params=(("note", "50% of 'prod' & more"),), apply=True))
    assert "\\%" in entry and "% " not in entry.replace("\\%", "")  # no bare % reaches cron
    words = shlex.split(crontab.command_of(entry), comments=True)
    assert words[words.index("note") + 1] == "50% of 'prod' & more" and words[words.index(">>") - 1] == "--apply"


@pytest.mark.unit
def test_replacing_a_runbooks_line_keeps_every_other_line_as_it_was():
    theirs = USERS_LINES + "# 0 * * * * old copy # ladder-schedule name=1-separate-dev-and-prod every=1h\n"
    other = crontab.line(example(runbook="2-trunk"))
    first = crontab.replaced(theirs, "1-separate-dev-and-prod", crontab.line(example()))
    both = crontab.replaced(first, "2-trunk", other)
    again = crontab.replaced(both, "1-separate-dev-and-prod", crontab.line(example(every=parse_every("15m"))))
    assert again.startswith(theirs)  # the user's lines, a commented-out copy of ours included, untouched
    assert again.count("name=1-separate-dev-and-prod every=15m") == 1 and "every=1h\n" in again.replace(theirs, "")
    assert crontab.replaced(again, "1-separate-dev-and-prod", None) == theirs + other + "\n"
    assert crontab.replaced("0 3 * * * /usr/bin/true", "x", "line") == "0 3 * * * /usr/bin/true\nline\n"


@pytest.mark.local
def test_install_replace_and_remove_in_the_real_crontab_leave_the_users_lines_alone(tmp_path):
    with saved_crontab() as theirs:
        crontab.install(example(runs_dir=tmp_path))
        crontab.install(example(runs_dir=tmp_path, every=parse_every("6h")))  # the same runbook again: replaced
        text = crontab_text()
        assert text.startswith(theirs) and text.count("ladder-schedule") == 1 and "every=6h" in text
        (listed,) = crontab.listed()
        assert (listed.runbook, listed.every, listed.backend) == ("1-separate-dev-and-prod", "6h", "cron")
        assert listed.log == tmp_path / "schedule" / "1-separate-dev-and-prod.log" and listed.next and not listed.last
        assert crontab.remove("1-separate-dev-and-prod") and not crontab.remove("1-separate-dev-and-prod")
        assert crontab_text() == theirs


@pytest.mark.local
def test_a_line_whose_time_was_edited_by_hand_has_no_next_run(tmp_path):
    entry = crontab.line(example(runs_dir=tmp_path))
    with saved_crontab(USERS_LINES + "1 2 3 4 5 " + entry.split(None, 5)[5] + "\n"):
        (listed,) = crontab.listed()
        assert listed.runbook == "1-separate-dev-and-prod" and listed.next is None
