"""`ladder schedule`: install in the real crontab, run the line as cron would, see it in history, remove it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import scheduling
from scheduling import crontab_text, run_as_cron, saved_crontab

BOOKS = Path(__file__).parent / "notebooks"


def ladder(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ladder.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return scheduling.site(tmp_path)


@pytest.mark.e2e
def test_an_installed_schedule_runs_from_cron_into_the_journal_and_is_removed(site):
    schedule = ("schedule", "3", "--root", str(BOOKS), "--every", "1h", "--config", "ladder.yml", "-p", "seconds", "0")
    with saved_crontab() as theirs:
        done = ladder(*schedule, cwd=site)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("scheduled 3-wait every 1h (cron); next run: 20")
        again = ladder(*schedule, cwd=site)  # the same runbook again replaces its line
        assert again.returncode == 0, again.stderr
        text = crontab_text()
        assert text.startswith(theirs)
        (entry,) = [line for line in text.splitlines() if "# ladder-schedule name=3-wait every=1h" in line]
        listed = ladder("schedule", "--list", cwd=site).stdout.splitlines()
        assert listed[0].split() == ["runbook", "every", "backend", "next", "last", "log"]
        assert listed[1].split()[:3] == ["3-wait", "1h", "cron"] and listed[1].split()[-2:] == [
            "-",
            str(site / "runs" / "schedule" / "3-wait.log"),
        ]

        cron = run_as_cron(entry)
        assert cron.returncode == 0 and cron.stdout == cron.stderr == ""  # all of it went to the log
        log = (site / "runs" / "schedule" / "3-wait.log").read_text()
        assert log.startswith("ok: 3-wait (dry run)")
        history = ladder("history", "--config", "ladder.yml", cwd=site).stdout.splitlines()
        assert history[1].split()[-2:] == ["via", "hosts"]
        (row,) = history[2:]
        assert row.split()[2] == "3-wait" and row.split()[4] == "ok" and row.split()[-1] == "schedule"
        assert ladder("schedule", "--list", cwd=site).stdout.splitlines()[1].split()[5] == "ok"

        removed = ladder("schedule", "--remove", "3", "--root", str(BOOKS), cwd=site)
        assert removed.returncode == 0 and removed.stdout == "removed the schedule of 3-wait from cron\n"
        assert crontab_text() == theirs
        assert ladder("schedule", "--list", cwd=site).stdout == "no schedules installed\n"


@pytest.mark.local
def test_print_shows_the_line_and_installs_nothing(site):
    with saved_crontab() as theirs:
        done = ladder(
            "schedule", "3", "--root", str(BOOKS), "--every", "15m", "--config", "ladder.yml", "--print", cwd=site
        )
        assert done.returncode == 0, done.stderr
        assert (
            done.stdout.endswith(" # ladder-schedule name=3-wait every=15m\n")
            and "/15 * * * * LADDER_HOME=" in done.stdout
        )
        assert crontab_text() == theirs and not (site / "runs").exists()


@pytest.mark.local
@pytest.mark.parametrize(
    "args, words",
    [
        (("3", "--every", "45m"), ["--every: cron can't run every 45m exactly", "30m, 1h"]),
        (("3", "--every", "soon"), ["--every: 'soon' is not an interval"]),
        (("3", "--every", "1h", "-p", "secondz", "1"), ["unknown parameter 'secondz'"]),
        (("9-nope", "--every", "1h"), ["unknown runbook '9-nope'"]),
        (("3",), ["give --every"]),
        (("--remove", "3"), ["no schedule of '3-wait' is installed"]),
    ],
)
def test_bad_input_exits_2_and_leaves_the_crontab_alone(site, args, words):
    with saved_crontab() as theirs:
        done = ladder("schedule", *args, "--root", str(BOOKS), "--config", "ladder.yml", cwd=site)
        assert done.returncode == 2 and all(w in done.stderr for w in words), done.stderr
        assert crontab_text() == theirs and not (site / "runs").exists()
