"""Rung 4 end to end: the runbook headless on an SSH sandbox (2 prod hosts behind HAProxy, staging, Buildbot).

A good commit goes from a push to prod through staging with no hand step (ship=auto); a commit that breaks a
route only outside the test suite passes CI's tests but fails the smoke suite on staging, and prod keeps the
version it had; its revert fixes forward. Every deploy is a journal row.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import require_sshd

from ladder import load_config, sandbox
from ladder.app import ci_stages, recipe
from ladder.app.ci_stages import Run, Stage
from ladder.core.errors import LadderError, ParameterError
from ladder.core.hosts import connect
from ladder.engine import journal, runner
from ladder.rungs import rung4
from ladder.rungs.rung4 import BROKEN, FIX, GOOD, PipelineReport

RUNG4 = Path(__file__).resolve().parent.parent / "runbooks" / "4-continuous-delivery.ipynb"


@pytest.fixture(scope="module")
def box(tmp_path_factory):
    """An SSH sandbox as `ladder sandbox up --ssh --hosts 2` makes it, with rung 3a's packaging recipe on trunk."""
    require_sshd()
    with pytest.MonkeyPatch.context() as env:
        # A journal of this module's runs only: the pipeline's deploys and gates, no other test's prod deploys.
        env.setenv("LADDER_HOME", str(tmp_path_factory.mktemp("home")))
        made = sandbox.up(tmp_path_factory.mktemp("rung4") / "sandbox", ssh=True, hosts=2, balancer=True, ci=True)
        try:
            cfg = load_config(made.config_path)
            recipe.land(str(cfg.app.repo), cfg.app.name, dry_run=False)
            yield made
        finally:
            sandbox.down(made.dir)


def _runs(cfg) -> list[Run]:
    with connect(cfg.ci.host, cfg.ssh) as master:
        return ci_stages.get_runs(master, cfg.ci.url)


@pytest.mark.e2e
def test_good_commit_reaches_prod_through_staging_and_a_broken_one_stops_there(box, tmp_path):
    cfg = load_config(box.config_path)
    runs_dir = tmp_path / "runs"
    dry = runner.run(RUNG4, config=box.config_path, out_dir=runs_dir)
    assert dry.ok, dry.error and dry.error.describe()
    assert _runs(cfg) == []  # a dry run pushes nothing

    done = runner.run(RUNG4, config=box.config_path, apply=True, out_dir=runs_dir)
    assert done.ok, done.error and done.error.describe()

    good, broken, fix = _runs(cfg)  # one trunk build per pushed commit, in order
    stages = ["git", "lint", "test", "build artifact", "version", "coverage gate", "migrate staging", "deploy staging"]
    assert [s.name for s in good.stages] == [*stages, "smoke staging", "load staging", "ship: auto", "migrate prod",
                                             "deploy prod"]  # fmt: skip
    assert good.result == "success" and all(s.result == "success" for s in good.stages)
    assert broken.result == "failure" and broken.stage("test").result == "success"  # CI's tests pass it
    assert broken.stage("deploy staging").result == "success" and broken.stage("smoke staging").result == "failure"
    assert broken.stage("deploy prod") is None  # a halted build never starts its later steps
    assert fix.result == "success" and fix.reached == "deploy prod"

    rows = journal.history(journal.journal_path(cfg.runs_dir), kind="deploy")
    shipped = [(r["params"]["environment"], r["status"]) for r in rows]
    # good: staging, prod; broken: staging only; fix: staging, prod
    assert shipped == [("staging", "ok"), ("prod", "ok"), ("staging", "ok"), ("staging", "ok"), ("prod", "ok")]
    prod = [r for r in rows if r["params"]["environment"] == "prod"]
    assert [r["params"]["commit"] for r in prod] == [good.revision, fix.revision]
    assert all(r["params"]["approver"] == "pipeline (ship=auto)" and r["params"]["commit_time"] for r in prod)
    broken_version = rows[2]["params"]["version"]
    assert broken_version not in {r["params"]["version"] for r in prod}
    assert rung4.prod_versions(cfg) == dict.fromkeys(rung4.prod_versions(cfg), prod[-1]["params"]["version"])

    figures = done.summary["figures"]
    assert (
        figures["prod untouched by the broken commit"] is True and figures["broken commit reached"] == "deploy staging"
    )
    print(
        f"push to prod: good commit {figures['good commit push to prod (s)']} s, fix forward {figures['fix forward push to prod (s)']} s"
    )


def _stage(name: str, start: datetime, seconds: float, result: str = "success") -> Stage:
    return Stage(name, result, start, start + timedelta(seconds=seconds))


@pytest.mark.unit
def test_pipeline_report_table_chart_summary_and_figures():
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    ok = Run(1, "a" * 40, "success", t0, t0 + timedelta(seconds=60),
             (_stage("smoke staging", t0, 10), _stage("deploy prod", t0 + timedelta(seconds=10), 50)))  # fmt: skip
    bad = Run(2, "b" * 40, "failure", t0, t0 + timedelta(seconds=20),
              (_stage("smoke staging", t0, 10, "failure"), Stage("deploy prod", "not run", None, None)))  # fmt: skip
    good = PipelineReport(
        (ok,), {ok.revision: (GOOD, t0 - timedelta(seconds=5))}, {"before": {"p1": "1"}, GOOD: {"p1": "2"}}
    )
    broken = PipelineReport(
        (ok, bad), {bad.revision: (BROKEN, t0)}, {"before": {"p1": "2"}, BROKEN: {"p1": "2"}, FIX: {"p1": "3"}}
    )
    table = good.table()
    assert list(table.columns) == [
        "build",
        "commit",
        "this run",
        "smoke staging",
        "deploy prod",
        "reached",
        "push to prod (s)",
    ]
    assert table.iloc[0]["push to prod (s)"] == 65.0 and table.iloc[0]["deploy prod"] == "success (50 s)"
    assert broken.table().iloc[1]["reached"] == "" and broken.to_prod(bad) is None
    assert "good commit aaaaaaa: success, reached deploy prod, prod 65 s after the push" in good.summary()
    assert "background-color: #e57373" in broken.styled().to_html()
    assert good.chart().png().startswith(b"\x89PNG")
    figures = rung4.figures(good, broken)
    assert figures["good commit push to prod (s)"] == 65.0 and figures["broken commit reached"] == ""
    assert figures["prod untouched by the broken commit"] is True


@pytest.mark.unit
def test_break_route_breaks_a_get_handler_and_refuses_an_app_without_one():
    app = 'def health(environ):\n    return 1\n\ndef items(environ):\n    return 2\n\nROUTES = [("GET", "/health", health), ("GET", "/items", items)]\n'
    broken = rung4.break_route(app)
    assert broken.index(rung4.BROKEN_LINE) == broken.index("def items(environ):\n") + len("def items(environ):\n")
    compile(broken, "app.py", "exec")
    with pytest.raises(LadderError, match="no handler"):
        rung4.break_route("def health(environ):\n    return 1\n")


@pytest.mark.unit
def test_a_bad_ship_is_refused_before_any_host():
    with pytest.raises(ParameterError, match="parameter 'ship'"):
        rung4.setup("/nonexistent/ladder.yml", "sometimes")


@pytest.mark.unit
def test_a_run_that_does_not_end_as_its_commit_should_is_an_error():
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    smoke_failed = Run(2, "b" * 40, "failure", t0, t0, (_stage("smoke staging", t0, 1, "failure"),))
    shipped = Run(3, "c" * 40, "success", t0, t0, (_stage("smoke staging", t0, 1), _stage("deploy prod", t0, 1)))
    prod = {"before": {"p1": "1"}, BROKEN: {"p1": "1"}}
    rung4._expect(BROKEN, smoke_failed, prod, "auto")  # stopped at staging, prod as it was: as it should
    rung4._expect(GOOD, shipped, {"before": {"p1": "1"}, GOOD: {"p1": "2"}}, "auto")
    with pytest.raises(LadderError, match="passed every stage"):
        rung4._expect(BROKEN, shipped, {"before": {"p1": "1"}, BROKEN: {"p1": "3"}}, "auto")
    with pytest.raises(LadderError, match="stopped at 'smoke staging'"):
        rung4._expect(GOOD, smoke_failed, prod, "auto")
