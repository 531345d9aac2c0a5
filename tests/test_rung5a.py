"""ladder.rungs.rung5a: the canary runbook's steps; its table and chart from a canary's checks (on real hosts: test_canary)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from ladder.app import canary_analysis as ca
from ladder.app.canary import CanaryRun
from ladder.core.errors import CanaryRolledBack, ConfigError, ParameterError
from ladder.engine import parameters
from ladder.rungs import rung5a

RUNBOOK = Path(__file__).resolve().parent.parent / "runbooks" / "5a-canary-release.ipynb"


def _run() -> CanaryRun:
    s = ca.settings(max_p99_ms=250)
    checks = (
        ca.judge(s, ca.weights(10, 1), 10, 1.0, 8.0, 1.0, 7.0, at=20),
        ca.judge(s, ca.weights(25, 1), 25, 0.62, 9.0, 1.0, 7.5, at=25),
    )
    return CanaryRun("2.1.0", "prod1", "2.0.0", False, "rolled back", "new", s, checks, max_share=25.0, seconds=31)


@pytest.mark.unit
def test_checks_table_has_one_row_per_check_with_canary_against_stable() -> None:
    rows = rung5a.checks(_run())
    assert list(rows["verdict"]) == ["pass", "fail"] and list(rows["step"]) == [10, 25]
    assert rows.loc[1, "success"] == 0.62 and rows.loc[1, "stable_success"] == 1.0
    assert "success 62.00% < 99.00%" in rows.loc[1, "reasons"]


@pytest.mark.unit
def test_chart_draws_success_and_p99_per_check_as_a_png() -> None:
    png = rung5a.chart(_run()).png()
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size[0] >= 800


@pytest.mark.unit
def test_figures_name_the_outcome_the_largest_share_and_the_time() -> None:
    assert rung5a.figures(_run()) == {
        "outcome": "rolled back",
        "checks": 2,
        "failed checks": 1,
        "largest canary share (%)": 25.0,
        "deploy to outcome (s)": 31.0,
    }


@pytest.mark.unit
def test_setup_refuses_bad_parameters_before_reading_any_config(tmp_path) -> None:
    with pytest.raises(ParameterError, match="'interval'"):
        rung5a.setup(tmp_path / "missing.yml", "2.0.0", interval=0)


@pytest.mark.local
def test_with_nothing_built_yet_every_step_says_what_to_do_and_changes_nothing(local_sandbox) -> None:
    prepared = rung5a.setup(local_sandbox.config_path, "")  # no version named: the newest built, and none is
    assert isinstance(prepared, rung5a.Unready) and prepared.reason == rung5a.NOTHING_BUILT
    assert "nothing to canary: no version named" in rung5a.plan(prepared).to_html()
    done = rung5a.release(prepared, dry_run=False)
    assert (done.outcome, done.rollouts, done.checks) == ("nothing to do", (), ())
    assert rung5a.checks(done).empty and rung5a.figures(done)["outcome"] == "nothing to do"
    assert Image.open(io.BytesIO(rung5a.chart(done).png())).size[0] > 0


@pytest.mark.unit
def test_a_rolled_back_canary_fails_the_run_only_when_asked_naming_its_failed_check() -> None:
    done = _run()
    assert rung5a.check_shipped(done, False) == "rolled back"
    with pytest.raises(CanaryRolledBack, match=r"canary of 2\.1\.0 was rolled back \(1 failed check\(s\), the last "
                       r"at 25%: success 62\.00% < 99\.00%.*prod serves 2\.0\.0"):  # fmt: skip
        rung5a.check_shipped(done, True)
    promoted = CanaryRun("2.1.0", "prod1", "2.0.0", False, "promoted", "new", done.settings, done.checks[:1])
    assert rung5a.check_shipped(promoted, True) == "promoted"


@pytest.mark.unit
def test_the_pipelines_canary_gets_the_runbooks_settings_as_parameters_it_parses_back() -> None:
    import yaml

    params = dict(rung5a.pipeline_params(ca.settings([5, 50], 10, 0.95, None, 2, 20)))
    assert set(params) == {"steps", "interval", "min_success", "max_failed_checks", "load_rps"}  # None: the default
    assert params["interval"] == "10" and params["steps"] == "[5, 50]"  # whole numbers as the runbook's ints take them
    parsed = {name: yaml.safe_load(text) for name, text in params.items()}
    assert parsed == {"steps": [5, 50], "interval": 10, "min_success": 0.95, "max_failed_checks": 2, "load_rps": 20}
    assert dict(rung5a.pipeline_params(ca.settings(interval=2.5)))["interval"] == "2.5"
    declared = parameters.declared(RUNBOOK)  # what `ladder run -p NAME TEXT` takes, as the pipeline passes it
    for name, text in rung5a.pipeline_params(ca.settings([10, 25, 50], 10, 0.99, 1000, 1, 20)):
        assert parameters.coerce(declared[name], text) == yaml.safe_load(text), name


@pytest.mark.local
def test_the_pipeline_stage_is_refused_without_a_ci_server_naming_the_section(local_sandbox) -> None:
    prepared = rung5a.setup(local_sandbox.config_path, "")
    with pytest.raises(ConfigError, match="ci: has no ci: section"):  # no CI server: no pipeline to change
        rung5a.pipeline_stage(prepared, dry_run=True)


@pytest.mark.unit
def test_the_canarys_rollouts_are_the_runs_changes_host_by_host() -> None:
    from dataclasses import replace

    from ladder.app.rollout import HostRollout, Rollout

    deploy = Rollout("deploy", "prod", "2.1.0", False, (HostRollout("prod1", "2.0.0", "changed", current="2.1.0"),
                     HostRollout("prod2", "2.0.0", "skipped")), "t0", "t1")  # fmt: skip
    back = Rollout(
        "rollback", "prod", "2.0.0", False, (HostRollout("prod1", "2.1.0", "changed", current="2.0.0"),), "t1", "t2"
    )
    changes = rung5a.rollout_changes(replace(_run(), rollouts=(deploy, back)))
    assert [(c.host, c.operation, c.outcome, c.reason) for c in changes] == [
        ("prod1", "deploy 2.1.0", "changed", "2.0.0 -> 2.1.0"),
        ("prod1", "rollback 2.0.0", "changed", "2.1.0 -> 2.0.0"),
    ]  # prod2, never reached, changed nothing
