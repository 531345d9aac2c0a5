"""The assessment's steps, called the way the notebook's cells call them, and assess(), which runs them all."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from gitrepo import GitRepo
from ladder.assess import (
    assess,
    changes_since,
    journal_history,
    record_assessment,
    save_answers,
    steps,
    write_assessment,
)
from ladder.assess.questionnaire import Answers, load_answers
from ladder.core.config import load_config
from ladder.core.errors import AnswersError
from ladder.engine import runner
from ladder.engine.journal import journal_path


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    """This test's own LADDER_HOME: answers kept in the default runs home stay with the test that kept them."""
    monkeypatch.setenv("LADDER_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def repo(tmp_path):
    r = GitRepo(tmp_path / "shop")
    r.commit(
        {"app.py": "ROUTES = [('GET', '/items', None)]\n", "tests/test_app.py": "def test(): pass\n"},
        "start",
        days_ago=20,
    )
    r.commit({"app.py": "ROUTES = [('GET', '/v1/items', None)]\n"}, "version the routes", days_ago=2)
    return r


def run_steps(setup):
    """The notebook's cells in order, up to the score."""
    evidence = steps.repo_evidence(setup) + steps.host_evidence(setup)
    answers = steps.questionnaire(setup)
    return steps.score(setup, evidence, steps.dora(setup), answers, steps.project_kind(setup)), answers


@pytest.mark.local
def test_where_results_go(repo, tmp_path):
    by_runner = steps.setup(str(repo.path), run_dir=str(tmp_path / "runs" / "r1"), run_id="r1")
    assert by_runner.runs_dir == tmp_path / "runs" and by_runner.journal == tmp_path / "runs" / "journal.sqlite"
    assert not by_runner.interactive
    by_hand = steps.setup(str(repo.path), out_dir=str(tmp_path / "mine"))
    assert by_hand.run_dir.parent == tmp_path / "mine" and by_hand.interactive
    assert (
        by_runner.kept.parent == tmp_path / "runs" / "answers" and by_hand.kept.parent == tmp_path / "mine" / "answers"
    )
    nowhere = steps.setup(str(repo.path))
    assert nowhere.run_dir is None and nowhere.runs_dir is None and nowhere.journal is None
    assert nowhere.kept.parent == tmp_path / "home" / "runs" / "answers"  # answers are kept in the runs home
    assert f"the answers only, to {nowhere.kept}" in nowhere._repr_html_()
    assert not any(p.exists() for p in (tmp_path / "runs", tmp_path / "mine", tmp_path / "home"))  # writes nothing


@pytest.mark.local
def test_evidence_steps_summarise_what_they_found(repo):
    setup = steps.setup(str(repo.path), run_id="r1")
    evidence = steps.repo_evidence(setup)
    assert {c.source for c in evidence} == {"repo"} and len(evidence) > 10
    assert sum(evidence.counts().values()) == len(evidence)
    assert evidence.summary().startswith(f"Repository: {len(evidence)} checks (")
    assert "shop at " in evidence.summary() and "on main" in evidence.summary()
    hosts = steps.host_evidence(setup)
    assert list(hosts) == [] and "No ladder.yml given" in repr(hosts)
    both = evidence + hosts
    assert isinstance(both, steps.Evidence) and len(both) == len(evidence)


@pytest.mark.local
def test_headless_answers_come_from_the_file(repo, tmp_path):
    path = tmp_path / "answers.yml"
    path.write_text("answers:\n  canary: yes\n")
    setup = steps.setup(str(repo.path), answers=str(path), run_id="r1")
    answers = steps.questionnaire(setup)
    assert answers.form is None and answers.where == f"{path} (given)"
    assert answers.answers().get("canary") == "yes" and answers.answers().get("ci-tests") is None
    assert steps.questionnaire(steps.setup(str(repo.path), run_id="r1")).answers().answered() == {}


@pytest.mark.local
def test_answers_given_in_the_form_are_kept_and_every_later_run_starts_from_them(repo, tmp_path):
    first = steps.setup(str(repo.path))  # JupyterLab: no run folder, answers kept in the runs home
    form = steps.questionnaire(first).form
    assert form is not None and first.source is None and not first.kept.exists()
    assert first.answers_text() == f"none yet: the form keeps them in {first.kept}"
    form.set({"canary": "no"})  # a click in the form
    form.inputs["ci-tests"].value = "partly"  # another, the way the widget sets it
    assert load_answers(first.kept, None).answered() == {"canary": "no", "ci-tests": "partly"}

    again = steps.setup(str(repo.path))  # Run All in the same kernel, or after a restart
    questions = steps.questionnaire(again)
    assert again.kept == first.kept and again.source == first.kept
    assert questions.form.inputs["canary"].value == "no" and questions.form.inputs["ci-tests"].value == "partly"
    assert questions.answers().answered() == {"canary": "no", "ci-tests": "partly"}
    assert again.answers_text() == f"{first.kept} (kept for this repository)"

    headless = steps.setup(str(repo.path), run_id="r1")  # papermill without a run folder reads them too
    assert steps.questionnaire(headless).answers().answered() == {"canary": "no", "ci-tests": "partly"}
    assert headless.answers_text() == f"{first.kept} (kept for this repository)"

    given = save_answers(Answers({"canary": "yes"}), tmp_path / "given.yml")
    over = steps.setup(str(repo.path), answers=str(given), run_id="r2")  # the answers parameter wins
    assert steps.questionnaire(over).answers().answered() == {"canary": "yes"}
    assert over.answers_text() == f"{given} (given)"

    other = GitRepo(tmp_path / "other")
    other.commit({"a.py": "x = 1\n"}, "start")
    theirs = steps.setup(str(other.path))
    assert theirs.kept != first.kept and steps.questionnaire(theirs).answers().answered() == {}


@pytest.mark.local
def test_kept_answers_with_a_mistake_stop_the_setup_naming_the_file(repo):
    kept = steps.setup(str(repo.path)).kept
    steps.questionnaire(steps.setup(str(repo.path))).form.set({"canary": "no"})
    kept.write_text(kept.read_text().replace("canary: 'no'", "canary: maybe"))
    with pytest.raises(AnswersError) as err:
        steps.setup(str(repo.path))
    assert str(kept) in str(err.value) and "answers.canary" in str(err.value)


@pytest.mark.local
def test_save_keeps_the_assessment_and_the_next_one_sees_it(repo, tmp_path):
    runs = tmp_path / "runs"
    first_setup = steps.setup(str(repo.path), run_dir=str(runs / "r1"), run_id="r1")
    first, answers = run_steps(first_setup)
    assert steps.history(first_setup, first) == []
    saved = steps.save(first_setup, first, answers)
    assert saved.assessment == runs / "r1" / "assessment.json" and saved.journal_id == "assessment-r1"
    assert json.loads(saved.assessment.read_text())["level"] == first.level
    assert "# Do new releases get a share of traffic first" in saved.answers.read_text()
    assert saved.kept == runs / "answers" / saved.kept.name and saved.answers.read_text() == saved.kept.read_text()
    assert [d["generated"] for d in journal_history(runs / "journal.sqlite")] == [first.to_dict()["generated"]]

    second_setup = steps.setup(str(repo.path), run_dir=str(runs / "r2"), run_id="r2")
    second, _ = run_steps(second_setup)
    before = steps.history(second_setup, second)
    assert [d["generated"] for d in before] == [first.to_dict()["generated"]]
    record = steps.result(second_setup, second, before, steps.save(second_setup, second, answers))
    assert set(record) == {"figures", "assessment"}
    assert record["figures"]["assessment.json"] == str(runs / "r2" / "assessment.json")
    assert record["assessment"]["assessments_before"] == 1 and record["assessment"]["since_last"] == []

    other = GitRepo(tmp_path / "other")
    other.commit({"a.py": "x = 1\n"}, "start")
    other_setup = steps.setup(str(other.path), run_dir=str(runs / "r3"), run_id="r3")
    assert steps.history(other_setup, run_steps(other_setup)[0]) == []  # another repository's history


@pytest.mark.local
def test_another_repository_in_a_folder_of_the_same_name_has_its_own_history(repo, tmp_path):
    runs = tmp_path / "runs"
    first = steps.setup(str(repo.path), run_dir=str(runs / "r1"), run_id="r1")
    steps.save(first, run_steps(first)[0], steps.questionnaire(first))
    stranger = GitRepo(tmp_path / "elsewhere" / "shop")  # also called "shop", another history
    stranger.commit({"main.py": "print(1)\n"}, "start")
    mine = GitRepo(tmp_path / "clone" / "shop")
    mine.git("pull", "-q", str(repo.path), "main")  # a second clone of the first repository
    for clone, expected in ((stranger, 0), (mine, 1)):
        s = steps.setup(str(clone.path), run_dir=str(runs / "rx"), run_id="rx")
        assert len(steps.history(s, run_steps(s)[0])) == expected, clone.path


@pytest.mark.local
def test_without_a_run_folder_only_the_answers_are_kept(repo, home):
    setup = steps.setup(str(repo.path), run_id="r1")
    a, answers = run_steps(setup)
    saved = steps.save(setup, a, answers)
    assert saved.assessment is None and "The assessment is not saved: no run folder" in saved._repr_html_()
    assert saved.kept == setup.kept and saved.kept.parent == home / "runs" / "answers"
    assert "# Do new releases get a share of traffic first" in saved.kept.read_text()  # every question, to fill in
    figures = steps.result(setup, a, [], saved)["figures"]
    assert figures["assessment.json"] == "not saved"
    assert figures["answers"] == f"none: every question not answered (fill in {setup.kept} after this run)"
    assert [p.parent.name for p in home.rglob("*") if p.is_file()] == ["answers"]  # nothing else written


# ---- assess(): every step at once ------------------------------------------------------------------


@pytest.mark.local
def test_the_journal_read_is_the_runs_folders_else_the_configs(local_sandbox, tmp_path):
    config = load_config(local_sandbox.config_path, overrides={"runs": str(tmp_path / "config-runs")})
    assert steps.find_journal(tmp_path / "runs", config) == journal_path(tmp_path / "runs")
    assert steps.find_journal(None, config) == journal_path(tmp_path / "config-runs")
    assert steps.find_journal(None, None) is None
    setup = steps.setup(local_sandbox.repo, config, run_id="r1")
    assert setup.journal == journal_path(tmp_path / "config-runs") and setup.journal_file() is None
    given = steps.setup(local_sandbox.repo, config, journal=tmp_path / "other.sqlite", run_id="r1")
    assert given.journal == tmp_path / "other.sqlite"


@pytest.mark.local
def test_assess_is_the_notebooks_steps_in_order(local_sandbox, tmp_path):
    config = load_config(local_sandbox.config_path)
    answers = save_answers(Answers({"canary": "no", "dev-setup": "yes"}), tmp_path / "answers.yml")
    now = time.time()
    by_call = assess(local_sandbox.repo, config=config, answers=answers, now=now)
    setup = steps.setup(local_sandbox.repo, config, answers, run_id="r1", now=now)
    by_steps, _ = run_steps(setup)
    assert by_call.to_dict() == by_steps.to_dict()
    given = assess(local_sandbox.repo, config=config, answers=Answers({"canary": "no", "dev-setup": "yes"}), now=now)
    assert given.to_dict() == by_call.to_dict()


@pytest.mark.local
def test_sandbox_at_start(local_sandbox, tmp_path):
    config = load_config(local_sandbox.config_path)
    a = assess(local_sandbox.repo, config=config)
    assert a.level == "0"
    first = a.next_steps[0]
    assert first.rung == "1" and first.runbook == "runbooks/1-separate-dev-and-prod.ipynb"
    checks = {c.id: c for c in a.checks}
    assert "answered 200" in checks["app-health"].reason  # gunicorn answers /health over HTTP ...
    assert a.practice("smoke-test").score is None  # ... which is not a smoke test: nothing here is green by accident
    assert checks["prod-unmodified"].score == 0  # the edit made in place on prod
    assert checks["prod-runs-release"].score == 0
    assert checks["separate-hosts"].score == 0  # the dev host holds no copy of the app yet
    assert a.practice("prod-unmodified").label == "measured"
    doc = json.loads(write_assessment(a, tmp_path / "assessment.json").read_text())
    assert doc["repo"]["trunk"] == "master" and doc["level"] == "0"
    env = (local_sandbox.dir / "hosts" / "prod1" / "app.env").read_text()
    secret = next(line.split("=", 1)[1] for line in env.splitlines() if line.startswith("APP_SECRET_KEY="))
    assert len(secret) >= 16 and secret not in json.dumps(doc)


@pytest.mark.e2e
def test_sandbox_before_and_after_rung_one(local_sandbox, tmp_path):
    runbook = Path(__file__).resolve().parent.parent / "runbooks" / "1-separate-dev-and-prod.ipynb"
    runs = tmp_path / "runs"
    config = load_config(local_sandbox.config_path, overrides={"runs": str(runs)})
    before = assess(local_sandbox.repo, config=config)
    record_assessment(before, journal_path(runs))
    outcome = runner.run(runbook, config=local_sandbox.config_path, apply=True, out_dir=runs)
    assert outcome.status == "ok", outcome.error
    after = assess(local_sandbox.repo, config=config)  # finds the journal in the config's runs folder
    record_assessment(after, journal_path(runs))
    # The runbook's route-versions step versions the routes, so rung 1+ is met too; rung 2 comes next.
    assert (before.level, after.level) == ("0", "1+")
    assert after.rung("1").met and after.rung("1+").met and after.next_steps[0].rung == "2"
    assert after.practice("one-step-deploy").score == 10  # the deploy script and the journal's deploy
    assert {c.id: c for c in after.checks}["deploys-recorded"].score == 10
    history = journal_history(journal_path(runs))
    assert [d["level"] for d in history] == ["0", "1+"]
    assert changes_since(history[0], history[1])[0]["note"] == "level 0 -> 1+"
