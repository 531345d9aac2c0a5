"""Rung 3b, continuous integration: one function per runbook step, each taking the config."""

from __future__ import annotations

import html
import shlex
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..app import ci_render, ci_server, parity, trunk, workflow
from ..app.ci_server import Build
from ..app.git import open_repo
from ..app.parity import Chart
from ..core import ops
from ..core.config import DEV, Config
from ..core.errors import HostError, LadderError, ParameterError
from ..core.hosts import Host, connect
from ..core.markup import styler
from ..engine import journal, pausepoint
from ..engine.record import record_step
from . import ci_builds, landing, rung1, steps

RUNBOOK = "3b-continuous-integration"  # runbooks/<RUNBOOK>.ipynb, whose steps these are
REPO = rung1.REPO
GITHUB, NONE, AUTO = "github", "none", "auto"
FORGES = (AUTO, GITHUB, NONE)
MESSAGE = "Run lint, the tests and the artifact build on every push and pull request (GitHub Actions)"
# Ladder's own review branches: trunk's head as it is (green), and trunk's head plus a failing test (red).
GREEN = ci_render.REVIEW_PREFIX + "ladder-ci-green"
RED = ci_render.REVIEW_PREFIX + "ladder-ci-red"
RED_TEST = "tests/test_ladder_ci_red.py"
RED_TEXT = (
    '"""Pushed by Ladder on a review branch only: CI must report this failing test, and trunk never gets it."""\n\n\n'
    "def test_deliberately_red():\n    assert 1 + 1 == 3\n"
)
RESULT_DEADLINE = 600  # a cold worker installs nothing, but a loaded machine runs pytest slowly
READ_DEADLINE = 60
EXPECTED = {"green push": "success", "red push": "failure"}  # what each demo push must end as
RESULT_COLOURS = {"success": "#4caf50", "failure": "#e57373", "running": "#9e9e9e"}
OTHER_COLOUR = "#ffb74d"  # warnings, exception, cancelled, ...


def forge_of(config: Config | str | Path, forge: str = AUTO) -> str:
    """github or none: the forge given, or with auto the shared repository's: a github.com URL or remote is GitHub."""
    if forge not in FORGES:
        raise ParameterError(f"parameter 'forge': {forge!r} is not one of {', '.join(FORGES)}")
    if forge != AUTO:
        return forge
    repo = steps.config_of(config).app.repo
    urls = [repo]
    if Path(repo).is_dir():
        urls += trunk.git(Path(repo), "remote", "-v").split()
    return GITHUB if any("github.com" in u for u in urls) else NONE


def setup(config: Config | str | Path, forge: str = AUTO) -> Config:
    """Load the config and check the parameters (the forge; with none, ladder.yml's ci: section) before any host."""
    cfg = steps.config_of(config)
    if forge_of(cfg, forge) == NONE:
        ci_server.setup_for(cfg)  # a ci: section, a worker host that exists, a repository folder with a trunk
    steps.declare(RUNBOOK, cfg)
    pausepoint.point("setup")
    return cfg


# --- step: the workflow -------------------------------------------------------------------
@dataclass(frozen=True)
class WorkflowReport:
    """The rendered workflow (actionlint found nothing in it) and whether it landed on trunk."""

    text: str
    landed: landing.Landing | None

    def summary(self) -> str:
        """One line: linted, and landed or why not."""
        where = self.landed.summary() if self.landed else "not landed: no forge runs it (the CI server runs its steps)"
        return f"{workflow.PATH}: actionlint finds nothing; {where}"

    def __repr__(self) -> str:
        return self.summary() + "\n" + self.text

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(self.summary())}</p><pre>{html.escape(self.text)}</pre>"


def _dev_python(cfg: Config) -> str:
    """The dev host's Python version (X.Y.Z): the workflow's Python when the repository names none."""
    found = steps.on_hosts(
        cfg, DEV, lambda h: parity.get_facts(h, cfg.host_config(h.name).python, timeout=READ_DEADLINE).python, 120
    )
    return next(iter(found.values()), "")


def ci_workflow(config: Config | str | Path, forge: str, land: bool = False, *, dry_run: bool = True) -> WorkflowReport:
    """Render .github/workflows/ci.yml from trunk's files and lint it; land it on trunk for GitHub (or when land)."""
    cfg = steps.config_of(config)
    pausepoint.point("ci workflow")
    python = _dev_python(cfg)
    landed = None
    if land or forge_of(cfg, forge) == GITHUB:
        make = lambda files, path: workflow.files_to_land(files, path, python)  # noqa: E731
        landed = landing.land(cfg, "ci workflow", MESSAGE, make, dry_run=dry_run)
    with trunk.workspace(cfg.app.repo) as ws:
        repo = open_repo(ws.path)
        files = repo.read("HEAD", [f.path for f in repo.files("HEAD")])
        text = workflow.checked(workflow.render(workflow.shape_of(files, ws.trunk, python)))
    if landed is None:
        reason = "rendered, actionlint finds nothing; not landed: no forge (the CI server runs the same steps)"
        record_step("ci workflow", [ops.Change(REPO, "ci workflow", workflow.PATH, reason=reason)])
    return WorkflowReport(text, landed)


# --- step: the CI server ------------------------------------------------------------------
def install_server(config: Config | str | Path, forge: str, *, dry_run: bool = True) -> list[ops.Change]:
    """With no forge: Buildbot's master on the ci host, a worker on the build host and the push hook; a no-op on GitHub."""
    cfg = steps.config_of(config)
    pausepoint.point("ci server")
    if forge_of(cfg, forge) == GITHUB:
        changes = [ops.Change(REPO, "ci server", "GitHub Actions", reason="the forge runs the workflow: no server")]
    else:
        changes = ci_server.install(cfg, dry_run=dry_run)
    record_step("ci server", changes)
    return changes


# --- step: a green and a red push ---------------------------------------------------------
@dataclass(frozen=True)
class BuildReport:
    """Recent builds read back from the CI server's REST API, and which of them the run's pushes made."""

    builds: tuple[Build, ...]
    pushed: dict[str, str]  # revision -> "green push" / "red push"
    note: str = ""
    after: int = 0  # review builds up to this number came before the run's pushes

    def role(self, build: Build) -> str:
        """ "green push" or "red push" for a build of this run's pushes, else ""."""
        ours = build.builder == ci_render.REVIEW_BUILDER and build.number > self.after
        return self.pushed.get(build.revision, "") if ours else ""

    def table(self) -> pd.DataFrame:
        """One row per build, oldest first."""
        rows = [
            {
                "build": f"{b.builder} #{b.number}",
                "branch": b.branch,
                "commit": b.revision[:10],
                "result": b.result,
                "pushed (UTC)": b.pushed.strftime("%Y-%m-%d %H:%M:%S") if b.pushed else "",
                "push to result (s)": None if b.push_to_result is None else round(b.push_to_result, 1),
                "this run": self.role(b),
            }
            for b in self.builds
        ]
        columns = ["build", "branch", "commit", "result", "pushed (UTC)", "push to result (s)", "this run"]
        return steps.table(rows, columns)

    def outcome(self, role: str) -> Build | None:
        """The finished build of the run's green or red push."""
        done = [b for b in self.builds if self.role(b) == role and b.complete is not None]
        return done[-1] if done else None

    def summary(self) -> str:
        """One line: how many builds, green and red, and the median push-to-result time."""
        if not self.builds:
            return self.note or "no builds yet"
        results = [b.result for b in self.builds]
        times = [b.push_to_result for b in self.builds if b.push_to_result is not None]
        median = f"; push to result: median {statistics.median(times):.1f} s" if times else ""
        line = f"{len(self.builds)} build(s): {results.count('success')} green, {results.count('failure')} red{median}"
        return line + (f". {self.note}" if self.note else "")

    def chart(self) -> Chart:
        """Each build's push-to-result time as a bar, coloured by its result."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.patches import Patch

        timed = [b for b in self.builds if b.push_to_result is not None]
        fig = Figure(figsize=(7, 0.9 + 0.35 * max(1, len(timed))))
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        labels = [f"{b.builder} #{b.number} {b.branch} {b.revision[:7]}" for b in timed]
        colours = [RESULT_COLOURS.get(b.result, OTHER_COLOUR) for b in timed]
        ax.barh(labels, [b.push_to_result or 0.0 for b in timed], color=colours)
        ax.invert_yaxis()
        ax.set_xlabel("seconds from the push to the result")
        ax.set_title("Builds on the CI server, push to result" if timed else "No finished build yet")
        shown = sorted({b.result for b in timed})
        ax.legend(
            handles=[Patch(color=RESULT_COLOURS.get(r, OTHER_COLOUR), label=r) for r in shown],
            loc="best",
            fontsize="small",
        )
        fig.tight_layout()
        return Chart(fig)

    def styled(self) -> Any:
        """The table with each result cell coloured."""
        colour = lambda v: f"background-color: {RESULT_COLOURS.get(v, OTHER_COLOUR)}; color: white"  # noqa: E731
        styles = [{"selector": "th, td", "props": "text-align: left; vertical-align: top"}]
        styled = styler(self.table()).hide(axis="index").map(colour, subset=["result"]).set_table_styles(styles)
        return styled.format("{:.1f}", subset=["push to result (s)"], na_rep="")

    def __repr__(self) -> str:
        return self.summary() + "\n" + self.table().to_string(index=False)

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(self.summary())}</p>" + self.styled().to_html()


def _ref(repo: str, ref: str) -> str:
    """The commit a ref of the shared repository points at, or '' when it does not exist."""
    return trunk.git(Path(repo), "rev-parse", "-q", "--verify", ref + "^{commit}", ok_codes=(0, 1))


def _needed(repo: str, head: str) -> dict[str, str]:
    """Which of the two pushes trunk's head still lacks a result for: role -> review branch."""
    passed = _ref(repo, f"refs/heads/{ci_render.STATUS_PREFIX}passed/{GREEN}")
    failed = _ref(repo, f"refs/heads/{ci_render.STATUS_PREFIX}failed/{RED}")
    red_base = _ref(repo, failed + "^") if failed else ""
    needed = {"green push": GREEN} if passed != head else {}
    return needed | ({"red push": RED} if red_base != head else {})


def _push(repo: str, head: str, branches: dict[str, str]) -> dict[str, str]:
    """Push each review branch from a scratch clone (red: head plus a failing test); revision -> role."""
    out = {}
    with tempfile.TemporaryDirectory(prefix="ladder-ci-") as scratch:
        clone = Path(scratch) / "clone"
        trunk.git(Path(scratch), "clone", "-q", "--no-checkout", repo, str(clone))
        trunk.git(clone, "checkout", "-q", "--detach", head)
        for role, branch in branches.items():
            if role == "red push":
                (clone / RED_TEST).parent.mkdir(exist_ok=True)
                (clone / RED_TEST).write_text(RED_TEXT)
                trunk.git(clone, "add", RED_TEST)
                trunk.git(
                    clone, *trunk.FALLBACK_IDENTITY, "commit", "-q", "-m", "A deliberately failing test (CI demo)"
                )
            trunk.git(clone, "push", "-q", "origin", "--delete", branch, ok_codes=(0, 1))  # an earlier demo's
            trunk.git(clone, "push", "-q", "origin", f"HEAD:refs/heads/{branch}")
            out[trunk.git(clone, "rev-parse", "HEAD")] = role
    return out


def _last_review(host: Host, url: str) -> int:
    """The number of the CI server's latest review build (0 before the first): later ones answer this run's pushes."""
    return max((b.number for b in ci_server.get_builds(host, url) if b.builder == ci_render.REVIEW_BUILDER), default=0)


def _results(host: Host, url: str, pushed: dict[str, str], after: int) -> list[Build]:
    """Read REST until a review build after number `after` has finished for every pushed revision (bounded)."""
    deadline = time.monotonic() + RESULT_DEADLINE
    while True:
        try:
            builds = ci_server.get_builds(host, url)
        except HostError:  # a master busy under load: ask again, within the deadline
            builds = []
        done = {
            b.revision
            for b in builds
            if b.builder == ci_render.REVIEW_BUILDER and b.number > after and b.complete is not None
        }
        if set(pushed) <= done:
            return builds
        if time.monotonic() > deadline:
            raise LadderError(
                f"{url}: no result for {', '.join(r[:12] for r in set(pushed) - done)} after {RESULT_DEADLINE}s; "
                "see the builds on the CI server's web page and the worker's twistd.log on the build host"
            )
        time.sleep(0.5)


def demonstrate(config: Config | str | Path, forge: str, *, dry_run: bool = True) -> BuildReport:
    """Push trunk's head (green) and trunk plus a failing test (red) as review branches; read the results back.

    Trunk must not move: the red push is refused by the merge queue. A second apply on the same trunk pushes nothing.
    """
    cfg = steps.config_of(config)
    pausepoint.point("ci demo")
    if forge_of(cfg, forge) == GITHUB:
        record_step("ci demo", [ops.Change(REPO, "ci demo", cfg.app.repo, reason="GitHub reports the builds")])
        return BuildReport((), {}, "GitHub Actions runs the builds: see the repository's Actions tab")
    ci = ci_server.ci_of(cfg)
    repo = cfg.app.repo
    head = _ref(repo, f"refs/heads/{ci_server.setup_for(cfg).trunk}")
    needed = _needed(repo, head)
    commands = tuple(f"git push origin HEAD:refs/heads/{shlex.quote(b)}" for b in needed.values())
    pushed: dict[str, str] = {}
    note, after = "", 0
    with connect(ci.host, cfg.ssh) as master:
        if needed and not dry_run:
            after = _last_review(master, ci.url)  # the same commit may have been built before: wait for new builds
            pushed = _push(repo, head, needed)
            builds = _results(master, ci.url, pushed, after)
            for branch in needed.values():  # the status refs stay: they are the author's line on `git fetch`
                trunk.git(Path(repo), "branch", "-q", "-D", branch, ok_codes=(0, 1))
            if _ref(repo, f"refs/heads/{ci_server.setup_for(cfg).trunk}") != head:
                raise LadderError(f"{repo}: trunk moved during the CI demo; a red build must never reach trunk")
        else:
            try:
                builds = ci_server.get_builds(master, ci.url)
            except HostError as e:
                if not dry_run:
                    raise
                builds, note = [], f"the CI server does not answer yet ({e}); the apply installs it"
    added = 0 if dry_run else ci_builds.record(journal.journal_path(cfg.runs_dir), builds)
    report = BuildReport(tuple(builds), pushed, note, after)
    reason = ", ".join(f"{role}: {b.result}" for role in pushed.values() if (b := report.outcome(role)))
    wrong = [
        f"the {role} ended {b.result if b else 'with no result'}, not {want}"
        for role, want in EXPECTED.items()
        if role in pushed.values() and ((b := report.outcome(role)) is None or b.result != want)
    ]
    change = ops.Change(
        REPO,
        "ci demo",
        repo,
        commands,
        bool(needed),
        bool(pushed),
        failed=bool(wrong),
        reason=(reason or f"would push {', '.join(needed.values())}" if needed else "trunk's head has both results")
        + f"; {added} new build(s) journaled",
    )
    record_step("ci demo", [change])
    if wrong:
        raise LadderError(f"{ci.url}: {'; '.join(wrong)}; read the build's steps on the CI server's web page")
    return report


def figures(workflow_report: WorkflowReport, builds: BuildReport) -> dict[str, Any]:
    """The run's key figures for ladder.record."""
    out: dict[str, Any] = {"workflow landed": bool(workflow_report.landed and workflow_report.landed.files)}
    out["builds read"] = len(builds.builds)
    for role in ("green push", "red push"):
        b = builds.outcome(role)
        if b is not None:
            out[f"{role} result"] = b.result
            out[f"{role} to result (s)"] = round(b.push_to_result or 0.0, 1)
    return out
