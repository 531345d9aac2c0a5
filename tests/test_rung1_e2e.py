"""Rung 1 end to end: the runbook through the real runner, against real sshd hosts from the sandbox."""

import urllib.request
from pathlib import Path

import pytest

from gitrepo import git
from ladder import load_config
from ladder.app import deploy, health
from ladder.app.server import get_server
from ladder.core.errors import LadderError
from ladder.core.hosts import environment_hosts
from ladder.engine import runner
from ladder.rungs import rung1

RUNBOOK = Path(__file__).resolve().parent.parent / "runbooks" / "1-separate-dev-and-prod.ipynb"

pytestmark = pytest.mark.ssh


def prod_tree(box):
    """The prod checkout's files and HEAD, to tell whether a run touched it."""
    app = box.dir / "hosts" / "prod1" / "app"
    return git(app, "rev-parse", "HEAD"), git(app, "status", "--porcelain"), (app / "app.py").read_text()


def test_rung1_dry_run_then_apply_then_apply_again(served_sandbox, tmp_path):
    box, server, manager = served_sandbox
    cfg = load_config(box.config_path)
    prod = cfg.host_config("prod1")
    url = f"http://127.0.0.1:{cfg.app_port(prod)}{cfg.app.health_path}"
    master = git(box.repo, "rev-parse", "master")
    assert prod.address == "127.0.0.1" and prod.port != 22  # a real sshd, driven over Fabric

    before = prod_tree(box)
    bad = runner.run(RUNBOOK, {"ref": "no-such-branch"}, config=box.config_path, apply=True, out_dir=tmp_path / "runs")
    assert not bad.ok and "not a branch or tag on origin" in bad.error.evalue
    assert bad.error.hosts == {"prod1": "failed"}
    assert prod_tree(box) == before and not (box.dir / "hosts" / "dev" / "app").exists()

    dry = runner.run(RUNBOOK, config=box.config_path, out_dir=tmp_path / "runs")
    assert dry.ok, dry.error and dry.error.describe()
    assert dry.summary["hosts"] == {"repo": "planned", "dev": "planned", "prod1": "planned"}
    assert prod_tree(box) == before and not (box.dir / "hosts" / "dev" / "app").exists()
    assert git(box.repo, "rev-parse", "master") == master

    applied = runner.run(RUNBOOK, config=box.config_path, apply=True, out_dir=tmp_path / "runs")
    assert applied.ok, applied.error and applied.error.describe()
    assert applied.summary["matrix"] == {
        "repo": {"route versions": "changed"},
        "dev": {"dev environment": "changed"},
        "prod1": {"prod edits": "ok", "deploy step": "changed", "verify": "ok"},
    }
    assert applied.report.is_file() and applied.notebook.is_file()

    # Prod's in-place edit was saved into the run's folder, and it applies onto the commit prod had.
    patch = applied.run_dir / "prod-edits" / "prod1.patch"
    assert "HOTFIX (edited on prod)" in patch.read_text() and "app.py.bak" in patch.read_text()
    fresh = tmp_path / "fresh"
    git(tmp_path, "clone", "-q", str(box.repo), str(fresh))
    git(fresh, "checkout", "-q", "--detach", before[0])
    git(fresh, "apply", "--check", str(patch))
    # ... and the report says so first, with the patch's path, not in a table cell further down.
    page = applied.report.read_text()
    assert page.index("Read this first") < page.index("Hosts and steps") and str(patch) in page
    assert page[page.index("<body") :].count("Rung 1: separate dev and prod") == 1  # the header's title only
    # The report says what serves prod and under which manager, as found, one line per host.
    assert f"<td>{server} " in page and ("supervisor shop" if manager == "supervisor" else "no process manager") in page

    # The routes were versioned by one commit on master, which the deploy shipped.
    versioned = git(box.repo, "rev-parse", "master")
    assert git(box.repo, "rev-parse", "master^") == master
    assert applied.summary["figures"]["public routes versioned"] == "3 of 3"

    # Prod serves the deployed ref, over HTTP, from a clean checkout; the hotfix is gone.
    served = health.check(url)
    assert served.ok and served.version == deploy.version_of(versioned)
    head, status, app_py = prod_tree(box)
    assert head == versioned and status == "" and "HOTFIX" not in app_py
    base = url.removesuffix(cfg.app.health_path)
    assert urllib.request.urlopen(base + "/v1/items", timeout=10).status == 200
    with urllib.request.urlopen(base + "/items", timeout=10) as old:
        assert old.status == 200 and old.headers["Deprecation"].startswith("@")
    dev = cfg.host_config("dev")
    assert health.check(f"http://127.0.0.1:{cfg.app_port(dev)}/health").ok

    again = runner.run(RUNBOOK, config=box.config_path, apply=True, out_dir=tmp_path / "runs")
    assert again.ok, again.error and again.error.describe()
    assert again.summary["changes"] == 0
    assert git(box.repo, "rev-parse", "master") == versioned
    assert set(again.summary["hosts"].values()) == {"ok"}
    assert not (again.run_dir / "prod-edits").exists()
    assert again.summary["notices"] == [] and "Read this first" not in again.report.read_text()

    # A commit whose app does not import: the run stops at dev, which it breaks first ...
    found = get_server_of(cfg, "prod1")
    module = cfg.app.wsgi.partition(":")[0]
    with (box.repo / f"{module}.py").open("a") as f:
        f.write("\nraise RuntimeError('SHOP_DB is not set')\n")
    git(box.repo, "commit", "-qam", "a commit that does not import")
    broken = runner.run(RUNBOOK, config=box.config_path, apply=True, out_dir=tmp_path / "runs")
    assert not broken.ok and broken.error.step == "Dev answers"
    # ... and prod's own deploy step refuses it before any reload: the server keeps its master and old code.
    with pytest.raises(LadderError, match="(?s)SHOP_DB is not set.*nothing was reloaded"):
        rung1.deploy_prod(cfg, "master", rung1.save_prod_edits(cfg, str(tmp_path / "edits")), dry_run=False)
    assert health.check(url).version == deploy.version_of(versioned)
    assert prod_tree(box)[0] == versioned
    assert get_server_of(cfg, "prod1").pid == found.pid


def get_server_of(cfg, name: str):
    """What serves the app on a host, read over SSH."""
    [host] = [h for h in environment_hosts(cfg, "prod") if h.name == name]
    with host:
        return get_server(host, cfg.app_port(cfg.host_config(name)))
