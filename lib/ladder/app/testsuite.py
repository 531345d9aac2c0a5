"""The app's tests in a checkout on a host: found by their file names, run with the app's own interpreter."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from ..core.hosts import Host
from .git import GIT
from .history import is_test_path

q = shlex.quote
RUN_TIMEOUT = 600
OUTPUT_LINES = 15  # the tail a person reads: the summary line and the last failures


@dataclass(frozen=True)
class SuiteRun:
    """The test files found in a checkout and, when they were run, the runner, its exit status and output tail."""

    host: str
    files: tuple[str, ...]
    runner: str = ""  # "pytest" or "unittest"; "" when nothing was run
    exited: int | None = None
    output: str = ""

    @property
    def found(self) -> bool:
        """True when the checkout has test files."""
        return bool(self.files)

    @property
    def passed(self) -> bool | None:
        """True when the run passed, False when it failed, None when nothing was run."""
        return None if self.exited is None else self.exited == 0


def parse_files(output: str) -> tuple[str, ...]:
    """The test files among `git ls-files -z` output, by the common naming conventions."""
    return tuple(path for path in output.split("\0") if path and is_test_path(path))


def get_files(host: Host, checkout: str, timeout: float | None = None) -> tuple[str, ...]:
    """The tracked files of a checkout that hold tests."""
    return parse_files(host.run(f"{GIT} -C {q(checkout)} ls-files -z", timeout=timeout).stdout)


def runner_command(python: str, has_pytest: bool) -> tuple[str, str]:
    """(runner name, command): pytest when the interpreter has it, else the standard library's unittest discovery."""
    if has_pytest:
        return "pytest", f"{q(python)} -m pytest -q -p no:cacheprovider"
    return "unittest", f"{q(python)} -m unittest discover -q"


def run(host: Host, checkout: str, python: str, *, timeout: float = RUN_TIMEOUT) -> SuiteRun:
    """Find the checkout's tests and run them with python in the checkout; a checkout without tests runs nothing."""
    files = get_files(host, checkout)
    if not files:
        return SuiteRun(host.name, files)
    has_pytest = host.run(f"{q(python)} -c 'import pytest'", warn=True).ok
    name, cmd = runner_command(python, has_pytest)
    result = host.run(f"{cmd} 2>&1", cwd=checkout, warn=True, timeout=timeout)
    tail = "\n".join(result.stdout.rstrip().splitlines()[-OUTPUT_LINES:])
    return SuiteRun(host.name, files, name, result.exited, tail)


@dataclass(frozen=True)
class Case:
    """One test's outcome and duration, from pytest's JUnit XML report."""

    test: str
    outcome: str  # passed, failed, error or skipped
    seconds: float
    message: str = ""


def parse_junit(xml: str) -> list[Case]:
    """The test cases of a JUnit XML report, in the order they ran."""
    import xml.etree.ElementTree as ET

    cases = []
    for case in ET.fromstring(xml).iter("testcase"):
        outcome, message = "passed", ""
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = {"failure": "failed"}.get(child.tag, child.tag)
                message = (child.get("message") or "").splitlines()[0][:200] if child.get("message") else ""
        name = f"{case.get('classname', '')}::{case.get('name', '')}".lstrip(":")
        cases.append(Case(name, outcome, float(case.get("time") or 0), message))
    return cases


def run_cases(host: Host, checkout: str, python: str, *, timeout: float = RUN_TIMEOUT) -> tuple[SuiteRun, list[Case]]:
    """Run the checkout's tests with pytest, as run() does, and read each test's outcome and duration back."""
    files = get_files(host, checkout)
    if not files:
        return SuiteRun(host.name, files), []
    report = host.run("mktemp", timeout=30).stdout.strip()
    try:
        _, cmd = runner_command(python, True)
        result = host.run(f"{cmd} --junitxml={q(report)} 2>&1", cwd=checkout, warn=True, timeout=timeout)
        xml = host.run(f"cat {q(report)}", warn=True, timeout=30).stdout
    finally:
        host.run(f"rm -f {q(report)}", warn=True, timeout=30)
    tail = "\n".join(result.stdout.rstrip().splitlines()[-OUTPUT_LINES:])
    return SuiteRun(host.name, files, "pytest", result.exited, tail), parse_junit(xml) if xml.strip() else []
