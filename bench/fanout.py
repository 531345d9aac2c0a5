"""Fan-out benchmark: one small command on 1, 10 and 30 real sshd hosts through ladder.core.fleet.

Baseline, measured in the same run: a plain sequential `ssh` loop over the same hosts.
Every sandbox host shares this machine's cores, so the run also measures the CPU the
servers spend per session (sshd, the login shell and its rc files) and prints the floor
that puts under any client: host CPU seconds / cores.
Run: .venv/bin/python bench/fanout.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from ladder import sandbox
from ladder.core.config import load_config
from ladder.core.fleet import run_all
from ladder.core.hosts import environment_hosts

SIZES = (1, 10, 30)


def timed(fn, repeat: int) -> float:
    """Median wall time of fn over repeat runs."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def server_cpu(pids: list[int]) -> float:
    """CPU seconds the sshd servers and their reaped sessions have used so far."""
    total = 0
    for pid in pids:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        total += sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    return total / os.sysconf("SC_CLK_TCK")


def host_floor(config, pids: list[int], names: list[str], repeat: int) -> float:
    """Seconds the servers' own CPU work takes on this machine's cores for one fan-out."""
    before = server_cpu(pids)
    for _ in range(repeat):
        fleet_once(config, names)
    time.sleep(0.5)  # let the sshd listeners reap their session children
    return (server_cpu(pids) - before) / repeat / (os.cpu_count() or 1)


def fleet_once(config, names: list[str]) -> None:
    """Connect to each host, run the command, close: what a runbook step costs."""
    hosts = [h for h in environment_hosts(config, "prod") if h.name in names]
    try:
        run_all(hosts, lambda h: h.run("uname -n", timeout=30), workers=10, deadline=60)
    finally:
        for h in hosts:
            h.close()


def ssh_loop_once(config, names: list[str]) -> None:
    """The baseline: one `ssh` process per host, one after another."""
    for hc in config.environment("prod").hosts:
        if hc.name in names:
            subprocess.run(
                [
                    "ssh",
                    "-q",
                    "-i",
                    str(config.ssh.identity_file),
                    "-p",
                    str(hc.port),
                    "-o",
                    f"UserKnownHostsFile={config.ssh.known_hosts}",
                    "-o",
                    "StrictHostKeyChecking=yes",
                    "-o",
                    "BatchMode=yes",
                    "-o",
                    "IdentitiesOnly=yes",
                    f"{hc.user}@{hc.address}",
                    "uname -n",
                ],
                check=True,
                capture_output=True,
                timeout=30,
                stdin=subprocess.DEVNULL,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ladder-bench-") as tmp:
        box = sandbox.up(Path(tmp) / "sandbox", ssh=True, hosts=max(SIZES), serve=False)
        try:
            config = load_config(box.config_path)
            names = [h.name for h in config.environment("prod").hosts]
            pids = list(json.loads((box.dir / "state.json").read_text())["pids"].values())
            fleet = {n: timed(lambda n=n: fleet_once(config, names[:n]), args.repeat) for n in SIZES}
            loop = {n: timed(lambda n=n: ssh_loop_once(config, names[:n]), args.repeat) for n in SIZES}
            floor = {n: host_floor(config, pids, names[:n], args.repeat) for n in SIZES}
        finally:
            sandbox.down(box.dir)
    print(f"fan-out of `uname -n`, median of {args.repeat}, workers=10")
    print(f"{'hosts':>5}  {'fleet':>12}  {'vs 1 host':>9}  {'ssh loop':>9}  {'fleet/loop':>10}  {'host CPU floor':>14}")
    for n in SIZES:
        print(
            f"{n:>5}  {fleet[n]:>11.3f}s  {fleet[n] / fleet[1]:>8.2f}x  {loop[n]:>8.3f}s  "
            f"{fleet[n] / loop[n]:>9.2f}x  {floor[n]:>13.3f}s"
        )
    verdict = "met" if fleet[30] <= 3 * fleet[1] else "missed"
    print(f"goal: 30 hosts in <= 3x the time of 1 -> {fleet[30] / fleet[1]:.2f}x ({verdict})")
    print(
        f"30 hosts above their own CPU floor ({os.cpu_count()} cores shared by all hosts): "
        f"{fleet[30] - floor[30]:.3f}s = {(fleet[30] - floor[30]) / fleet[1]:.2f}x one host"
    )


if __name__ == "__main__":
    main()
