"""The user's crontab: Ladder's lines, each found by its mark, edited without touching any other line."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

from ..core.errors import ScheduleError
from .interval import cadence, parse_every
from .schedule import Listed, Schedule, last_run, parse_marker

TIMEOUT = 30


def available() -> bool:
    """True when this machine has a `crontab` command."""
    return shutil.which("crontab") is not None


def line(schedule: Schedule) -> str:
    """The crontab line of a schedule: when, the bare environment's additions, the run, its log, the mark."""
    when = cadence(schedule.every, schedule.runbook).cron()
    env = " ".join(f"{name}={shlex.quote(value)}" for name, value in schedule.environment().items())
    run = shlex.join(schedule.argv())
    command = f"{env} {run} >> {shlex.quote(str(schedule.log))} 2>&1 {schedule.marker()}"
    escaped = command.replace("%", "\\%")  # cron turns a bare % into a newline (the rest becomes stdin)
    return f"{when} {escaped}"


def command_of(entry: str) -> str:
    """The command cron hands to `sh -c` for a crontab line: past the five time fields, with \\% made %."""
    return entry.split(None, 5)[5].replace("\\%", "%")


def read() -> str:
    """The user's crontab as text; '' when there is none."""
    done = subprocess.run(["crontab", "-l"], capture_output=True, text=True, timeout=TIMEOUT)
    if done.returncode == 0:
        return done.stdout
    if "no crontab" in done.stderr.lower():
        return ""
    raise ScheduleError(f"`crontab -l` exited {done.returncode}: {done.stderr.strip()}")


def write(text: str) -> None:
    """Replace the user's crontab with text (crontab checks it and refuses a bad one)."""
    done = subprocess.run(["crontab", "-"], input=text, capture_output=True, text=True, timeout=TIMEOUT)
    if done.returncode != 0:
        raise ScheduleError(f"`crontab -` refused the new crontab: {done.stderr.strip()}")


def _ours(entry: str, runbook: str | None = None) -> bool:
    """True for a line Ladder installed (for that runbook, when given)."""
    mark = parse_marker(entry) if not entry.lstrip().startswith("#") else None
    return mark is not None and (runbook is None or mark["name"] == runbook)


def replaced(text: str, runbook: str, entry: str | None) -> str:
    """The crontab with the runbook's line taken out and, when given, the new one appended; others as they were."""
    kept = [ln for ln in text.splitlines(keepends=True) if not _ours(ln, runbook)]
    if kept and not kept[-1].endswith("\n"):
        kept[-1] += "\n"
    return "".join(kept) + (entry + "\n" if entry is not None else "")


def install(schedule: Schedule) -> None:
    """Add the schedule's line, replacing the runbook's earlier one."""
    write(replaced(read(), schedule.runbook, line(schedule)))


def remove(runbook: str) -> bool:
    """Take the runbook's line out; False when there was none."""
    text = read()
    if not any(_ours(ln, runbook) for ln in text.splitlines()):
        return False
    write(replaced(text, runbook, None))
    return True


def _log(entry: str) -> Path | None:
    """The file a line of ours appends to (the word after `>>`)."""
    words = shlex.split(command_of(entry), comments=True)
    return Path(words[words.index(">>") + 1]) if ">>" in words[:-1] else None


def _next(entry: str, runbook: str, every: str) -> str | None:
    """When the line runs next; None when its time fields were edited by hand."""
    try:
        when = cadence(parse_every(every), runbook)
    except ScheduleError:
        return None
    if entry.split(None, 5)[:5] != when.cron().split():
        return None
    return when.next_after(datetime.now()).strftime("%Y-%m-%d %H:%M")


def listed() -> list[Listed]:
    """Ladder's lines in the user's crontab."""
    found = []
    for entry in read().splitlines():
        if _ours(entry):
            mark = parse_marker(entry) or {}
            log = _log(entry)
            name = mark["name"]
            found.append(
                Listed(name, mark["every"], "cron", log, _next(entry, name, mark["every"]), last_run(name, log))
            )
    return found
