"""Shared by tests/ and the notebooks under nbval: an isolated LADDER_HOME, real sshd sandboxes, and the sandbox notebooks need."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from ladder import sandbox
from ladder.engine import state
from ladder.sandbox.sshd import find_sshd

ROOT = Path(__file__).resolve().parent
# Test notebooks are inputs of runner and browser tests, not notebooks to validate on their own.
collect_ignore_glob = ["tests/notebooks/*.ipynb", "tests/lab/*.ipynb"]
_saved_home: list[str | None] = []


def require_sshd() -> None:
    """Skip with a reason when sshd is missing; fail instead when LADDER_REQUIRE_SSHD=1."""
    if find_sshd() is None:
        _missing("no sshd binary on this machine (install openssh-server)")


def require_program(path: str, package: str) -> str:
    """The path of a program .ci/run installs; skip when it is missing, fail instead when LADDER_REQUIRE_SSHD=1."""
    if not os.access(path, os.X_OK):
        _missing(f"no {path} on this machine (install {package})")
    return path


def _missing(reason: str) -> None:
    if os.environ.get("LADDER_REQUIRE_SSHD") == "1":
        pytest.fail(f"LADDER_REQUIRE_SSHD=1 but {reason}")
    pytest.skip(reason)


def pytest_configure(config) -> None:
    """Each test process, and every notebook kernel it starts, gets its own LADDER_HOME, never the user's.

    Tests in one process share it (and its runs journal): a test that reads the journal sets its own.
    """
    _saved_home.append(os.environ.get("LADDER_HOME"))
    os.environ["LADDER_HOME"] = tempfile.mkdtemp(prefix="ladder-home-")


def pytest_unconfigure(config) -> None:
    home = Path(os.environ["LADDER_HOME"])
    sandbox.down(home / "sandbox")
    shutil.rmtree(home, ignore_errors=True)
    old = _saved_home.pop()
    if old is None:
        os.environ.pop("LADDER_HOME", None)
    else:
        os.environ["LADDER_HOME"] = old


TIERS = ("unit", "local", "ssh", "e2e")


def pytest_collection_modifyitems(config, items) -> None:
    """Every test runs in exactly one tier (notebooks are e2e), so `-m "unit or local"` is the fast loop."""
    wrong = []
    for item in items:
        if item.nodeid.split("::")[0].endswith(".ipynb"):
            item.add_marker(pytest.mark.e2e)
        tiers = sorted({mark.name for mark in item.iter_markers() if mark.name in TIERS})
        if len(tiers) != 1 or ("ssh_sandbox" in getattr(item, "fixturenames", ()) and tiers != ["ssh"]):
            wrong.append(f"{item.nodeid}: {', '.join(tiers) or 'no tier'}")
    if wrong:
        raise pytest.UsageError(
            "mark each test with exactly one tier of "
            + ", ".join(TIERS)
            + " (ssh for tests on ssh_sandbox):\n  "
            + "\n  ".join(wrong)
        )
    # Slowest files first (e2e, then ssh): with --dist loadfile the last files to start set the wall time, and a
    # long end-to-end file started last leaves the other worker idle for its whole run.
    rank = {tier: n for n, tier in enumerate(TIERS)}
    weight: dict[str, int] = {}
    for item in items:
        path = item.nodeid.split("::")[0]
        tier = next((m.name for m in item.iter_markers() if m.name in TIERS), "unit")
        weight[path] = max(weight.get(path, 0), rank[tier])
    items.sort(key=lambda item: -weight[item.nodeid.split("::")[0]])


def pytest_runtest_setup(item) -> None:
    """Notebooks run with their defaults, which point at the sandbox: make sure one is up."""
    if item.nodeid.split("::")[0].endswith(".ipynb"):
        # As `ladder sandbox up` makes it: staging and HAProxy (rung 4), Buildbot (3b), a log host and Prometheus (5).
        sandbox.up(Path(os.environ["LADDER_HOME"]) / "sandbox", balancer=True, logs=True, ci=True, monitoring=True)


@pytest.fixture(autouse=True)
def no_run_in_progress():
    """Each test starts with no run in progress in this process (a run's folder is kept until it ends)."""
    yield
    state.end()


@pytest.fixture
def ssh_sandbox(tmp_path) -> sandbox.Sandbox:
    """A fresh sandbox whose dev and prod hosts are real sshd servers on 127.0.0.1."""
    require_sshd()
    box = sandbox.up(tmp_path / "sandbox", ssh=True, hosts=1)
    yield box
    sandbox.down(box.dir)


@pytest.fixture(params=[("uwsgi", "supervisor"), ("gunicorn", "none")], ids=lambda p: "-".join(p))
def served_sandbox(request, tmp_path):
    """An SSH sandbox whose prod serves with each server the story meets: uWSGI under supervisor, bare gunicorn."""
    require_sshd()
    server, manager = request.param
    box = sandbox.up(tmp_path / "sandbox", ssh=True, hosts=1, server=server, manager=manager)
    yield box, server, manager
    sandbox.down(box.dir)


@pytest.fixture
def local_sandbox(tmp_path) -> sandbox.Sandbox:
    """A fresh sandbox whose hosts are folders on this machine."""
    box = sandbox.up(tmp_path / "sandbox")
    yield box
    sandbox.down(box.dir)
