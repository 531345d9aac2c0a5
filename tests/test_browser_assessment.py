"""The assessment in a real browser: answers given in the form survive Run All and a kernel restart, count, are saved."""

from __future__ import annotations

import re

import pytest

from browser import chromium, jupyter_lab, open_notebook, wait_for
from ladder.assess import load_answers, load_model

pytestmark = pytest.mark.e2e

ASSESSMENT = "notebooks/assessment.ipynb"
SETUP, QUESTIONS, HEADLINE, SAVE = 4, 14, 16, 34  # cells of the notebook
# Two practices nothing in the sandbox can measure or only infers: the answers decide their scores.
ANSWERED = {"deploy-frequency": "yes", "canary": "yes"}


@pytest.fixture
def lab(tmp_path, local_sandbox, monkeypatch, request):
    """The assessment open in JupyterLab in chromium; LADDER_HOME is tmp_path, so config "sandbox" is this one."""
    monkeypatch.setenv("LADDER_HOME", str(tmp_path))
    with jupyter_lab(tmp_path, wait=False) as server, chromium(server, tmp_path, request) as page:
        yield open_notebook(page, server, ASSESSMENT)


def overall(headline: str) -> float:
    """The overall score a headline states."""
    found = re.search(r"Overall score ([\d.]+) out of 10", headline)
    assert found, headline
    return float(found.group(1))


def test_answers_in_the_form_survive_run_all_and_a_restart_and_change_the_score(lab, tmp_path):
    model = load_model()
    questions = {pid: model.practice(pid).question for pid in ANSWERED}
    lab.run_all()
    before = overall(lab.output(HEADLINE))
    assert {pid: lab.selected(q) for pid, q in questions.items()} == dict.fromkeys(ANSWERED, "not answered")
    for pid, question in questions.items():
        lab.choose(ANSWERED[pid], within=question)
    kept = wait_for("the kept answers file", lambda: list((tmp_path / "runs" / "answers").glob("*.yml")))
    assert len(kept) == 1
    wait_for("both answers kept", lambda: load_answers(kept[0], model).answered() == ANSWERED)
    lab.screenshot(tmp_path / "answered.png", within=questions["canary"])

    lab.run_all()  # in the same kernel
    lab.screenshot(tmp_path / "after-run-all.png", within=questions["canary"])
    assert {pid: lab.selected(q) for pid, q in questions.items()} == ANSWERED
    assert lab.selected(model.practice("ci-tests").question) == "not answered"
    after = overall(lab.output(HEADLINE))
    assert after > before
    assert f"{kept[0]} (kept for this repository)" in lab.output(SETUP)
    assert f"Each answer is kept at once in {kept[0]}" in lab.output(QUESTIONS)
    assert str(kept[0]) in lab.output(SAVE)
    first, second = sorted((tmp_path / "runs").glob("*/answers.yml"))  # every Run All is a run, with its folder
    assert load_answers(first, model).answered() == {} and load_answers(second, model).answered() == ANSWERED
    report = (second.parent / "assessment.html").read_text()
    assert "VBox(children" not in report and questions["canary"] in report  # the answers' table, not the widget

    lab.restart_kernel()
    lab.run_all()
    lab.screenshot(tmp_path / "after-restart.png", within=questions["canary"])
    assert {pid: lab.selected(q) for pid, q in questions.items()} == ANSWERED
    assert overall(lab.output(HEADLINE)) == after
    assert load_answers(kept[0], model).answered() == ANSWERED
    assert load_answers(sorted((tmp_path / "runs").glob("*/answers.yml"))[-1], model).answered() == ANSWERED
