"""Redaction: which values are secret, and scrubbing them from text and whole notebooks."""

from __future__ import annotations

import base64
import json
import stat

import nbformat
import pytest

from ladder.engine import redact, state
from ladder.engine.redact import MARK, is_secret_name, redact_notebook, redact_text, redact_value, secret_values

SECRET = 'p@ss"w0rd<&>/x'
B64_SECRET = "QUJDREVG"  # base64 of b"ABCDEF"


@pytest.mark.unit
@pytest.mark.parametrize(
    "name",
    [
        "DB_PASSWORD",
        "GITHUB_TOKEN",
        "AWS_SECRET_ACCESS_KEY",
        "DEPLOY_KEY",
        "MY_PRIVATE_THING",
        "API_KEY",
        "apikey",
        "SMTP_PASSWD",
        "GPG_PASSPHRASE",
        "REGISTRY_CREDENTIALS",
    ],
)
def test_secret_names(name):
    assert is_secret_name(name)


@pytest.mark.unit
@pytest.mark.parametrize("name", ["HOME", "PATH", "SSH_AUTH_SOCK", "DEPLOY_KEY_FILE", "TOKEN_PATH", "KEYBOARD"])
def test_names_that_are_not_secrets(name):
    assert not is_secret_name(name)


@pytest.mark.unit
def test_extra_secret_names_come_from_ladder_secret_env(monkeypatch):
    monkeypatch.setenv("LADDER_SECRET_ENV", "DEPLOY_CRED_X, OTHER")
    assert is_secret_name("DEPLOY_CRED_X") and is_secret_name("OTHER")


@pytest.mark.unit
def test_secret_values_skip_short_and_boolean_values():
    env = {"A_TOKEN": "abc", "B_TOKEN": "true", "C_TOKEN": "long-enough", "HOME": "/home/someone"}
    assert secret_values(env) >= {"long-enough"}
    assert not {"abc", "true", "/home/someone"} & secret_values(env)


@pytest.fixture
def fresh_run(monkeypatch):
    """No run in progress, and no runner to hand values to (as in JupyterLab)."""
    monkeypatch.delenv(redact.HANDOFF_VAR, raising=False)
    state.end()
    yield
    state.end()


@pytest.mark.unit
def test_registered_values_are_secret(fresh_run):
    redact.register("registered-value-1")
    redact.register("ab")  # too short to redact safely
    assert "registered-value-1" in secret_values({})
    assert "ab" not in secret_values({})
    assert redact_text("key registered-value-1") == f"key {MARK}"  # redacted in-process, as in JupyterLab


@pytest.mark.unit
def test_registered_values_belong_to_their_run(fresh_run):
    redact.register("from-the-last-run")
    state.end()  # record() ends a run
    redact.register("from-this-run")
    assert "from-this-run" in secret_values({}) and "from-the-last-run" not in secret_values({})


@pytest.mark.local
def test_registered_values_are_handed_to_the_runner_through_a_private_file(fresh_run, tmp_path, monkeypatch):
    handoff = tmp_path / redact.HANDOFF_FILE
    monkeypatch.setenv(redact.HANDOFF_VAR, str(handoff))  # what the runner sets for its kernel
    redact.register("line one\nline two")
    redact.register("line one\nline two")  # once is enough
    redact.register("second-value")
    assert stat.S_IMODE(handoff.stat().st_mode) == 0o600
    assert len(handoff.read_text().splitlines()) == 2
    with handoff.open("a") as f:
        f.write('"cut sh')  # a kernel killed mid-write
    assert redact.take_registered(handoff) == {"line one\nline two", "second-value"}
    assert not handoff.exists()
    assert redact.take_registered(handoff) == set()


@pytest.mark.unit
def test_redact_text_replaces_every_encoded_form():
    text = "\n".join(
        [
            f"plain {SECRET}",
            "json " + json.dumps({"v": SECRET}),
            f"repr {SECRET!r}",
            "html p@ss&quot;w0rd&lt;&amp;&gt;/x",
            "url p%40ss%22w0rd%3C%26%3E%2Fx",
        ]
    )
    out = redact_text(text, {SECRET})
    assert out.count(MARK) == 5
    assert "w0rd" not in out


@pytest.mark.unit
def test_redact_text_uses_the_environment_by_default(monkeypatch):
    monkeypatch.setenv("SERVICE_TOKEN", "tok-123456")
    assert redact_text("Authorization: tok-123456") == f"Authorization: {MARK}"


@pytest.mark.unit
def test_longest_secret_wins_when_one_contains_another():
    assert redact_text("abcd-efgh", {"abcd", "abcd-efgh"}) == MARK


@pytest.mark.unit
def test_redact_value_walks_json():
    value = {"params": {"url": f"x{SECRET}y", "n": 3, "list": [SECRET, True]}}
    assert redact_value(value, {SECRET}) == {"params": {"url": f"x{MARK}y", "n": 3, "list": [MARK, True]}}


def notebook_with_secret_everywhere() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(f"token = {SECRET!r}")
    params.metadata["tags"] = ["injected-parameters"]
    png = base64.b64encode(b"ABCDEF" + SECRET.encode()).decode()  # starts with B64_SECRET
    code = nbformat.v4.new_code_cell(
        f"print('{SECRET}')",
        outputs=[
            nbformat.v4.new_output("stream", name="stdout", text=f"{SECRET}\n"),
            nbformat.v4.new_output(
                "display_data",
                data={
                    "text/plain": f"'{SECRET}'",
                    "text/html": f"<b>{SECRET}</b>",
                    "application/json": {"k": SECRET},
                    "image/png": png,
                },
            ),
            nbformat.v4.new_output("error", ename="ValueError", evalue=SECRET, traceback=[f"line {SECRET}"]),
        ],
    )
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {SECRET}"), params, code]
    nb.metadata["papermill"] = {"parameters": {"token": SECRET}, "default_parameters": {}}
    return nb


@pytest.mark.unit
def test_redact_notebook_cleans_sources_outputs_and_papermill_metadata():
    nb = notebook_with_secret_everywhere()
    nb.cells[0].source += f" {B64_SECRET}"
    clean = redact_notebook(nb, {SECRET, B64_SECRET})
    text = json.dumps(clean)
    assert "w0rd" not in text
    assert clean.metadata.papermill.parameters.token == MARK
    assert clean.cells[1].source == f"token = '{MARK}'"
    assert clean.cells[2].outputs[0].text == f"{MARK}\n"
    assert clean.cells[2].outputs[2].evalue == MARK
    assert B64_SECRET not in clean.cells[0].source
    # Base64 payloads are left whole: replacing inside them would corrupt the image.
    assert clean.cells[2].outputs[1].data["image/png"].startswith(B64_SECRET)
    assert clean.cells[2].outputs[1].data["image/png"] == nb.cells[2].outputs[1].data["image/png"]
    nbformat.validate(clean)


@pytest.mark.unit
def test_redact_notebook_returns_a_copy():
    nb = notebook_with_secret_everywhere()
    redact_notebook(nb, {SECRET})
    assert SECRET in nb.cells[2].outputs[0].text


@pytest.mark.unit
def test_nothing_to_redact_leaves_the_notebook_equal():
    nb = notebook_with_secret_everywhere()
    assert redact_notebook(nb, set()) == nb
