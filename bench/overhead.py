"""Overhead of the runbook engine: a headless `ladder run` (dry run) vs the same code as a plain script.

The plain script is the runbook's own code cells, with the same parameters
injected the way papermill injects them, run by `python -c` in the runbook's
folder: exactly the same library calls, without the kernel, the notebook,
the report and the journal. Both run side by side, alternating, in one go.

    python bench/overhead.py [RUNBOOK] [--config ladder.yml] [-p NAME VALUE]... [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from papermill.iorw import load_notebook_node
from papermill.parameterize import parameterize_notebook

from ladder import sandbox
from ladder.core.config import sandbox_dir
from ladder.engine import runner

GOAL_S = 1.5  # seconds of kernel, notebook, report and journal per run
DEFAULT = Path(__file__).resolve().parent.parent / "runbooks" / "1-separate-dev-and-prod.ipynb"


def plain_script(plan: runner.RunPlan, run_id: str, run_dir: Path) -> str:
    """The runbook's code cells as one Python script, parameters injected as papermill does."""
    params = dict(plan.parameters)
    if "run_id" in plan.runbook.parameters:
        params["run_id"] = run_id
    if "run_dir" in plan.runbook.parameters:
        params["run_dir"] = str(run_dir)
    nb = parameterize_notebook(load_notebook_node(str(plan.runbook.path)), params)
    cells = [c.source for c in nb.cells if c.cell_type == "code"]
    for i, source in enumerate(cells):
        if any(line.lstrip().startswith(("%", "!")) for line in source.splitlines()):
            raise SystemExit(f"cell {i} uses IPython magics or shell escapes; a plain script cannot run it")
    return "\n\n".join(cells) + "\n"


def timed(cmd: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess]:
    """Wall-clock seconds for one command, and its result."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    return time.perf_counter() - start, proc


def main(argv: list[str] | None = None) -> int:
    """Time both ways of running the runbook and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runbook", nargs="?", default=str(DEFAULT))
    parser.add_argument("--config", default=None, help="ladder.yml, or 'sandbox' (default: the runbook's)")
    parser.add_argument("-p", "--param", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    text = dict(args.param)
    with tempfile.TemporaryDirectory(prefix="ladder-bench-box-") as box:
        if args.config in (None, "sandbox") and not (sandbox_dir() / "ladder.yml").is_file():
            # No sandbox yet: build a throwaway one, so the benchmark is one command.
            os.environ["LADDER_HOME"] = box
            sandbox.up()
        try:
            return measure(args, text)
        finally:
            if os.environ.get("LADDER_HOME") == box:
                sandbox.down()


def measure(args: argparse.Namespace, text: dict[str, str]) -> int:
    """Run both ways alternately and print the medians."""
    plan = runner.prepare(args.runbook, text_params=text, config=args.config)  # a dry run: no --apply
    if plan.parameters.get("dry_run") is False:
        raise SystemExit("the benchmark measures dry runs; do not pass -p dry_run false")
    config = plan.parameters.get("config") or (str(plan.config.path) if plan.config.path else None)
    cwd = Path.cwd()
    engine_times: list[float] = []
    plain_times: list[float] = []
    load_before = ", ".join(f"{x:.2f}" for x in os.getloadavg())  # the figures mean little on a busy machine
    with tempfile.TemporaryDirectory(prefix="ladder-bench-") as tmp:
        runs = Path(tmp) / "runs"
        cmd = [sys.executable, "-m", "ladder.cli", "run", str(plan.runbook.path), "--out", str(runs)]
        cmd += ["--config", config] if config else []
        for name, value in text.items():
            cmd += ["-p", name, value]
        for i in range(args.repeat):
            run_dir = Path(tmp) / f"plain-{i}"
            run_dir.mkdir()
            script = plain_script(plan, f"plain-{i}", run_dir)
            pairs = [("engine", cmd, cwd), ("plain", [sys.executable, "-c", script], plan.runbook.path.parent)]
            for kind, command, where in pairs if i % 2 == 0 else reversed(pairs):
                seconds, proc = timed(command, where)
                if proc.returncode != 0:
                    print(proc.stdout[-2000:], proc.stderr[-2000:], sep="\n", file=sys.stderr)
                    raise SystemExit(f"the {kind} run failed (exit {proc.returncode})")
                (engine_times if kind == "engine" else plain_times).append(seconds)
    engine, plain = statistics.median(engine_times), statistics.median(plain_times)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"runbook: {plan.runbook.name} (dry run), {args.repeat} runs each, median wall-clock seconds")
    print(f"  load average before / after: {load_before} / {load}")
    print(f"  ladder run (papermill kernel, notebook, report, journal): {engine:6.2f} s")
    print(f"  plain python script (same cells, same parameters):       {plain:6.2f} s")
    print(f"  overhead:                                                {engine - plain:6.2f} s ({engine / plain:.2f}x)")
    print(f"  goal: overhead <= {GOAL_S:.1f} s -> {'met' if engine - plain <= GOAL_S else 'missed'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
