"""ladder.engine.scheduler: which backend runs schedules here, and install, list, remove on the real crontab."""

from __future__ import annotations

import shutil

import pytest

from ladder.core.errors import ScheduleError
from ladder.engine import journal, scheduler
from ladder.engine.interval import parse_every
from scheduling import crontab_text, example, saved_crontab

pytestmark = pytest.mark.local


def only(tmp_path, monkeypatch, *tools: str) -> None:
    """A PATH on which only these tools are found."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for tool in tools:
        (folder / tool).symlink_to(shutil.which(tool))
    monkeypatch.setenv("PATH", str(folder))


def test_with_neither_systemd_nor_crontab_the_error_names_both(tmp_path, monkeypatch):
    only(tmp_path, monkeypatch)
    with pytest.raises(ScheduleError) as err:
        scheduler.backend()
    assert (
        "systemctl --user" in str(err.value)
        and "crontab" in str(err.value)
        and "apt-get install cron" in str(err.value)
    )


def test_without_a_systemd_user_manager_cron_runs_the_schedules(tmp_path, monkeypatch):
    only(tmp_path, monkeypatch, "crontab")
    assert scheduler.backend() == "cron" and scheduler.backend("cron") == "cron"
    with pytest.raises(ScheduleError, match="^--backend: systemd is not usable here"):
        scheduler.backend("systemd")
    assert scheduler.backend("systemd", usable=False) == "systemd"  # its units can still be shown


def test_what_cron_cant_repeat_is_refused_before_anything_changes(tmp_path):
    with saved_crontab() as theirs:
        with pytest.raises(ScheduleError, match="cron can't run every 45m exactly"):
            scheduler.install(example(runs_dir=tmp_path / "runs", every=parse_every("45m")), "cron")
        assert crontab_text() == theirs and not (tmp_path / "runs").exists()


def test_a_schedule_is_listed_with_its_last_scheduled_run_and_removed(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))  # no systemd units of the user's in the listing
    runs = tmp_path / "runs"
    path = journal.journal_path(runs)
    journal.start(path, run_id="by-hand", runbook="1-separate-dev-and-prod")
    journal.start(path, run_id="ticked", runbook="1-separate-dev-and-prod", trigger=journal.SCHEDULE)
    journal.finish(path, "ticked", status="ok")
    with saved_crontab() as theirs:
        scheduler.install(example(runs_dir=runs), "cron")
        assert (runs / "schedule").is_dir()  # the log's folder, made for the shell's `>>`
        (entry,) = scheduler.listing()
        assert entry.backend == "cron" and entry.last is not None and entry.last["id"] == "ticked"
        assert scheduler.remove("1-separate-dev-and-prod") == ["cron"] and crontab_text() == theirs
        with pytest.raises(ScheduleError, match="no schedule of '1-separate-dev-and-prod' is installed"):
            scheduler.remove("1-separate-dev-and-prod")
        assert scheduler.listing() == []
