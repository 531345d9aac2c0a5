"""Runbook parameter checks: declared types, coercion of -p strings, unknown names, secrets."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import nbformat
import pytest

from ladder.core.errors import ParameterError, SecretParameterError
from ladder.engine.parameters import check, check_secret, coerce, declared, load_file

PARAMETERS = """from typing import Optional
from pathlib import Path
config = "sandbox"  # ladder.yml to use
dry_run = True  # plan only
attempts: int = 2
ratio = 0.5
labels = ["a", "b"]
limits = {"cpu": 1}
note: Optional[str] = None
folder = Path("x")
run_id = None
"""


@pytest.fixture
def notebook(tmp_path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(PARAMETERS)
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# A runbook"), cell, nbformat.v4.new_code_cell("print(config)")]
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    path = tmp_path / "1-a-runbook.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.mark.local
def test_declared_types_come_from_annotations_and_literal_defaults(notebook):
    params = declared(notebook)
    types = {name: p.type_name for name, p in params.items()}
    assert types == {
        "config": "str",
        "dry_run": "bool",
        "attempts": "int",
        "ratio": "float",
        "labels": "list",
        "limits": "dict",
        "note": "str",
        "folder": "any",
        "run_id": "any",
    }
    assert params["note"].optional and params["run_id"].optional and not params["attempts"].optional
    assert params["config"].help == "ladder.yml to use"
    assert params["labels"].default_value == ["a", "b"]


@pytest.mark.local
@pytest.mark.parametrize(
    "name, text, expected",
    [
        ("dry_run", "false", False),
        ("dry_run", "True", True),
        ("dry_run", "yes", True),
        ("dry_run", "0", False),
        ("attempts", "3", 3),
        ("ratio", "1", 1.0),
        ("ratio", "2.5", 2.5),
        ("labels", "[x, y]", ["x", "y"]),
        ("limits", "{cpu: 2, mem: 3}", {"cpu": 2, "mem": 3}),
        ("note", "123", "123"),
        ("note", "None", None),
        ("note", "hello", "hello"),
        ("folder", "42", 42),
        ("folder", "some/where", "some/where"),
    ],
)
def test_command_line_strings_are_read_as_the_declared_type(notebook, name, text, expected):
    assert check(notebook, {name: text}, strings=True) == {name: expected}


@pytest.mark.local
@pytest.mark.parametrize(
    "name, text, expected_type",
    [
        ("attempts", "three", "int"),
        ("ratio", "fast", "float"),
        ("dry_run", "maybe", "bool"),
        ("labels", "just-a-word", "list"),
        ("limits", "[1, 2]", "dict"),
    ],
)
def test_a_string_of_the_wrong_type_names_parameter_type_and_value(notebook, name, text, expected_type):
    with pytest.raises(ParameterError) as err:
        check(notebook, {name: text}, strings=True, source="-p")
    message = str(err.value)
    assert f"'{name}'" in message and f"expects {expected_type}" in message and repr(text) in message
    assert "-p" in message


@pytest.mark.local
@pytest.mark.parametrize(
    "name, value",
    [
        ("attempts", "3"),
        ("attempts", True),
        ("attempts", 2.5),
        ("dry_run", "false"),
        ("labels", "a"),
        ("note", 3),
        ("ratio", None),
    ],
)
def test_typed_values_must_already_have_the_declared_type(notebook, name, value):
    with pytest.raises(ParameterError, match=f"'{name}'.*expects"):
        check(notebook, {name: value})


@pytest.mark.local
def test_typed_values_of_the_right_type_pass(notebook):
    values = {"attempts": 4, "ratio": 1, "dry_run": False, "labels": [], "note": None, "folder": 7}
    assert check(notebook, values) == values


@pytest.mark.local
def test_an_unknown_name_lists_the_declared_ones(notebook):
    with pytest.raises(ParameterError) as err:
        check(notebook, {"atempts": "3"}, strings=True)
    message = str(err.value)
    assert "unknown parameter 'atempts'" in message and "1-a-runbook.ipynb" in message
    assert "attempts, config, dry_run" in message


@pytest.mark.local
@pytest.mark.parametrize("name", ["run_id", "prod_confirmed", "config"])
def test_runner_parameters_are_refused_with_the_option_to_use(notebook, name):
    with pytest.raises(ParameterError, match=f"'{name}' cannot be passed"):
        check(notebook, {name: "x"}, strings=True)


@pytest.mark.local
@pytest.mark.parametrize(
    "name",
    [
        "password",
        "db_password",
        "DB_PASSWD",
        "api_token",
        "GITHUB_TOKEN",
        "client_secret",
        "api_key",
        "private_key",
        "aws_access_key",
    ],
)
def test_a_secret_looking_name_is_refused(notebook, name):
    with pytest.raises(SecretParameterError) as err:
        check(notebook, {name: "x"}, strings=True)
    assert name in str(err.value) and "environment variable" in str(err.value) and "key file" in str(err.value)


@pytest.mark.unit
@pytest.mark.parametrize("name", ["key_file", "token_env", "identity_file", "password_file", "secret_name"])
def test_names_that_say_where_a_secret_lives_are_allowed(name):
    check_secret(name, "~/.ssh/id_ed25519")


@pytest.mark.local
@pytest.mark.parametrize(
    "value, what",
    [
        ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk=\n", "private key"),
        ("AKIAIOSFODNN7EXAMPLE", "AWS"),
        ("ghp_" + "a1B2c3D4e5" * 4, "GitHub"),
        ("https://deploy:hunter22@git.example.com/app.git", "password"),
        (["ok", {"nested": "ghp_" + "Z" * 36}], "GitHub"),
    ],
)
def test_a_secret_looking_value_is_refused_even_nested(notebook, value, what):
    with pytest.raises(SecretParameterError) as err:
        check(notebook, {"labels": value} if isinstance(value, list) else {"note": value})
    assert what in str(err.value) and "environment variable" in str(err.value)


@pytest.mark.local
def test_the_value_of_a_secret_environment_variable_is_refused(notebook, monkeypatch):
    monkeypatch.setenv("DEPLOY_TOKEN", "s3cr3t-value-123")
    with pytest.raises(SecretParameterError, match="secret environment variable"):
        check(notebook, {"note": "s3cr3t-value-123"}, strings=True)


@pytest.mark.unit
def test_ordinary_values_pass_the_secret_check():
    check_secret("repo_url", "https://git.example.com/app.git")
    check_secret("ref", "v1.2.3")


@pytest.mark.local
def test_params_file_must_be_a_mapping(tmp_path):
    good = tmp_path / "params.yml"
    good.write_text("attempts: 3\nlabels: [x]\n")
    assert load_file(good) == {"attempts": 3, "labels": ["x"]}
    bad = tmp_path / "bad.yml"
    bad.write_text("- a\n- b\n")
    with pytest.raises(ParameterError, match="bad.yml: must be a mapping"):
        load_file(bad)
    with pytest.raises(ParameterError, match="not found"):
        load_file(tmp_path / "missing.yml")
    latin = tmp_path / "latin.yml"
    latin.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ParameterError, match="not UTF-8"):
        load_file(latin)
    deep = tmp_path / "deep.yml"
    deep.write_text("a: " + "[" * 20000 + "]" * 20000 + "\n")
    with pytest.raises(ParameterError, match="nested too deeply"):
        load_file(deep)


@pytest.mark.local
def test_coerce_reports_where_the_value_came_from(notebook):
    param = declared(notebook)["attempts"]
    with pytest.raises(ParameterError, match="in params.yml"):
        coerce(param, "many", "params.yml")


@pytest.mark.unit
@pytest.mark.parametrize("notebook", sorted(Path(__file__).parents[1].glob("runbooks/*.ipynb")), ids=lambda p: p.stem)
def test_every_assignment_of_a_runbooks_parameters_cell_is_a_parameter(notebook):
    # papermill's inspection skips a line it cannot read (an annotation like `float | None`): `-p` would refuse it.
    cell = next(c for c in json.loads(notebook.read_text())["cells"] if "parameters" in c["metadata"].get("tags", []))
    assigned = {
        t.id
        for node in ast.parse("".join(cell["source"])).body
        for t in (node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)])
        if isinstance(t, ast.Name)
    }
    assert assigned == set(declared(notebook))
