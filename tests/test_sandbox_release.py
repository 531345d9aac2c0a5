"""ladder.sandbox.release (`ladder sandbox release`): the team's next release committed, tagged and built."""

from __future__ import annotations

import pytest
from conftest import require_sshd

from gitrepo import git
from ladder import sandbox
from ladder.app import artifact, ci_server, recipe
from ladder.cli import main
from ladder.core.config import load_config
from ladder.core.errors import ParameterError
from ladder.engine import journal
from ladder.rungs import delivery, rung4, rung5a
from ladder.sandbox.release import release


@pytest.mark.local
def test_a_good_then_a_faulty_release_are_tagged_and_built_in_order(tmp_path, capsys) -> None:
    box = sandbox.up(tmp_path / "sandbox", serve=False)
    try:
        cfg = load_config(box.config_path)
        repo = str(cfg.app.repo)
        recipe.land(repo, cfg.app.name, dry_run=False)
        with pytest.raises(ParameterError, match="parameter 'fault' must be one of error, slow"):
            release(box.dir, "broken")
        good = release(box.dir).version
        assert main(["sandbox", "release", "--fault", "error", "--dir", str(box.dir)]) == 0
        bad = capsys.readouterr().out.strip()
        fix = release(box.dir)  # the next release fixes the fault left on
        assert fix.summary() == f"{fix.version}: tagged and built into the store" and fix.as_expected
        assert git(repo, "show", f"v{fix.version}:app.py") == git(repo, "show", f"v{good}:app.py")
        assert git(repo, "log", "-1", "--format=%s", f"v{fix.version}").startswith("fix: the fault switch")
        assert [int(p) for p in bad.split(".")] > [int(p) for p in good.split(".")]
        store = artifact.open_store(cfg)
        with store.host:
            assert {good, bad} <= set(artifact.versions(store, cfg.app.name))
        assert (
            git(repo, "log", "-1", "--format=%s", f"v{good}").strip()
            == "notes: a small change, released through a canary"
        )
        assert "if config.ENV == 'prod' else ''" in git(repo, "show", f"v{bad}:app.py")  # prod only
        assert "forced on" not in git(repo, "show", f"v{good}:app.py")
    finally:
        sandbox.down(box.dir)


@pytest.mark.e2e
def test_pushed_releases_go_through_the_pipeline_and_end_in_its_canary(tmp_path, monkeypatch, capsys) -> None:
    require_sshd()
    monkeypatch.setenv("LADDER_HOME", str(tmp_path / "home"))  # this test's journal only
    box = sandbox.up(tmp_path / "sandbox", ssh=True, hosts=2, balancer=True, ci=True, monitoring=True)
    try:
        cfg = load_config(box.config_path)
        recipe.land(str(cfg.app.repo), cfg.app.name, dry_run=False)
        git(str(cfg.app.repo), "tag", "v1.0.0")
        artifact.build_from_config(cfg, "v1.0.0", dry_run=False)
        delivery.deploy(box.config_path, "prod", "1.0.0", dry_run=False)  # the stable release a canary starts from
        rung4.configure(cfg, "auto", dry_run=False)
        prepared = rung5a.setup(box.config_path, "", interval=4, max_p99_ms=1000, load_rps=40)
        planned = rung5a.pipeline_stage(prepared, dry_run=True)
        assert any(c.outcome == "planned" for c in planned)
        rung5a.pipeline_stage(prepared, dry_run=False)
        assert all(c.outcome == "ok" for c in rung5a.pipeline_stage(prepared, dry_run=True))  # a second apply: none
        # Rungs 4 and 3b applied again keep the canary as the prod stage (master.cfg unchanged).
        assert all(c.outcome == "ok" for c in rung4.configure(cfg, "auto", dry_run=True))
        assert all(c.outcome == "ok" for c in ci_server.install(cfg, dry_run=True))

        good = release(box.dir, push=True)
        assert good.as_expected and good.run is not None and good.run.reached == "canary prod", good.summary()
        bad = release(box.dir, "error", push=True)
        assert bad.as_expected and bad.stopped_at == "canary prod", bad.summary()
        capsys.readouterr()
        assert main(["sandbox", "release", "--push", "--dir", str(box.dir)]) == 0  # its fix ships
        fix = capsys.readouterr().out.strip()
        assert rung4.prod_versions(cfg) == {"prod1": fix, "prod2": fix}
        canaries = journal.history(journal.journal_path(cfg.runs_dir), kind="canary")
        outcomes = [(r["params"]["version"], r["params"]["outcome"], r["params"]["approver"]) for r in canaries]
        assert outcomes[-3:-1] == [(good.version, "promoted", "pipeline (ship=auto)"),
                                   (bad.version, "rolled back", "pipeline (ship=auto)")]  # fmt: skip
        assert outcomes[-1][1:] == ("promoted", "pipeline (ship=auto)")
        deploys = journal.history(journal.journal_path(cfg.runs_dir), kind="deploy")
        assert bad.version in {r["params"]["version"] for r in deploys if r["params"]["environment"] == "staging"}
    finally:
        sandbox.down(box.dir)
