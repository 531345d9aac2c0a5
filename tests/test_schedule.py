"""ladder.engine.schedule: a schedule is checked as `ladder run` checks a run, and pins everything by absolute path."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import scheduling
from ladder.core.errors import ConfigError, ParameterError, PathOutside, RunbookError, ScheduleError
from ladder.engine import schedule
from scheduling import example

BOOKS = Path(__file__).parent / "notebooks"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return scheduling.site(tmp_path)


@pytest.mark.local
def test_a_plan_pins_the_runbook_config_and_ladder_by_absolute_path(site, monkeypatch):
    monkeypatch.chdir(site)
    s = schedule.plan("3", "15m", params=[("seconds", "0")], config="ladder.yml", root=BOOKS)
    assert (s.runbook, s.path, s.every.text) == ("3-wait", BOOKS / "3-wait.ipynb", "15m")
    assert s.config == str(site / "ladder.yml") and s.runs_dir == site / "runs"
    assert s.ladder == Path(sys.executable).parent / "ladder" and s.params == (("seconds", "0"),)
    assert s.log == site / "runs" / "schedule" / "3-wait.log"
    assert not (site / "runs").exists()  # planning writes nothing


@pytest.mark.local
@pytest.mark.parametrize(
    "runbook, every, params, config, error, words",
    [
        ("3", "1x", [], "ladder.yml", ScheduleError, ["--every", "'1x'"]),
        ("9-nope", "1h", [], "ladder.yml", RunbookError, ["unknown runbook", "3-wait"]),
        ("3", "1h", [("secondz", "1")], "ladder.yml", ParameterError, ["unknown parameter 'secondz'"]),
        ("3", "1h", [("seconds", "soon")], "ladder.yml", ParameterError, ["'seconds'", "'soon'"]),
        ("3", "1h", [], "missing.yml", ConfigError, ["missing.yml", "not found"]),
        ("1", "1h", [("dry_run", "false")], "ladder.yml", ParameterError, ["--apply"]),
    ],
)
def test_bad_input_is_refused_before_anything_is_installed(
    site, monkeypatch, runbook, every, params, config, error, words
):
    monkeypatch.chdir(site)
    with pytest.raises(error) as err:
        schedule.plan(runbook, every, params=params, config=config, root=BOOKS)
    assert all(w in str(err.value) for w in words), str(err.value)


@pytest.mark.unit
def test_the_scheduled_command_line_runs_ladder_run_scheduled_with_what_was_given():
    s = example(apply=True, params=(("ref", "v1.2"), ("note", "a b")))
    assert s.argv() == [
        "/opt/ladder/bin/ladder",
        "run",
        "/srv/team/runbooks/1-separate-dev-and-prod.ipynb",
        "--scheduled",
        "--config",
        "/srv/team/ladder.yml",
        *("-p", "ref", "v1.2", "-p", "note", "a b"),
        "--apply",
    ]


@pytest.mark.unit
def test_the_environment_adds_the_ladder_home_and_a_path_with_ladders_own_folder(monkeypatch):
    monkeypatch.setenv("LADDER_HOME", "/srv/ladder-home")
    env = example().environment()
    assert env["LADDER_HOME"] == "/srv/ladder-home" and env["PATH"].split(":")[:2] == [
        "/opt/ladder/bin",
        "/usr/local/sbin",
    ]


@pytest.mark.unit
def test_the_mark_names_runbook_and_interval_and_reads_back():
    mark = example(runbook="my book").marker()
    assert mark == "# ladder-schedule name='my book' every=1h"
    assert schedule.parse_marker("0 * * * * true " + mark) == {"name": "my book", "every": "1h"}
    assert schedule.parse_marker("0 * * * * true # ladder-schedules are nice") is None
    assert schedule.parse_marker("0 * * * * true # ladder-schedule name='unclosed") is None


@pytest.mark.local
def test_a_runbook_is_named_by_rung_name_or_path_even_once_its_file_is_gone():
    assert schedule.name_of("3", BOOKS) == "3-wait"
    assert schedule.name_of("gone-book.ipynb", BOOKS) == "gone-book"


@pytest.mark.unit
def test_a_runbook_name_that_leads_out_of_the_runs_home_gets_no_log_there(tmp_path):
    assert example(runs_dir=tmp_path).log == tmp_path / "schedule" / "1-separate-dev-and-prod.log"
    with pytest.raises(PathOutside, match="runbook name"):
        _ = example(runs_dir=tmp_path, runbook="../../../../tmp/x").log
