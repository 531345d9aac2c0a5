"""The delivery pipeline's gates before prod, as `ladder gate coverage|load` runs them on the build host.

Each gate's figures are kept in the build host's journal (one row per build, kind coverage or load, with the
version and commit): the journal already holds the pipeline's approvals and deploys, so "the last release" (the
newest version that passed a gate and then reached prod) is a query over rows that sit side by side, and a figure survives the artifact
store's pruning of old versions.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..app import coverage_gate, http_smoke, load, load_gate, routes
from ..app.git import open_repo
from ..app.load_gate import Limits
from ..app.verdict import Verdict
from ..core.config import Config
from ..core.errors import LadderError
from ..engine import journal
from . import pipeline, steps

LOCUST_DEADLINE = 120  # seconds beyond the run's own duration before locust is stopped


def _record(cfg: Config, verdict: Verdict, version: str, sha: str, **extra: Any) -> None:
    """One journal row per gate run: the figures, the baseline held to, ok or failed with the reason."""
    params = {"version": version, "sha": sha, **verdict.figures, **extra,
              "baseline_version": verdict.baseline_version}  # fmt: skip
    journal.add(journal.journal_path(cfg.runs_dir), run_id=journal.new_run_id(), kind=verdict.gate, params=params,
                status="ok" if verdict.ok else "failed", error=None if verdict.ok else verdict.reason)  # fmt: skip


def released(cfg: Config) -> list[str]:
    """The versions deployed to prod, oldest first, from the journal's successful deploy rows."""
    rows = journal.history(journal.journal_path(cfg.runs_dir), kind="deploy")
    return [
        str(p["version"])
        for r in rows
        if r["status"] == "ok" and (p := r.get("params") or {}).get("environment") == "prod" and p.get("version")
    ]


def coverage(config: Config | str | Path | None, report: str | Path, version: str, sha: str) -> Verdict:
    """The coverage ratchet for a trunk build: its coverage.json against the last release's figure."""
    cfg = steps.config_of(config)
    current = coverage_gate.read_report(report)
    base = last_release(cfg, coverage_gate.GATE, "percent")
    if base is None:
        verdict = coverage_gate.judge(current, None, None)
    else:
        verdict = coverage_gate.judge(current, {"percent": base["percent"]}, str(base["version"]))
    _record(cfg, verdict, version, sha)
    return verdict


def last_release(cfg: Config, gate: str, figure: str) -> dict[str, Any] | None:
    """The params of gate's newest passing row with figure measured, for a version that then reached prod.

    A build that passed a gate and failed a later stage (the smoke suite, say) never shipped: it is no baseline.
    """
    shipped = set(released(cfg))
    for row in reversed(journal.history(journal.journal_path(cfg.runs_dir), kind=gate)):
        params = row.get("params") or {}
        if row["status"] == "ok" and params.get(figure) is not None and params.get("version") in shipped:
            return dict(params)
    return None


def locust_python() -> str:
    """The interpreter that runs locust: Ladder's own; LadderError naming the install when locust is missing."""
    if importlib.util.find_spec("locust") is None:
        raise LadderError(
            f"locust is not installed next to Ladder ({sys.executable}); install it: pip install 'ladder[gates]'"
        )
    return sys.executable


def run_locust(url: str, requests: list[tuple[str, str]], limits: Limits) -> tuple[load_gate.LoadFigures, list[str]]:
    """locust headless against url (loopback only) for limits.duration; its Aggregated figures and failures."""
    load.target(url)  # refuses anything off loopback before a process starts
    python = locust_python()
    with tempfile.TemporaryDirectory(prefix="ladder-load-") as scratch:
        file = Path(scratch) / "locustfile.py"
        file.write_text(load_gate.locustfile(requests))
        argv = load_gate.command(python, str(file), url, limits, str(Path(scratch) / "load"))
        try:
            done = subprocess.run(argv, cwd=scratch, capture_output=True, text=True,
                                  timeout=limits.duration + load_gate.STOP_TIMEOUT + LOCUST_DEADLINE)  # fmt: skip
        except subprocess.TimeoutExpired:
            raise LadderError(f"locust against {url} did not stop within its deadline; see the app's log") from None
        stats = Path(scratch) / "load_stats.csv"
        if done.returncode != 0 or not stats.is_file():
            raise LadderError(f"locust against {url} exited {done.returncode}: {done.stderr.strip()[-400:]}")
        failures = Path(scratch) / "load_failures.csv"
        found = load_gate.parse_failures(failures.read_text()) if failures.is_file() else []
        return load_gate.parse_stats(stats.read_text()), found


def load_test(config: Config | str | Path | None, environment: str, version: str, limits: Limits) -> Verdict:
    """locust against the environment's first host, the version's declared routes; held to the last release."""
    cfg = steps.config_of(config)
    host = cfg.environment(environment).hosts[0]
    url = f"http://{pipeline.http_address(host.address)}:{cfg.app_port(host)}"
    load.target(url)
    sha = pipeline.version_sha(cfg, version)
    requests = http_smoke.requests_for(routes.in_commit(open_repo(Path(cfg.app.repo)), sha))
    figures, failures = run_locust(url, requests, limits)
    base = last_release(cfg, load_gate.GATE, "p99_ms")
    base_figures = {k: base.get(k) for k in ("p99_ms", "error_rate")} if base else None
    verdict = load_gate.judge(figures, limits, base_figures, base["version"] if base else None)
    if failures and not verdict.ok:
        verdict = replace(verdict, reason=f"{verdict.reason}; most frequent: {failures[0]}")
    _record(cfg, verdict, version, sha, environment=environment, users=limits.users, duration=limits.duration)
    return verdict
