"""Rung 3b: the runbook through the real runner on sshd hosts with a real Buildbot; its steps' bad input and views."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import require_sshd

from gitrepo import git
from ladder import load_config, sandbox
from ladder.app import ci_render, ci_server
from ladder.assess import assess
from ladder.core.errors import ConfigError, ParameterError
from ladder.engine import journal, runner
from ladder.rungs import rung3b

RUNG3B = Path(__file__).resolve().parent.parent / "runbooks" / "3b-continuous-integration.ipynb"
RECORDED = Path(__file__).parent / "ci"


def refs(repo: Path) -> dict[str, str]:
    """Every ref of a repository and the object it points to."""
    return dict(line.split()[::-1] for line in git(repo, "show-ref").splitlines())


@pytest.fixture(scope="module")
def box(tmp_path_factory):
    """One sshd sandbox with its ci host (Buildbot master, worker on dev) for the module."""
    require_sshd()
    built = sandbox.up(tmp_path_factory.mktemp("rung3b") / "sandbox", ssh=True, serve=False, ci=True)
    yield built
    sandbox.down(built.dir)


@pytest.mark.e2e
def test_rung3b_dry_run_then_apply_green_and_red_then_apply_again_then_assess(box):
    cfg = load_config(box.config_path)
    before = refs(box.repo)
    dry = runner.run(RUNG3B, config=box.config_path)
    assert dry.ok, dry.error and dry.error.describe()
    assert refs(box.repo) == before and dry.summary["matrix"]["repo"]["ci demo"] == "planned"

    applied = runner.run(RUNG3B, config=box.config_path, apply=True)
    assert applied.ok, applied.error and applied.error.describe()
    figures = applied.summary["figures"]
    assert (figures["green push result"], figures["red push result"]) == ("success", "failure")
    assert figures["green push to result (s)"] >= 0 and figures["red push to result (s)"] >= 0
    assert figures["workflow landed"] is False  # the sandbox has no forge: Buildbot runs the steps
    # The merge queue kept trunk: the red commit never reached it; the review branches are gone, the statuses stay.
    after = refs(box.repo)
    assert after["refs/heads/master"] == before["refs/heads/master"]
    assert not any(r.startswith(f"refs/heads/{ci_render.REVIEW_PREFIX}") for r in after)
    red = after[f"refs/heads/{ci_render.STATUS_PREFIX}failed/{rung3b.RED}"]
    assert rung3b.RED_TEST in git(box.repo, "show", "--name-only", "--format=", red)
    assert after[f"refs/heads/{ci_render.STATUS_PREFIX}passed/{rung3b.GREEN}"] == before["refs/heads/master"]
    rows = {
        r["summary"]["revision"]: r
        for r in journal.history(journal.journal_path(cfg.runs_dir))
        if r["kind"] == journal.BUILD
    }
    assert rows[red]["status"] == "failed" and rows[before["refs/heads/master"]]["status"] == "ok"

    again = runner.run(RUNG3B, config=box.config_path, apply=True)
    assert again.ok, again.error and again.error.describe()
    assert again.summary["changes"] == 0 and refs(box.repo) == after

    doc = assess(box.repo, config=box.config_path).to_dict()
    practice = next(p for p in doc["practices"] if p["id"] == "ci-tests")
    assert practice["met"] and practice["label"] == "measured", practice
    assert "have a result" in practice["reason"]
    assert next(r for r in doc["rungs"] if r["id"] == "3b")["met"]


@pytest.mark.e2e
def test_bad_forge_and_a_missing_ci_section_are_refused_before_any_host(box, tmp_path):
    with pytest.raises(ParameterError, match="forge"):
        rung3b.setup(box.config_path, "gitlab")
    bare = tmp_path / "ladder.yml"
    text = box.config_path.read_text()
    bare.write_text(text[: text.index("\nci:")] + "\n")
    with pytest.raises(ConfigError, match="ci"):
        rung3b.setup(bare, "none")


@pytest.mark.local
def test_forge_auto_reads_the_repository_url_and_remote(tmp_path):
    repo = tmp_path / "repo"
    git(tmp_path, "init", "-q", str(repo))
    config = tmp_path / "ladder.yml"
    config.write_text(
        f"app:\n  name: items\n  repo: {repo}\nenvironments:\n  dev:\n    hosts:\n"
        "      - {name: dev, address: local, base: hosts/dev}\n"
    )
    assert rung3b.forge_of(config) == "none"
    git(repo, "remote", "add", "origin", "git@github.com:team/items.git")
    assert rung3b.forge_of(config) == "github" and rung3b.forge_of(config, "none") == "none"


@pytest.mark.unit
def test_build_report_table_chart_and_figures_from_recorded_builds():
    answers = json.loads((RECORDED / "rest.json").read_text())
    builds = ci_server.parse_builds(answers["builders"], answers["builds"], answers["changes"])
    green, red = (replace(b, builder=ci_render.REVIEW_BUILDER) for b in builds)
    pushes = {green.revision: "green push", red.revision: "red push"}
    earlier = rung3b.BuildReport((green, red), pushes, after=red.number)  # both built before this run's pushes
    assert earlier.outcome("red push") is None and set(earlier.table()["this run"]) == {""}
    report = rung3b.BuildReport((green, red), pushes, after=0)
    table = report.table()
    assert list(table["result"]) == ["success", "failure"] and list(table["this run"]) == ["green push", "red push"]
    html = report._repr_html_()
    assert rung3b.RESULT_COLOURS["failure"] in html and "2 build(s): 1 green, 1 red" in html
    assert report.chart().png().startswith(b"\x89PNG")
    figures = rung3b.figures(rung3b.WorkflowReport("", None), report)
    assert figures["red push result"] == "failure" and figures["green push to result (s)"] == green.push_to_result
