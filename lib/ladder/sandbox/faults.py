"""Faults on the sandbox: kill a rung-1 apply at a named step, then check what it left (tests/faults, bench/faults.py)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from ..app import health
from ..app.deploy import VERSION_FILE, version_of
from ..app.layout import Layout
from ..core.config import load_config
from ..engine import journal, pausepoint

# The named steps of a rung-1 apply a kill lands on ("deploy step:prod2": prod2's deploy, prod1's may be done).
STEPS = ("setup", "dev environment", "prod edits", "deploy step", "deploy step:prod2", "verify")
EDIT_MARK = "HOTFIX (edited on prod)"  # the line the story's team added to prod in place (see sandbox)
WAIT = 600.0
TEMP = re.compile(r"\.ladder-[0-9a-f]{8}$")  # a bound on waiting for a run, never a measured time


def apply_command(runbook: Path, config: Path, runs: Path) -> list[str]:
    """`ladder run RUNBOOK --apply` on the sandbox, into runs."""
    return [
        sys.executable,
        "-m",
        "ladder.cli",
        "run",
        str(runbook),
        "--apply",
        "--config",
        str(config),
        "--out",
        str(runs),
    ]


def kill_at(step: str, runbook: Path, config: Path, runs: Path, fifo: Path) -> bool:
    """Start an apply, SIGKILL it (runner and kernel) when it reaches step; False when it ended before."""
    return kill_command_at(step, apply_command(runbook, config, runs), fifo)


def kill_command_at(step: str, command: list[str], fifo: Path) -> bool:
    """Start command, SIGKILL its process group when it reaches the pause point step; False when it ended before."""
    if not fifo.exists():
        os.mkfifo(fifo)
    env = {**os.environ, pausepoint.AT: step, pausepoint.FIFO: str(fifo)}
    proc = subprocess.Popen(
        command, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    reached = threading.Event()

    def listen() -> None:
        with open(fifo) as f:  # opens when the run writes the step's name
            if f.read().strip() == step:
                reached.set()

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    while proc.poll() is None and not reached.wait(0.05):
        pass
    if reached.is_set():
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=WAIT)
    if listener.is_alive():  # the run ended first: unblock the listener's open
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    return reached.is_set()


def copy_prod(box_dir: Path) -> list[Path]:
    """Make each prod app folder a copied one, as scp then an edit leave it: its files (edit included), no .git."""
    cfg = load_config(box_dir / "ladder.yml")
    apps = [Path(Layout(hc.base).app) for hc in cfg.environment("prod").hosts]
    for app in apps:
        shutil.rmtree(app / ".git")
    return apps


def converge(runbook: Path, config: Path, runs: Path) -> bool:
    """Run the apply again to its end; True when it ends ok."""
    done = subprocess.run(apply_command(runbook, config, runs), capture_output=True, text=True, timeout=WAIT)
    return done.returncode == 0


def _git(app: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(app), *args], capture_output=True, text=True, timeout=60).stdout


@dataclass
class Findings:
    """What a look at the sandbox found: each list names a problem; empty lists are the goal."""

    partial: list[str] = field(default_factory=list)  # a host or file left half-changed
    lost_edits: list[str] = field(default_factory=list)  # a prod edit neither in place nor saved
    not_serving: list[str] = field(default_factory=list)  # a prod host whose health check fails
    journal: list[str] = field(default_factory=list)  # a row that does not tell how its run ended

    @property
    def ok(self) -> bool:
        """True when nothing was found."""
        return not (self.partial or self.lost_edits or self.not_serving or self.journal)


def look(box_dir: Path, runs: Path) -> Findings:
    """Check the invariants: prod serves, no partial state, prod edits kept, the journal consistent."""
    cfg = load_config(box_dir / "ladder.yml")
    found = Findings()
    patches = " ".join(p.read_text() for p in runs.glob("*/prod-edits/*.patch"))
    for hc in cfg.environment("prod").hosts:
        lay = Layout(hc.base)
        app = Path(lay.app)
        result = health.wait(f"http://127.0.0.1:{cfg.app_port(hc)}{cfg.app.health_path}", timeout=30)
        if not result.ok:
            found.not_serving.append(f"{hc.name}: {result.error or result.status}")
        head = _git(app, "rev-parse", "HEAD").strip()
        version = app / VERSION_FILE
        if version.exists() and version.read_text().strip() != version_of(head):
            found.partial.append(f"{hc.name}: VERSION {version.read_text().strip()} but HEAD {head[:12]}")
        if result.ok and version.exists() and result.version != version_of(head):
            found.partial.append(f"{hc.name}: serves {result.version} but HEAD is {head[:12]}")
        if (app / ".git" / "index.lock").exists():
            found.partial.append(f"{hc.name}: a git operation was cut short (index.lock)")
        # Host.write_text's temporary files (NAME.ladder-<8 hex>); a killed apply's lock file is stale, not partial.
        leftovers = [
            p.name for p in Path(lay.base).rglob("*.ladder-*") if TEMP.search(p.name) and ".git" not in p.parts
        ]
        if leftovers:
            found.partial.append(f"{hc.name}: half-written files {leftovers}")
        edits_dir = Path(lay.edits)
        saved = patches + " ".join(p.read_text() for p in edits_dir.glob("*.patch")) if edits_dir.is_dir() else patches
        if EDIT_MARK not in (app / "app.py").read_text() and EDIT_MARK not in saved:
            found.lost_edits.append(hc.name)
    jpath = journal.journal_path(runs)
    journal.reap(jpath)
    for row in journal.history(jpath):
        if row["status"] == "running" or (row["status"] != "running" and not row["ended"]):
            found.journal.append(f"{row['id']}: {row['status']}, ended {row['ended']}")
        if row["status"] == "ok" and not (runs / row["id"] / "result.json").is_file():
            found.journal.append(f"{row['id']}: ok without result.json")
    return found


def converged(box_dir: Path) -> bool:
    """True when every prod host serves one commit, the origin's master, from a clean checkout."""
    cfg = load_config(box_dir / "ladder.yml")
    master = _git(box_dir / "app", "rev-parse", "master").strip()
    for hc in cfg.environment("prod").hosts:
        app = Path(Layout(hc.base).app)
        if _git(app, "rev-parse", "HEAD").strip() != master or _git(app, "status", "--porcelain").strip():
            return False
    return True
