"""SIGKILL a rung-1 apply on a copied prod folder just before and just after its adoption (pause points), over ssh:
prod serves, its files are intact and its edit kept, and the re-run converges to a clean checkout of master."""

from __future__ import annotations

from pathlib import Path

import pytest

from ladder import sandbox
from ladder.sandbox import faults

pytestmark = pytest.mark.e2e
RUNBOOK = Path(__file__).resolve().parents[2] / "runbooks" / "1-separate-dev-and-prod.ipynb"


def files_under(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


@pytest.fixture
def copied_ssh(tmp_path):
    from conftest import require_sshd

    require_sshd()
    box = sandbox.up(tmp_path / "sandbox", ssh=True, hosts=1)
    faults.copy_prod(box.dir)
    yield box
    sandbox.down(box.dir)


def test_a_kill_around_the_adoption_loses_nothing_and_the_rerun_converges(copied_ssh, tmp_path):
    box, runs = copied_ssh, tmp_path / "runs"
    app = box.dir / "hosts" / "prod1" / "app"
    before = files_under(app)
    for step in ("adopt:prod1", "adopted:prod1"):
        assert faults.kill_at(step, RUNBOOK, box.config_path, runs, tmp_path / "pause"), f"never reached {step}"
        assert faults.look(box.dir, runs).ok, step
        assert files_under(app) == before, f"a kill at {step} changed the folder's files"
    assert (app / ".git").is_dir() and list(app.parent.glob("app.adopted-*.tar.gz"))
    assert faults.converge(RUNBOOK, box.config_path, runs)
    assert faults.converged(box.dir) and faults.look(box.dir, runs).ok
