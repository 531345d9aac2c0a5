"""ladder.sandbox.release (`ladder sandbox release`): the team's next release committed, tagged and built."""

from __future__ import annotations

import pytest

from gitrepo import git
from ladder import sandbox
from ladder.app import artifact, recipe
from ladder.cli import main
from ladder.core.config import load_config
from ladder.core.errors import ParameterError
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
        good = release(box.dir)
        assert main(["sandbox", "release", "--fault", "error", "--dir", str(box.dir)]) == 0
        bad = capsys.readouterr().out.strip()
        assert [int(p) for p in bad.split(".")] > [int(p) for p in good.split(".")]
        store = artifact.open_store(cfg)
        with store.host:
            assert {good, bad} <= set(artifact.versions(store, cfg.app.name))
        assert (
            git(repo, "log", "-1", "--format=%s", f"v{good}").strip()
            == "notes: a small change, released through a canary"
        )
        assert "forced on while debugging" in git(repo, "show", f"v{bad}:app.py")
        assert "forced on" not in git(repo, "show", f"v{good}:app.py")
    finally:
        sandbox.down(box.dir)
