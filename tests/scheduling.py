"""For schedule tests: an example Schedule, the real crontab saved and restored, and a line run as cron runs it."""

from __future__ import annotations

import fcntl
import getpass
import os
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from ladder.engine.crontab import command_of
from ladder.engine.interval import parse_every
from ladder.engine.schedule import Schedule

USERS_LINES = (
    "MAILTO=''\n# the user's own jobs, which Ladder must never touch\n0 3 * * * /usr/bin/true # nightly backup\n"
)


def site(tmp_path: Path) -> Path:
    """A ladder.yml with one prod folder host under tmp_path; runs go to runs/."""
    (tmp_path / "hosts" / "prod1").mkdir(parents=True)
    (tmp_path / "ladder.yml").write_text(
        "app: {name: shop, repo: repo}\n"
        "environments: {prod: {hosts: [{name: prod1, address: local, base: hosts/prod1}]}}\n"
        "runs: runs\n"
    )
    return tmp_path


def example(**changes: object) -> Schedule:
    """A schedule of rung 1 on a team's machine, every hour, as `ladder schedule` would plan it."""
    base = Schedule(
        runbook="1-separate-dev-and-prod",
        path=Path("/srv/team/runbooks/1-separate-dev-and-prod.ipynb"),
        every=parse_every("1h"),
        config="/srv/team/ladder.yml",
        params=(("ref", "v1.2"),),
        apply=False,
        runs_dir=Path("/srv/team/runs"),
        ladder=Path("/opt/ladder/bin/ladder"),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def crontab_text() -> str:
    """The user's crontab now ('' when there is none)."""
    done = subprocess.run(["crontab", "-l"], capture_output=True, text=True, timeout=30)
    return done.stdout if done.returncode == 0 else ""


@contextmanager
def saved_crontab(seed: str = USERS_LINES) -> Iterator[str]:
    """Hold the crontab for one test at a time (across processes), seeded with the user's lines; restore it after."""
    with open(Path(tempfile.gettempdir()) / f"ladder-tests-crontab-{getpass.getuser()}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        before = subprocess.run(["crontab", "-l"], capture_output=True, text=True, timeout=30)
        try:
            subprocess.run(["crontab", "-"], input=seed, text=True, check=True, timeout=30)
            yield seed
        finally:
            if before.returncode == 0:
                subprocess.run(["crontab", "-"], input=before.stdout, text=True, check=True, timeout=30)
            else:
                subprocess.run(["crontab", "-r"], capture_output=True, timeout=30)


def run_as_cron(entry: str) -> subprocess.CompletedProcess:
    """Run a crontab line's command as cron does: `sh -c` from $HOME in a bare environment (HOME, LOGNAME, SHELL, PATH)."""
    home = os.path.expanduser("~")
    bare = {"HOME": home, "LOGNAME": getpass.getuser(), "SHELL": "/bin/sh", "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        ["env", "-i", *(f"{k}={v}" for k, v in bare.items()), "sh", "-c", command_of(entry)],
        cwd=home,
        capture_output=True,
        text=True,
        timeout=600,
    )
