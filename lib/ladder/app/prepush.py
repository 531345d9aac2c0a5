"""The dev host's test tooling: the locked dev requirements in the dev venv, and a pre-push hook that runs the tests."""

from __future__ import annotations

import shlex

from ..core import ops
from ..core.hosts import Host
from . import devenv, parity
from .smoke import DEV_REQUIREMENTS

q = shlex.quote
HOOK = ".git/hooks/pre-push"
MARK = "# Written by Ladder (rung 2)"


def hook_text(python: str) -> str:
    """A pre-push hook: run the app's tests with the dev venv's interpreter; a failing test refuses the push."""
    return f"""#!/bin/sh
{MARK}: the tests run before every push; a failing test refuses it.
# Skip once, knowingly: git push --no-verify
cd "$(git rev-parse --show-toplevel)" || exit 1
echo "pre-push: running the tests" >&2
if ! {q(python)} -m pytest -q -p no:cacheprovider >&2; then
  echo "pre-push: tests failed; the push is refused (fix them, then push again)" >&2
  exit 1
fi
"""


def dev_requirements(host: Host, env: devenv.DevEnv, *, dry_run: bool = True) -> ops.Change:
    """Install the locked dev requirements (pytest, the test client) into the dev venv, when any is missing."""
    path = f"{env.layout.app}/{DEV_REQUIREMENTS}"
    cmd = f"{q(env.venv_python)} -m pip install --quiet --disable-pip-version-check -r {q(path)}"
    action = [ops.command(host, cmd, devenv.PIP_TIMEOUT)]
    if not host.exists(path) or not host.exists(env.venv_python):
        return ops.settle(host, "dev requirements", path, action, "not checked out yet", dry_run=dry_run)
    wanted = devenv.parse_requirements(host.read_text(path))
    missing = devenv.unmet(wanted, parity.get_packages(host, env.venv_python))
    return ops.settle(
        host,
        "dev requirements",
        path,
        action if missing else [],
        f"not installed: {', '.join(missing)}",
        dry_run=dry_run,
    )


def install_hook(host: Host, env: devenv.DevEnv, *, dry_run: bool = True) -> ops.Change:
    """Put the pre-push hook into the dev checkout (executable)."""
    return ops.file(host, f"{env.layout.app}/{HOOK}", hook_text(env.venv_python), 0o755, dry_run=dry_run)
