"""Benchmark: push -> result through the sandbox's Buildbot, against the same steps run directly on the build host.

Run: .venv/bin/python bench/ci_latency.py [--pushes N] [--ssh] [--keep DIR]

Brings up a sandbox with its ci host (Buildbot master on `ci`, worker on `dev`), then N times: commit a
change with a test to a clone, push it, and wait until the master's REST API reports that commit's build
finished (polled every 0.1 s from this machine; the time is the pusher's, from the start of `git push`).
The baseline, measured in the same run right after each push, is what the build does with no CI server:
the same checkout, lint, tests and build step, run as one shell command on the dev host in a clone of its own.
The ratio is the CI server's overhead: hook, scheduling, worker round trips and step bookkeeping.
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ladder import sandbox
from ladder.app import ci_render, ci_server
from ladder.core.config import load_config
from ladder.core.errors import HostError
from ladder.core.hosts import connect

q = shlex.quote


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(cwd), "-c", "user.name=bench", "-c", "user.email=bench@example.com", *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return done.stdout.strip()


def _direct(repo: str, revision: str, python: str, folder: str) -> str:
    """The build's steps with no CI server: a fresh checkout of the revision, lint, tests, build."""
    return " && ".join(
        [
            f"rm -rf {q(folder)} && git clone -q {q(repo)} {q(folder)} && cd {q(folder)}",
            f"git checkout -q {q(revision)}",
            ci_render.lint_command(python),
            ci_render.test_command(python),
            ci_render.build_command(python),
        ]
    )


def main() -> int:
    """Measure and print push -> result and the direct baseline, with their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pushes", type=int, default=5)
    parser.add_argument("--ssh", action="store_true", help="sshd hosts (default: folder hosts)")
    parser.add_argument("--keep", type=Path, default=None, help="build the sandbox here and leave it up")
    args = parser.parse_args()
    if args.pushes < 1:
        parser.error("--pushes must be at least 1")
    tmp = tempfile.TemporaryDirectory(prefix="ladder-ci-bench-")
    folder = args.keep or Path(tmp.name) / "sandbox"
    started = time.monotonic()
    box = sandbox.up(folder, ssh=args.ssh, serve=False, ci=True)
    print(f"sandbox with ci up in {time.monotonic() - started:.1f}s ({'sshd' if args.ssh else 'folder'} hosts)")
    ci_times: list[float] = []
    direct_times: list[float] = []
    try:
        config = load_config(box.config_path, {"runs": str(Path(tmp.name) / "runs")})
        assert config.ci is not None
        master, dev = connect(config.ci.host, config.ssh), connect(config.host_config("dev"), config.ssh)
        clone = Path(tmp.name) / "clone"
        _git(Path(tmp.name), "clone", "-q", str(box.repo), str(clone))
        (clone / "tests").mkdir(exist_ok=True)
        for i in range(args.pushes):
            (clone / "tests" / f"test_bench_{i}.py").write_text(f"def test_{i}():\n    assert {i} + 1 == {i + 1}\n")
            _git(clone, "add", "-A")
            _git(clone, "commit", "-qm", f"bench push {i}")
            revision = _git(clone, "rev-parse", "HEAD")
            t0 = time.monotonic()
            _git(clone, "push", "-q", "origin", "HEAD:master")
            while True:
                try:
                    done = [b for b in ci_server.get_builds(master, config.ci.url, 10) if b.revision == revision]
                except HostError:  # the master slow to answer under load: ask again
                    done = []
                if done and done[-1].complete is not None:
                    break
                if time.monotonic() - t0 > 300:
                    raise SystemExit(f"no result for {revision} within 300 s")
                time.sleep(0.1)
            ci_times.append(time.monotonic() - t0)
            t0 = time.monotonic()
            dev.run(_direct(str(box.repo), revision, sys.executable, dev.path("bench-direct")), timeout=300)
            direct_times.append(time.monotonic() - t0)
            print(
                f"push {i + 1}: {done[-1].result}, push -> result {ci_times[-1]:.2f}s, direct {direct_times[-1]:.2f}s"
            )
        master.close()
        dev.close()
    finally:
        if args.keep is None:
            sandbox.down(box.dir)
            tmp.cleanup()
    ci, direct = statistics.median(ci_times), statistics.median(direct_times)
    print(
        f"\npush -> result over {args.pushes} pushes: median {ci:.2f}s (min {min(ci_times):.2f}, max {max(ci_times):.2f})"
        f"\nsame steps direct on dev:      median {direct:.2f}s (min {min(direct_times):.2f}, max {max(direct_times):.2f})"
        f"\nratio CI / direct: {ci / direct:.1f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
