"""Build small real git repositories for tests: commits with chosen dates, branches, tags; git() for one command."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

DAY = 86400
NOW = int(time.time())


def git(cwd: str | Path, *args: str) -> str:
    """Run one git command in cwd with a fixed identity; return its stdout, stripped."""
    done = subprocess.run(
        ["git", "-C", str(cwd), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


class GitRepo:
    """A repository in a temp folder, driven by the git CLI with fixed identity and dates."""

    def __init__(self, path: Path, branch: str = "main") -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", branch)

    def git(self, *args: str, when: int | None = None, input: bytes | None = None) -> str:
        """Run git here; `when` sets author and committer dates."""
        env = dict(
            os.environ,
            GIT_AUTHOR_NAME="Dev",
            GIT_AUTHOR_EMAIL="dev@example.com",
            GIT_COMMITTER_NAME="Dev",
            GIT_COMMITTER_EMAIL="dev@example.com",
            GIT_CONFIG_NOSYSTEM="1",
            GIT_CONFIG_GLOBAL=os.devnull,
        )
        if when is not None:
            env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = f"@{when} +0000"
        out = subprocess.run(
            ["git", *args],
            cwd=self.path,
            env=env,
            input=input,
            check=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        return out.stdout.decode(errors="replace").strip()

    def write(self, files: dict[str, str | bytes]) -> None:
        """Write files into the working tree."""
        for name, content in files.items():
            p = self.path / name
            p.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                p.write_bytes(content)
            else:
                p.write_text(content)

    def commit(
        self,
        files: dict[str, str | bytes] | None = None,
        message: str = "change",
        *,
        days_ago: float = 0,
        when: int | None = None,
        remove: list[str] | None = None,
        author: str | None = None,
    ) -> str:
        """Write files (and remove some), commit everything (as author "Name <email>", when given), return its id."""
        self.write(files or {})
        for name in remove or []:
            self.git("rm", "-q", name)
        self.git("add", "-A")
        t = when if when is not None else int(NOW - days_ago * DAY)
        self.git("commit", "-q", "--allow-empty", "-m", message, *([f"--author={author}"] if author else []), when=t)
        return self.git("rev-parse", "HEAD")

    def branch(self, name: str, start: str = "HEAD") -> None:
        """Create and switch to a branch."""
        self.git("checkout", "-q", "-b", name, start)

    def checkout(self, name: str) -> None:
        """Switch to a branch or commit."""
        self.git("checkout", "-q", name)

    def merge(self, name: str, *, days_ago: float = 0) -> None:
        """Merge a branch into the current one with a merge commit."""
        self.git("merge", "-q", "--no-ff", "-m", f"merge {name}", name, when=int(NOW - days_ago * DAY))

    def tag(self, name: str, *, days_ago: float = 0, annotated: bool = True) -> None:
        """Tag HEAD (annotated tags carry their own date)."""
        if annotated:
            self.git("tag", "-a", name, "-m", name, when=int(NOW - days_ago * DAY))
        else:
            self.git("tag", name)

    def daily(
        self, n: int, *, start_days_ago: float, path: str = "app.py", lines: int = 3, tests_every: int = 0
    ) -> None:
        """n small commits, one a day, ending today-ish; every tests_every-th also touches a test."""
        for i in range(n):
            files = {path: "\n".join(f"v{j} = {i}" for j in range(lines)) + "\n"}
            if tests_every and i % tests_every == 0:
                files["tests/test_app.py"] = f"def test_{i}():\n    assert True\n"
            self.commit(files, f"change {i}", days_ago=start_days_ago - i * (start_days_ago / max(n, 1)))
