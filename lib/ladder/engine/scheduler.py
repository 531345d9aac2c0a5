"""Where Ladder's schedules live on this machine: picking cron or a systemd user timer, and installing on it."""

from __future__ import annotations

from ..core.errors import ScheduleError
from . import crontab, timers
from .schedule import BACKENDS, Listed, Schedule


def backend(choice: str = "auto", *, usable: bool = True) -> str:
    """The backend to install on: a systemd user timer when a user manager answers, else cron.

    usable=False takes a named backend as is: its entry can be shown on a machine that can't run it.
    """
    if choice in BACKENDS:
        if usable and not (timers.available() if choice == "systemd" else crontab.available()):
            need = "a running systemd user manager (`systemctl --user`)" if choice == "systemd" else "`crontab`"
            raise ScheduleError(f"{choice} is not usable here: it needs {need}", option="--backend")
        return choice
    if timers.available():
        return "systemd"
    if crontab.available():
        return "cron"
    raise ScheduleError(
        "nothing here can run a schedule: no systemd user manager answers `systemctl --user`, and there is "
        "no `crontab`; install cron (Debian: apt-get install cron) or log in with a systemd user session"
    )


def render(schedule: Schedule, on: str) -> str:
    """What installing would write, as text: the crontab line, or the timer and service unit files."""
    if on == "cron":
        return crontab.line(schedule) + "\n"
    files = timers.render(schedule)
    return "\n".join(f"# {timers.unit_dir() / name}\n{text}" for name, text in files.items())


def install(schedule: Schedule, on: str) -> None:
    """Install or replace a runbook's schedule; any schedule of it on the other backend goes."""
    render(schedule, on)  # refuses, before anything changes, what the backend can't say (cron: 45m)
    schedule.log.parent.mkdir(parents=True, exist_ok=True)  # the shell's `>>` does not make folders
    if on == "cron":
        crontab.install(schedule)
        timers.remove(schedule.runbook)
    else:
        timers.install(schedule)
        if crontab.available():
            crontab.remove(schedule.runbook)


def remove(runbook: str) -> list[str]:
    """Remove a runbook's schedule wherever it is installed; the backends it was found on."""
    found: list[str] = []
    if crontab.available() and crontab.remove(runbook):
        found.append("cron")
    if timers.remove(runbook):
        found.append("systemd")
    if not found:
        raise ScheduleError(f"no schedule of {runbook!r} is installed; see them with: ladder schedule --list")
    return found


def listing() -> list[Listed]:
    """Every schedule Ladder installed, on either backend, with its next and last run."""
    return [*(crontab.listed() if crontab.available() else []), *timers.listed()]
