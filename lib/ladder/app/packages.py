"""The app's pinned requirements in an interpreter on a host: the missing ones installed before new code needs them."""

from __future__ import annotations

import shlex

from ..core import ops
from ..core.hosts import Host
from . import devenv, parity

q = shlex.quote


def install_command(python: str, missing: list[str]) -> str:
    """pip install of exactly the missing requirements (pip itself added first when the venv was made without it)."""
    pip = f"{q(python)} -m pip"
    return (
        f"{{ {pip} --version >/dev/null 2>&1 || {q(python)} -m ensurepip >/dev/null; }} && "
        f"{pip} install --quiet --disable-pip-version-check {' '.join(q(m) for m in missing)}"
    )


def ensure(host: Host, python: str, requirements: str, *, dry_run: bool = True) -> ops.Change:
    """Install the requirements (requirements.txt's text) that python's environment does not satisfy."""
    missing = devenv.unmet(devenv.parse_requirements(requirements), parity.get_packages(host, python))
    actions = [ops.command(host, install_command(python, missing), devenv.PIP_TIMEOUT)] if missing else []
    return ops.settle(host, "requirements", python, actions, f"not installed: {', '.join(missing)}", dry_run=dry_run)
