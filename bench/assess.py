"""Benchmark: repository evidence vs one plain `git log --numstat` pass, on a synthetic 100,000-commit repo.

Run: .venv/bin/python bench/assess.py [--commits N] [--repeat R] [--keep DIR]

Builds the repository with `git fast-import` in a temporary folder, then in the same run times
(1) a single `git log --numstat` pass with its output read and discarded (the floor) and
(2) ladder.assess.gather_repo_evidence (every repository check), best of R runs each, and prints
both and their ratio (goal: at most 1.5x). Peak Python memory is measured in separate, untimed
runs with tracemalloc, on a repository a tenth the size and on the full one, to show that memory
does not grow with the number of commits.
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from ladder.app.git import open_repo
from ladder.app.history import log_args, parse_log
from ladder.assess.evidence import gather_repo_evidence

DAY = 86400
FILES = 300
TEST_SHARE = 0.2


def _data(text: str) -> bytes:
    raw = text.encode()
    return b"data %d\n%s\n" % (len(raw), raw)


def fast_import_stream(commits: int, now: int, seed: int = 7):
    """Yield a fast-import stream: a linear main branch, a few branches, tags every 1,000 commits."""
    rng = random.Random(seed)
    paths = [f"src/pkg{i % 17}/module_{i}.py" for i in range(int(FILES * (1 - TEST_SHARE)))]
    paths += [f"tests/test_module_{i}.py" for i in range(int(FILES * TEST_SHARE))]
    start = now - 730 * DAY
    step = (730 * DAY) // commits
    contents = {p: [f"# {p}"] + [f"value_{j} = {j}" for j in range(12)] for p in paths}
    for n in range(1, commits + 1):
        when = start + n * step
        yield b"commit refs/heads/main\nmark :%d\n" % n
        yield b"author Dev <dev@example.com> %d +0000\ncommitter Dev <dev@example.com> %d +0000\n" % (when, when)
        yield _data(f"change {n}: tweak values")
        if n > 1:
            yield b"from :%d\n" % (n - 1)
        for p in rng.sample(paths, rng.choice((1, 1, 2, 3))):
            lines = contents[p]
            for _ in range(rng.randint(1, 3)):
                lines[rng.randrange(1, len(lines))] = f"value_{rng.randrange(1000)} = {rng.randrange(10**6)}"
            if rng.random() < 0.05:
                lines.append(f"extra_{n} = {n}")
            yield b"M 100644 inline " + p.encode() + b"\n" + _data("\n".join(lines))
        yield b"\n"
        if n % 1000 == 0:
            yield b"reset refs/tags/v1.%d.0\nfrom :%d\n\n" % (n // 1000, n)
    for b, at in (("feature/old", commits // 3), ("feature/new", commits - 50)):
        yield b"commit refs/heads/" + b.encode() + b"\n"
        when = start + at * step + 3600
        yield b"committer Dev <dev@example.com> %d +0000\n" % when
        yield _data(f"work on {b}")
        yield b"from :%d\n" % at
        yield b"M 100644 inline src/" + b.encode().replace(b"/", b"_") + b".py\n" + _data("x = 1")
        yield b"\n"


def build_repo(path: Path, commits: int, now: int) -> None:
    """Create a repository with fast-import."""
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    proc = subprocess.Popen(["git", "fast-import", "--quiet"], cwd=path, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    buf = bytearray()
    for chunk in fast_import_stream(commits, now):
        buf += chunk
        if len(buf) > 1 << 20:
            proc.stdin.write(buf)
            buf.clear()
    proc.stdin.write(buf)
    proc.stdin.close()
    if proc.wait() != 0:
        raise SystemExit("git fast-import failed")
    subprocess.run(["git", "checkout", "-q", "main"], cwd=path, check=True)


def floor(path: Path) -> float:
    """Seconds for one `git log --numstat` pass, output read through a pipe and dropped."""
    started = time.perf_counter()
    proc = subprocess.Popen(["git", "log", "--numstat"], cwd=path, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    while proc.stdout.read(1 << 20):
        pass
    proc.wait()
    return time.perf_counter() - started


def evidence(path: Path, now: int) -> tuple[float, int]:
    """Seconds for every repository check; and how many checks ran."""
    started = time.perf_counter()
    results = gather_repo_evidence(path, now=now)
    return time.perf_counter() - started, len(results)


def peak_history_memory(path: Path, rev: str, now: int) -> int:
    """Peak bytes Python allocates while folding the history of rev."""
    repo = open_repo(path)
    tracemalloc.start()
    parse_log(repo.stream(*log_args(rev)), now - 90 * DAY)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def peak_evidence_memory(path: Path, now: int) -> int:
    """Peak bytes Python allocates during the whole evidence run."""
    tracemalloc.start()
    gather_repo_evidence(path, now=now)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--commits", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", type=Path, help="build the repository here and keep it")
    args = ap.parse_args(argv)
    now = int(time.time())
    with tempfile.TemporaryDirectory(prefix="ladder-bench-") as tmp:
        path = (args.keep or Path(tmp)) / "synthetic"
        t0 = time.perf_counter()
        build_repo(path, args.commits, now)
        print(f"built {args.commits:,} commits with git fast-import in {time.perf_counter() - t0:.1f}s")
        floors, runs = [], []
        checks = 0
        for _ in range(args.repeat):  # interleaved, so both see the same cache state
            floors.append(floor(path))
            seconds, checks = evidence(path, now)
            runs.append(seconds)
        f, e = min(floors), min(runs)
        print(f"floor: git log --numstat           {f:7.2f}s  (best of {args.repeat})")
        print(f"repo evidence ({checks} checks)       {e:7.2f}s  (best of {args.repeat})")
        print(f"ratio                              {e / f:7.2f}x  (goal <= 1.5x)")
        small_path = path.with_name("synthetic-tenth")
        build_repo(small_path, args.commits // 10, now)
        history = [peak_history_memory(p, "main", now) for p in (small_path, path)]
        whole = [peak_evidence_memory(p, now) for p in (small_path, path)]
        sizes = f"at {args.commits // 10:,} / {args.commits:,} commits"
        print(
            f"peak Python memory, history pass:       {history[0] / 2**20:.2f} / {history[1] / 2**20:.2f} MiB {sizes}"
        )
        print(f"peak Python memory, whole evidence run: {whole[0] / 2**20:.2f} / {whole[1] / 2**20:.2f} MiB {sizes}")
        print(f"process max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
