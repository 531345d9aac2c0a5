"""SIGKILL a rung-1 apply at each named step on the ssh sandbox (triggered by the step's pause point, not a timer);
after each kill prod serves, nothing is half-changed, prod edits are kept and the journal tells; the re-run converges."""

from __future__ import annotations

from pathlib import Path

import pytest

from ladder import sandbox
from ladder.engine import journal
from ladder.sandbox import faults

pytestmark = pytest.mark.e2e
RUNBOOK = Path(__file__).resolve().parents[2] / "runbooks" / "1-separate-dev-and-prod.ipynb"


@pytest.fixture
def two_prod_ssh(tmp_path):
    from conftest import require_sshd

    require_sshd()
    box = sandbox.up(tmp_path / "sandbox", ssh=True, hosts=2)
    yield box
    sandbox.down(box.dir)


def test_a_kill_at_any_step_leaves_prod_serving_and_whole_and_the_rerun_converges(two_prod_ssh, tmp_path):
    box, runs = two_prod_ssh, tmp_path / "runs"
    for step in faults.STEPS:
        assert faults.kill_at(step, RUNBOOK, box.config_path, runs, tmp_path / "pause"), f"never reached {step}"
        found = faults.look(box.dir, runs)
        assert found.ok, (step, found)
        assert journal.history(journal.journal_path(runs))[-1]["status"] == "abandoned", step
    assert faults.converge(RUNBOOK, box.config_path, runs)
    assert faults.converged(box.dir) and faults.look(box.dir, runs).ok
    rows = journal.history(journal.journal_path(runs))
    assert [r["status"] for r in rows] == ["abandoned"] * len(faults.STEPS) + ["ok"]
