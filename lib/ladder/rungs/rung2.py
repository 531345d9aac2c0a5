"""Rung 2, trunk-based development: one function per runbook step, each taking the config."""

from __future__ import annotations

import html
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..app import branches, flags, packages, page, prepush, routes, smoke, testsuite, trunk
from ..app.git import open_repo
from ..app.parity import Chart
from ..core import ops
from ..core.config import DEV, PROD, Config
from ..core.errors import LadderError, ParameterError
from ..core.hosts import Host
from ..engine import pausepoint
from ..engine.record import record_step
from . import feature_flags, flagged_app, landing, rung1, steps

RUNBOOK = "2-trunk-based-development"  # runbooks/<RUNBOOK>.ipynb, whose steps these are
REPO = rung1.REPO  # the team's repository's row in the run's host x step matrix
CHECK_DEADLINE = 120
TEST_DEADLINE = testsuite.RUN_TIMEOUT + 60
KIND_COLOURS = {
    "merged": "#9e9e9e",
    "stale": "#e57373",
    "maintenance": "#64b5f6",
    "active": "#4caf50",
    "kept": "#ffb74d",
}


def setup(
    config: Config | str | Path, max_branch_age_days: float = 2, keep_branches: Sequence[str] = (), flip_env: str = ""
) -> Config:
    """Load the config and check every parameter against it and the shared repository, before anything changes."""
    cfg = steps.config_of(config)
    branches.check_parameters(max_branch_age_days, keep_branches)
    if flip_env and flip_env not in cfg.environments:
        raise ParameterError(
            f"parameter 'flip_env': no environment {flip_env!r}; use one of {', '.join(cfg.environments)} or ''"
        )
    with branches.mirror(cfg.app.repo) as path:
        branches.check_keep(branches.read_facts(path, str(cfg.app.repo), int(time.time())), keep_branches)
    steps.declare(RUNBOOK, cfg)
    pausepoint.point("setup")
    return cfg


# --- step: branches -----------------------------------------------------------------------
@dataclass(frozen=True)
class BranchReport:
    """The shared repository's branches, what the run does with each, and the changes it made or would make."""

    facts: branches.Facts
    planned: tuple[branches.Planned, ...]
    changes: tuple[ops.Change, ...]
    max_age_days: float

    def table(self) -> pd.DataFrame:
        """One row per branch, oldest first."""
        columns = ["branch", "age (days)", "ahead", "behind", "merged", "last author", "kind", "plan", "trial rebase"]
        return steps.table(branches.rows(self.facts, self.planned), columns)

    def summary(self) -> str:
        """One line: how many branches, and what happens to them."""
        acts = [p.action for p in self.planned]
        return (
            f"{len(self.planned)} branch(es) besides {self.facts.trunk}: {acts.count(branches.DELETE)} merged to delete, "
            f"{acts.count(branches.ARCHIVE_DELETE)} stale to archive then delete, {acts.count(branches.KEEP)} kept"
        )

    def chart(self) -> Chart:
        """Each branch's age as a bar, coloured by kind, with the age limit as a line."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        frame = self.table()
        fig = Figure(figsize=(7, 0.8 + 0.4 * max(1, len(frame))))
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        ax.barh(frame["branch"], frame["age (days)"], color=[KIND_COLOURS[k] for k in frame["kind"]])
        ax.axvline(self.max_age_days, color="#333333", linestyle="--", label=f"max age {self.max_age_days:g} days")
        ax.invert_yaxis()
        ax.set_xlabel("days since the last commit")
        ax.set_title(f"Branches of the shared repository (besides {self.facts.trunk})")
        ax.legend(loc="lower right", fontsize="small")
        fig.tight_layout()
        return Chart(fig)

    def __repr__(self) -> str:
        return self.summary() + "\n" + self.table().to_string(index=False)

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(self.summary())}</p>" + steps.left_table(self.table())


def tidy_branches(
    config: Config | str | Path,
    max_branch_age_days: float = 2,
    keep_branches: Sequence[str] = (),
    *,
    dry_run: bool = True,
) -> BranchReport:
    """Plan (and with dry_run False, carry out) the branch clean-up; after an apply every earlier tip is checked reachable."""
    cfg = steps.config_of(config)
    repo = str(cfg.app.repo)
    pausepoint.point("branches")
    with branches.mirror(repo) as path:
        facts = branches.read_facts(path, repo, int(time.time()))
        branches.check_keep(facts, keep_branches)
        planned = branches.with_trials(path, facts, branches.plan(facts, max_branch_age_days, keep_branches))
        changes = branches.apply(path, repo, planned, dry_run=dry_run)
    if not dry_run and changes:
        tips = [b.commit for b in facts.branches] + [facts.trunk_commit]
        with branches.mirror(repo) as after:
            lost = branches.unreachable(after, tips)
        if lost:
            raise LadderError(
                f"{repo}: commits {', '.join(c[:12] for c in lost)} are no longer reachable; restore them from the run's log"
            )
    record_step("branches", changes or [ops.Change(REPO, "branches", repo, reason="no branch to delete or archive")])
    return BranchReport(facts, tuple(planned), tuple(changes), max_branch_age_days)


def add_tests(config: Config | str | Path, *, dry_run: bool = True) -> landing.Landing:
    """Land a pytest suite on trunk: a smoke test of every route through the WSGI app, a metrics test, the dev lock."""
    cfg = steps.config_of(config)
    pausepoint.point("tests")
    return landing.land(
        cfg,
        "tests",
        "Add smoke tests of every route and lock the dev requirements",
        lambda files, path: smoke.suite_files(files, routes.scan(path), cfg.app.wsgi),
        dry_run=dry_run,
    )


def add_flags(config: Config | str | Path, *, dry_run: bool = True) -> landing.Landing:
    """Land OpenFeature, the file provider and the redesign behind its flag on trunk, with the provider's unit test."""
    cfg = steps.config_of(config)
    pausepoint.point("flags code")

    def make(files: Mapping[str, str], _: Path) -> dict[str, str]:
        changed = flagged_app.with_flags(files)
        return {**changed, **smoke.flags_test(files)} if changed else {}

    return landing.land(
        cfg, "flags code", "Put the unfinished redesign behind a feature flag (OpenFeature)", make, dry_run=dry_run
    )


# --- step: tests on dev and the pre-push hook ---------------------------------------------
def dev_tooling(config: Config | str | Path, *, dry_run: bool = True) -> dict[str, list[ops.Change]]:
    """On each dev host: the locked dev requirements in rung 1's dev venv, and the pre-push hook in its checkout."""
    cfg = steps.config_of(config)
    pausepoint.point("pre-push hook")

    def one(host: Host) -> list[ops.Change]:
        env = rung1.dev_env(cfg, host)
        return [prepush.dev_requirements(host, env, dry_run=dry_run), prepush.install_hook(host, env, dry_run=dry_run)]

    changes = steps.on_hosts(cfg, DEV, one, rung1.BUILD_DEADLINE)
    record_step("pre-push hook", changes)
    return changes


@dataclass(frozen=True)
class TestReport:
    """The suite's run on each dev host: every test's outcome and duration."""

    runs: dict[str, testsuite.SuiteRun]
    cases: dict[str, list[testsuite.Case]] = field(default_factory=dict)

    def table(self) -> pd.DataFrame:
        """One row per test per host."""
        rows = [{"host": h, **vars(c)} for h, cs in self.cases.items() for c in cs]
        return steps.table(rows, ["host", "test", "outcome", "seconds", "message"])

    def counts(self) -> dict[str, int]:
        """How many tests passed, failed (or errored) and were skipped, over every dev host."""
        outcomes = [c.outcome for cs in self.cases.values() for c in cs]
        return {
            k: sum(1 for o in outcomes if o in ks)
            for k, ks in (("passed", {"passed"}), ("failed", {"failed", "error"}), ("skipped", {"skipped"}))
        }

    def summary(self) -> str:
        """One line: the counts, or why nothing ran."""
        if not any(self.cases.values()):
            return "no tests ran: the dev checkout has no tests yet (a dry run lands none)"
        return ", ".join(f"{n} {k}" for k, n in self.counts().items())

    def chart(self) -> Chart:
        """Each test's duration, green when it passed, red when it failed."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        frame = self.table()
        fig = Figure(figsize=(7, 0.8 + 0.35 * max(1, len(frame))))
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        colours = [
            "#4caf50" if o == "passed" else "#e57373" if o in ("failed", "error") else "#9e9e9e"
            for o in frame["outcome"]
        ]
        ax.barh([t.split("::")[-1] for t in frame["test"]], frame["seconds"] * 1000, color=colours)
        ax.invert_yaxis()
        ax.set_xlabel("milliseconds")
        ax.set_title(f"The app's tests on dev: {self.summary()}")
        fig.tight_layout()
        return Chart(fig)

    def __repr__(self) -> str:
        return self.summary() + "\n" + self.table().to_string(index=False)

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(self.summary())}</p>" + steps.left_table(self.table())


def run_tests(config: Config | str | Path, *, dry_run: bool = True) -> TestReport:
    """Run the app's suite in each dev host's checkout with the dev venv; after an apply a failure raises."""
    cfg = steps.config_of(config)
    pausepoint.point("tests on dev")

    def one(host: Host) -> tuple[testsuite.SuiteRun, list[testsuite.Case]]:
        env = rung1.dev_env(cfg, host)
        if not host.exists(f"{env.layout.app}/.git") or not host.exists(env.venv_python):
            return testsuite.SuiteRun(host.name, ()), []
        return testsuite.run_cases(host, env.layout.app, env.venv_python)

    done = steps.on_hosts(cfg, DEV, one, TEST_DEADLINE)
    report = TestReport({h: r for h, (r, _) in done.items()}, {h: cs for h, (_, cs) in done.items()})
    failed = [h for h, r in report.runs.items() if r.passed is False]
    if not dry_run and failed:
        raise LadderError(f"{failed[0]}: the app's tests fail on dev:\n{report.runs[failed[0]].output}")
    return report


# --- step: feature flags ------------------------------------------------------------------
def install_flags(config: Config | str | Path, *, dry_run: bool = True) -> list[ops.Change]:
    """Put each environment's flags file on its hosts: the redesign on in dev, off in prod."""
    cfg = steps.config_of(config)
    pausepoint.point("flags")
    changes = feature_flags.install(cfg, dry_run=dry_run)
    record_step("flags", changes)
    return changes


def _python(cfg: Config, host: Host, env: str) -> tuple[int, str]:
    if env == PROD:
        target = rung1.prod_target(cfg, host)
        return target.port, target.python
    dev = rung1.dev_env(cfg, host)
    return dev.port, dev.venv_python if host.exists(dev.venv_python) else dev.python


def flag_pages(config: Config | str | Path) -> pd.DataFrame:
    """Over HTTP on each dev and prod host: the flag's value there, and whether the home page answers the new way."""
    cfg = steps.config_of(config)
    rows: list[dict[str, Any]] = []
    for env in (DEV, PROD):

        def one(host: Host, env: str = env) -> dict[str, Any]:
            port, python = _python(cfg, host, env)
            held = flags.get_flags(host) or {}
            got = page.fetch_on(host, port, "/", python=python, timeout=5)
            shown = (
                "no answer"
                if not got.answered
                else ("new (redesign)" if flagged_app.REDESIGN_MARK in got.body else "old")
            )
            return {
                "env": env,
                "host": host.name,
                "flag": flagged_app.FLAG,
                "value": flags.shown(held.get(flagged_app.FLAG)),
                "home page": shown,
            }

        rows += steps.on_hosts(cfg, env, one, CHECK_DEADLINE).values()
    return steps.table(rows, ["env", "host", "flag", "value", "home page"])


def flip(config: Config | str | Path, env: str, value: str, *, dry_run: bool = True) -> pd.DataFrame:
    """Flip the redesign flag on every host of env without a deploy (journaled); env '' flips nothing."""
    cfg = steps.config_of(config)
    if not env:
        return steps.table([], ["host", "flag", "old", "new", "outcome"])
    done = feature_flags.flip(cfg, flagged_app.FLAG, value, env=env, dry_run=dry_run)
    record_step("flag flip", [f.change for f in done])
    return steps.table([f.to_dict() for f in done], ["host", "flag", "old", "new", "outcome"])


# --- step: deploy trunk through rung 1 ----------------------------------------------------
def prod_requirements(
    config: Config | str | Path, *, dry_run: bool = True, environments: tuple[str, ...] = (PROD,)
) -> dict[str, ops.Change]:
    """Install on each host of environments (prod) what trunk's requirements pin and its Python lacks, before the deploy."""
    # Rung 1's deploy script checks out and reloads but installs nothing: new imports must be there first.
    cfg = steps.config_of(config)
    pausepoint.point("prod requirements")
    with trunk.workspace(cfg.app.repo) as ws:
        wanted = open_repo(ws.path).read("HEAD", ["requirements.txt"]).get("requirements.txt", "")
    changes: dict[str, ops.Change] = {}
    for environment in environments:
        changes |= steps.on_hosts(
            cfg,
            environment,
            lambda h: packages.ensure(h, rung1.prod_target(cfg, h).python, wanted, dry_run=dry_run),
            rung1.BUILD_DEADLINE,
        )
    record_step("prod requirements", changes)
    return changes


def figures(branch_report: BranchReport, tests: TestReport) -> dict[str, Any]:
    """The run's key figures for ladder.record."""
    acts = [p.action for p in branch_report.planned]
    return {
        "branches": len(branch_report.planned),
        "branches deleted": acts.count(branches.DELETE),
        "branches archived": acts.count(branches.ARCHIVE_DELETE),
        **{f"tests {k}": n for k, n in tests.counts().items()},
    }
