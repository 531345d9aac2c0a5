"""ladder.app.testsuite: a checkout's tests found by name and run with its interpreter, or plainly none."""

from __future__ import annotations

import sys

import pytest

from gitrepo import GitRepo
from ladder.app import testsuite
from ladder.core.hosts import LocalHost

PASSING = "import unittest\n\n\nclass T(unittest.TestCase):\n    def test_ok(self):\n        self.assertEqual(1, 1)\n"


@pytest.mark.unit
def test_parse_files_keeps_test_files_by_their_names():
    out = "app.py\0tests/test_app.py\0conftest.py\0web/app_test.py\0testing.md\0docs/tests.md\0"
    assert testsuite.parse_files(out) == ("tests/test_app.py", "conftest.py", "web/app_test.py")
    assert testsuite.parse_files("") == ()


@pytest.mark.unit
def test_runner_is_pytest_when_installed_else_unittest():
    assert testsuite.runner_command("/v/bin/python", True) == (
        "pytest",
        "/v/bin/python -m pytest -q -p no:cacheprovider",
    )
    assert testsuite.runner_command("/v b/python", False) == ("unittest", "'/v b/python' -m unittest discover -q")


@pytest.mark.local
def test_a_checkout_without_tests_runs_nothing(tmp_path):
    repo = GitRepo(tmp_path / "app")
    repo.commit({"app.py": "x = 1\n"})
    run = testsuite.run(LocalHost("dev", tmp_path), str(repo.path), sys.executable)
    assert not run.found and run.passed is None and run.runner == ""


@pytest.mark.local
def test_passing_and_failing_tests_are_run_and_told_apart(tmp_path):
    repo = GitRepo(tmp_path / "app")
    repo.commit({"app.py": "x = 1\n", "test_app.py": PASSING})
    host = LocalHost("dev", tmp_path)
    run = testsuite.run(host, str(repo.path), sys.executable)
    assert run.files == ("test_app.py",) and run.runner == "pytest" and run.passed
    repo.commit({"test_app.py": PASSING.replace("assertEqual(1, 1)", "assertEqual(1, 2)")})
    failed = testsuite.run(host, str(repo.path), sys.executable)
    assert failed.passed is False and failed.exited == 1 and "1 failed" in failed.output


@pytest.mark.local
def test_run_cases_reads_each_tests_outcome_and_duration(tmp_path):
    repo = GitRepo(tmp_path / "app")
    repo.commit(
        {"tests/test_app.py": "def test_ok():\n    assert 1\n\n\ndef test_broken():\n    assert 0, 'boom'\n"},
        "tests",
    )
    run, cases = testsuite.run_cases(LocalHost("dev", tmp_path), str(repo.path), sys.executable)
    assert run.runner == "pytest" and run.passed is False and "1 failed, 1 passed" in run.output
    assert [(c.test, c.outcome) for c in cases] == [
        ("tests.test_app::test_ok", "passed"),
        ("tests.test_app::test_broken", "failed"),
    ]
    assert all(c.seconds >= 0 for c in cases) and "boom" in cases[1].message


@pytest.mark.unit
def test_parse_junit_names_skips_and_errors():
    xml = (
        '<testsuites><testsuite><testcase classname="t" name="a" time="0.5"><skipped message="later"/></testcase>'
        '<testcase classname="t" name="b" time="0.1"><error message="setup broke&#10;trace"/></testcase>'
        "</testsuite></testsuites>"
    )
    assert testsuite.parse_junit(xml) == [
        testsuite.Case("t::a", "skipped", 0.5, "later"),
        testsuite.Case("t::b", "error", 0.1, "setup broke"),
    ]
