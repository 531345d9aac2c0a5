"""ladder.cli: the console script behaves as a Unix tool where every command shares it."""

from __future__ import annotations

import subprocess
import sys

import pytest

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
