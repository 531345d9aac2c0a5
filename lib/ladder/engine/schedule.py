"""A runbook on a timer: checked like `ladder run`, installed as a cron line or a systemd user timer."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.config import ladder_home
from ..core.errors import RunbookError, ScheduleError
from ..core.paths import inside
from . import journal
from .interval import Every, parse_every
from .runbooks import resolve
from .runlock import FOLDER
from .runner import prepare

MARK = "ladder-schedule"  # every line or unit file Ladder installs carries it; nothing else is touched
BACKENDS = ("cron", "systemd")
# Cron starts jobs with PATH=/usr/bin:/bin; runbooks also need git and ssh wherever the system keeps them.
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class Schedule:
    """One runbook run every so often: what runs, with which config and parameters, and where it logs."""

    runbook: str
    path: Path  # the runbook file, absolute: cron starts in $HOME, where ./runbooks is not
    every: Every
    config: str  # absolute path of the ladder.yml, or "" for a runbook run without one
    params: tuple[tuple[str, str], ...]
    apply: bool
    runs_dir: Path
    ladder: Path  # the `ladder` executable, absolute

    @property
    def log(self) -> Path:
        """Where the scheduled runs' output goes: next to the runbook's run lock, in the runs home."""
        return inside(self.runs_dir, FOLDER, f"{self.runbook}.log", what="runbook name")

    def argv(self) -> list[str]:
        """The `ladder run` command line a scheduler starts."""
        params = [word for name, value in self.params for word in ("-p", name, value)]
        apply = ["--apply"] if self.apply else []
        return [str(self.ladder), "run", str(self.path), "--scheduled", "--config", self.config, *params, *apply]

    def environment(self) -> dict[str, str]:
        """What the bare environment of cron or systemd lacks: the ladder home and a PATH with Ladder's venv."""
        return {"LADDER_HOME": str(ladder_home().absolute()), "PATH": f"{self.ladder.parent}:{SYSTEM_PATH}"}

    def marker(self) -> str:
        """The comment that marks what Ladder installed, naming the runbook and the interval."""
        return f"# {MARK} name={shlex.quote(self.runbook)} every={self.every.text}"


def parse_marker(text: str) -> dict[str, str] | None:
    """{'name': ..., 'every': ...} from a line carrying Ladder's mark, else None."""
    at = text.find(f"# {MARK} ")
    if at < 0:
        return None
    try:
        fields = dict(word.split("=", 1) for word in shlex.split(text[at + len(MARK) + 3 :]) if "=" in word)
    except ValueError:
        return None
    return fields if {"name", "every"} <= set(fields) else None


@dataclass(frozen=True)
class Listed:
    """An installed schedule as `ladder schedule --list` shows it."""

    runbook: str
    every: str
    backend: str
    log: Path | None
    next: str | None  # when it runs next, if the backend says cheaply
    last: dict[str, Any] | None  # its latest scheduled run in the journal


def last_run(runbook: str, log: Path | None) -> dict[str, Any] | None:
    """A schedule's latest run, from the journal of the runs home its log is in."""
    if log is None:
        return None
    return journal.last_run(journal.journal_path(log.parent.parent), runbook=runbook, trigger=journal.SCHEDULE)


def ladder_executable() -> Path:
    """The `ladder` script of this installation (beside its Python), else the one on PATH."""
    beside = Path(sys.executable).absolute().parent / "ladder"
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which("ladder")
    if found is None:
        raise ScheduleError(
            f"no `ladder` executable beside {sys.executable} or on PATH; install Ladder with pip so a scheduler can run it"
        )
    return Path(found).absolute()


def plan(
    runbook: str | Path,
    every: str,
    *,
    params: Iterable[tuple[str, str]] = (),
    config: str | Path | None = None,
    apply: bool = False,
    root: str | Path | None = None,
) -> Schedule:
    """Check a schedule as `ladder run` checks a run (runbook, parameters, config), touching nothing."""
    interval = parse_every(every)
    pairs = tuple((name, value) for name, value in params)
    checked = prepare(runbook, text_params=dict(pairs), config=config, apply=apply, root=root)
    path = checked.config.path if checked.config is not None else None
    return Schedule(
        checked.runbook.name,
        checked.runbook.path.absolute(),
        interval,
        str(Path(path).absolute()) if path is not None else "",
        pairs,
        apply,
        checked.runs_dir,
        ladder_executable(),
    )


def name_of(runbook: str | Path, root: str | Path | None = None) -> str:
    """A runbook's name from what a person typed (a rung, a name, a path), even once its file is gone."""
    try:
        return resolve(runbook, root).name
    except RunbookError:
        return Path(runbook).name.removesuffix(".ipynb")
