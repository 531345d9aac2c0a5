"""ladder.engine.runlock: one scheduled run of a runbook at a time; the next one is skipped, and a killed run frees it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ladder.core.errors import PathOutside, RunLocked
from ladder.engine import journal, runlock

BOOKS = Path(__file__).parent / "notebooks"


def holder(runs: Path) -> subprocess.Popen:
    """Another process that holds the lock of runbook 'x' until its stdin closes; it prints 'held' once it does."""
    code = textwrap.dedent(
        f"""
        import sys
        from ladder.engine.runlock import held
        with held({str(runs)!r}, "x"):
            print("held", flush=True)
            sys.stdin.read()
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline() == "held\n"
    return proc


@pytest.mark.local
def test_a_second_holder_is_refused_at_once_naming_the_first(tmp_path):
    proc = holder(tmp_path)
    try:
        with pytest.raises(RunLocked) as err:
            with runlock.held(tmp_path, "x"):
                pytest.fail("the lock was taken twice")
        assert f"pid {proc.pid} since " in err.value.holder and err.value.lock == tmp_path / "schedule" / "x.lock"
        with runlock.held(tmp_path, "y"):  # another runbook is not held up
            pass
    finally:
        proc.communicate(timeout=30)
    with runlock.held(tmp_path, "x") as path:  # released when its holder ended
        assert path.is_file()


@pytest.mark.local
def test_a_holder_killed_mid_run_leaves_no_stale_lock(tmp_path):
    proc = holder(tmp_path)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    with runlock.held(tmp_path, "x"):
        pass


def ladder_run_scheduled(site: Path, fifo: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "ladder.cli", "run", str(BOOKS / "6-hold.ipynb"), "--scheduled"]
    command += ["--config", "ladder.yml", "-p", "fifo", str(fifo)]
    return subprocess.Popen(command, cwd=site, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_until_holding(site: Path, proc: subprocess.Popen, seen: int) -> None:
    """Until a new run of 6-hold has reached its holding cell (a bound on waiting, not a timing assertion)."""
    deadline = time.monotonic() + 120
    while len(list((site / "runs").glob("*/holding"))) <= seen:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the runbook never reached its holding cell"
        time.sleep(0.05)


def release(fifo: Path, *, wait: bool = True) -> None:
    """Let the run reading the FIFO go on: open it for writing and close it; wait=False when no run may read it."""
    deadline = time.monotonic() + 120
    while True:
        try:  # without a reader yet, this fails at once (ENXIO) rather than blocking
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            return
        except OSError:
            if not wait or time.monotonic() > deadline:
                return
            time.sleep(0.05)


@pytest.mark.e2e
def test_a_scheduled_run_that_starts_while_the_previous_one_runs_is_skipped(tmp_path):
    (tmp_path / "ladder.yml").write_text(
        "app: {name: shop, repo: repo}\n"
        "environments: {prod: {hosts: [{name: prod1, address: local, base: prod1}]}}\n"
        "runs: runs\n"
    )
    fifo = tmp_path / "go"
    os.mkfifo(fifo)
    first = ladder_run_scheduled(tmp_path, fifo)
    procs = [first]
    try:
        wait_until_holding(tmp_path, first, 0)
        second = ladder_run_scheduled(tmp_path, fifo)
        procs.append(second)
        out, err = second.communicate(timeout=300)
        assert second.returncode == 0, err
        assert out.startswith("skipped: 6-hold at ") and f"previous scheduled run (pid {first.pid} since " in out
        assert len([p for p in (tmp_path / "runs").iterdir() if p.is_dir() and p.name != "schedule"]) == 1
        release(fifo)
        assert first.wait(timeout=300) == 0, first.communicate()
        third = ladder_run_scheduled(tmp_path, fifo)  # the previous run is over: this one goes ahead
        procs.append(third)
        wait_until_holding(tmp_path, third, 1)
        release(fifo)
        assert third.wait(timeout=300) == 0, third.communicate()
    finally:
        release(fifo, wait=False)
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
    rows = journal.history(journal.journal_path(tmp_path / "runs"))
    assert [(r["runbook"], r["status"], r["trigger"]) for r in rows] == [("6-hold", "ok", "schedule")] * 2


@pytest.mark.unit
def test_a_runbook_name_that_leads_out_of_the_runs_home_is_refused(tmp_path):
    with pytest.raises(PathOutside, match="runbook name"):
        runlock.lock_path(tmp_path, "../../x")
    assert runlock.lock_path(tmp_path, "rung1") == tmp_path / runlock.FOLDER / "rung1.lock"
