"""ladder.app.packages: only the missing pinned requirements are installed, pip first when the venv has none."""

from __future__ import annotations

import sys

import pytest

from ladder.app import packages
from ladder.core.hosts import LocalHost


@pytest.mark.unit
def test_the_install_command_adds_pip_only_when_missing_and_quotes_each_requirement():
    cmd = packages.install_command("/srv/app venv/bin/python", ["openfeature-sdk==0.10.0", "a;b"])
    assert cmd.startswith("{ '/srv/app venv/bin/python' -m pip --version >/dev/null 2>&1 || ")
    assert "-m ensurepip >/dev/null; }" in cmd and cmd.endswith(
        "install --quiet --disable-pip-version-check openfeature-sdk==0.10.0 'a;b'"
    )


@pytest.mark.local
def test_a_satisfied_environment_needs_nothing_and_a_missing_pin_is_planned(tmp_path):
    from importlib import metadata

    host = LocalHost("prod", tmp_path)
    pinned = f"pytest=={metadata.version('pytest')}\n"
    assert packages.ensure(host, sys.executable, pinned).outcome == "ok"
    plan = packages.ensure(host, sys.executable, pinned + "no-such-package-for-ladder==1.0\n")
    assert plan.outcome == "planned" and plan.reason == "not installed: no-such-package-for-ladder==1.0"
