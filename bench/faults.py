"""Kill a rung-1 apply at every named step, N times each, on a sandbox; count what the kills left.

Usage: python bench/faults.py [--n N] [--ssh]. Prints kills, partial states found (goal 0), lost edits (goal 0)
and re-runs converged (goal: all). Each round kills at every step in turn, then re-runs the apply to its end.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from ladder import sandbox
from ladder.sandbox import faults

RUNBOOK = Path(__file__).resolve().parent.parent / "runbooks" / "1-separate-dev-and-prod.ipynb"


def main() -> None:
    """Run the rounds and print the counts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1, help="rounds: kills per step (default 1)")
    parser.add_argument("--ssh", action="store_true", help="hosts are real sshd servers (default: folders)")
    args = parser.parse_args()
    kills = missed = partial = lost = not_serving = journal_bad = converged = 0
    with tempfile.TemporaryDirectory(prefix="ladder-faults-") as tmp:
        box = sandbox.up(Path(tmp) / "sandbox", ssh=args.ssh, hosts=2)
        runs = Path(tmp) / "runs"
        try:
            for _ in range(args.n):
                for step in faults.STEPS:
                    if not faults.kill_at(step, RUNBOOK, box.config_path, runs, Path(tmp) / "pause"):
                        missed += 1
                        continue
                    kills += 1
                    found = faults.look(box.dir, runs)
                    partial += len(found.partial)
                    lost += len(found.lost_edits)
                    not_serving += len(found.not_serving)
                    journal_bad += len(found.journal)
                ok = faults.converge(RUNBOOK, box.config_path, runs) and faults.converged(box.dir)
                converged += ok
        finally:
            sandbox.down(box.dir)
    print(f"hosts: {'sshd' if args.ssh else 'folders'}, 2 prod; steps: {', '.join(faults.STEPS)}; rounds: {args.n}")
    print(f"kills: {kills} (steps never reached: {missed})")
    print(f"partial states found: {partial} (goal 0)")
    print(f"lost edits: {lost} (goal 0)")
    print(f"prod not serving after a kill: {not_serving} (goal 0)")
    print(f"journal rows not telling how a run ended: {journal_bad} (goal 0)")
    print(f"re-runs converged: {converged} of {args.n}")


if __name__ == "__main__":
    main()
