"""Questionnaire: answers files, explicit 'not answered', and the pre-filled ipywidgets form."""

from __future__ import annotations

import pytest

from ladder.assess import Answers, answer_form, load_answers, load_model, save_answers
from ladder.assess.questionnaire import NOT_ANSWERED
from ladder.core.errors import AnswersError, ConfigError


@pytest.fixture(scope="module")
def model():
    return load_model()


@pytest.mark.local
def test_answers_file_values_and_not_answered(model, tmp_path):
    path = tmp_path / "answers.yml"
    path.write_text(
        "answers:\n  dev-setup: yes\n  canary: no\n  feature-flags: partly\n"
        "  ci-tests: null\n  observability: not answered\n"
    )
    answers = load_answers(path, model)
    assert answers.get("dev-setup") == "yes" and answers.get("canary") == "no"
    assert answers.get("feature-flags") == "partly"
    assert answers.get("ci-tests") is None and answers.get("observability") is None
    # A question the file leaves out is "not answered", never a default yes.
    assert answers.get("packaging") is None and "packaging" in answers.values
    assert set(answers.values) == {p.id for p in model.practices}
    assert answers.answered() == {"dev-setup": "yes", "canary": "no", "feature-flags": "partly"}


@pytest.mark.unit
def test_no_answers_file_means_nothing_answered(model):
    assert load_answers(None, model).answered() == {}


@pytest.mark.local
@pytest.mark.parametrize(
    "text, key, words",
    [
        ("answers:\n  dev-stup: yes\n", "answers.dev-stup", "unknown practice"),
        ("answers:\n  dev-setup: maybe\n", "answers.dev-setup", "is not one of yes, partly, no"),
        ("answers: [yes, no]\n", "answers", "must map practice ids"),
        ("- yes\n", None, "top level must be a mapping"),
        ("answers: {\n", None, "not valid YAML"),
        ("anwsers:\n  dev-setup: yes\n", None, "unknown key 'anwsers'; allowed: answers, notes, repository"),
        ("notes: {dev-setup: [a]}\n", "notes.dev-setup", "must be a string"),
    ],
)
def test_bad_answers_files_name_file_key_and_fix(model, tmp_path, text, key, words):
    path = tmp_path / "answers.yml"
    path.write_text(text)
    with pytest.raises(AnswersError) as err:
        load_answers(path, model)
    assert isinstance(err.value, ConfigError) and err.value.key == key
    assert words in str(err.value) and str(path) in str(err.value)


@pytest.mark.local
def test_missing_answers_file(model, tmp_path):
    with pytest.raises(AnswersError, match="file not found"):
        load_answers(tmp_path / "none.yml", model)


@pytest.mark.local
def test_save_and_load_round_trip(model, tmp_path):
    answers = Answers({"dev-setup": "yes", "canary": None, "ci-tests": "partly"}, {"ci-tests": "only on main"})
    path = save_answers(answers, tmp_path / "out" / "answers.yml", model)
    text = path.read_text()
    assert f"# {model.practice('dev-setup').question}" in text and "canary: null" in text
    again = load_answers(path, model)
    assert again.answered() == {"dev-setup": "yes", "ci-tests": "partly"}
    assert again.notes == {"ci-tests": "only on main"}


@pytest.mark.local
def test_form_is_prefilled_from_a_previous_file(model, tmp_path):
    path = tmp_path / "answers.yml"
    save_answers(Answers({"dev-setup": "yes", "canary": "no"}), path, model)
    form = answer_form(model, path)
    assert form.inputs["dev-setup"].value == "yes" and form.inputs["canary"].value == "no"
    assert form.inputs["packaging"].value == NOT_ANSWERED
    assert list(form.inputs["packaging"].options) == [NOT_ANSWERED, "yes", "partly", "no"]
    form.set({"packaging": "partly", "dev-setup": None})
    assert form.answers().answered() == {"canary": "no", "packaging": "partly"}
    form.save(path)
    assert load_answers(path, model).answered() == {"canary": "no", "packaging": "partly"}


@pytest.mark.local
def test_form_without_a_previous_file_starts_unanswered(model, tmp_path):
    form = answer_form(model, tmp_path / "not-there.yml")
    assert all(box.value == NOT_ANSWERED for box in form.inputs.values())
    assert len(form.inputs) == len(model.practices)
    assert form.answers().answered() == {}


@pytest.mark.local
def test_the_form_hands_every_change_to_on_change(model):
    seen = []
    form = answer_form(model, Answers({"canary": "no"}), on_change=lambda a: seen.append(a.answered()))
    assert seen == []  # pre-filling is not a change
    form.inputs["ci-tests"].value = "yes"  # what a click in JupyterLab does to the widget
    form.set({"canary": None})
    assert seen == [{"canary": "no", "ci-tests": "yes"}, {"ci-tests": "yes"}]
