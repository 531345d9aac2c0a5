"""ladder.app.ci_stages: Buildbot's REST answers read as a trunk build's stages, where it got and where it failed."""

from __future__ import annotations

import pytest

from ladder.app import ci_stages

pytestmark = pytest.mark.unit

T0 = 1_790_000_000.0


def _step(number: int, name: str, results: int) -> dict:
    """A finished step; results as Buildbot codes them (0 success, 2 failure)."""
    return {
        "number": number,
        "name": name,
        "complete": True,
        "started_at": T0 + number,
        "complete_at": T0 + number + 0.5,
        "results": results,
    }


def _run(*steps: dict) -> ci_stages.Run:
    build = {"number": 7, "properties": {"got_revision": ["abc123", "Git"]}, "started_at": T0, "complete": False}
    return ci_stages.parse_run(build, {"steps": list(steps)})


def test_stages_are_in_step_order_without_buildbots_own_and_with_their_times():
    run = _run(_step(2, "test", 0), _step(0, "worker_preparation", 0), _step(1, "checkout", 0))
    assert [s.name for s in run.stages] == ["checkout", "test"] and run.revision == "abc123"
    assert run.stages[0].seconds == 0.5 and run.result == "running" and run.complete is None


def test_a_green_build_reached_its_last_stage_and_failed_nowhere():
    run = _run(_step(1, "test", 0), _step(2, "deploy staging", 0), _step(3, "deploy prod", 0))
    assert (run.reached, run.failed_at) == ("deploy prod", "")


def test_a_build_stopped_by_its_smoke_test_failed_there_and_ran_nothing_after():
    run = _run(
        _step(1, "test", 0), _step(2, "smoke staging", 2), {"number": 3, "name": "deploy prod", "complete": False}
    )
    assert (run.reached, run.failed_at) == ("test", "smoke staging")
    assert run.stage("deploy prod") is not None and run.stage("deploy prod").result == "not run"


def test_a_stage_still_running_has_not_failed():
    run = _run(_step(1, "test", 0), {"number": 2, "name": "build", "complete": False, "started_at": T0 + 2})
    assert (run.reached, run.failed_at, run.stages[1].result) == ("test", "", "running")
