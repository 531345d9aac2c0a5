"""ladder.cli: the console script behaves as a Unix tool where every command shares it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ladder.cli import HISTORY_COLUMNS
from ladder.engine import journal

pytestmark = pytest.mark.local


def test_a_reader_that_goes_away_ends_the_output_quietly(tmp_path):
    path = journal.journal_path(tmp_path)
    for i in range(1500):  # far more JSON than a pipe buffers
        journal.start(path, run_id=f"run-{i:04d}", runbook="1-separate-dev-and-prod", params={"ref": "master"})
        journal.finish(path, f"run-{i:04d}", status="ok", changes=i)
    proc = subprocess.Popen(
        [sys.executable, "-m", "ladder.cli", "history", "--json", "--out", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stdout.read(100).startswith(b"[")
    proc.stdout.close()  # as `| head` does after its lines
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    assert proc.wait(timeout=60) == 141
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr


def test_history_shows_one_line_per_assessment_with_its_level_and_score(tmp_path):
    path = journal.journal_path(tmp_path)
    journal.start(path, run_id="r1", runbook="assessment", params={})
    journal.finish(path, "r1", status="ok")
    journal.add(path, run_id="assessment-r1", kind="assessment", summary={"level": "1", "overall": {"score": 4.25}})
    journal.add(path, run_id="saved-by-hand", kind="assessment", summary={"level": "0", "overall": {"score": 3.0}})
    journal.start(path, run_id="r2", runbook="1-separate-dev-and-prod", rung="1", params={})
    journal.finish(path, "r2", status="ok", changes=10)
    done = subprocess.run(
        [sys.executable, "-m", "ladder.cli", "history", "--out", str(tmp_path)], capture_output=True, text=True
    )
    lines = done.stdout.splitlines()
    assert lines[0] == f"journal: {path}" and lines[1].split() == list(HISTORY_COLUMNS)
    rows = [line.split() for line in lines[2:]]
    assert [r[0] for r in rows] == ["r1", "saved-by-hand", "r2"]  # assessment-r1 folds into r1
    assert rows[0][1] == "assessment" and rows[0][-2:] == ["1", "4.2"] and rows[1][-2:] == ["0", "3.0"]
