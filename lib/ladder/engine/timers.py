"""systemd user timers: a .timer and a .service per schedule in the user's unit folder, run by `systemctl --user`."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

from ..core.errors import ScheduleError
from .interval import cadence
from .schedule import Listed, Schedule, last_run, parse_marker

PREFIX = "ladder-"
TIMEOUT = 30
_UNIT_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:_.-")


def unit_dir() -> Path:
    """Where systemd looks for a user's own units: $XDG_CONFIG_HOME/systemd/user (default ~/.config)."""
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "systemd" / "user"


def unit_name(runbook: str) -> str:
    """ladder-<runbook>, any character a unit name cannot hold written as \\xHH (as systemd-escape does)."""
    return PREFIX + "".join(c if c in _UNIT_CHARS else "".join(f"\\x{b:02x}" for b in c.encode()) for c in runbook)


def quote(word: str) -> str:
    """One word of an ExecStart= or Environment= line: double-quoted, with % and $ kept literal."""
    inner = word.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%").replace("$", "$$")
    return f'"{inner}"'


def render(schedule: Schedule) -> dict[str, str]:
    """The timer and service unit files of a schedule, by file name."""
    name, mark = unit_name(schedule.runbook), schedule.marker()
    try:  # on the clock like cron when cron could say it (Persistent: a run missed while off happens at boot)
        when = [f"OnCalendar={cadence(schedule.every, schedule.runbook).calendar()}", "Persistent=true"]
    except ScheduleError:  # else every N seconds since the last start
        when = [f"OnActiveSec={schedule.every.seconds}", f"OnUnitActiveSec={schedule.every.seconds}"]
    timer = [
        mark,
        "[Unit]",
        f"Description=Ladder: run runbook {schedule.runbook} every {schedule.every.text}",
        "",
        "[Timer]",
        *when,
        "",
        "[Install]",
        "WantedBy=timers.target",
        "",
    ]
    log = str(schedule.log).replace("%", "%%")
    service = [
        mark,
        "[Unit]",
        f"Description=Ladder: scheduled run of runbook {schedule.runbook}",
        "",
        "[Service]",
        "Type=oneshot",
        "Environment=" + " ".join(quote(f"{k}={v}") for k, v in schedule.environment().items()),
        "ExecStart=" + " ".join(quote(word) for word in schedule.argv()),
        f"StandardOutput=append:{log}",
        "StandardError=inherit",
        "",
    ]
    return {f"{name}.timer": "\n".join(timer), f"{name}.service": "\n".join(service)}


def available() -> bool:
    """True when a systemd user manager answers `systemctl --user`."""
    if shutil.which("systemctl") is None:
        return False
    try:
        done = subprocess.run(["systemctl", "--user", "show-environment"], capture_output=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0


def _systemctl(*args: str) -> str:
    done = subprocess.run(["systemctl", "--user", *args], capture_output=True, text=True, timeout=TIMEOUT)
    if done.returncode != 0:
        raise ScheduleError(f"`systemctl --user {' '.join(args)}` exited {done.returncode}: {done.stderr.strip()}")
    return done.stdout


def install(schedule: Schedule) -> None:
    """Write the unit files (replacing the runbook's earlier ones) and start the timer."""
    folder = unit_dir()
    folder.mkdir(parents=True, exist_ok=True)
    for file, text in render(schedule).items():
        tmp = folder / f".{file}.{uuid.uuid4().hex[:8]}"
        tmp.write_text(text)
        os.replace(tmp, folder / file)
    timer = f"{unit_name(schedule.runbook)}.timer"
    _systemctl("daemon-reload")
    _systemctl("enable", timer)
    _systemctl("restart", timer)  # an already running timer picks up its new schedule


def remove(runbook: str) -> bool:
    """Stop the runbook's timer and delete its unit files; False when it had none."""
    name = unit_name(runbook)
    files = [unit_dir() / f"{name}.timer", unit_dir() / f"{name}.service"]
    if not any(f.is_file() and parse_marker(f.read_text()) for f in files):
        return False
    if available():
        _systemctl("disable", "--now", f"{name}.timer")
    for f in files:
        f.unlink(missing_ok=True)
    if available():
        _systemctl("daemon-reload")
    return True


def _log(service: Path) -> Path | None:
    """The file a service of ours appends its output to."""
    for row in service.read_text().splitlines() if service.is_file() else []:
        if row.startswith("StandardOutput=append:"):
            return Path(row.split(":", 1)[1].replace("%%", "%"))
    return None


def listed() -> list[Listed]:
    """Ladder's timers in the user's unit folder, with systemd's next elapse when a user manager answers."""
    found = []
    live = available()
    for timer in sorted(unit_dir().glob(f"{PREFIX}*.timer")):
        mark = parse_marker(timer.read_text())
        if mark is None:
            continue
        log = _log(timer.with_suffix(".service"))
        upcoming = _systemctl("show", timer.name, "-p", "NextElapseUSecRealtime", "--value").strip() if live else ""
        found.append(Listed(mark["name"], mark["every"], "systemd", log, upcoming or None, last_run(mark["name"], log)))
    return found
