"""The assessment notebook's steps, called the way its cells call them, on small real repositories."""

from __future__ import annotations

import json

import pytest
import yaml

from gitrepo import GitRepo
from ladder.assess import NotARepository, journal_history, save_answers
from ladder.assess import notebook as steps
from ladder.assess.questionnaire import Answers
from ladder.core.errors import AnswersError, ConfigError, LadderError


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
    return steps.score(setup, evidence, steps.dora(setup), answers), answers


def test_inputs_are_checked_before_anything_runs(repo, tmp_path, local_sandbox):
    (tmp_path / "plain").mkdir()
    with pytest.raises(NotARepository, match="plain: not a git repository"):
        steps.check_inputs(tmp_path / "plain")
    with pytest.raises(LadderError, match="nothing to assess: pass a repository"):
        steps.check_inputs("", "")
    bad = tmp_path / "answers.yml"
    bad.write_text("answers:\n  tests-present: often\n")
    with pytest.raises(AnswersError, match="answers.tests-present: answer 'often' is not one of"):
        steps.check_inputs(repo.path, "", bad)
    data = yaml.safe_load(local_sandbox.config_path.read_text())
    data["app"]["repo"] = "https://git.example.com/shop.git"
    remote = local_sandbox.dir / "remote.yml"
    remote.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=r"app.repo: 'https://git.example.com/shop.git' is a git URL; clone it"):
        steps.check_inputs("", remote)
    inputs = steps.check_inputs("", local_sandbox.config_path)  # the config's app repo
    assert inputs.repo.path == local_sandbox.repo.resolve() and inputs.config.path == local_sandbox.config_path


def test_where_results_go(repo, tmp_path):
    by_runner = steps.setup(str(repo.path), run_dir=str(tmp_path / "runs" / "r1"), run_id="r1")
    assert by_runner.runs_dir == tmp_path / "runs" and by_runner.journal == tmp_path / "runs" / "journal.sqlite"
    assert not by_runner.interactive
    by_hand = steps.setup(str(repo.path), out_dir=str(tmp_path / "mine"))
    assert by_hand.run_dir.parent == tmp_path / "mine" and by_hand.interactive
    nowhere = steps.setup(str(repo.path))
    assert nowhere.run_dir is None and nowhere.runs_dir is None and nowhere.journal is None
    assert "nothing is saved" in nowhere._repr_html_()
    assert not (tmp_path / "runs").exists() and not (tmp_path / "mine").exists()  # setup writes nothing


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


def test_headless_answers_come_from_the_file(repo, tmp_path):
    path = tmp_path / "answers.yml"
    path.write_text("answers:\n  canary: yes\n")
    setup = steps.setup(str(repo.path), answers=str(path), run_id="r1")
    answers = steps.questionnaire(setup)
    assert answers.form is None and answers.source == path
    assert answers.answers().get("canary") == "yes" and answers.answers().get("ci-tests") is None
    assert steps.questionnaire(steps.setup(str(repo.path), run_id="r1")).answers().answered() == {}


def test_in_jupyterlab_the_form_is_prefilled_from_the_last_saved_answers(repo, tmp_path):
    runs = tmp_path / "runs"
    save_answers(Answers({"canary": "no"}), runs / "a" / "answers.yml")
    setup = steps.setup(str(repo.path), out_dir=str(runs))
    questions = steps.questionnaire(setup)
    assert questions.form is not None and questions.source == runs / "a" / "answers.yml"
    assert questions.form.inputs["canary"].value == "no"
    questions.form.set({"ci-tests": "partly"})  # a click in the form
    assert questions.answers().answered() == {"canary": "no", "ci-tests": "partly"}
    assert steps.previous_answers(tmp_path / "none") is None


def test_save_keeps_the_assessment_and_the_next_one_sees_it(repo, tmp_path):
    runs = tmp_path / "runs"
    first_setup = steps.setup(str(repo.path), run_dir=str(runs / "r1"), run_id="r1")
    first, answers = run_steps(first_setup)
    assert steps.history(first_setup, first) == []
    saved = steps.save(first_setup, first, answers)
    assert saved.assessment == runs / "r1" / "assessment.json" and saved.journal_id == "assessment-r1"
    assert json.loads(saved.assessment.read_text())["level"] == first.level
    assert "# Do new releases get a share of traffic first" in saved.answers.read_text()
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


def test_without_a_run_folder_nothing_is_saved(repo, tmp_path):
    setup = steps.setup(str(repo.path), run_id="r1")
    a, answers = run_steps(setup)
    saved = steps.save(setup, a, answers)
    assert saved.assessment is None and "Not saved" in saved._repr_html_()
    assert steps.result(setup, a, [], saved)["figures"]["assessment.json"] == "not saved"


def test_the_notebook_is_found_in_the_project():
    assert steps.notebook_path().name == "assessment.ipynb"
