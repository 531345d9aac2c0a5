"""Rung 1 in a real browser: Run All plans, an apply pauses calmly for one click, and each run counts like any other."""

from __future__ import annotations

import pytest

from browser import chromium, jupyter_lab, open_notebook, wait_for
from ladder.engine import journal

pytestmark = pytest.mark.e2e

RUNBOOK = "runbooks/1-separate-dev-and-prod.ipynb"
PARAMETERS = 2  # the parameters cell, by index in the notebook
APPLY_DEADLINE = 300  # seconds: the apply builds dev's venv with pip


def runs(tmp_path) -> list[dict]:
    """The journal's rows of ended runs in the runs home of this test's LADDER_HOME."""
    path = journal.journal_path(tmp_path / "runs")
    return [r for r in journal.history(path) if r["status"] != "running"] if path.exists() else []


@pytest.fixture
def lab(tmp_path, local_sandbox, monkeypatch, request):
    """The rung-1 runbook open in JupyterLab in chromium; LADDER_HOME is tmp_path, so config "sandbox" is this one."""
    monkeypatch.setenv("LADDER_HOME", str(tmp_path))
    with jupyter_lab(tmp_path, wait=False) as server, chromium(server, tmp_path, request) as page:
        yield open_notebook(page, server, RUNBOOK)


def test_run_all_plans_then_one_click_applies_to_prod_and_both_runs_are_journaled(lab, tmp_path):
    lab.run_all()  # dry run: every step plans, nothing stops
    (planned,) = wait_for("the dry run's journal row", lambda: runs(tmp_path))
    assert planned["status"] == "ok" and planned["params"]["dry_run"] is True and planned["changes"] > 0
    assert (tmp_path / "runs" / planned["id"] / "report.html").is_file()

    lab.edit(PARAMETERS, "dry_run = True", "dry_run = False")
    lab.run_all(stops_at="ConfirmationRequired")  # an apply stops before prod
    confirm = lab.page.locator(".jp-Notebook .jp-Cell").filter(has_text='confirm.confirm("prod"')
    shown = confirm.inner_text()
    assert "Paused before changing prod: waiting for your confirmation above." in shown
    assert "Traceback" not in shown and "ConfirmationRequired" not in shown  # a pause, not a crash
    assert len(runs(tmp_path)) == 1  # waiting for a click is not a run
    lab.screenshot(tmp_path / "paused.png", within="Apply to prod")

    button = confirm.get_by_role("button", name="Apply to prod")  # its icon is part of its name: not exact
    button.click()  # one click: the cell passes now and every cell below runs
    applied = wait_for("the apply's journal row", lambda: runs(tmp_path)[1:], APPLY_DEADLINE)[0]
    lab.wait_idle()
    lab.screenshot(tmp_path / "applied.png")
    assert applied["status"] == "ok", applied["error"]
    assert applied["params"]["dry_run"] is False
    assert applied["hosts"] == {"repo": "changed", "dev": "changed", "prod1": "changed"}
    assert lab.errors() == []  # the pause is gone with the cell's re-run
    assert "may go on with prod: confirmed by the button" in confirm.inner_text()
    folder = tmp_path / "runs" / applied["id"]
    assert (folder / "report.html").is_file() and (folder / "runbook.ipynb").is_file()
    assert list((folder / "prod-edits").glob("*.patch"))  # prod's edit was kept in the run's folder
    assert not list((tmp_path / "lab").rglob("*.patch"))  # never beside the notebook
