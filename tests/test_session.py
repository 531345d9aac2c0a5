"""A run recorded from inside its kernel: plain papermill (and so JupyterLab or a scheduler) leaves what `ladder run` leaves."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ladder.engine import journal, runner
from ladder.engine.kernel import kernel_name

pytestmark = pytest.mark.e2e

BOOK = Path(__file__).parent / "notebooks" / "5-journaled-anywhere.ipynb"


def papermill(tmp_path: Path, *params: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the test notebook with plain papermill, as a scheduler would: no Ladder runner involved."""
    args = [sys.executable, "-m", "papermill", "-k", kernel_name(), "--cwd", str(BOOK.parent), "--log-level", "ERROR"]
    args += [str(BOOK), str(tmp_path / "out.ipynb"), "-p", "runs", str(tmp_path / "runs"), *params]
    return subprocess.run(args, capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=300)


def rows(tmp_path: Path) -> list[dict]:
    path = journal.journal_path(tmp_path / "runs")
    return journal.history(path) if path.exists() else []


def test_a_plain_papermill_run_leaves_a_run_folder_a_report_and_a_journal_row(tmp_path):
    assert papermill(tmp_path).returncode == 0
    (row,) = rows(tmp_path)
    assert (row["runbook"], row["status"], row["changes"]) == ("5-journaled-anywhere", "ok", 1)
    folder = tmp_path / "runs" / row["id"]
    result = json.loads((folder / "result.json").read_text())
    assert result["figures"] == {"word": "hello"} and result["params"]["word"] == "hello"
    report = (folder / "report.html").read_text()
    # The narrative comes from the notebook's file, the outputs from the kernel.
    assert "A step" in report and "printed hello" in report and "Record" in report
    executed = json.loads((folder / "runbook.ipynb").read_text())
    step = next(c for c in executed["cells"] if "record_step" in "".join(c["source"]))
    assert any("printed hello" in "".join(o.get("text", "")) for o in step["outputs"])
    injected = [c for c in executed["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    assert len(injected) == 1 and executed["cells"].index(injected[0]) == 2  # right after the parameters cell


def test_a_failing_cell_ends_the_run_as_failed_with_its_step_and_error(tmp_path):
    assert papermill(tmp_path, "-p", "fail", "True").returncode != 0
    (row,) = rows(tmp_path)
    assert row["status"] == "failed"
    assert "step 'A step'" in row["error"] and "RuntimeError: the step failed on purpose" in row["error"]
    assert (tmp_path / "runs" / row["id"] / "report.html").is_file()


def test_headless_a_wait_for_confirmation_is_a_failed_run(tmp_path):
    assert papermill(tmp_path, "-p", "confirm_prod", "True").returncode != 0
    (row,) = rows(tmp_path)
    assert row["status"] == "failed" and "ConfirmationRequired" in row["error"] and "--apply" in row["error"]


def test_in_a_frontend_a_wait_for_confirmation_is_a_pause_not_a_run(tmp_path):
    # Jupyter Server sets JPY_SESSION_NAME for the kernels it starts: a person can click the button.
    assert papermill(tmp_path, "-p", "confirm_prod", "True", env={"JPY_SESSION_NAME": str(BOOK)}).returncode != 0
    assert rows(tmp_path) == []


def test_under_the_runner_only_the_runner_journals_the_run(tmp_path):
    outcome = runner.run(BOOK, {"runs": str(tmp_path / "runs")}, config="", out_dir=tmp_path / "runs")
    assert outcome.ok
    assert [r["id"] for r in rows(tmp_path)] == [outcome.run_id]
    assert sorted(p.name for p in (tmp_path / "runs").iterdir() if p.is_dir()) == [outcome.run_id]
