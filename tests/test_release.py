"""Releases on sshd prod hosts: deploy v1 then v2 from rung 1's checkout, prune, refusals, and kill -9 at every step."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import require_sshd

from gitrepo import git
from ladder import sandbox
from ladder.app import artifact, health, recipe, release, switch
from ladder.app.artifact import Store
from ladder.app.layout import Layout
from ladder.app.server import get_server
from ladder.core.config import load_config
from ladder.core.errors import LadderError, ParameterError
from ladder.core.hosts import LocalHost, environment_hosts
from ladder.rungs import rung3a
from ladder.sandbox import APP_NAME, faults
from ladder.sandbox.repo import seed_repo

SERVERS = [("uwsgi", "supervisor"), ("gunicorn", "none")]
EDIT_MARK = faults.EDIT_MARK


# --- unit: pure parsing -------------------------------------------------------------
@pytest.mark.unit
def test_parse_releases_orders_by_completion_and_reads_current() -> None:
    out = "current releases/1.10.0\nrelease 1.9.0 100\nrelease 2.0.0 -\nrelease 1.10.0 200\n"
    found = release.parse_releases(out)
    assert found.current == "1.10.0"
    assert [r.version for r in found.releases] == ["2.0.0", "1.9.0", "1.10.0"]
    assert found.complete == ("1.9.0", "1.10.0")
    assert release.parse_releases("current \n").current is None


@pytest.mark.unit
def test_parse_verify_names_failed_and_missing_files() -> None:
    out = (
        "wheelhouse/a.whl: FAILED\nsha256sum: wheelhouse/b.whl: No such file or directory\n"
        "wheelhouse/b.whl: FAILED open or read\nsha256sum: WARNING: 2 computed checksums did NOT match\n"
    )
    assert release.parse_verify(out) == ["wheelhouse/a.whl", "wheelhouse/b.whl"]
    assert release.parse_verify("") == []


@pytest.mark.unit
def test_to_prune_keeps_current_and_newest() -> None:
    found = release.parse_releases(
        "current releases/2\nrelease 1 100\nrelease 2 200\nrelease 3 300\nrelease 4 -\nrelease 5 500\n"
    )
    assert release.to_prune(found, 2) == ["4", "1", "3"]  # partial first; keeps current 2 and the newest, 5
    assert release.to_prune(found, 1) == ["4", "1", "3", "5"]
    assert release.to_prune(found, 5) == ["4"]


@pytest.mark.unit
@pytest.mark.parametrize("keep", [0, -1, True, "5"])
def test_keep_releases_below_one_is_refused_before_anything(keep) -> None:
    with pytest.raises(ParameterError, match="keep_releases"):
        rung3a.setup("no-such-config.yml", "1.0.0", keep_releases=keep)


@pytest.mark.unit
@pytest.mark.parametrize("version", ["", "../1.0", "latest", "1.0 ; rm"])
def test_a_version_no_build_makes_is_refused_before_anything(version) -> None:
    with pytest.raises(ParameterError, match="version must be a PEP 440 version"):
        rung3a.setup("no-such-config.yml", version)


# --- ssh: one sandbox per server, shared by the deploy tests in order ----------------------------
@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    """An artifact store with versions 1.0.0 and 2.0.0 of the sandbox app, made by the real 3a build (tags v1, v2)."""
    top = tmp_path_factory.mktemp("built")
    repo = seed_repo(top / "app")
    recipe.land(str(repo), APP_NAME, dry_run=False)
    git(repo, "tag", "v1.0.0")
    (repo / "NOTES.md").write_text("the second release\n")
    git(repo, "add", "NOTES.md")
    git(repo, "commit", "-qm", "notes")
    git(repo, "tag", "v2.0.0")
    (top / "build").mkdir()
    folder = top / "store"
    for version in ("1.0.0", "2.0.0"):
        source = artifact.get_source(str(repo), f"v{version}")
        built = artifact.build(
            LocalHost("build", top / "build"), _store(folder), source, APP_NAME, python=sys.executable, dry_run=False
        )
        assert built.manifest is not None and built.manifest.version == version
    return folder


@pytest.fixture(scope="module", params=SERVERS, ids=lambda p: "-".join(p))
def served(request, tmp_path_factory):
    """A rung-1 sandbox on sshd (uWSGI under supervisor, or bare gunicorn), shared by this module's deploy tests."""
    require_sshd()
    server, manager = request.param
    box = sandbox.up(tmp_path_factory.mktemp("box") / "sandbox", ssh=True, hosts=1, server=server, manager=manager)
    yield box
    sandbox.down(box.dir)


def _prod(box: sandbox.Sandbox) -> tuple[Layout, str]:
    cfg = load_config(box.config_path)
    hc = cfg.environment("prod").hosts[0]
    return Layout(hc.base), f"http://127.0.0.1:{cfg.app_port(hc)}{cfg.app.health_path}"


def _store(folder: Path) -> Store:
    return Store(LocalHost("store", folder), str(folder))


def _deploy(box: sandbox.Sandbox, store: Path, version: str, keep: int = 5) -> dict:
    plan = rung3a.setup(box.config_path, version, keep_releases=keep, store=_store(store))
    return rung3a.deploy(plan, box.dir / "edits", dry_run=False)


@pytest.mark.ssh
def test_deploy_v1_from_the_checkout_then_v2(served, store) -> None:
    lay, url = _prod(served)
    plan = rung3a.setup(served.config_path, store=_store(store), version="1.0.0")
    planned = rung3a.deploy(plan, served.dir / "edits", dry_run=True)
    assert planned["send"]["prod1"].outcome == "planned"
    assert not Path(lay.releases).exists()  # a dry run changes nothing

    first = _deploy(served, store, "1.0.0")
    assert health.check(url).version == "1.0.0"
    patch = served.dir / "edits" / "prod1.patch"
    assert EDIT_MARK in patch.read_text()  # the in-place edit is saved, and still in the kept checkout
    assert EDIT_MARK in (Path(lay.app) / "app.py").read_text()
    assert first["switch"]["prod1"].previous is None

    second = _deploy(served, store, "2.0.0")
    switched = second["switch"]["prod1"]
    assert (switched.previous, switched.change.outcome) == ("1.0.0", "changed")
    assert switched.method in ("uwsgi-touch-chain-reload", "hup")  # a reload that keeps the socket open
    assert health.check(url).version == "2.0.0"
    assert Path(lay.current).resolve() == Path(lay.release("2.0.0")).resolve()
    print(f"switch time ({served.serving.server}): {switched.seconds:.2f} s")  # symlink + reload + health


@pytest.mark.ssh
def test_second_apply_changes_nothing(served, store) -> None:
    again = _deploy(served, store, "2.0.0")
    changes = [*again["prepare"]["prod1"], *(again[s]["prod1"] for s in ("send", "install", "prune"))]
    changed = [c for c in changes if getattr(c, "changed", False)]
    assert changed == [] and not again["switch"]["prod1"].change.changed


@pytest.mark.ssh
def test_prune_keeps_the_current_release(served, store) -> None:
    lay, url = _prod(served)
    plan = rung3a.setup(served.config_path, store=_store(store), version="2.0.0", keep_releases=1)
    pruned = rung3a.prune(plan, dry_run=False)["prod1"]
    assert pruned.changed and "1.0.0" in pruned.commands[0]
    assert sorted(p.name for p in Path(lay.releases).iterdir()) == ["2.0.0"]
    assert health.check(url).version == "2.0.0"


@pytest.mark.ssh
def test_unknown_version_is_refused(served, store) -> None:
    with pytest.raises(LadderError, match=r"no version '9\.9\.9' of shop in the store .*built: 1\.0\.0, 2\.0\.0"):
        rung3a.setup(served.config_path, store=_store(store), version="9.9.9")


@pytest.mark.ssh
def test_checksum_mismatch_stops_the_host(served, store, tmp_path) -> None:
    lay, url = _prod(served)
    serving = health.check(url).version
    bad_store = tmp_path / "store"
    shutil.copytree(store, bad_store)
    plan = rung3a.setup(served.config_path, store=_store(bad_store), version="1.0.0")
    wheel = bad_store / "shop" / "1.0.0" / plan.artifact.wheel
    data = bytearray(wheel.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one byte
    wheel.write_bytes(bytes(data))
    with pytest.raises(LadderError, match=r"prod1.*sha256 of wheelhouse/shop-1\.0\.0-py3-none-any\.whl does not match"):
        rung3a.send(plan, dry_run=False)
    assert not release.get_releases(_host(served), lay).is_complete("1.0.0")
    # A copy corrupted on the host after it was sent is refused by install too, before pip runs.
    good = rung3a.setup(served.config_path, store=_store(store), version="1.0.0")
    rung3a.send(good, dry_run=False)
    on_host = Path(lay.release("1.0.0")) / good.artifact.wheel
    raw = bytearray(on_host.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    on_host.write_bytes(bytes(raw))
    with pytest.raises(LadderError, match="does not match the manifest; nothing was installed"):
        rung3a.install(good, dry_run=False)
    assert not (Path(lay.release("1.0.0")) / "venv").exists()
    assert health.check(url).version == serving


def _serving_2_with_1_reinstalled(box: sandbox.Sandbox, store: Path, deadline: float):
    """Prod serving 2.0.0 with 1.0.0 installed afresh beside it; its layout, URL, host and switch target."""
    _deploy(box, store, "2.0.0")
    lay, url = _prod(box)
    host = _host(box)
    host.run(f"rm -rf {lay.release('1.0.0')}")
    plan = rung3a.setup(box.config_path, store=_store(store), version="1.0.0")
    rung3a.send(plan, dry_run=False)
    rung3a.install(plan, dry_run=False)
    cfg = load_config(box.config_path)
    hc = cfg.environment("prod").hosts[0]
    target = switch.Target(cfg.app_port(hc), cfg.app.wsgi, hc.python, cfg.app.health_path, version_deadline=deadline)
    return lay, url, host, target


@pytest.mark.ssh
def test_a_release_that_does_not_report_its_version_is_switched_back(served, store) -> None:
    lay, url, host, target = _serving_2_with_1_reinstalled(served, store, 3)
    Path(lay.release("1.0.0"), "site", "VERSION").write_text("0.0.1\n")  # serves, but not as 1.0.0
    with pytest.raises(LadderError, match=r"does not report version 1\.0\.0.*switched back to 2\.0\.0"):
        switch.switch(host, lay, "1.0.0", target, dry_run=False)
    assert release.get_releases(host, lay).current == "2.0.0"
    assert health.check(url).version == "2.0.0"


@pytest.mark.ssh
def test_a_release_that_does_not_load_is_refused_and_the_old_one_keeps_serving(served, store) -> None:
    lay, url, host, target = _serving_2_with_1_reinstalled(served, store, 5)
    module = target.wsgi.partition(":")[0]
    with Path(lay.release("1.0.0"), "site", f"{module}.py").open("a") as f:
        f.write("\nraise RuntimeError('the database URL is missing')\n")  # a worker importing this fails to boot
    master = get_server(host, target.port).pid
    with pytest.raises(
        LadderError, match=r"(?s)1\.0\.0 was not switched to, 2\.0\.0 still serves.*database URL is missing"
    ):
        switch.switch(host, lay, "1.0.0", target, dry_run=False)
    assert release.get_releases(host, lay).current == "2.0.0"
    assert health.check(url).version == "2.0.0"
    assert get_server(host, target.port).pid == master  # not restarted: the same master serves the old code


def _host(box: sandbox.Sandbox):
    return environment_hosts(load_config(box.config_path), "prod")[0]


# --- ssh: kill -9 of the deploy at every named step ------------------------------------------
# The pause points inside each step (a kill at a step's start is the end of the one before, or "setup").
STEPS = ("setup", "send:prod1", "install:prod1", "switch:prod1", "move:prod1")
STEPS_AFTER = ("prune:prod1",)


def _deploy_command(box: sandbox.Sandbox, store: Path, version: str) -> list[str]:
    code = (
        "import sys; from ladder.rungs import rung3a; "
        "from ladder.app.artifact import Store; from ladder.core.hosts import LocalHost; "
        "store = Store(LocalHost('store', sys.argv[2]), sys.argv[2]); "
        "plan = rung3a.setup(sys.argv[1], sys.argv[3], keep_releases=1, store=store); "
        "rung3a.deploy(plan, sys.argv[4], dry_run=False)"
    )
    return [sys.executable, "-c", code, str(box.config_path), str(store), version, str(box.dir / "edits")]


def _partial(box: sandbox.Sandbox, url: str) -> list[str]:
    """What breaks the invariant: current not on a complete release, or the app not answering."""
    lay, _ = _prod(box)
    found = release.get_releases(_host(box), lay)
    problems = []
    if found.current is not None and not found.is_complete(found.current):
        problems.append(f"current -> {found.current}, which is not complete")
    result = health.wait(url, timeout=30)
    if not result.ok:
        problems.append(f"not serving: {result.error or result.status}")
    elif found.current is not None and result.version not in (found.current, *found.complete, "unknown"):
        problems.append(f"serves {result.version}, not a kept release")
    return problems


@pytest.mark.ssh
@pytest.mark.parametrize("serving", SERVERS, ids=lambda p: "-".join(p))
def test_kill_9_at_every_step_leaves_current_complete_and_serving(serving, store, tmp_path) -> None:
    require_sshd()
    box = sandbox.up(tmp_path / "sandbox", ssh=True, hosts=1, server=serving[0], manager=serving[1])
    try:
        _, url = _prod(box)
        kills, partial = 0, []
        started = time.monotonic()
        # v1 moves the host off rung 1's checkout (move:prod1); v2 reloads, and its prune removes v1.
        for version, steps in (("1.0.0", STEPS), ("2.0.0", STEPS[:-1] + STEPS_AFTER)):
            for step in steps:
                if faults.kill_command_at(step, _deploy_command(box, store, version), tmp_path / "pause.fifo"):
                    kills += 1
                    partial += [f"{version} at {step}: {p}" for p in _partial(box, url)]
            done = subprocess.run(_deploy_command(box, store, version), capture_output=True, text=True, timeout=600)
            assert done.returncode == 0, (
                f"the deploy of {version} did not finish after the kills: {done.stderr[-2000:]}"
            )
            assert health.check(url).version == version
        print(
            f"kill -9 ({'-'.join(serving)}): {kills} kills, {len(partial)} partial states, {time.monotonic() - started:.0f} s"
        )
        assert kills == len(STEPS) + len(STEPS) - 1 + len(STEPS_AFTER)
        assert partial == []
    finally:
        sandbox.down(box.dir)
