"""A new developer's first hour: one function per step of notebooks/onboarding.ipynb, built on rung 1 and the app layer.

Get the code, make the dev environment (rung 1's), run the app and its tests, make a small change, see it
on the dev host, and walk the path a change takes to prod today (rung 1's deploy step, planned by default).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..app import checkout, devenv, devsync, health, page, testsuite, trunk
from ..app.git import GIT
from ..core import ops
from ..core.config import DEV, Config
from ..core.errors import HostError, ParameterError
from ..core.hosts import Host, LocalHost, connect
from ..core.paths import inside
from ..engine.notebooks import notebooks_dir, runbooks_dir
from ..engine.record import record_step
from . import rung1, steps
from .workfolder import CHANGES, DEFAULT_CHANGE, LOCAL, Edit, Made, WorkFolder, edit_of

NOTEBOOK = "onboarding.ipynb"  # notebooks/<NOTEBOOK>, whose steps these are
RUNG2_RUNBOOK = "2-trunk-based-development.ipynb"
LATER_RUNGS = (
    ("3b", "every push runs the tests on a CI server, which reports back"),
    ("3a", "one artifact is built, checksummed and deployed as is; releases are kept for rollback"),
    ("4", "test, build, staging, smoke test, prod: no manual step but the decision to ship"),
    ("5", "canary deploys, one-command rollback, logs and monitoring"),
)


# --- setup and choices ------------------------------------------------------------------------
@dataclass(frozen=True)
class Start:
    """The inputs every step shares, checked before any host is touched."""

    config: Config
    workdir: Path  # where the team's repository is cloned
    dev_hosts: tuple[str, ...]
    dev_host: str  # the parameter's choice
    change: str  # the parameter's choice
    folder: Path  # this run's folder: dev edits a change replaces and prod's patches are saved there
    interactive: bool  # in JupyterLab (not run by the runner): choices are menus

    def _repr_html_(self) -> str:
        return steps.pairs(
            {
                "team repository": self.config.app.repo,
                "working folder": str(self.workdir),
                "dev hosts": ", ".join(self.dev_hosts),
                "this run's folder": str(self.folder),
            }
        )


def _clone_of(path: Path) -> str | None:
    """The origin of the clone at path, or None when path is not a clone."""
    host = LocalHost(LOCAL, path)
    if checkout.get_status(host, str(path)) is None:
        return None
    return host.run(f"{GIT} -C {checkout.q(str(path))} config --get remote.origin.url", warn=True).stdout.strip()


def setup(
    config: Config | str | Path,
    workdir: str = "",
    dev_host: str = "",
    change: str = DEFAULT_CHANGE,
    run_dir: str = "",
    run_id: str = "",
) -> Start:
    """Load the config and check the parameters: a dev host of the config, a change on offer, a usable working folder."""
    cfg = steps.config_of(config)
    steps.declare(str(notebooks_dir() / NOTEBOOK), cfg)
    hosts = tuple(h.name for h in cfg.environment(DEV).hosts)
    if dev_host and dev_host not in hosts:
        raise ParameterError(f"dev_host {dev_host!r} is not a dev host of {cfg.path}; use one of: {', '.join(hosts)}")
    edit_of(change)
    folder = steps.run_folder(cfg, run_dir, run_id)
    path = Path(workdir).expanduser().absolute() if workdir else inside(folder, cfg.app.name, what="app name")
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        origin = _clone_of(path) if path.is_dir() else None
        if origin != cfg.app.repo:
            what = f"a clone of {origin}" if origin else "not a clone"
            raise ParameterError(f"workdir {path} is in use ({what}); pass a new folder, or a clone of {cfg.app.repo}")
    return Start(cfg, path, hosts, dev_host or hosts[0], change, folder, interactive=not run_id)


def choose_host(start: Start) -> steps.Choice:
    """Which dev host to work on: a menu in JupyterLab, the dev_host parameter headless."""
    options = {name: f"{name} ({start.config.host_config(name).address})" for name in start.dev_hosts}
    return steps.choice("Dev host", options, start.dev_host, "dev_host", interactive=start.interactive)


def choose_change(start: Start) -> steps.Choice:
    """Which small change to make: a menu in JupyterLab, the change parameter headless."""
    options = {key: edit.title for key, edit in CHANGES.items()}
    return steps.choice("Change", options, start.change, "change", interactive=start.interactive)


def _dev(start: Start, name: str) -> Host:
    """The named dev host (it connects on first use); ParameterError for a host outside dev."""
    if name not in start.dev_hosts:
        raise ParameterError(f"{name!r} is not a dev host; use one of: {', '.join(start.dev_hosts)}")
    return connect(start.config.host_config(name), start.config.ssh)


# --- the code, the dev environment, the app and its tests -------------------------------------
def get_code(start: Start, *, dry_run: bool = True) -> WorkFolder:
    """Clone the team's repository into the working folder (or bring a clean clone up to date); record the step."""
    folder = WorkFolder(start.workdir, start.config.app.repo)
    change = checkout.sync(folder.host, str(folder.path), folder.repo, folder.branch, dry_run=dry_run)
    record_step("get the code", [change])
    return folder


def build_dev(start: Start, host_name: str, *, dry_run: bool = True) -> list[ops.Change]:
    """Build the dev environment on the chosen dev host with rung 1's one call; record the step."""
    with _dev(start, host_name) as host:
        changes = devenv.build(host, rung1.dev_env(start.config, host), dry_run=dry_run)
    record_step("dev environment", changes)
    return changes


def rung2_runbook() -> str:
    """Rung 2's runbook, and whether it is written yet."""
    written = (runbooks_dir() / RUNG2_RUNBOOK).is_file()
    return f"runbooks/{RUNG2_RUNBOOK}" + ("" if written else " (not written yet)")


@dataclass(frozen=True)
class AppCheck:
    """The dev app's health and the repository's tests run on the dev host (None: not run, a dry run)."""

    health: health.HealthResult
    tests: testsuite.SuiteRun | None

    def summary(self) -> list[str]:
        """Plain sentences: does the app answer, are there tests, do they pass."""
        h, t = self.health, self.tests
        if h.ok:
            app = f"The app answers on {h.host}: {h.url} gives HTTP {h.status}, version {h.version}."
        else:
            app = f"The app does not answer on {h.host} at {h.url} ({h.error or h.status})."
        if t is None:
            tests = "Tests: not run (dry run: the dev environment was not built)."
        elif not t.found:
            tests = (
                "No tests yet: the repository has no test files (tests/, test_*.py, *_test.py, conftest.py), "
                "so nothing tells you whether a change breaks the app. Tests come with rung 2, "
                f"trunk-based development: {rung2_runbook()}."
            )
        else:
            outcome = "pass" if t.passed else f"FAIL (exit {t.exited})"
            tests = f"{len(t.files)} test files, run with {t.runner} on {t.host}: they {outcome}."
        return [app, tests]

    def __repr__(self) -> str:
        output = f"\n{self.tests.output}" if self.tests is not None and self.tests.output else ""
        return "\n".join(self.summary()) + output

    def _repr_html_(self) -> str:
        out = "".join(f"<p>{html.escape(line)}</p>" for line in self.summary())
        if self.tests is not None and self.tests.output:
            out += f"<pre>{html.escape(self.tests.output)}</pre>"
        return out


def run_app_and_tests(start: Start, host_name: str, *, dry_run: bool = True) -> AppCheck:
    """The dev app's health over HTTP and, after a build, the repository's tests run on the dev host."""
    with _dev(start, host_name) as host:
        env = rung1.dev_env(start.config, host)
        if dry_run:  # one quick look: nothing was built
            return AppCheck(health.check_on(host, env.port, env.health_path, python=env.python, timeout=1), None)
        answer = devenv.check(host, env)
        if not answer.ok:
            raise HostError(f"the dev app does not answer its health check: {answer.error}", host=host.name)
        return AppCheck(answer, testsuite.run(host, env.layout.app, env.venv_python))


# --- the change, seen on dev ------------------------------------------------------------------
@dataclass(frozen=True)
class Tried:
    """The page that shows the change, fetched from the dev app before and after the change reached it."""

    edit: Edit
    before: page.Page
    after: page.Page | None  # None: not tried (dry run)
    changes: list[ops.Change] = field(default_factory=list)

    @property
    def shown(self) -> bool:
        """True when the dev app now shows the change."""
        return self.after is not None and self.edit.shows in self.after.body

    def table(self) -> pd.DataFrame:
        """One row each for before and after: URL, HTTP status and the line of the page that changes."""
        rows: list[dict[str, Any]] = []
        for when, p in (("before", self.before), ("after", self.after)):
            if p is None:
                rows.append({"when": when, "url": "", "HTTP": "", "the page shows": "not tried: dry run"})
            else:
                shows = p.excerpt(self.edit.shows, self.edit.marker) if p.answered else f"no answer: {p.error}"
                rows.append({"when": when, "url": p.url, "HTTP": p.status, "the page shows": shows})
        return steps.table(rows, ["when", "url", "HTTP", "the page shows"])

    def summary(self) -> str:
        """One line: does dev show the change."""
        if self.after is None:
            return "Dry run: the dev host was not changed; 'before' is what it serves now."
        if self.shown:
            return f"{self.after.host} shows your change: {self.edit.title.lower()}."
        return f"{self.after.host} does not show your change: {self.after.error}"

    def __repr__(self) -> str:
        return self.summary() + "\n" + self.table().to_string(index=False)

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(self.summary())}</p>" + steps.left_table(self.table())


def see_in_dev(start: Start, host_name: str, folder: WorkFolder, change: str, *, dry_run: bool = True) -> Tried:
    """Fetch the change's page from the dev app, put the working folder's changes on dev, reload, fetch it again."""
    edit = edit_of(change)
    with _dev(start, host_name) as host:
        env = rung1.dev_env(start.config, host)
        python = env.venv_python if host.exists(env.venv_python) else env.python
        before = page.fetch_on(host, env.port, edit.page, python=python, timeout=2 if dry_run else 20)
        if folder.exists and checkout.get_status(host, env.layout.app) is not None:
            changes = devsync.sync(host, env, folder.changed(), folder.base(), start.folder, dry_run=dry_run)
        elif dry_run:
            changes = [ops.Change(host.name, "your changes", env.layout.app, changed=True, reason="once dev is built")]
        else:
            raise HostError(f"{env.layout.app} is not a git checkout; build the dev environment first", host=host.name)
        after = None if dry_run else page.fetch_on(host, env.port, edit.page, python=python, want=edit.shows)
    record_step("try it on dev", changes)
    tried = Tried(edit, before, after, changes)
    if after is not None and not tried.shown:
        raise HostError(f"the dev app does not show the change at {after.url}: {after.error}", host=host_name)
    return tried


# --- push and ship ----------------------------------------------------------------------------
def push_change(folder: WorkFolder, *, dry_run: bool = True) -> ops.Change:
    """Push the working folder's new commits to the team's repository (planned unless dry_run is False); record it."""
    target = f"origin {folder.branch}"
    ahead = folder.ahead()
    if not folder.exists:
        change = ops.Change(LOCAL, "push", target, changed=True, reason="your commit, once made")
    else:
        push = (
            f"git push origin HEAD:refs/heads/{folder.branch} (fast-forward only)",
            lambda: trunk.push(folder.workspace),
        )
        reason = f"{len(ahead)} commit{'s' if len(ahead) != 1 else ''}: {'; '.join(ahead)}"
        change = ops.settle(folder.host, "push", target, [push] if ahead else [], reason, dry_run=dry_run)
    record_step("push", [change])
    return change


@dataclass(frozen=True)
class ShipPath:
    """The path a change takes to prod today, each stage with where this run got, and what later rungs add."""

    stages: list[tuple[str, str]]  # (stage, where this run got)
    notices: list[str] = field(default_factory=list)  # what the report says first: prod edited in place

    def table(self) -> pd.DataFrame:
        """One row per stage, in order."""
        rows = [{"#": i, "stage": s, "this run": state} for i, (s, state) in enumerate(self.stages, 1)]
        return steps.table(rows, ["#", "stage", "this run"])

    def __repr__(self) -> str:
        return self.table().to_string(index=False) + "".join(f"\nlater, rung {r}: {text}" for r, text in LATER_RUNGS)

    def _repr_html_(self) -> str:
        later = "".join(f"<li>rung {r}: {html.escape(text)}</li>" for r, text in LATER_RUNGS)
        return steps.left_table(self.table()) + f"<p>As the team climbs, the path grows:</p><ul>{later}</ul>"


def ship(start: Start, folder: WorkFolder, *, dry_run: bool = True) -> ShipPath:
    """Today's path to prod, rung 1's: prod's in-place edits saved, bin/deploy of the branch, health checked.

    Plans only unless dry_run is False; the steps record themselves (prod edits, deploy step, verify).
    """
    cfg, ref = start.config, folder.branch
    ahead = folder.ahead()
    if not folder.exists:
        pushed = "nothing committed (dry run)"
    elif ahead:
        pushed = f"{'; '.join(ahead)}: not pushed (push = False), so prod gets what the team's repository has"
    else:
        pushed = "in the team's repository"
    edits = rung1.save_prod_edits(cfg, str(start.folder))
    deployed = rung1.deploy_prod(cfg, ref, edits, dry_run=dry_run)
    outcome = ops.worst(c.outcome for changes in deployed.values() for c in changes)
    hosts = ", ".join(deployed)
    verified = "after an apply (dry_run = False, confirmed)"
    if not dry_run:
        rung1.verify_prod(cfg, ref, dry_run=False)
        verified = f"{hosts}: healthy, serving {ref}"
    edited = [h for h, status in edits.found.items() if not status.clean]
    return ShipPath(
        [
            (f"commit on {ref}, push to the team's repository", pushed),
            (
                "save prod's in-place edits as a patch (rung 1)",
                f"saved: {', '.join(edited)}" if edited else "none found",
            ),
            (f"bin/deploy {ref} on every prod host (rung 1)", f"{outcome}: {hosts}"),
            ("check each prod host's health over HTTP (rung 1)", verified),
        ],
        rung1.notices(edits, dry_run=dry_run),
    )


def figures(folder: WorkFolder, checked: AppCheck, made: Made, tried: Tried, pushed: ops.Change) -> dict[str, Any]:
    """The run's key figures for ladder.record."""
    t = checked.tests
    tests = "not run" if t is None else "none yet" if not t.found else f"{'pass' if t.passed else 'fail'} ({t.runner})"
    return {
        "working folder": str(folder.path),
        "change": made.edit.title,
        "dev shows the change": "yes" if tried.shown else "no",
        "tests": tests,
        "pushed": "yes" if pushed.applied else "no",
    }
