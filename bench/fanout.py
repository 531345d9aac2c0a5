"""Fan-out benchmark: one small command, and a 1 MB copy, on 1, 10 and 30 real sshd hosts through ladder.core.

run: `uname -n` through ladder.core.fleet; baseline, measured in the same run: a sequential `ssh` loop.
Every sandbox host shares this machine's cores, so the run also measures the CPU the
servers spend per session (sshd, the login shell and its rc files) and prints the floor
that puts under any client: host CPU seconds / cores.
copy: a 1 MB file through ladder.core.copy.copy_all, a first copy (new content) and a second (nothing to do);
baselines in the same run: a sequential `scp` loop, pyinfra's files.put and Ansible's copy module, each driven
by its own CLI as a user runs it, when installed (Ansible comes with the bench extra, which `make setup` installs;
pyinfra's pins clash with Ladder's lock, so it lives in its own venv: pass --pyinfra PATH or put it on PATH).
Run: .venv/bin/python bench/fanout.py [--repeat 3] [--workload run|copy|all] [--pyinfra PATH] [--ansible PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ladder import sandbox
from ladder.core.config import load_config
from ladder.core.copy import copy_all
from ladder.core.fleet import run_all
from ladder.core.hosts import environment_hosts

SIZES = (1, 10, 30)
PAYLOAD = 1 << 20  # bytes copied to each host by the copy workload


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


def ssh_options(config) -> list[str]:
    """The options both `ssh` and `scp` take: Ladder's key and known_hosts, strict host keys, no prompt."""
    return [
        "-q",
        "-i",
        str(config.ssh.identity_file),
        "-o",
        f"UserKnownHostsFile={config.ssh.known_hosts}",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "BatchMode=yes",
        "-o",
        "IdentitiesOnly=yes",
    ]


def ssh_loop_once(config, names: list[str]) -> None:
    """The baseline: one `ssh` process per host, one after another."""
    for hc in config.environment("prod").hosts:
        if hc.name in names:
            subprocess.run(
                ["ssh", *ssh_options(config), "-p", str(hc.port), f"{hc.user}@{hc.address}", "uname -n"],
                check=True,
                capture_output=True,
                timeout=30,
                stdin=subprocess.DEVNULL,
            )


def copy_once(config, names: list[str], payload: Path) -> int:
    """Ladder's copy to each host (fresh connections, as a runbook step); how many hosts it changed."""
    hosts = [h for h in environment_hosts(config, "prod") if h.name in names]
    try:
        changes = copy_all(hosts, payload, "bench/ladder.bin", 0o644, dry_run=False, workers=10, deadline=120)
    finally:
        for h in hosts:
            h.close()
    return sum(c.changed for c in changes.values())


def scp_loop_once(config, names: list[str], payload: Path) -> None:
    """The baseline: one `scp` process per host, one after another (it always copies)."""
    for hc in config.environment("prod").hosts:
        if hc.name in names:
            dest = f"{hc.user}@{hc.address}:{hc.base}/bench/scp.bin"
            subprocess.run(
                ["scp", *ssh_options(config), "-P", str(hc.port), str(payload), dest],
                check=True,
                capture_output=True,
                timeout=60,
                stdin=subprocess.DEVNULL,
            )


def pyinfra_files(config, work: Path, names: list[str], payload: Path) -> list[str]:
    """A pyinfra inventory of the hosts (strict host keys, Ladder's known_hosts) and a deploy file; its argv."""
    hosts = [
        (
            hc.name,
            {
                "ssh_hostname": hc.address,
                "ssh_port": hc.port,
                "ssh_user": hc.user,
                "ssh_key": str(config.ssh.identity_file),
                "ssh_known_hosts_file": str(config.ssh.known_hosts),
                "ssh_strict_host_key_checking": "yes",
                "dest": f"{hc.base}/bench/pyinfra.bin",
            },
        )
        for hc in config.environment("prod").hosts
        if hc.name in names
    ]
    inventory = work / f"pyinfra_inventory_{len(names)}.py"
    inventory.write_text(f"hosts = {hosts!r}\n")
    deploy = work / "pyinfra_copy.py"
    deploy.write_text(
        "from pyinfra import host\nfrom pyinfra.operations import files\n\n"
        f"files.put(name='copy', src={str(payload)!r}, dest=host.data.dest, mode='644')\n"
    )
    return [str(inventory), str(deploy), "-y"]


def ansible_files(config, work: Path, names: list[str], payload: Path) -> list[str]:
    """An Ansible inventory of the hosts (host key checking on, Ladder's known_hosts); the ad-hoc copy's argv."""
    common = f"-o UserKnownHostsFile={config.ssh.known_hosts} -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes"
    lines = ["[prod]"] + [
        f"{hc.name} ansible_host={hc.address} ansible_port={hc.port} ansible_user={hc.user} "
        f"dest={hc.base}/bench/ansible.bin"
        for hc in config.environment("prod").hosts
        if hc.name in names
    ]
    lines += [
        "[prod:vars]",
        f"ansible_ssh_private_key_file={config.ssh.identity_file}",
        f"ansible_ssh_common_args='{common}'",
        f"ansible_python_interpreter={sys.executable}",
    ]
    inventory = work / f"ansible_inventory_{len(names)}.ini"
    inventory.write_text("\n".join(lines) + "\n")
    return [
        "-i",
        str(inventory),
        "prod",
        "-f",
        "10",
        "-m",
        "copy",
        "-a",
        f"src={payload} dest={{{{ dest }}}} mode=0644",
    ]


def cli_once(argv: list[str], env: dict[str, str] | None = None) -> None:
    """Run a peer's CLI; its failure ends the benchmark with its output."""
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"{argv[0]} failed ({proc.returncode}):\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")


def find_cli(name: str) -> str | None:
    """A CLI in this Python's venv, else on PATH."""
    return shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)


def first_and_again(copy, payload: Path, repeat: int) -> tuple[float, float]:
    """Median seconds of a first copy (new content each time) and of the copy repeated at once (nothing to do)."""
    first, again = [], []
    for _ in range(repeat):
        payload.write_bytes(os.urandom(PAYLOAD))
        first.append(timed(copy, 1))
        again.append(timed(copy, 1))
    return statistics.median(first), statistics.median(again)


def copy_workload(config, names: list[str], work: Path, repeat: int, pyinfra: str | None, ansible: str | None) -> None:
    """Time the copy of a 1 MB file by Ladder and by each peer on the same hosts, and print the ratios."""
    payload = work / "payload.bin"
    env = {**os.environ, "ANSIBLE_STDOUT_CALLBACK": "minimal"}  # host key checking stays on (the default)
    for hc in config.environment("prod").hosts:
        Path(hc.base, "bench").mkdir(exist_ok=True)  # the sandbox's hosts are folders on this machine
    rows: dict[str, dict[int, tuple[float, float]]] = {"ladder copy": {}, "scp loop": {}}
    changed: list[int] = []  # hosts each of Ladder's copies changed: first, again, first, again...
    for n in SIZES:
        hosts = names[:n]
        ladder = lambda h=hosts: changed.append(copy_once(config, h, payload))  # noqa: E731
        rows["ladder copy"][n] = first_and_again(ladder, payload, repeat)
        rows["scp loop"][n] = first_and_again(lambda h=hosts: scp_loop_once(config, h, payload), payload, repeat)
        if pyinfra:
            argv = [pyinfra, *pyinfra_files(config, work, hosts, payload)]
            rows.setdefault("pyinfra files.put", {})[n] = first_and_again(lambda a=argv: cli_once(a), payload, repeat)
        if ansible:
            argv = [ansible, *ansible_files(config, work, hosts, payload)]
            rows.setdefault("ansible copy", {})[n] = first_and_again(lambda a=argv: cli_once(a, env), payload, repeat)
    print(f"\ncopy of a {PAYLOAD >> 20} MB file, median of {repeat}: first = new content, again = nothing to do")
    print(f"(ladder: library call, workers=10; peers: their CLI as a user runs it; {os.cpu_count()} cores shared)")
    print(f"{'tool':>18}  " + "  ".join(f"{f'{n} first':>9}  {f'{n} again':>9}" for n in SIZES))
    for tool, by_size in rows.items():
        print(f"{tool:>18}  " + "  ".join(f"{by_size[n][0]:>8.3f}s  {by_size[n][1]:>8.3f}s" for n in SIZES))
    ours = rows["ladder copy"]
    for tool, by_size in rows.items():
        if tool != "ladder copy":
            print(
                f"ladder time / {tool} time: "
                + ", ".join(
                    f"{n} hosts first {ours[n][0] / by_size[n][0]:.2f}x, again {ours[n][1] / by_size[n][1]:.2f}x"
                    for n in SIZES
                )
            )
    if not pyinfra:
        print("pyinfra files.put: skipped, pyinfra is not installed (put it on PATH or pass --pyinfra)")
    if not ansible:
        print("ansible copy: skipped, ansible is not installed (make setup installs it: the bench extra)")
    print(
        f"hosts changed by ladder's copies: first {sum(changed[0::2])} of {repeat * sum(SIZES)}, "
        f"again {sum(changed[1::2])} (0 wanted)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workload", choices=("run", "copy", "all"), default="all")
    parser.add_argument(
        "--pyinfra", default=find_cli("pyinfra"), help="the pyinfra CLI (default: this venv's, else PATH)"
    )
    parser.add_argument(
        "--ansible", default=find_cli("ansible"), help="the ansible CLI (default: this venv's, else PATH)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ladder-bench-") as tmp:
        box = sandbox.up(Path(tmp) / "sandbox", ssh=True, hosts=max(SIZES), serve=False)
        try:
            config = load_config(box.config_path)
            names = [h.name for h in config.environment("prod").hosts]
            if args.workload in ("run", "all"):
                pids = list(json.loads((box.dir / "state.json").read_text())["pids"].values())
                run_workload(config, names, pids, args.repeat)
            if args.workload in ("copy", "all"):
                copy_workload(config, names, Path(tmp), args.repeat, args.pyinfra, args.ansible)
        finally:
            sandbox.down(box.dir)


def run_workload(config, names: list[str], pids: list[int], repeat: int) -> None:
    """Time `uname -n` through the fleet against a sequential ssh loop, and print the ratios."""
    fleet = {n: timed(lambda n=n: fleet_once(config, names[:n]), repeat) for n in SIZES}
    loop = {n: timed(lambda n=n: ssh_loop_once(config, names[:n]), repeat) for n in SIZES}
    floor = {n: host_floor(config, pids, names[:n], repeat) for n in SIZES}
    print(f"fan-out of `uname -n`, median of {repeat}, workers=10")
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
