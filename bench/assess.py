"""Benchmark: repository evidence vs one plain `git log --numstat` pass of the trunk, on a synthetic repository.

Run: .venv/bin/python bench/assess.py [--shape branchy|linear] [--commits N] [--repeat R] [--keep DIR]

Builds the repository with `git fast-import` in a temporary folder, shaped as a clone has it:
- branchy (default): a trunk of N commits (default 40,000) with pull requests merged by merge commits,
  300 feature branches left on origin (240 merged, 30 unmerged and stale, 30 unmerged and fresh),
  six maintenance lines (release/1.x, stable-2.17 style) taking cherry-picked fixes and tags,
  tags on the trunk every 1,000 commits, and every branch as refs/remotes/origin/* with origin/HEAD;
- linear: a single trunk of N commits (default 100,000), two branches, tags every 1,000 commits.
Then it times (1) the floor and (2) ladder.assess.gather_repo_evidence (every repository check),
interleaved, best of R runs, each run in a child process whose ru_maxrss (its own, and its largest
git child's) is the memory figure. The floor is `git log --numstat <trunk>`, output read and dropped:
the one pass over the trunk's changes that the history checks cannot do without (the evidence's own
pass is that command with a terser format); every other git call of the evidence is what it costs on top.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

DAY = 86400
FILES = 300
TEST_SHARE = 0.2
TRUNK = "refs/remotes/origin/main"


def _data(text: str) -> bytes:
    raw = text.encode()
    return b"data %d\n%s\n" % (len(raw), raw)


class Stream:
    """A fast-import stream over a fixed set of files, with marks, as the shapes write it."""

    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.paths = [f"src/pkg{i % 17}/module_{i}.py" for i in range(int(FILES * (1 - TEST_SHARE)))]
        self.paths += [f"tests/test_module_{i}.py" for i in range(int(FILES * TEST_SHARE))]
        self.trunk = {p: [f"# {p}"] + [f"value_{j} = {j}" for j in range(12)] for p in self.paths}
        self.mark = 0

    def edit(self, contents: dict[str, list[str]], n: int) -> list[tuple[str, str]]:
        """Change one to three files of contents in place; the (path, text) written."""
        rng = self.rng
        changed = []
        for p in rng.sample(self.paths, rng.choice((1, 1, 2, 3))):
            lines = contents.setdefault(p, list(self.trunk[p]))
            for _ in range(rng.randint(1, 3)):
                lines[rng.randrange(1, len(lines))] = f"value_{rng.randrange(1000)} = {rng.randrange(10**6)}"
            if rng.random() < 0.05:
                lines.append(f"extra_{n} = {n}")
            changed.append((p, "\n".join(lines)))
        return changed

    def commit(
        self, ref: str, when: int, message: str, parents: list[int], files: list[tuple[str, str]]
    ) -> Iterator[bytes]:
        """One commit record; its mark is self.mark afterwards."""
        self.mark += 1
        yield b"commit %s\nmark :%d\n" % (ref.encode(), self.mark)
        yield b"author Dev <dev@example.com> %d +0000\ncommitter Dev <dev@example.com> %d +0000\n" % (when, when)
        yield _data(message)
        if parents:
            yield b"from :%d\n" % parents[0]
        for p in parents[1:]:
            yield b"merge :%d\n" % p
        for path, text in files:
            yield b"M 100644 inline " + path.encode() + b"\n" + _data(text)
        yield b"\n"


def reset(ref: str, mark: int) -> bytes:
    """Point a ref (branch or lightweight tag) at a mark."""
    return b"reset %s\nfrom :%d\n\n" % (ref.encode(), mark)


def linear_stream(commits: int, now: int) -> Iterator[bytes]:
    """A linear trunk, two branches (one old, one new), tags every 1,000 commits."""
    s = Stream()
    start = now - 730 * DAY
    step = (730 * DAY) // commits
    marks: list[int] = []
    for n in range(1, commits + 1):
        yield from s.commit(TRUNK, start + n * step, f"change {n}: tweak values", marks[-1:], s.edit(s.trunk, n))
        marks.append(s.mark)
        if n % 1000 == 0:
            yield reset(f"refs/tags/v1.{n // 1000}.0", s.mark)
    for b, at in (("feature/old", commits // 3), ("feature/new", commits - 50)):
        files = [(f"src/{b.replace('/', '_')}.py", "x = 1")]
        yield from s.commit(
            f"refs/remotes/origin/{b}", start + at * step + 3600, f"work on {b}", [marks[at - 1]], files
        )


def branchy_stream(commits: int, now: int, branches: int = 300, lines: int = 6) -> Iterator[bytes]:
    """A trunk with merged pull requests, feature branches left on origin, maintenance lines with cherry-picks and tags."""
    s, rng = Stream(), random.Random(11)
    start = now - 730 * DAY
    step = (730 * DAY) // commits
    merged_kept = branches * 8 // 10
    stale = fresh = (branches - merged_kept) // 2
    # Every 8th trunk commit merges a pull request of 1-4 commits; the branches of some are left on origin.
    merge_points = list(range(8, commits, 8))
    kept = set(rng.sample(merge_points, min(merged_kept, len(merge_points))))
    stale_forks = sorted(rng.sample(range(commits // 10, commits * 8 // 10), stale))
    fresh_forks = sorted(rng.sample(range(commits - commits // 20, commits - 10), fresh))
    line_forks = [commits * (i + 1) // (lines + 1) for i in range(lines)]
    line_names = [f"release/{i + 1}.x" if i % 2 == 0 else f"stable-2.{17 + i}" for i in range(lines)]
    forks = {**dict.fromkeys(stale_forks, "stale"), **dict.fromkeys(fresh_forks, "fresh")}
    pending: list[tuple[str, int, int]] = []  # (kind, fork mark, fork index) for branches made after the trunk
    trunk_marks: list[int] = []
    pr = 0
    for n in range(1, commits + 1):
        when = start + n * step
        parent = trunk_marks[-1:]
        if n in merge_points and parent:
            pr += 1
            name = f"refs/remotes/origin/feature/pr-{pr}"
            work: dict[str, list[str]] = {}
            tip = parent[0]
            for k in range(rng.randint(1, 4)):
                yield from s.commit(name, when - (4 - k) * 600, f"pr {pr}: step {k}", [tip], s.edit(work, n))
                tip = s.mark
            files = [(p, "\n".join(text)) for p, text in work.items()]
            s.trunk.update(work)
            yield from s.commit(TRUNK, when, f"Merge pull request #{pr} from feature/pr-{pr}", [parent[0], tip], files)
            if n not in kept:
                yield b"reset %s\n\n" % name.encode()  # deleted after merging, as most are
        else:
            yield from s.commit(TRUNK, when, f"change {n}: tweak values", parent, s.edit(s.trunk, n))
        trunk_marks.append(s.mark)
        if n in forks:
            pending.append((forks[n], s.mark, n))
        if n % 1000 == 0:
            yield reset(f"refs/tags/v{n // 10000 + 1}.{n % 10000 // 1000}.0", s.mark)
    for i, (kind, mark, at) in enumerate(pending):
        name = f"refs/remotes/origin/{'wip' if kind == 'stale' else 'feature'}/{kind}-{i}"
        tip, work = mark, {}
        base = start + at * step
        for k in range(rng.randint(1, 6)):
            yield from s.commit(name, base + (k + 1) * 1800, f"{kind} {i}: step {k}", [tip], s.edit(work, at))
            tip = s.mark
    for name, at in zip(line_names, line_forks):
        tip, work = trunk_marks[at - 1], {}
        for k in range(60):
            picked = rng.randrange(at, commits)
            when = start + picked * step + 3600
            msg = f"fix {picked}\n\n(cherry picked from commit {picked:040x})"
            yield from s.commit(f"refs/remotes/origin/{name}", when, msg, [tip], s.edit(work, picked))
            tip = s.mark
            if k % 10 == 9:
                yield reset(f"refs/tags/{name.split('/')[-1]}.{k // 10 + 1}", tip)
    yield reset("refs/heads/main", trunk_marks[-1])


def build_repo(path: Path, shape: str, commits: int, now: int) -> None:
    """Create a repository with fast-import, shaped as a clone: refs/heads/main and refs/remotes/origin/*."""
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    proc = subprocess.Popen(["git", "fast-import", "--quiet"], cwd=path, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    buf = bytearray()
    stream = branchy_stream(commits, now) if shape == "branchy" else linear_stream(commits, now)
    for chunk in stream:
        buf += chunk
        if len(buf) > 1 << 20:
            proc.stdin.write(buf)
            buf.clear()
    proc.stdin.write(buf)
    proc.stdin.close()
    if proc.wait() != 0:
        raise SystemExit("git fast-import failed")
    subprocess.run(["git", "update-ref", "refs/heads/main", TRUNK], cwd=path, check=True)
    subprocess.run(["git", "symbolic-ref", "refs/remotes/origin/HEAD", TRUNK], cwd=path, check=True)
    subprocess.run(["git", "checkout", "-q", "main"], cwd=path, check=True)


def floor(path: Path) -> float:
    """Seconds for one `git log --numstat` pass over the trunk, output read through a pipe and dropped."""
    started = time.perf_counter()
    proc = subprocess.Popen(["git", "log", "--numstat", TRUNK], cwd=path, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    while proc.stdout.read(1 << 20):
        pass
    proc.wait()
    return time.perf_counter() - started


def evidence(path: Path, now: int) -> float:
    """Seconds for every repository check."""
    from ladder.assess.evidence import gather_repo_evidence

    started = time.perf_counter()
    gather_repo_evidence(path, now=now)
    return time.perf_counter() - started


def child(part: str, path: Path, now: int) -> None:
    """Run one measured part in this (child) process and print its seconds and max RSS as JSON."""
    seconds = floor(path) if part == "floor" else evidence(path, now)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"seconds": seconds, "rss_kib": own, "git_rss_kib": kids}))


def measure(part: str, path: Path, now: int) -> dict:
    """Run a part in a fresh Python process and read what it printed."""
    argv = [sys.executable, __file__, "--child", part, "--keep", str(path), "--now", str(now)]
    out = subprocess.run(argv, check=True, capture_output=True, text=True, env=os.environ)
    return json.loads(out.stdout.splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--shape", choices=("branchy", "linear"), default="branchy")
    ap.add_argument("--commits", type=int, help="trunk commits (default 40,000 branchy, 100,000 linear)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", type=Path, help="build the repository in this folder and keep it")
    ap.add_argument("--child", choices=("floor", "evidence"), help=argparse.SUPPRESS)
    ap.add_argument("--now", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child, args.keep, args.now)
        return 0
    commits = args.commits or (40_000 if args.shape == "branchy" else 100_000)
    now = int(time.time())
    with tempfile.TemporaryDirectory(prefix="ladder-bench-") as tmp:
        path = (args.keep or Path(tmp)) / f"synthetic-{args.shape}"
        t0 = time.perf_counter()
        build_repo(path, args.shape, commits, now)
        refs = subprocess.run(["git", "for-each-ref"], cwd=path, capture_output=True, text=True).stdout.splitlines()
        remotes = sum(1 for r in refs if "refs/remotes/" in r)
        tags = sum(1 for r in refs if "refs/tags/" in r)
        total = subprocess.run(["git", "rev-list", "--all", "--count"], cwd=path, capture_output=True, text=True)
        print(
            f"built {args.shape}: {commits:,} trunk commits, {int(total.stdout):,} in all, {remotes} remote-tracking refs, "
            f"{tags} tags, with git fast-import in {time.perf_counter() - t0:.1f}s"
        )
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        floors, runs = [], []
        for _ in range(args.repeat):  # interleaved, so both see the same cache state
            floors.append(measure("floor", path, now))
            runs.append(measure("evidence", path, now))
        f, e = min(floors, key=lambda r: r["seconds"]), min(runs, key=lambda r: r["seconds"])
        rss = max(r["rss_kib"] for r in runs) / 1024
        git_f, git_e = max(r["git_rss_kib"] for r in floors) / 1024, max(r["git_rss_kib"] for r in runs) / 1024
        print(
            f"floor: git log --numstat origin/main  {f['seconds']:7.2f}s  (best of {args.repeat})  max RSS git {git_f:.0f} MiB"
        )
        print(
            f"repo evidence (all checks)          {e['seconds']:7.2f}s  (best of {args.repeat})  "
            f"max RSS python {rss:.0f} MiB, largest git {git_e:.0f} MiB"
        )
        print(f"ratio                               {e['seconds'] / f['seconds']:7.2f}x  (goal <= 1.5x)")
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
