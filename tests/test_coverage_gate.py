"""The coverage ratchet: coverage.py's report parsed, the decision against trunk's figure, the measurement for real."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from tests.gitrepo import GitRepo

from ladder.app import coverage_gate
from ladder.app.coverage_gate import Coverage
from ladder.core.errors import ParameterError


def report(percent: float, covered: int = 71, statements: int = 100) -> str:
    return json.dumps({"meta": {}, "files": {}, "totals": {"percent_covered": percent, "covered_lines": covered,
                                                           "num_statements": statements}})  # fmt: skip


@pytest.mark.unit
def test_a_report_is_read_to_one_decimal_and_a_bad_one_names_the_file():
    assert coverage_gate.parse_report(report(71.2345)) == Coverage(71.2, 71, 100)
    with pytest.raises(ParameterError, match=r"build/coverage.json is not a `coverage json` report.*coverage run"):
        coverage_gate.parse_report('{"files": {}}', "build/coverage.json")


@pytest.mark.unit
def test_the_ratchet_fails_a_drop_with_trunks_figure_and_version():
    verdict = coverage_gate.judge(Coverage(71.2, 712, 1000), {"percent": 74.0}, "v0.1.3")
    assert not verdict.ok and verdict.reason == "coverage 71.2% < trunk's 74.0% (v0.1.3)"
    assert verdict.line().startswith("coverage gate: FAILED: ")
    held = coverage_gate.judge(Coverage(74.0, 740, 1000), {"percent": 74.0}, "v0.1.3")
    assert held.ok and held.reason == "coverage 74.0% >= trunk's 74.0% (v0.1.3)"


@pytest.mark.unit
def test_the_first_build_records_and_a_lost_report_fails_once_trunk_has_a_figure():
    assert coverage_gate.judge(Coverage(50.0, 5, 10), None, None).ok
    assert coverage_gate.judge(None, None, None).ok  # no tests yet: nothing to ratchet
    lost = coverage_gate.judge(None, {"percent": 80.0}, "v0.2.0")
    assert not lost.ok and "trunk measured 80.0% (v0.2.0)" in lost.reason


@pytest.mark.local
def test_the_measurement_runs_a_real_repos_tests_under_coverage_and_leaves_the_tests_out(tmp_path):
    repo = GitRepo(tmp_path / "app")
    repo.commit(
        {
            "app.py": "def used():\n    return 1\n\n\ndef unused():\n    return 2\n",
            "tests/test_app.py": "import app\n\n\ndef test_used():\n    assert app.used() == 1\n",
            "tests/conftest.py": "import sys\nimport pathlib\n\nsys.path.insert(0, str(pathlib.Path(__file__).parents[1]))\n",
        },
        "an app with a test",
    )
    command = coverage_gate.measure_command(sys.executable)
    done = subprocess.run(["sh", "-c", command], cwd=repo.path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    measured = coverage_gate.read_report(repo.path / coverage_gate.REPORT)
    # app.py: 4 statements (2 defs, 2 returns), 3 run; the tests themselves are not counted.
    assert measured == Coverage(75.0, 3, 4)
    assert coverage_gate.read_report(tmp_path / "missing.json") is None
