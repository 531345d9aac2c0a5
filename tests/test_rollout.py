"""ladder.app.rollout (+ rungs.delivery, `ladder deploy|rollback`): rolling deploys and rollbacks behind a real HAProxy.

One SSH sandbox (3 prod hosts, staging, HAProxy) and one store of really built artifacts are shared by the
module; the tests run in order, each starting where the one before left prod.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
from conftest import require_sshd

from gitrepo import git
from ladder import sandbox
from ladder.app import artifact, balancer, health, recipe, release, rollout
from ladder.app.layout import Layout
from ladder.cli import main
from ladder.core.config import load_config
from ladder.core.errors import ConfigError, FleetError, LadderError, ParameterError, RolloutFailed
from ladder.core.hosts import connect
from ladder.engine import journal
from ladder.rungs import delivery, pipeline
from ladder.sandbox import faults

VERSIONS = ("1.0.0", "2.0.0", "3.0.0")


# --- unit ----------------------------------------------------------------------------------
@pytest.mark.unit
def test_previous_is_the_release_completed_before_current() -> None:
    found = release.parse_releases("current releases/2.0.0\nrelease 1.0.0 100\nrelease 2.0.0 200\nrelease 3.0.0 300\n")
    assert rollout.previous(found) == "1.0.0"
    assert rollout.previous(release.parse_releases("current releases/1.0.0\nrelease 1.0.0 100\n")) is None
    assert rollout.previous(release.parse_releases("current \nrelease 1.0.0 100\n")) is None


@pytest.mark.unit
def test_a_failed_rollout_lists_every_host() -> None:
    hosts = (
        rollout.HostRollout("prod1", "1", "changed", (), "2", 1.5, 0.4, True),
        rollout.HostRollout("prod2", "1", "failed", ("drained",), "1", 3.0, 0.0, True, "health says 0.0.1"),
        rollout.HostRollout("prod3", "1", "skipped", (), "1"),
    )
    done = rollout.Rollout("deploy", "prod", "2", False, hosts, "t0", "t1")
    assert not done.ok and done.changed == 1
    assert [r["outcome"] for r in done.rows()] == ["changed", "failed", "skipped"]
    assert json.loads(json.dumps(done.to_dict()))["hosts"][1]["error"] == "health says 0.0.1"


# --- ssh: the shared sandbox ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def box(tmp_path_factory):
    """An SSH sandbox with 3 prod hosts behind HAProxy, and versions 1.0.0-3.0.0 built into its store."""
    require_sshd()
    made = sandbox.up(tmp_path_factory.mktemp("roll") / "sandbox", ssh=True, hosts=3, balancer=True)
    try:
        cfg = load_config(made.config_path)
        repo = str(cfg.app.repo)
        recipe.land(repo, cfg.app.name, dry_run=False)
        for i, version in enumerate(VERSIONS):
            if i:
                (Path(repo) / "NOTES.md").write_text(f"change {i}\n")
                git(repo, "add", "NOTES.md")
                git(repo, "commit", "-qm", f"change {i}")
            git(repo, "tag", f"v{version}")
            assert artifact.build_from_config(cfg, f"v{version}", dry_run=False).source.version == version
        yield made
    finally:
        sandbox.down(made.dir)


class Load:
    """A loop of real requests through HAProxy in a thread: counts of answers by version, and failures."""

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}/health"
        self.versions: Counter[str] = Counter()
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                with urllib.request.urlopen(self.url, timeout=10) as resp:
                    self.versions[json.loads(resp.read()).get("version", "?")] += 1
            except Exception as exc:  # every kind of failure a user would see counts
                self.failures.append(repr(exc))

    def __enter__(self) -> Load:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def _cfg(box):
    return load_config(box.config_path)


def _serves(box) -> dict[str, str | None]:
    """The version each prod host answers with on its own port (not through HAProxy)."""
    cfg = _cfg(box)
    return {
        hc.name: health.check(f"http://127.0.0.1:{cfg.app_port(hc)}{cfg.app.health_path}").version
        for hc in cfg.environment("prod").hosts
    }


def _current(box) -> dict[str, str | None]:
    cfg = _cfg(box)
    return {hc.name: Path(Layout(hc.base).current).resolve().name for hc in cfg.environment("prod").hosts}


def _lb(box) -> dict[str, balancer.ServerState]:
    host, lb = balancer.from_config(_cfg(box))
    with host:
        return {s.name: s for s in balancer.servers(host, lb)}


def _rows(box, kind: str) -> list[dict]:
    return journal.history(journal.journal_path(_cfg(box).runs_dir), kind=kind)


@pytest.mark.ssh
def test_a_dry_run_plans_every_host_and_changes_nothing(box) -> None:
    planned = delivery.deploy(box.config_path, "prod", "1.0.0")
    assert [h.outcome for h in planned.hosts] == ["planned"] * 3 and planned.dry_run
    steps = planned.hosts[1].steps
    assert "sha256" in steps[0] and steps[-1].startswith("ready app/prod2")
    assert (
        steps.index("drain app/prod2") == steps.index("current -> releases/1.0.0; reload; health must report 1.0.0") - 2
    )
    cfg = _cfg(box)
    assert not any(Path(Layout(hc.base).releases).exists() for hc in cfg.environment("prod").hosts)
    assert {s.state for s in _lb(box).values()} == {"ready"}
    assert _rows(box, "deploy") == []


@pytest.mark.ssh
def test_bad_input_is_refused_before_any_host_is_touched(box, capsys) -> None:
    with pytest.raises(ConfigError, match="no environment 'qa'; defined: dev, staging, prod"):
        delivery.deploy(box.config_path, "qa", "1.0.0")
    with pytest.raises(ParameterError, match=r"no version '9\.9\.9' of shop .*built: 1\.0\.0, 2\.0\.0, 3\.0\.0"):
        delivery.deploy(box.config_path, "prod", "9.9.9", dry_run=False)
    # prod2 on a port nobody listens on: named, before prod1 is touched.
    text = Path(box.config_path).read_text()
    port = _cfg(box).host_config("prod2").port
    broken = Path(box.config_path).with_name("broken.yml")  # beside it: its paths are relative to its folder
    broken.write_text(text.replace(f"port: {port}\n", "port: 1\n", 1))
    try:
        assert load_config(broken).host_config("prod2").port == 1
        with pytest.raises(FleetError, match=r"1 of 3 hosts failed:\n  prod2: "):
            delivery.deploy(broken, "prod", "1.0.0", dry_run=False)
    finally:
        broken.unlink()
    assert main(["deploy", "--env", "prod", "--version", "9.9.9", "--apply", "--config", str(box.config_path)]) == 2
    assert "built: 1.0.0, 2.0.0, 3.0.0" in capsys.readouterr().err
    assert _rows(box, "deploy") == [] and not any(Path(p).exists() for p in _releases(box))


def _releases(box) -> list[str]:
    return [Layout(hc.base).releases for hc in _cfg(box).environment("prod").hosts]


@pytest.mark.ssh
def test_a_rolling_deploy_under_load_fails_no_request(box) -> None:
    delivery.deploy(box.config_path, "prod", "1.0.0", dry_run=False, approver="release-manager")
    assert set(_serves(box).values()) == {"1.0.0"}
    with Load(_cfg(box).balancer.port) as load:
        done = delivery.deploy(box.config_path, "prod", "2.0.0", dry_run=False, approver="release-manager")
    assert load.failures == [], load.failures[:5]
    assert load.versions["1.0.0"] > 0 and load.versions["2.0.0"] > 0, load.versions
    assert _serves(box) == {"prod1": "2.0.0", "prod2": "2.0.0", "prod3": "2.0.0"}
    assert all(s.state == "ready" and s.health == "UP" for s in _lb(box).values())
    assert [h.outcome for h in done.hosts] == ["changed"] * 3
    for h in done.hosts:
        assert 0 < h.switch_seconds < h.out_of_rotation
        print(f"{h.host}: out of rotation {h.out_of_rotation:.2f} s, switch {h.switch_seconds:.2f} s")
    print(f"requests: {sum(load.versions.values())} ok, {len(load.failures)} failed")
    row = _rows(box, "deploy")[-1]
    assert row["status"] == "ok" and row["changes"] == 3
    params = row["params"]
    assert (params["environment"], params["version"], params["approver"]) == ("prod", "2.0.0", "release-manager")
    assert params["commit"] == git(_cfg(box).app.repo, "rev-parse", "v2.0.0^{commit}") and params["commit_time"]
    assert row["hosts"]["prod1"]["out_of_rotation_s"] > 0
    again = delivery.deploy(box.config_path, "prod", "2.0.0", dry_run=False)
    assert [h.outcome for h in again.hosts] == ["ok"] * 3, "a second apply changes nothing"


@pytest.mark.ssh
def test_a_release_failing_health_on_host_2_stops_there(box) -> None:
    cfg = _cfg(box)
    prod2 = Layout(cfg.host_config("prod2").base)
    store = artifact.open_store(cfg)
    manifest = artifact.read_manifest(store, cfg.app.name, "3.0.0")

    with connect(cfg.host_config("prod2"), cfg.ssh) as host:
        release.send(host, prod2, store, manifest, dry_run=False)
        release.install(host, prod2, manifest, dry_run=False)
    Path(prod2.release("3.0.0"), "site", "VERSION").write_text("0.0.1\n")  # serves, but not as 3.0.0
    with Load(cfg.balancer.port) as load, pytest.raises(RolloutFailed, match="stopped at prod2") as failed:
        delivery.deploy(box.config_path, "prod", "3.0.0", dry_run=False, version_deadline=3)
    assert load.failures == [], load.failures[:5]
    assert set(load.versions) <= {"2.0.0", "3.0.0"}, load.versions
    result = failed.value.result
    assert [h.outcome for h in result.hosts] == ["changed", "failed", "skipped"]
    assert "does not report version 3.0.0" in result.hosts[1].error and result.hosts[1].ready is True
    assert _serves(box) == {"prod1": "3.0.0", "prod2": "2.0.0", "prod3": "2.0.0"}
    assert _current(box) == {"prod1": "3.0.0", "prod2": "2.0.0", "prod3": "2.0.0"}
    assert all(s.state == "ready" and s.health == "UP" for s in _lb(box).values())
    row = _rows(box, "deploy")[-1]
    assert row["status"] == "failed" and "stopped at prod2" in row["error"]


@pytest.mark.ssh
def test_rollback_to_the_previous_release_then_to_a_named_one(box) -> None:
    with Load(_cfg(box).balancer.port) as load:
        back = delivery.rollback(box.config_path, "prod", dry_run=False)
        assert back.version == "2.0.0" and [h.outcome for h in back.hosts] == ["changed", "ok", "ok"]
        assert _serves(box) == {"prod1": "2.0.0", "prod2": "2.0.0", "prod3": "2.0.0"}
        planned = delivery.rollback(box.config_path, "prod", "1.0.0")
        assert [h.outcome for h in planned.hosts] == ["planned"] * 3 and set(_current(box).values()) == {"2.0.0"}
        named = delivery.rollback(box.config_path, "prod", "1.0.0", dry_run=False)
    assert load.failures == [], load.failures[:5]
    assert [h.outcome for h in named.hosts] == ["changed"] * 3
    assert _serves(box) == {"prod1": "1.0.0", "prod2": "1.0.0", "prod3": "1.0.0"}
    assert all(s.state == "ready" and s.health == "UP" for s in _lb(box).values())
    rows = _rows(box, "rollback")
    assert [(r["status"], r["params"]["version"]) for r in rows] == [("ok", "2.0.0"), ("ok", "1.0.0")]


@pytest.mark.ssh
def test_an_unknown_or_pruned_release_is_refused_naming_what_is_kept(box, capsys) -> None:
    cfg = _cfg(box)

    with connect(cfg.host_config("prod1"), cfg.ssh) as host:
        release.prune(host, Layout(cfg.host_config("prod1").base), 2, dry_run=False)  # keeps 1.0.0 (current), 3.0.0
    with pytest.raises(ParameterError, match=r"release 2\.0\.0 is not kept on prod1 .*prod1 keeps 1\.0\.0, 3\.0\.0"):
        delivery.rollback(box.config_path, "prod", "2.0.0", dry_run=False)
    with pytest.raises(ParameterError, match=r"release 9\.9\.9 is not kept on prod1, prod2, prod3"):
        delivery.rollback(box.config_path, "prod", "9.9.9")
    assert main(["rollback", "--env", "prod", "--to", "2.0.0", "--apply", "--config", str(box.config_path)]) == 2
    assert "prod1 keeps 1.0.0, 3.0.0" in capsys.readouterr().err
    assert _current(box) == {"prod1": "1.0.0", "prod2": "1.0.0", "prod3": "1.0.0"}


def _deploy_command(box, version: str) -> list[str]:
    return [sys.executable, "-m", "ladder.cli", "deploy", "--env", "prod", "--version", version, "--apply",
            "--config", str(box.config_path)]  # fmt: skip


def _invariant(box) -> list[str]:
    """What breaks it: a current that is not complete, or HAProxy sending traffic to a host that is not healthy."""
    cfg = _cfg(box)
    problems = []
    states = _lb(box)
    for hc in cfg.environment("prod").hosts:
        lay = Layout(hc.base)
        current = Path(lay.current).resolve().name
        if not (Path(lay.releases) / current / release.COMPLETE).exists():
            problems.append(f"{hc.name}: current -> {current}, not complete")
        serving = health.check(f"http://127.0.0.1:{cfg.app_port(hc)}{cfg.app.health_path}")
        if states[hc.name].state == "ready" and not (serving.ok and states[hc.name].health == "UP"):
            problems.append(f"{hc.name}: ready in HAProxy but not healthy ({serving.error or serving.status})")
    return problems


@pytest.mark.ssh
def test_kill_9_mid_deploy_leaves_complete_releases_and_healthy_routing(box, tmp_path) -> None:
    kills, found, drained = 0, [], []
    for step in ("install:prod1", "drain:prod1", "switch:prod2", "ready:prod3"):
        if faults.kill_command_at(step, _deploy_command(box, "2.0.0"), tmp_path / "pause.fifo"):
            kills += 1
            found += [f"at {step}: {p}" for p in _invariant(box)]
            drained += [f"{step}: {n}" for n, s in _lb(box).items() if s.state == "drain"]
    assert kills == 4 and found == []
    assert drained, "a kill between drain and ready leaves that host drained (out of rotation, never broken)"
    planned = delivery.deploy(box.config_path, "prod", "2.0.0")
    left = [h for h in planned.hosts if any("left drained" in s for s in h.steps)]
    assert left, "the plan names the host a killed run left drained"
    done = subprocess.run(_deploy_command(box, "2.0.0"), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert _serves(box) == {"prod1": "2.0.0", "prod2": "2.0.0", "prod3": "2.0.0"}
    assert all(s.state == "ready" and s.health == "UP" for s in _lb(box).values()), "the next run readied it"
    path = journal.journal_path(_cfg(box).runs_dir)
    journal.reap(path)
    statuses = [r["status"] for r in journal.history(path, kind="deploy")[-5:]]
    assert statuses == ["abandoned"] * 4 + ["ok"]


@pytest.mark.ssh
def test_staging_has_no_balancer_so_its_hosts_switch_in_place(box) -> None:
    planned = delivery.deploy(box.config_path, "staging", "2.0.0")
    assert not any("drain" in s for h in planned.hosts for s in h.steps)
    done = delivery.deploy(box.config_path, "staging", "2.0.0", dry_run=False)
    (staging,) = done.hosts
    assert (staging.outcome, staging.ready, staging.out_of_rotation) == ("changed", None, 0.0)
    hc = _cfg(box).host_config("staging")
    assert health.check(f"http://127.0.0.1:{_cfg(box).app_port(hc)}/health").version == "2.0.0"
    assert _rows(box, "deploy")[-1]["params"]["environment"] == "staging"


@pytest.mark.e2e
def test_the_assessment_shows_measured_dora_after_deploys_and_a_rollback(box) -> None:
    # DORA counts prod's deploys that changed something (staging's and no-op rows are not deploys to users).
    runs = [
        r
        for r in _rows(box, "deploy")
        if r["status"] == "ok" and r["changes"] and (r["params"] or {}).get("environment") == "prod"
    ]
    version = "1.0.0"
    for _ in range(max(0, 5 - len(runs))):
        delivery.deploy(box.config_path, "prod", version, dry_run=False)
        version = "2.0.0" if version == "1.0.0" else "1.0.0"
    back_to = "1.0.0" if _current(box)["prod1"] == "2.0.0" else "2.0.0"  # one every host keeps
    delivery.rollback(box.config_path, "prod", back_to, dry_run=False)
    assert main(["assess", "--config", str(box.config_path)]) == 0
    newest = max(_cfg(box).runs_dir.glob("*/assessment.json"), key=lambda p: p.stat().st_mtime)
    doc = json.loads(newest.read_text())
    metrics = {m["key"]: m for m in doc["dora"]["metrics"]}
    assert doc["dora"]["source"] == "journal"
    for key in ("deploy_frequency", "lead_time", "change_fail_rate", "recovery_time"):
        assert metrics[key]["value"] is not None, metrics[key]
        print(f"{key}: {metrics[key]['display']} ({metrics[key]['note']})")
    assert "too few" not in json.dumps(doc["dora"])


@pytest.mark.ssh
def test_the_ship_gate_waits_for_ladder_approve_and_names_who_approved(box, capsys) -> None:
    # The pipeline's gate step is `ladder approve --wait`; a person's `ladder approve` releases it.
    waited: list[int] = []
    gate = threading.Thread(
        target=lambda: waited.append(
            main(["approve", "--env", "prod", "--version", "3.0.0", "--wait", "60", "--config", str(box.config_path)])
        )
    )
    gate.start()
    gate.join(timeout=2)
    assert gate.is_alive(), "the gate waits while nobody approved"
    argv = ["approve", "--env", "prod", "--version", "3.0.0", "--approver", "release-manager"]
    assert main([*argv, "--config", str(box.config_path)]) == 0
    gate.join(timeout=30)
    assert waited == [0] and capsys.readouterr().out.splitlines()[-1] == "release-manager"
    row = _rows(box, pipeline.APPROVAL)[-1]["params"]
    assert row == {"environment": "prod", "version": "3.0.0", "approver": "release-manager"}


@pytest.mark.ssh
def test_the_gate_refuses_a_version_the_store_lacks_and_gives_up_after_its_timeout(box) -> None:
    assert main(["approve", "--env", "prod", "--version", "9.9.9", "--config", str(box.config_path)]) == 2
    with pytest.raises(LadderError, match="nobody approved 2.0.0 for staging within 0.2s; run: ladder approve"):
        pipeline.wait_for_approval(box.config_path, "staging", "2.0.0", 0.2)
