"""Rung 4, continuous delivery: one function per runbook step, each taking the config."""

from __future__ import annotations

import html
import re
import sys
import tempfile
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from ..app import artifact, ci_server, ci_stages, health, trunk
from ..app.ci_render import SHIPS, Pipeline
from ..app.ci_stages import Run
from ..app.parity import Chart
from ..core import ops
from ..core.config import Config, ladder_home
from ..core.errors import HostError, LadderError, ParameterError
from ..core.hosts import connect
from ..core.markup import styler
from ..engine import journal, pausepoint
from ..engine.notebooks import runbooks_dir
from ..engine.record import record_step
from . import pipeline, rung1, steps

RUNBOOK = "4-continuous-delivery"
REPO = rung1.REPO
GOOD, BROKEN, FIX = "good commit", "broken commit", "fix forward"
NOTES = "NOTES.md"
BROKEN_FILE = "app.py"
# The sandbox app's ROUTES list names each GET handler, which answers (status, body): the broken commit makes the
# first one other than health and index answer 500.
_GET_ROUTE = re.compile(r'\(\s*"GET",\s*"[^"]+",\s*(?!health\b|index\b)(\w+)\s*\)')
# It fails only outside the test suite (rung 2's conftest sets APP_ENV=test), as a bug that depends on the deployed
# environment does: CI's tests pass, the smoke suite against staging does not (the app answers 500 on the error).
# One statement the tests execute, so the coverage gate before staging does not stop it first.
BROKEN_LINE = '    assert __import__("os").environ.get("APP_ENV") == "test", "broken on purpose (Ladder rung 4 demo)"\n'

RUN_DEADLINE = 900  # a build, two deploys and a smoke suite on a loaded machine
STAGE_COLOURS = {"success": "#4caf50", "failure": "#e57373", "running": "#9e9e9e", "not run": "#e0e0e0"}


def setup(config: Config | str | Path, ship: str = "auto") -> Config:
    """Load the config and check the parameters (ship; ci:, staging and prod in ladder.yml) before any host."""
    if ship not in SHIPS:
        raise ParameterError(f"parameter 'ship': {ship!r} is not one of {', '.join(SHIPS)}")
    cfg = steps.config_of(config)
    ci_server.setup_for(cfg)
    cfg.environment("staging")
    cfg.environment("prod")
    steps.declare(RUNBOOK, cfg)
    pausepoint.point("setup")
    return cfg


def pipeline_for(cfg: Config, ship: str) -> Pipeline:
    """How the build host runs Ladder: this Python and package, with this ladder.yml and this LADDER_HOME.

    On the sandbox the build host is this machine; a team installs Ladder on its build host
    (`pip install ladder` in a venv) and points LADDER_CONFIG at the build host's ladder.yml.
    """
    lib = str(Path(__file__).resolve().parents[2])  # the folder holding the ladder package
    env = {"LADDER_CONFIG": str(cfg.path), "LADDER_HOME": str(ladder_home()), "PYTHONPATH": lib,
           "LADDER_RUNBOOKS": str(runbooks_dir().resolve())}  # fmt: skip
    return Pipeline((sys.executable, "-m", "ladder.cli"), tuple(env.items()), ship)


# --- step: the pipeline on the CI server --------------------------------------------------
def configure(config: Config | str | Path, ship: str, *, dry_run: bool = True) -> list[ops.Change]:
    """The trunk builder gains the delivery stages: build once, staging, smoke over HTTP, the ship decision, prod."""
    cfg = steps.config_of(config)
    pausepoint.point("pipeline")
    installed = ci_server.installed_pipeline(cfg)  # rung 5a's canary, when it is the prod stage, stays
    pipeline = replace(pipeline_for(cfg, ship), canary=installed.canary if installed else None)
    changes = ci_server.install(cfg, pipeline=pipeline, dry_run=dry_run)
    record_step("pipeline", changes)
    return changes


# --- the report ---------------------------------------------------------------------------
@dataclass(frozen=True)
class PipelineReport:
    """Trunk builds with their stages, which of them this run pushed, and what prod served before and after."""

    runs: tuple[Run, ...]
    pushed: dict[str, tuple[str, datetime]] = field(default_factory=dict)  # revision -> (role, push time)
    prod: dict[str, dict[str, str | None]] = field(default_factory=dict)  # "before" or role -> host -> version
    note: str = ""

    def role(self, run: Run) -> str:
        """good commit, broken commit or fix forward for a run of this step's pushes, else ''."""
        return self.pushed.get(run.revision, ("", None))[0]

    def to_prod(self, run: Run) -> float | None:
        """Seconds from the push to prod serving it, for a run that reached prod."""
        done = run.stage("deploy prod")
        pushed = self.pushed.get(run.revision)
        if done is None or done.complete is None or done.result != "success" or pushed is None:
            return None
        return (done.complete - pushed[1]).total_seconds()

    def table(self) -> pd.DataFrame:
        """One row per trunk build: its commit, each stage's result and time, how far it went."""
        names = list(dict.fromkeys(s.name for r in self.runs for s in r.stages))
        rows = []
        for r in self.runs:
            row: dict[str, Any] = {"build": f"#{r.number}", "commit": r.revision[:10], "this run": self.role(r)}
            for name in names:
                s = r.stage(name)
                row[name] = "" if s is None else s.result + ("" if s.seconds is None else f" ({s.seconds:.0f} s)")
            row["reached"] = r.reached
            row["push to prod (s)"] = None if (t := self.to_prod(r)) is None else round(t, 1)
            rows.append(row)
        return steps.table(rows, ["build", "commit", "this run", *names, "reached", "push to prod (s)"])

    def styled(self) -> Any:
        """The table with each stage cell coloured by its result."""

        def colour(value: object) -> str:
            word = str(value).split(" (")[0]
            return f"background-color: {STAGE_COLOURS[word]}" if word in STAGE_COLOURS else ""

        stages = [
            c for c in self.table().columns if c not in ("build", "commit", "this run", "reached", "push to prod (s)")
        ]
        styles = [{"selector": "th, td", "props": "text-align: left; vertical-align: top"}]
        styled = styler(self.table()).hide(axis="index").map(colour, subset=stages).set_table_styles(styles)
        return styled.format("{:.1f}", subset=["push to prod (s)"], na_rep="")

    def summary(self) -> str:
        """One line per pushed commit: how far it went; and prod's version before and after."""
        if not self.runs:
            return self.note or "no trunk build yet"
        parts = []
        for r in self.runs:
            if role := self.role(r):
                t = self.to_prod(r)
                parts.append(f"{role} {r.revision[:7]}: {r.result}, reached {r.reached or 'nothing'}"
                             + (f", prod {t:.0f} s after the push" if t is not None else ""))  # fmt: skip
        prod = "".join(
            f"; prod {'before' if k == 'before' else 'after the ' + k}: {_versions(v)}" for k, v in self.prod.items()
        )
        return ("; ".join(parts) or f"{len(self.runs)} trunk build(s)") + prod + (f". {self.note}" if self.note else "")

    def chart(self) -> Chart:
        """A timeline per trunk build: each stage as a bar from its start, seconds after the build started."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.patches import Patch

        fig = Figure(figsize=(8, 1.0 + 0.45 * max(1, len(self.runs))))
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        for i, r in enumerate(self.runs):
            for s in r.stages:
                if s.started is None:
                    continue
                end = s.complete or s.started
                left = (s.started - r.started).total_seconds()
                ax.barh(i, max(0.3, (end - s.started).total_seconds()), left=left,
                        color=STAGE_COLOURS.get(s.result, "#ffb74d"), edgecolor="white")  # fmt: skip
                if s.seconds and s.seconds >= 5:
                    ax.text(left + 0.3, i, s.name, va="center", fontsize="x-small")
        ax.set_yticks(range(len(self.runs)))
        ax.set_yticklabels([f"#{r.number} {r.revision[:7]} {self.role(r)}".strip() for r in self.runs])
        ax.invert_yaxis()
        ax.set_xlabel("seconds since the build started")
        ax.set_title("Trunk builds through the pipeline, stage by stage" if self.runs else "No trunk build yet")
        shown = sorted({s.result for r in self.runs for s in r.stages})
        ax.legend(handles=[Patch(color=STAGE_COLOURS.get(x, "#ffb74d"), label=x) for x in shown], fontsize="small")
        fig.tight_layout()
        return Chart(fig)

    def __repr__(self) -> str:
        return self.summary() + "\n" + self.table().to_string(index=False)

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(self.summary())}</p>" + self.styled().to_html()


def _versions(found: dict[str, str | None]) -> str:
    return ", ".join(f"{h} {v}" for h, v in found.items()) or "-"


def prod_versions(cfg: Config) -> dict[str, str | None]:
    """The version each prod host reports on its health path, asked over HTTP from here."""
    return {
        h.name: health.check(
            f"http://{pipeline.http_address(h.address)}:{cfg.app_port(h)}{cfg.app.health_path}"
        ).version
        for h in cfg.environment("prod").hosts
    }


# --- pushing commits to trunk and following them ------------------------------------------
def break_route(text: str) -> str:
    """app.py with its first GET route's handler (not health, not index) answering 500; LadderError when none."""
    route = _GET_ROUTE.search(text)
    found = route and re.search(rf"^def {route.group(1)}\(.*\):\n", text, re.M)
    if not found:
        raise LadderError(f"{BROKEN_FILE}: no handler `def NAME(environ...)` to break; this demo needs the sandbox app")
    return text[: found.end()] + BROKEN_LINE + text[found.end() :]


def _push(repo: str, branch: str, role: str) -> tuple[str, datetime]:
    """Commit one change for role on trunk from a scratch clone and push it; (revision, push time)."""
    with tempfile.TemporaryDirectory(prefix="ladder-cd-") as scratch:
        clone = Path(scratch) / "clone"
        trunk.git(Path(scratch), "clone", "-q", "--branch", branch, repo, str(clone))
        if role == FIX:
            trunk.git(clone, *trunk.FALLBACK_IDENTITY, "revert", "--no-edit", "HEAD")
        else:
            path = clone / (BROKEN_FILE if role == BROKEN else NOTES)
            before = path.read_text() if path.exists() else ""
            path.write_text(break_route(before) if role == BROKEN else before + f"Shipped by the pipeline ({role}).\n")
            trunk.git(clone, "add", path.name)
            message = "Break a route on purpose (rung 4 demo)" if role == BROKEN else "A small change, shipped by CD"
            trunk.git(clone, *trunk.FALLBACK_IDENTITY, "commit", "-q", "-m", message)
        revision = trunk.git(clone, "rev-parse", "HEAD")
        pushed = datetime.now().astimezone()
        trunk.git(clone, "push", "-q", "origin", f"HEAD:refs/heads/{branch}")
    return revision, pushed


def _follow(cfg: Config, revision: str, gated: bool) -> list[Run]:
    """Read the trunk builds until revision's is done (or, gated, waits for approval); bounded by RUN_DEADLINE."""
    ci = ci_server.ci_of(cfg)
    with connect(ci.host, cfg.ssh) as master:
        return ci_stages.follow_run(master, ci.url, revision, RUN_DEADLINE, gated=gated)


def _ship(cfg: Config, roles: tuple[str, ...], ship: str, dry_run: bool) -> PipelineReport:
    """Push each role's commit to trunk in turn and follow it through the pipeline; prod's versions around it."""
    ci = ci_server.ci_of(cfg)
    branch = ci_server.setup_for(cfg).trunk
    if dry_run:
        try:
            with connect(ci.host, cfg.ssh) as master:
                runs = ci_stages.get_runs(master, ci.url)
        except (HostError, LadderError) as e:
            runs = []
            note = f"the CI server does not answer yet ({e}); "
        else:
            note = ""
        note += f"dry run: would push a {' then a '.join(roles)} to {branch} and follow each to its end"
        record_step("pipeline demo", [ops.Change(REPO, "pipeline demo", branch, reason=note)])
        return PipelineReport(tuple(runs), note=note)
    prod, pushed, runs = {"before": prod_versions(cfg)}, {}, []
    for role in roles:
        revision, at = _push(str(cfg.app.repo), branch, role)
        pushed[revision] = (role, at)
        runs = _follow(cfg, revision, ship == "gate")
        prod[role] = prod_versions(cfg)
        _expect(role, next(r for r in runs if r.revision == revision), prod, ship)
    report = PipelineReport(tuple(runs), pushed, prod)
    change = ops.Change(REPO, "pipeline demo", branch, tuple(f"git push ({r})" for r in roles), True, True,
                        reason=report.summary())  # fmt: skip
    record_step("pipeline demo", [change])
    return report


def _expect(role: str, run: Run, prod: dict[str, dict[str, str | None]], ship: str) -> None:
    """A good commit reaches prod (or the gate); a broken one fails its smoke test with prod as it was."""
    failed = run.failed_at
    where = f"trunk build #{run.number} of {run.revision[:12]}"
    if role == BROKEN:
        keys = list(prod)  # "before", then each role in the order pushed
        before = prod[keys[keys.index(BROKEN) - 1]]
        if failed != "smoke staging" or prod[BROKEN] != before:
            raise LadderError(
                f"{where}: the broken commit should have failed 'smoke staging' with prod untouched; it "
                + (f"failed at {failed!r}" if failed else "passed every stage")
                + "; see the build's log on the CI server's web page"
            )
    elif failed or (ship == "auto" and run.reached != "deploy prod"):
        raise LadderError(
            f"{where}: the {role} stopped at {failed or run.reached!r}; see the build's log on the CI server's web page"
        )


def deliver(config: Config | str | Path, ship: str, *, dry_run: bool = True) -> PipelineReport:
    """Push a good commit to trunk and follow it: CI, artifact, staging, smoke, then prod with no hand step (auto)."""
    cfg = steps.config_of(config)
    pausepoint.point("deliver")
    return _ship(cfg, (GOOD,), ship, dry_run)


def stop_at_staging(config: Config | str | Path, ship: str, *, dry_run: bool = True) -> PipelineReport:
    """Push a commit that breaks a route: the smoke suite stops it at staging; then its revert fixes forward."""
    cfg = steps.config_of(config)
    pausepoint.point("broken commit")
    return _ship(cfg, (BROKEN, FIX), ship, dry_run)


def approve(config: Config | str | Path, version: str, approver: str | None = None) -> dict:
    """Release the gate for version to prod (what `ladder approve` and the notebook's button do)."""
    return pipeline.approve(config, "prod", version, approver)


def waiting(config: Config | str | Path) -> str | None:
    """The version a trunk build holds at the ship gate (its 'wait for approval' stage runs), if one does."""
    cfg = steps.config_of(config)
    ci = ci_server.ci_of(cfg)
    with connect(ci.host, cfg.ssh) as master:
        held = [
            r
            for r in ci_stages.get_runs(master, ci.url)
            if (s := r.stage("wait for approval")) and s.result == "running"
        ]
    return artifact.get_source(str(cfg.app.repo), held[-1].revision).version if held else None


def gate(config: Config | str | Path, ship: str) -> Any:
    """With ship=gate, a button that approves the held version for prod (as `ladder approve` does); else a note."""
    import ipywidgets as widgets

    cfg = steps.config_of(config)
    version = waiting(cfg) if ship == "gate" else None
    if version is None:
        why = "ship is auto: a green staging goes on to prod" if ship != "gate" else "no build waits at the gate"
        return widgets.HTML(f"<p>{html.escape(why)}.</p>")
    note = widgets.HTML(f"<p>{html.escape(version)} passed staging and waits for the decision to ship to prod.</p>")
    btn = widgets.Button(description=f"Ship {version} to prod", button_style="warning", icon="check")

    def on_click(_: object) -> None:
        row = approve(cfg, version)
        btn.disabled = True
        note.value = f"<p>Approved by {html.escape(row['approver'])} (journaled); the pipeline deploys it to prod.</p>"

    btn.on_click(on_click)
    return widgets.VBox([note, btn])


def deploys(config: Config | str | Path) -> pd.DataFrame:
    """The journaled deploys and rollbacks: environment, version, commit, approver, start, end, result."""
    cfg = steps.config_of(config)
    path = journal.journal_path(cfg.runs_dir)
    rows = [
        {
            "kind": r["kind"],
            "environment": (r.get("params") or {}).get("environment"),
            "version": (r.get("params") or {}).get("version"),
            "commit": ((r.get("params") or {}).get("commit") or "")[:10],
            "approver": (r.get("params") or {}).get("approver"),
            "started": r["started"],
            "ended": r["ended"],
            "result": r["status"],
        }
        for r in journal.history(path)
        if r["kind"] in ("deploy", "rollback")
    ]
    return steps.table(rows, ["kind", "environment", "version", "commit", "approver", "started", "ended", "result"])


def journal_of(config: Config | str | Path) -> Path:
    """The journal DORA reads."""
    return journal.journal_path(steps.config_of(config).runs_dir)


def figures(good: PipelineReport, broken: PipelineReport) -> dict[str, Any]:
    """The run's key figures for ladder.record."""
    out: dict[str, Any] = {}
    for report in (good, broken):
        for r in report.runs:
            if role := report.role(r):
                out[f"{role} reached"] = r.reached
                if (t := report.to_prod(r)) is not None:
                    out[f"{role} push to prod (s)"] = round(t, 1)
    if BROKEN in broken.prod:
        out["prod untouched by the broken commit"] = broken.prod[BROKEN] == broken.prod["before"]
    return out
