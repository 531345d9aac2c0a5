"""ladder.engine.runlock: one scheduled run of a runbook at a time; the next one is skipped, and a killed run frees it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ladder.core.errors import EnvironmentLocked, PathOutside, RunLocked
from ladder.engine import journal, runlock

BOOKS = Path(__file__).parent / "notebooks"


def holding(setup: str, lock: str) -> subprocess.Popen:
    """Another process that runs setup, then holds `with lock:` until its stdin closes; it says 'held' once it does."""
    code = f"import sys\n{setup}\nwith {lock}:\n    print('held', flush=True)\n    sys.stdin.read()\n"
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline() == "held\n"
    return proc


def holder(runs: Path) -> subprocess.Popen:
    """Another process that holds the lock of runbook 'x' until its stdin closes."""
    return holding("from ladder.engine.runlock import held", f"held({str(runs)!r}, 'x')")


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


# --- applies: one per environment, here and on each host ----------------------------------------
def site(tmp_path: Path) -> Path:
    """A ladder.yml whose dev and prod hosts are folders; the runs home is runs/."""
    for name in ("dev1", "prod1", "prod2"):
        (tmp_path / name).mkdir()
    (tmp_path / "ladder.yml").write_text(
        "app: {name: shop, repo: repo}\n"
        "environments:\n"
        "  dev: {hosts: [{name: dev1, address: local, base: dev1}]}\n"
        "  prod: {hosts: [{name: prod1, address: local, base: prod1}, {name: prod2, address: local, base: prod2}]}\n"
        "runs: runs\n"
    )
    return tmp_path


def env_holder(where: Path) -> subprocess.Popen:
    """Another process that holds every environment of where/ladder.yml until its stdin closes."""
    setup = "from ladder import load_config\nfrom ladder.engine.runlock import environments\n"
    setup += f"cfg = load_config({str(where / 'ladder.yml')!r})"
    return holding(setup, "environments(cfg, cfg.runs_dir)")


@pytest.mark.local
def test_a_second_apply_is_refused_naming_who_holds_the_environment(tmp_path):
    from ladder import load_config

    cfg = load_config(site(tmp_path) / "ladder.yml")
    proc = env_holder(tmp_path)
    try:
        assert (tmp_path / "prod1" / runlock.HOST_LOCK).is_file()  # a lock file on each host too
        with pytest.raises(EnvironmentLocked) as err:
            with runlock.environments(cfg, cfg.runs_dir):
                pytest.fail("two applies held dev and prod at once")
        assert err.value.environment == "dev" and err.value.pid == proc.pid and err.value.since
        assert f"pid {proc.pid} on " in str(err.value) and "ladder run --wait" in str(err.value)
        assert (tmp_path / "prod1" / runlock.HOST_LOCK).is_file()  # the refused apply removed nobody's lock
    finally:
        proc.communicate(timeout=30)
    assert not (tmp_path / "prod1" / runlock.HOST_LOCK).exists()  # released when the holder ended its block
    with runlock.environments(cfg, cfg.runs_dir) as held_now:
        assert held_now == ["dev", "prod"]


@pytest.mark.local
def test_a_host_lock_is_stale_when_its_owner_is_gone_or_too_old(tmp_path):
    from ladder import load_config

    cfg = load_config(site(tmp_path) / "ladder.yml")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    lock = tmp_path / "prod2" / runlock.HOST_LOCK
    here = json.dumps({"pid": int(dead.stdout), "host": socket.gethostname(), "since": journal.now()})
    lock.write_text(here + "\n")  # a killed apply's lock: its process is gone
    with runlock.environments(cfg, cfg.runs_dir, ["prod"]):
        assert json.loads(lock.read_text())["pid"] == os.getpid()
    elsewhere = {"pid": 1, "host": "another-machine", "since": journal.now()}
    lock.write_text(json.dumps(elsewhere))  # an apply from another machine: nobody here can tell it is gone
    with pytest.raises(EnvironmentLocked) as err:
        with runlock.environments(cfg, cfg.runs_dir, ["prod"]):
            pass
    assert err.value.host == "another-machine" and err.value.lock.startswith("prod2:")
    assert not (tmp_path / "prod1" / runlock.HOST_LOCK).exists()  # all or none: prod1's was let go
    with runlock.environments(cfg, cfg.runs_dir, ["prod"], stale_after=0):  # past the age limit
        pass
    assert not lock.exists()


@pytest.mark.local
def test_a_waiting_apply_goes_on_when_the_holder_ends(tmp_path):
    import threading

    from ladder import load_config

    cfg = load_config(site(tmp_path) / "ladder.yml")
    proc = env_holder(tmp_path)
    got: list[list[str]] = []

    def second() -> None:
        with runlock.environments(cfg, cfg.runs_dir, wait=True) as names:
            got.append(names)

    waiter = threading.Thread(target=second)
    waiter.start()
    waiter.join(timeout=2 * runlock.POLL)
    assert waiter.is_alive() and not got  # still waiting while the holder holds
    proc.communicate(timeout=30)
    waiter.join(timeout=60)
    assert got == [["dev", "prod"]]


def ladder_run(where: Path, fifo: Path, *flags: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "ladder.cli", "run", str(BOOKS / "6-hold.ipynb"), *flags]
    command += ["--config", "ladder.yml", "-p", "fifo", str(fifo)]
    return subprocess.Popen(command, cwd=where, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.e2e
def test_ladder_run_apply_exits_2_while_another_apply_runs_or_waits_with_wait(tmp_path):
    site(tmp_path)
    fifo = tmp_path / "go"
    os.mkfifo(fifo)
    first = ladder_run(tmp_path, fifo, "--apply")
    procs = [first]
    try:
        wait_until_holding(tmp_path, first, 0)
        second = ladder_run(tmp_path, fifo, "--apply")
        procs.append(second)
        out, err = second.communicate(timeout=300)
        assert second.returncode == 2, (out, err)
        assert f"environment dev is being changed by another apply (pid {first.pid} on " in err
        dry = ladder_run(tmp_path, fifo)  # a dry run never locks: it goes on to its holding cell
        procs.append(dry)
        wait_until_holding(tmp_path, dry, 1)
        waiting = ladder_run(tmp_path, fifo, "--apply", "--wait")
        procs.append(waiting)
        deadline = time.monotonic() + 300
        while any(p.poll() is None for p in (first, dry, waiting)):  # let every holding run end
            assert time.monotonic() < deadline, "the runs never ended"
            release(fifo, wait=False)
            time.sleep(0.05)
        assert [p.returncode for p in (first, dry, waiting)] == [0, 0, 0], waiting.communicate()
    finally:
        release(fifo, wait=False)
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
    rows = journal.history(journal.journal_path(tmp_path / "runs"))
    assert sorted(r["params"]["dry_run"] for r in rows) == [False, False, True]  # no row for the refused apply
    assert {r["status"] for r in rows} == {"ok"}
    applies = [r for r in rows if r["params"]["dry_run"] is False]
    assert applies[1]["started"] >= applies[0]["ended"]  # the waiting apply began once the first had ended


@pytest.mark.local
def test_an_apply_leaves_the_environments_its_runbook_delegates_unlocked(tmp_path):
    import nbformat

    from ladder.engine import runner

    site(tmp_path)
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell('config = "ladder.yml"\ndry_run = True', metadata={"tags": ["parameters"]}),
            nbformat.v4.new_code_cell(
                "from ladder import load_config\n"
                "from ladder.core.errors import EnvironmentLocked\n"
                "from ladder.engine.runlock import environments\n"
                "cfg = load_config(config)\n"
                "with environments(cfg, cfg.runs_dir, ['prod']) as held:\n"  # what the CI server's deploy takes
                "    assert held == ['prod']\n"
                "try:\n"
                "    with environments(cfg, cfg.runs_dir, ['dev']):\n"
                "        raise AssertionError('dev was not held by the apply')\n"
                "except EnvironmentLocked:\n"
                "    pass\n"
            ),
            nbformat.v4.new_code_cell('import ladder\nladder.record("ok")'),
        ],
        metadata={
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "ladder": {"requires": {"delegates": ["prod"]}},
        },
    )
    book = tmp_path / "9-delegate.ipynb"
    nbformat.write(nb, book)
    done = runner.run(book, config=tmp_path / "ladder.yml", apply=True, out_dir=tmp_path / "runs")
    assert done.ok, done.error and done.error.describe()
