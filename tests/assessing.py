"""Helpers for the assessment's tests: one repository check on a repo, folder hosts, a health server."""

from __future__ import annotations

import hashlib
import http.server
import json
import socket
import subprocess
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from gitrepo import NOW, GitRepo
from ladder.assess.checks import CheckResult
from ladder.assess.evidence import gather_repo_evidence
from ladder.core.hosts import LocalHost

# A GitHub Actions workflow that runs the tests on every push to main and every pull request.
WORKFLOW = """name: ci
on:
  push:
    branches: [main]
  pull_request:
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - run: pytest -q
"""


def check(repo: GitRepo, check_id: str, **kw) -> CheckResult:
    """Run one repository check on a repo, the way the assessment runs it."""
    (res,) = gather_repo_evidence(repo.path, now=NOW, checks=[check_id], **kw)
    assert not res.reason.startswith("check error"), res.reason
    return res


def by_id(results: Iterable[CheckResult]) -> dict[str, CheckResult]:
    """Check results keyed by id; each one plain JSON and none a crashed check."""
    out = {r.id: r for r in results}
    for r in out.values():
        assert not r.reason.startswith("check error"), r.reason
        json.dumps(r.to_dict())
    return out


def make_release_host(base: Path, versions=("v1", "v2", "v3")) -> LocalHost:
    """A prod host with Capistrano-style releases, current -> the last one, checksums per release."""
    for v in versions:
        rel = base / "releases" / v
        rel.mkdir(parents=True)
        (rel / "app.py").write_text(f"VERSION = {v!r}\n")
        digest = hashlib.sha256((rel / "app.py").read_bytes()).hexdigest()
        (rel / "SHA256SUMS").write_text(f"{digest}  app.py\n")
    (base / "shared").mkdir()
    (base / "current").symlink_to(base / "releases" / versions[-1])
    return LocalHost("prod1", base)


def make_checkout_host(base: Path, origin: Path, name: str = "prod1") -> LocalHost:
    """A prod host running a git checkout at <base>/app, edited in place."""
    base.mkdir(parents=True)
    subprocess.run(["git", "clone", "-q", str(origin), str(base / "app")], check=True)
    with open(base / "app" / "app.py", "a") as f:
        f.write("# HOTFIX edited on prod\n")
    return LocalHost(name, base)


def make_origin(path: Path) -> Path:
    """The app's repository, with one commit."""
    repo = GitRepo(path)
    repo.commit({"app.py": "print('hi')\n"})
    return repo.path


@contextmanager
def health_server() -> Iterator[int]:
    """A real HTTP server on a free loopback port: /health answers 200, anything else 500."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/health" else 500)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
