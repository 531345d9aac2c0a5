"""ladder.rungs.rung1: the runbook's steps on a sandbox with two prod hosts: dry run, apply, apply again."""

import subprocess
from pathlib import Path

import pytest

from ladder import load_config, sandbox
from ladder.app import deploy
from ladder.core.errors import FleetError
from ladder.core.hosts import environment_hosts
from ladder.engine import state
from ladder.rungs import rung1
from tree import snapshot

pytestmark = pytest.mark.local


@pytest.fixture
def two_prod(tmp_path, monkeypatch):
    monkeypatch.setenv("LADDER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LADDER_RUNS", str(tmp_path / "runs"))
    box = sandbox.up(tmp_path / "sandbox", hosts=2)
    yield load_config(box.config_path), box
    sandbox.down(box.dir)


def master_of(box):
    return subprocess.run(
        ["git", "-C", str(box.repo), "rev-parse", "master"], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_the_steps_called_without_the_flag_change_no_host(two_prod, tmp_path):
    cfg, box = two_prod
    before = snapshot(box.dir / "hosts")
    dev = rung1.build_dev(cfg)
    assert all(c.changed and not c.applied for c in dev["dev"])
    health = rung1.check_dev(cfg)
    assert health.index.tolist() == ["dev"] and not health["ok"].any()  # nothing built yet; rows named by host
    result = rung1.measure_parity(cfg)
    assert list(result.table.columns)[2:5] == ["dev", "prod1", "prod2"]
    assert result.notes == (
        "dev: no app environment (no app server running, no virtualenv); its packages count as missing",
    )
    edits = rung1.save_prod_edits(cfg, str(tmp_path / "run"))
    assert sorted(p.path.name for p in edits.saved.values()) == ["prod1.patch", "prod2.patch"]
    plan = rung1.deploy_prod(cfg, "master", edits)
    assert set(plan) == {"prod1", "prod2"} and all(c.changed and not c.applied for cs in plan.values() for c in cs)
    verified = rung1.verify_prod(cfg, "master")
    assert verified["ok"].all()
    assert snapshot(box.dir / "hosts") == before


def test_apply_then_apply_again(two_prod, tmp_path):
    cfg, box = two_prod
    master = master_of(box)
    rung1.build_dev(cfg, dry_run=False)
    assert rung1.check_dev(cfg, dry_run=False)["ok"].all()
    edits = rung1.save_prod_edits(cfg, str(tmp_path / "run"))
    assert edits.table()["modified"].tolist() == ["app.py", "app.py"]
    rung1.deploy_prod(cfg, "master", edits, dry_run=False)
    verified = rung1.verify_prod(cfg, "master", dry_run=False)
    assert verified["version"].tolist() == [deploy.version_of(master)] * 2

    parity = rung1.measure_parity(cfg)
    assert not parity.notes
    table = parity.table.set_index(["category", "item"])
    assert table.loc[("python", "Python"), "match"]
    assert table.loc[("env var", "APP_SECRET_KEY"), "match"]  # names are compared, never values
    assert table.loc[("package", "gunicorn"), "match"]  # both serve from venvs built from the app's requirements
    assert parity.different == 0 and parity.score == 10

    again_dev = rung1.build_dev(cfg, dry_run=False)
    again_edits = rung1.save_prod_edits(cfg, str(tmp_path / "run2"))
    again = rung1.deploy_prod(cfg, "master", again_edits, dry_run=False)
    assert not any(c.changed for c in again_dev["dev"])
    assert not any(c.changed for cs in again.values() for c in cs)
    assert all(p is None for p in again_edits.saved.values())

    figures = rung1.figures(parity, edits, rung1.route_report(cfg))
    assert figures["prod hosts edited in place"] == 2 and figures["unversioned routes"] == 3
    assert figures["public routes versioned"] == "0 of 3"
    said = rung1.notices(edits, dry_run=False)
    assert len(said) == 2 and all("The deploy replaced the edit; it is saved as" in n for n in said)
    assert str(edits.saved["prod1"].path) in said[0] and "(app.py, app.py.bak)" in said[0]
    planned = rung1.notices(edits)[0]  # a dry run says where the edit is saved and what an apply would do
    assert f"it is saved as {edits.saved['prod1'].path}" in planned and "An apply's deploy replaces" in planned
    assert rung1.notices(again_edits, dry_run=False) == []  # nothing edited in place any more


def test_a_bad_ref_fails_on_every_prod_host_and_changes_nothing(two_prod, tmp_path):
    cfg, box = two_prod
    edits = rung1.save_prod_edits(cfg, str(tmp_path / "run"))
    before = snapshot(box.dir / "hosts")
    with pytest.raises(FleetError) as err:
        rung1.deploy_prod(cfg, "no-such-branch", edits, dry_run=False)
    assert set(err.value.failed) == {"prod1", "prod2"}
    assert "not a branch or tag on origin" in str(err.value)
    with pytest.raises(ValueError, match="not a branch, tag or commit name"):
        rung1.deploy_prod(cfg, "-oops", edits, dry_run=False)
    # The deploy script may have been installed, but no checkout moved and both apps still answer.
    after = snapshot(box.dir / "hosts")
    hosts = box.dir / "hosts"
    assert {p: v for p, v in after.items() if Path(p).relative_to(hosts).parts[1:2] != ("bin",)} == before
    assert rung1.verify_prod(cfg, "master", dry_run=True)["ok"].all()


def test_a_run_outside_the_runner_saves_edits_into_its_own_folder_in_the_runs_home(two_prod, tmp_path):
    cfg, box = two_prod
    before = snapshot(box.dir / "hosts")
    edits = rung1.save_prod_edits(cfg)
    run = state.current()
    assert edits.folder == cfg.runs_dir / run.run_id / "prod-edits" and cfg.runs_dir == tmp_path / "runs"
    assert sorted(p.name for p in edits.folder.iterdir()) == ["prod1.patch", "prod2.patch"]
    assert edits.table()["untracked"].tolist() == ["app.py.bak"] * 2
    assert snapshot(box.dir / "hosts") == before  # reading the edits changed nothing on the hosts


def test_setup_checks_the_ref_before_any_step(two_prod):
    cfg, box = two_prod
    before = snapshot(box.dir / "hosts")
    assert rung1.setup(box.config_path, "master").path == cfg.path
    with pytest.raises(FleetError, match="'nope' is not a branch or tag on origin"):
        rung1.setup(cfg, "nope")
    with pytest.raises(ValueError, match="not a branch, tag or commit name"):
        rung1.setup(cfg, "--upload-pack=x")
    assert snapshot(box.dir / "hosts") == before


def test_a_prod_left_mixed_is_said_first_and_the_next_apply_converges_it(two_prod, tmp_path):
    cfg, box = two_prod
    master = master_of(box)
    older = subprocess.run(
        ["git", "-C", str(box.repo), "rev-parse", "master~1"], capture_output=True, text=True, check=True
    ).stdout.strip()
    first = rung1.save_prod_edits(cfg, str(tmp_path / "run1"))
    assert rung1.mixed(first) is None
    # An apply of an older commit stopped after prod1's deploy: prod1 serves it, prod2 still master.
    (prod1,) = [h for h in environment_hosts(cfg, "prod") if h.name == "prod1"]
    target = rung1.prod_target(cfg, prod1)
    deploy.install(prod1, target, dry_run=False)
    deploy.deploy(prod1, target, older, saved=first.saved["prod1"], dry_run=False)

    edits = rung1.save_prod_edits(cfg, str(tmp_path / "run2"))
    split = f"prod is mixed: prod1 at {deploy.version_of(older)}, prod2 at {deploy.version_of(master)}"
    assert rung1.mixed(edits) == split
    said = rung1.notices(edits, dry_run=False)
    assert said[0].startswith(split) and "deployed one ref to every prod host" in said[0]
    assert rung1.notices(edits)[0].startswith(split)  # a dry run says it too
    rung1.deploy_prod(cfg, "master", edits, dry_run=False)
    assert rung1.verify_prod(cfg, "master", dry_run=False)["version"].tolist() == [deploy.version_of(master)] * 2
    assert rung1.mixed(rung1.save_prod_edits(cfg, str(tmp_path / "run3"))) is None
