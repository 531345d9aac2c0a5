"""The team's Buildbot: rendering, REST parsing on recorded answers, and red and green pushes through a real master."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from conftest import require_sshd

from gitrepo import git
from ladder import cli, sandbox
from ladder.app import ci_render, ci_server
from ladder.core.config import load_config
from ladder.core.errors import ConfigError, HostError
from ladder.core.hosts import LocalHost, connect
from ladder.engine import journal
from ladder.rungs import ci_builds

RECORDED = Path(__file__).parent / "ci"


def _recorded(name: str) -> dict:
    return json.loads((RECORDED / name).read_text())


@pytest.mark.unit
def test_builds_parsed_from_a_recorded_red_and_green_run():
    answers = _recorded("rest.json")
    builds = ci_server.parse_builds(answers["builders"], answers["builds"], answers["changes"])
    assert [(b.builder, b.number, b.result, b.branch) for b in builds] == [
        ("ci", 1, "success", "master"),
        ("ci", 2, "failure", "master"),
    ]
    assert [b.green for b in builds] == [True, False]
    for b in builds:
        assert len(b.revision) == 40
        assert b.pushed is not None and b.complete is not None
        assert b.pushed <= b.started <= b.complete
        assert b.push_to_result == (b.complete - b.pushed).total_seconds()


@pytest.mark.unit
def test_a_running_build_has_no_result_yet():
    answers = _recorded("rest-running.json")
    running = ci_server.parse_builds(answers["builders"], answers["builds"], answers["changes"])[-1]
    assert (running.number, running.result, running.complete, running.push_to_result) == (2, "running", None, None)


@pytest.mark.unit
def test_ci_status_refuses_a_bad_limit_before_reading_any_config(capsys):
    assert cli.main(["ci", "status", "--limit", "0", "--config", "no-such.yml"]) == 2
    assert "--limit must be at least 1" in capsys.readouterr().err


def _push(clone: Path, files: dict[str, str], message: str, branch: str = "master") -> tuple[str, float]:
    for name, text in files.items():
        (clone / name).parent.mkdir(parents=True, exist_ok=True)
        (clone / name).write_text(text)
    git(clone, "add", "-A")
    git(clone, "commit", "-qm", message)
    pushed = time.time()
    git(clone, "push", "-q", "origin", f"HEAD:refs/heads/{branch}")
    return git(clone, "rev-parse", "HEAD"), pushed


def _result(host, url: str, revision: str, builder: str = ci_render.BUILDER) -> ci_server.Build:
    """Wait (bounded) until the build of revision has finished, reading REST as a user would."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            builds = ci_server.get_builds(host, url)
        except HostError:  # a master slow to answer under load: ask again
            continue
        done = [b for b in builds if b.revision == revision and b.builder == builder]
        if done and done[-1].complete is not None:
            return done[-1]
        time.sleep(0.3)
    raise AssertionError(f"no finished {builder} build of {revision} on {url}")


def _no_process_names(folder: Path) -> None:
    found = subprocess.run(["pgrep", "-af", str(folder)], capture_output=True, text=True, timeout=30)
    assert found.returncode == 1, found.stdout


@pytest.mark.e2e
def test_red_and_green_pushes_through_a_real_buildbot_on_sshd_hosts(tmp_path, capsys):
    require_sshd()
    box = sandbox.up(tmp_path / "sandbox", ssh=True, serve=False, ci=True)
    try:
        config = load_config(box.config_path, {"runs": str(tmp_path / "runs")})
        assert config.ci is not None
        master, worker = connect(config.ci.host, config.ssh), connect(config.host_config("dev"), config.ssh)
        hook = Path(ci_server.hook_path(LocalHost("app", box.dir), str(box.repo)))
        assert ci_render.MARK in hook.read_text() and hook.stat().st_mode & 0o111
        # A second apply, as a runbook would make it: nothing left to change.
        again = ci_server.install(config, dry_run=False)
        assert [c.outcome for c in again] == ["ok"] * len(again) and len(again) == 11

        clone = tmp_path / "clone"
        git(tmp_path, "clone", "-q", str(box.repo), str(clone))
        test = "def test_total():\n    assert sum([1, 2]) == 3\n"
        green, green_at = _push(clone, {"tests/test_total.py": test}, "Add a test")
        red, red_at = _push(clone, {"tests/test_broken.py": "def test_broken():\n    assert 1 == 2\n"}, "Break")
        by_push = {green: green_at, red: red_at}
        results = {rev: _result(master, config.ci.url, rev) for rev in (green, red)}
        assert (results[green].result, results[red].result) == ("success", "failure")
        for rev, build in results.items():
            assert build.pushed is not None and build.complete is not None and build.branch == "master"
            assert abs(build.pushed.timestamp() - by_push[rev]) < 2  # stamped by the hook at the push (whole seconds)
            assert build.push_to_result is not None and build.push_to_result >= 0

        assert cli.main(["ci", "status", "--config", str(box.config_path)]) == 0
        out = capsys.readouterr().out
        assert green[:10] in out and red[:10] in out and "failure" in out
        builds, added = ci_builds.sync(config)
        assert added == len([b for b in builds if b.complete]) and ci_builds.sync(config)[1] == 0
        rows = {r["summary"]["revision"]: r for r in journal.history(journal.journal_path(config.runs_dir))}
        assert (rows[green]["status"], rows[red]["status"]) == ("ok", "failed")
        assert rows[red]["started"] <= rows[red]["ended"]
        master.close()
        worker.close()
    finally:
        sandbox.down(box.dir)
    _no_process_names(box.dir)


@pytest.mark.local
def test_folder_sandbox_starts_ci_only_when_asked_and_down_stops_it(tmp_path):
    plain = sandbox.up(tmp_path / "plain", serve=False)
    assert "ci" not in yaml.safe_load(plain.config_path.read_text()) and not sandbox.processes(plain.dir)
    with pytest.raises(ConfigError, match="no ci: section"):
        ci_server.install(load_config(plain.config_path))
    # A dry run on a ci: section plans every step and changes nothing.
    ci = {"host": {"name": "ci", "address": "local", "base": "hosts/ci"}, "url": "http://127.0.0.1:8010/"}
    (plain.dir / "hosts" / "ci").mkdir()
    plan = ci_server.install(load_config(plain.config_path, {"ci": ci}))
    assert {c.outcome for c in plan} == {"planned"} and len(plan) == 11
    assert not list((plain.dir / "hosts" / "ci").iterdir()) and not sandbox.processes(plain.dir)
    assert not Path(ci_server.hook_path(LocalHost("app", plain.dir), str(plain.repo))).exists()
    sandbox.down(plain.dir)
    box = sandbox.up(tmp_path / "sandbox", serve=False, ci=True)
    try:
        assert sorted(sandbox.processes(box.dir)) == [
            "hosts/ci/buildbot-master/twistd.pid",
            "hosts/dev/buildbot-worker/twistd.pid",
        ]
        assert json.loads((box.dir / "state.json").read_text())["ci"] is True
        assert sandbox.up(tmp_path / "sandbox", serve=False, ci=True) == box  # the same one, reused
    finally:
        sandbox.down(box.dir)
    _no_process_names(box.dir)


@pytest.mark.e2e
def test_review_branches_are_a_merge_queue_trunk_moves_only_to_what_passed(tmp_path):
    box = sandbox.up(tmp_path / "sandbox", serve=False, ci=True)
    try:
        config = load_config(box.config_path, {"runs": str(tmp_path / "runs")})
        assert config.ci is not None
        master = connect(config.ci.host, config.ssh)
        clone = tmp_path / "clone"
        git(tmp_path, "clone", "-q", str(box.repo), str(clone))
        trunk = git(box.repo, "rev-parse", "master")
        git(clone, "checkout", "-qb", "review/bad")
        bad, _ = _push(clone, {"tests/test_bad.py": "def test_bad():\n    assert False\n"}, "Bad", "review/bad")
        assert _result(master, config.ci.url, bad, ci_render.REVIEW_BUILDER).result == "failure"
        assert git(box.repo, "rev-parse", "master") == trunk  # a red review never reaches trunk
        git(clone, "checkout", "-q", "master")
        git(clone, "checkout", "-qb", "review/good")
        good, _ = _push(clone, {"tests/test_good.py": "def test_good():\n    assert True\n"}, "Good", "review/good")
        assert _result(master, config.ci.url, good, ci_render.REVIEW_BUILDER).result == "success"
        assert git(box.repo, "merge-base", "--is-ancestor", good, "master") == ""  # merged: trunk moved past it
        assert git(box.repo, "rev-parse", "master") != trunk
        fetched = subprocess.run(
            ["git", "-C", str(clone), "fetch", "origin"], capture_output=True, text=True, check=True, timeout=60
        ).stderr
        assert "ci/passed/review/good" in fetched and "ci/failed/review/bad" in fetched
        assert git(clone, "rev-parse", "origin/ci/passed/review/good") == good
        assert git(clone, "rev-parse", "origin/ci/failed/review/bad") == bad
        master.close()
    finally:
        sandbox.down(box.dir)
    _no_process_names(box.dir)
