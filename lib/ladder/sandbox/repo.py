"""The team's git repo: master's history and the stale branch, written by git fast-import over six months up to now."""

from __future__ import annotations

import os
import random
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ..core.errors import ParameterError, SeedError
from .app import app_files
from .history import SEED, master_history
from .story import REDESIGN

AUTHOR = "Sam Solo <sam@example.com>"
MASTER = "master"
STALE_BRANCH = "feature/redesign"
HISTORY_DAYS = 182
FORK_DAYS_AGO = 120
GIT_TIMEOUT = 60


def seed_repo(path: Path, *, now: datetime | None = None) -> Path:
    """Create the team's git repo at `path`: ~6 months of history ending at `now`, master checked out."""
    path = Path(path)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise SeedError("exists and is not an empty folder; pass a new path or remove it", path=path)
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    master = master_history(app_files())
    stream = _fast_import_stream(master, now)
    path.mkdir(parents=True, exist_ok=True)
    _git(path, "init", "-q", f"--initial-branch={MASTER}", ".")
    _git(path, "fast-import", "--quiet", "--done", input=stream)
    _git(path, "reset", "--hard", "-q", MASTER)
    # The team's shared repository takes pushes, as a forge would; its own checkout follows them.
    _git(path, "config", "receive.denyCurrentBranch", "updateInstead")
    return path


def _fast_import_stream(master: list[tuple[str, dict[str, str]]], now: datetime) -> bytes:
    """A `git fast-import` stream: master spread over HISTORY_DAYS up to `now`, plus the stale branch."""
    rng = random.Random(SEED + 1)
    end = int(now.timestamp())
    span = HISTORY_DAYS * 86400
    times = sorted(end - span + int(rng.random() * (span - 3600)) for _ in range(len(master) - 2))
    times = [end - span] + times + [end]
    fork = max(i for i, t in enumerate(times) if t <= end - FORK_DAYS_AGO * 86400)
    branch_times = sorted(times[fork] + 3600 + int(rng.random() * 20 * 86400) for _ in REDESIGN)
    offset = int((now.utcoffset() or timedelta(0)).total_seconds() // 60)
    tz = f"{'-' if offset < 0 else '+'}{abs(offset) // 60:02d}{abs(offset) % 60:02d}"
    out = bytearray()

    def emit(
        ref: str, mark: int, parent: int | None, when: int, message: str, old: dict[str, str], new: dict[str, str]
    ) -> None:
        msg = (message + "\n").encode()
        out.extend(f"commit {ref}\nmark :{mark}\n".encode())
        for role in ("author", "committer"):
            out.extend(f"{role} {AUTHOR} {when} {tz}\n".encode())
        out.extend(b"data %d\n%s" % (len(msg), msg))
        if parent:
            out.extend(f"from :{parent}\n".encode())
        for p in sorted(old.keys() - new.keys()):
            out.extend(f"D {p}\n".encode())
        for p, text in sorted(new.items()):
            if old.get(p) != text:
                data = text.encode()
                out.extend(b"M 100644 inline %s\ndata %d\n%s\n" % (p.encode(), len(data), data))
        out.extend(b"\n")

    previous: dict[str, str] = {}
    for i, ((message, tree), when) in enumerate(zip(master, times)):
        emit(f"refs/heads/{MASTER}", i + 1, i or None, when, message, previous, tree)
        previous = tree
    previous, parent = master[fork][1], fork + 1
    for j, ((message, changes), when) in enumerate(zip(REDESIGN, branch_times)):
        tree = {**previous, **changes}
        emit(f"refs/heads/{STALE_BRANCH}", len(master) + j + 1, parent, when, message, previous, tree)
        previous, parent = tree, len(master) + j + 1
    out.extend(b"done\n")
    return bytes(out)


def _git(path: Path, *args: str, input: bytes | None = None) -> str:
    """Run git in `path`, independent of the user's git config, hooks and GIT_* variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, GIT_TERMINAL_PROMPT="0")
    try:
        done = subprocess.run(
            ["git", "-c", f"core.hooksPath={os.devnull}", "-c", "commit.gpgsign=false", *args],
            cwd=path,
            env=env,
            input=input,
            capture_output=True,
            timeout=GIT_TIMEOUT,
        )
    except FileNotFoundError:
        raise SeedError("git is not installed; install git", path=path) from None
    if done.returncode != 0:
        raise SeedError(f"git {args[0]} failed: {done.stderr.decode(errors='replace').strip()}", path=path)
    return done.stdout.decode()


FAULT_LINE = 'kind, _, only = fault_file.read_text().strip().partition(" ")'
FAULTS = ("error", "slow")
FORCED = "forced on in prod while debugging"  # the comment that marks a fault left on
NOTES = "NOTES.md"
TEAM = ("-c", "user.name=Sandbox team", "-c", "user.email=team@sandbox.invalid")  # who commits the team's changes


def commit_fault(path: Path, kind: str, route: str = "", *, tag: str | None = None) -> str:
    """Commit a bad release on the sandbox's app: its fault switch left on in app.py (500s or slow on route) in prod.

    A real commit, built like any other: tests (APP_ENV test) and staging pass it, as they pass a bug that depends
    on prod's settings or data; the regression a canary must catch. Returns the commit's sha.
    """
    if kind not in FAULTS:
        raise ParameterError(f"parameter 'kind' must be one of {', '.join(FAULTS)}, not {kind!r}")
    if route and not route.startswith("/"):
        raise ParameterError(f"parameter 'route' must be a path starting with /, not {route!r}")
    app = path / "app.py"
    text = app.read_text()
    if FAULT_LINE not in text:
        raise ParameterError(f"{app} has no fault switch ({FAULT_LINE!r}); is it the sandbox's app?")
    spec = f"{kind} {route}".strip()
    forced = f"kind, _, only = ({spec!r} if config.ENV == 'prod' else '').partition(' ')  # {FORCED}"
    app.write_text(text.replace(FAULT_LINE, forced))
    _git(path, "add", "app.py")
    _git(path, *TEAM, "commit", "-qm", f"debug: force the {kind} fault in prod{' on ' + route if route else ''}")
    if tag:
        _git(path, "tag", tag)
    return _git(path, "rev-parse", "HEAD").strip()


def commit_fix(path: Path) -> str | None:
    """Commit the fault switch back as it was, when a bad release left it forced on; its sha, None when nothing was."""
    app = path / "app.py"
    text = app.read_text()
    forced = [line for line in text.splitlines() if line.strip().endswith(f"# {FORCED}")]
    if not forced:
        return None
    indent = forced[0][: len(forced[0]) - len(forced[0].lstrip())]
    app.write_text(text.replace(forced[0], indent + FAULT_LINE))
    _git(path, "add", "app.py")
    _git(path, *TEAM, "commit", "-qm", "fix: the fault switch reads its file again (revert the debug force)")
    return _git(path, "rev-parse", "HEAD").strip()


def commit_notes(path: Path, line: str) -> str:
    """Commit a harmless change on the sandbox's app: a line of release notes in NOTES.md. Returns the commit's sha."""
    with (path / NOTES).open("a") as f:
        f.write(f"- {line}\n")
    _git(path, "add", NOTES)
    _git(path, *TEAM, "commit", "-qm", f"notes: {line}")
    return _git(path, "rev-parse", "HEAD").strip()
