"""ladder.app.canary (+ rungs.rung5a): canary releases on the --ssh sandbox, under steady load, judged by Prometheus.

One sandbox (2 prod hosts behind HAProxy, Prometheus scraping them every second) and one store of really built
artifacts are shared by the module; the tests run in order, each starting where the one before left prod:
1.0.0 everywhere, a good 2.0.0 promoted, a bad 2.1.0 (a real commit that left the app's fault switch on)
rolled back, then 3.0.0 killed mid-step and run again.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from conftest import require_sshd

from gitrepo import git
from ladder import sandbox
from ladder.app import artifact, balancer, canary, health, load, prometheus, recipe, release
from ladder.app.layout import Layout
from ladder.core.config import load_config
from ladder.core.errors import ParameterError
from ladder.engine import journal
from ladder.rungs import delivery, rung5a
from ladder.sandbox import faults
from ladder.sandbox.repo import commit_fault

PATHS = ("/health", "/", "/items")
RATE = 40.0  # requests/s through HAProxy: a few per second reach the canary at its first step
INTERVAL = 4.0  # seconds per step: four Prometheus scrapes
MAX_P99_MS = 1000.0  # the sandbox shares two cores with the test: only a real slowdown should fail a check
BAD = "2.1.0"


@pytest.fixture(scope="module")
def box(tmp_path_factory):
    """The sandbox, 1.0.0 on both prod hosts, and 2.0.0, the bad 2.1.0 and 3.0.0 built into its store."""
    require_sshd()
    made = sandbox.up(tmp_path_factory.mktemp("canary") / "sandbox", ssh=True, hosts=2, balancer=True, monitoring=True)
    try:
        cfg = load_config(made.config_path)
        repo = Path(str(cfg.app.repo))
        recipe.land(str(repo), cfg.app.name, dry_run=False)
        git(repo, "tag", "v1.0.0")
        (repo / "NOTES.md").write_text("change 2\n")
        git(repo, "add", "NOTES.md")
        git(repo, "commit", "-qm", "change 2")
        git(repo, "tag", "v2.0.0")
        commit_fault(repo, "error", tag=f"v{BAD}")
        git(repo, "revert", "--no-edit", "HEAD")
        git(repo, "tag", "v3.0.0")
        for version in ("1.0.0", "2.0.0", BAD, "3.0.0"):
            assert artifact.build_from_config(cfg, f"v{version}", dry_run=False).source.version == version
        delivery.deploy(made.config_path, "prod", "1.0.0", dry_run=False)
        yield made
    finally:
        sandbox.down(made.dir)


def _cfg(box):
    return load_config(box.config_path)


def _serves(box) -> dict[str, str | None]:
    cfg = _cfg(box)
    return {
        hc.name: health.check(f"http://127.0.0.1:{cfg.app_port(hc)}{cfg.app.health_path}").version
        for hc in cfg.environment("prod").hosts
    }


def _lb(box) -> dict[str, balancer.ServerState]:
    host, lb = balancer.from_config(_cfg(box))
    with host:
        return {s.name: s for s in balancer.servers(host, lb)}


def _load(box, seconds: float = 600) -> load.Run:
    return load.steady(f"http://127.0.0.1:{_cfg(box).balancer.port}/", rate=RATE, duration=seconds, paths=PATHS)


def _stable_success(box, seconds: float) -> float:
    prom = prometheus.Prometheus(_cfg(box).monitoring.url)
    return prometheus.success_rate(prom, f"{int(seconds) + 5}s", host="prod2")["prod2"]


@pytest.mark.e2e
def test_bad_parameters_are_refused_before_any_host_and_a_dry_run_changes_nothing(box) -> None:
    with pytest.raises(ParameterError, match="'steps'"):
        rung5a.setup("/nonexistent/ladder.yml", "2.0.0", steps_percent=[50, 10])
    with pytest.raises(ParameterError, match="'min_success'"):
        rung5a.setup("/nonexistent/ladder.yml", "2.0.0", min_success=99)
    before = _lb(box)
    prepared = rung5a.setup(box.config_path, "2.0.0", interval=INTERVAL)
    planned = rung5a.release(prepared)
    assert planned.outcome == "planned" and prepared.state == "new" and prepared.canary == "prod1"
    assert any("step 10%" in line for line in planned.plan) and any("promote" in line for line in planned.plan)
    assert _serves(box) == {"prod1": "1.0.0", "prod2": "1.0.0"} and _lb(box) == before


@pytest.mark.e2e
def test_a_good_release_is_promoted_through_every_step_with_no_failed_request(box) -> None:
    prepared = rung5a.setup(box.config_path, "2.0.0", interval=INTERVAL, max_p99_ms=MAX_P99_MS)
    with _load(box) as run:
        done = rung5a.release(prepared, dry_run=False)
        run.stop()
        summary = run.result()
    assert done.outcome == "promoted", rung5a.checks(done).to_string()
    assert [c.step for c in done.checks] == [10, 25, 50] and all(c.passed for c in done.checks)
    assert summary.sent > 100 and summary.failed == 0, summary.lines()
    assert _serves(box) == {"prod1": "2.0.0", "prod2": "2.0.0"}
    assert {s.weight for s in _lb(box).values()} == {1}, "the configured (equal) weights are back"
    (row,) = journal.history(journal.journal_path(_cfg(box).runs_dir), kind="canary")
    assert row["status"] == "ok" and row["summary"]["outcome"] == "promoted"
    assert len(row["summary"]["checks"]) == 3


@pytest.mark.e2e
def test_a_bad_release_is_rolled_back_at_its_first_step_and_users_elsewhere_see_no_error(box) -> None:
    prepared = rung5a.setup(box.config_path, BAD, interval=INTERVAL, max_p99_ms=MAX_P99_MS)
    started = time.monotonic()
    with _load(box) as run:
        done = canary.run(prepared, dry_run=False, pause=run.mark, roll=lambda p: delivery.journaled(p, rung="5a"))
        run.mark("after")
        time.sleep(2)
        run.stop()
        summary = run.result()
    assert done.outcome == "rolled back" and len(done.checks) == 1
    (check,) = done.checks
    assert check.step == 10 and not check.passed and check.success is not None and check.success < 0.99
    assert done.max_share <= 10.5
    assert _serves(box) == {"prod1": "2.0.0", "prod2": "2.0.0"}, "the canary is back on the stable release"
    assert {s.weight for s in _lb(box).values()} == {1}
    step = summary.versions("canary:step:10")
    assert step.get(BAD, 0) > 0, "the canary served its share"
    assert step.get(BAD, 0) / sum(step.values()) <= 0.2, step
    assert BAD not in summary.versions("canary:deploy") and BAD not in summary.versions("after")
    assert set(summary.kinds) <= {"http 500"}, summary.kinds  # nothing failed but the canary's own answers
    assert {s.phase for s in summary.samples if not s.ok} <= {"canary:step:10"}
    assert _stable_success(box, time.monotonic() - started) == 1.0, "the stable host answered no 5xx"
    rows = journal.history(journal.journal_path(_cfg(box).runs_dir), kind="rollback")
    assert rows[-1]["status"] == "ok" and rows[-1]["params"]["version"] == "2.0.0"


def _canary_command(box, version: str) -> list[str]:
    code = (
        "import sys; from ladder.rungs import rung5a; "
        "rung5a.release(rung5a.setup(sys.argv[1], sys.argv[2], interval=float(sys.argv[3]), "
        "max_p99_ms=float(sys.argv[4])), dry_run=False)"
    )
    return [sys.executable, "-c", code, str(box.config_path), version, str(INTERVAL), str(MAX_P99_MS)]


def _routing_problems(box) -> list[str]:
    """A server HAProxy can send requests to whose current release is not complete or that does not answer."""
    cfg = _cfg(box)
    problems = []
    for hc in cfg.environment("prod").hosts:
        state = _lb(box)[hc.name]
        if not (state.state == "ready" and state.weight > 0):
            continue
        lay = Layout(hc.base)
        current = Path(lay.current).resolve().name
        if not (Path(lay.releases) / current / release.COMPLETE).exists():
            problems.append(f"{hc.name}: routed to, current -> {current} is not complete")
        if not health.check(f"http://127.0.0.1:{cfg.app_port(hc)}{cfg.app.health_path}").ok:
            problems.append(f"{hc.name}: routed to, not healthy")
    return problems


@pytest.mark.e2e
def test_kill_9_mid_step_leaves_routing_to_complete_releases_and_a_rerun_resumes(box, tmp_path) -> None:
    stable = _serves(box)["prod2"]
    with _load(box) as run:  # the canary's checks need requests to judge
        killed = faults.kill_command_at("canary:step:25", _canary_command(box, "3.0.0"), tmp_path / "pause.fifo")
        problems = _routing_problems(box)
        run.stop()
    assert killed and problems == []
    assert _serves(box) == {"prod1": "3.0.0", "prod2": stable} and _lb(box)["prod1"].weight > 1
    prepared = rung5a.setup(box.config_path, "3.0.0", interval=INTERVAL, max_p99_ms=MAX_P99_MS)
    assert prepared.state == "resume"
    with _load(box) as run:
        done = rung5a.release(prepared, dry_run=False)
        run.stop()
        summary = run.result()
    assert done.outcome == "promoted" and summary.failed == 0, summary.lines()
    assert _serves(box) == {"prod1": "3.0.0", "prod2": "3.0.0"}
    assert {s.weight for s in _lb(box).values()} == {1} and _routing_problems(box) == []
    path = journal.journal_path(_cfg(box).runs_dir)
    journal.reap(path)
    rows = journal.history(path, kind="canary")
    assert [r["status"] for r in rows[-2:]] == ["abandoned", "ok"]
