"""A bad release under load: a canary (rung 5a) against a rolling deploy then a rollback by hand (rung 4), and a
rollback under load.

Brings up an --ssh sandbox (2 prod hosts behind HAProxy, Prometheus scraping every second), builds three real
releases (1.0.0, a good 2.0.0, and 2.1.0: a commit that left the app's fault switch on, so it answers 500 on
every user route), puts 1.0.0 on prod, and sends steady open-loop load (ladder.app.load) through HAProxy while:
  baseline: the bad release rolled out to every host (rung 4), then rolled back at once by hand, as a team that
    watches its dashboard closely would (the baseline's best case: no time lost noticing);
  canary: the bad release as a canary (rung 5a), rolled back automatically at its first failing check;
  good: the good release as a canary, promoted;
  rollback: `ladder rollback --env prod` under load, back to 1.0.0.
Prints, per phase, the time from deploy to rollback, the largest share of the requests the bad release answered
(from the load's /health answers), the failed requests users saw, the rollback's switch time per host, and the
canary's ratios against the baseline, all measured in this one run.
Run: .venv/bin/python bench/canary.py [--rate 40] [--interval 5]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from pathlib import Path

from ladder import sandbox
from ladder.app import artifact, load, recipe
from ladder.core.config import load_config
from ladder.rungs import delivery, rung5a
from ladder.sandbox.repo import commit_fault

PATHS = ("/health", "/", "/items")
BAD = "2.1.0"
SETTLE = 3.0  # seconds of load between phases
MAX_P99_MS = 1000.0  # the bench machine is shared: only a real slowdown fails a check


def git(repo: Path, *args: str) -> None:
    who = ("-c", "user.name=Bench", "-c", "user.email=bench@example.invalid")
    subprocess.run(["git", "-C", str(repo), *who, *args], check=True, capture_output=True, timeout=60)


def build(config: Path) -> None:
    """1.0.0, a good 2.0.0 and the bad 2.1.0, really built into the sandbox's store."""
    cfg = load_config(config)
    repo = Path(str(cfg.app.repo))
    recipe.land(str(repo), cfg.app.name, dry_run=False)
    git(repo, "tag", "v1.0.0")
    (repo / "NOTES.md").write_text("a good change\n")
    git(repo, "add", "NOTES.md")
    git(repo, "commit", "-qm", "a good change")
    git(repo, "tag", "v2.0.0")
    commit_fault(repo, "error", tag=f"v{BAD}")
    for version in ("1.0.0", "2.0.0", BAD):
        artifact.build_from_config(cfg, f"v{version}", dry_run=False)


def bad_share(summary: load.Summary, phase: str) -> float:
    """The share of /health answers in a phase that came from the bad release (percent)."""
    seen = summary.versions(phase)
    return 100 * seen.get(BAD, 0) / max(1, sum(seen.values()))


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else ("0 of 0" if not a else "inf")


def bench(folder: Path, rate: float, interval: float) -> None:
    box = sandbox.up(folder, ssh=True, hosts=2, balancer=True, monitoring=True)
    try:
        build(box.config_path)
        delivery.deploy(box.config_path, "prod", "1.0.0", dry_run=False)
        cfg = load_config(box.config_path)
        url = f"http://127.0.0.1:{cfg.balancer.port}/" if cfg.balancer else ""
        print(f"load: {rate:g} req/s to HAProxy {url} over {', '.join(PATHS)}; canary interval {interval:g} s")
        seconds: dict[str, float] = {}
        with load.steady(url, rate=rate, duration=3600, paths=PATHS) as run:
            time.sleep(SETTLE)
            run.mark("baseline")
            start = time.monotonic()
            deployed = delivery.deploy(cfg, "prod", BAD, dry_run=False)
            delivery.rollback(cfg, "prod", "1.0.0", dry_run=False)
            seconds["baseline"] = time.monotonic() - start
            base_share = 100 * deployed.changed / len(deployed.hosts)
            run.mark("settle 1")
            time.sleep(SETTLE)
            run.mark("canary")
            bad = rung5a.release(rung5a.setup(cfg, BAD, interval=interval, max_p99_ms=MAX_P99_MS), dry_run=False)
            seconds["canary"] = bad.seconds
            run.mark("settle 2")
            time.sleep(SETTLE)
            run.mark("good")
            good = rung5a.release(rung5a.setup(cfg, "2.0.0", interval=interval, max_p99_ms=MAX_P99_MS), dry_run=False)
            run.mark("settle 3")
            time.sleep(SETTLE)
            run.mark("rollback")
            back = delivery.rollback(cfg, "prod", "1.0.0", dry_run=False)
            run.mark("after")
            time.sleep(SETTLE)
            run.stop()
        summary = run.result()
    finally:
        sandbox.down(box.dir)
    for line in summary.lines():
        print(line)
    phases = summary.phases
    print(f"bad release, baseline (rolling deploy to every host, then a rollback by hand): deploy to rollback "
          f"{seconds['baseline']:.1f} s, largest share {base_share:.0f}% of hosts ({bad_share(summary, 'baseline'):.1f}% "
          f"of /health answers), failed requests {phases['baseline'].failed}")  # fmt: skip
    print(f"bad release, canary: outcome {bad.outcome} after {len(bad.checks)} check(s), deploy to automatic rollback "
          f"{seconds['canary']:.1f} s, largest share {bad.max_share:.1f}% (weights; over the whole phase, deploy and rollback included, "
          f"{bad_share(summary, 'canary'):.1f}% of /health answers), failed requests {phases['canary'].failed}")  # fmt: skip
    print(f"canary/baseline: failed requests {ratio(phases['canary'].failed, phases['baseline'].failed)}, "
          f"largest share {ratio(bad.max_share, base_share)}, time to rollback "
          f"{ratio(seconds['canary'], seconds['baseline'])}")  # fmt: skip
    print(f"good release, canary: {good.outcome}, failed requests {phases['good'].failed}")
    for h in back.hosts:
        print(f"rollback under load: {h.host} {h.previous} -> {h.current}, switch {h.switch_seconds:.2f} s "
              f"(goal <= 1 s), out of rotation {h.out_of_rotation:.2f} s")  # fmt: skip
    print(f"rollback under load: failed requests {phases['rollback'].failed} (goal 0)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=40.0, help="requests per second (open loop)")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds per canary step")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ladder-canary-") as tmp:
        os.environ["LADDER_HOME"] = str(Path(tmp) / "home")  # its own journal and locks, apart from the user's
        bench(Path(tmp) / "sb", args.rate, args.interval)


if __name__ == "__main__":
    main()
