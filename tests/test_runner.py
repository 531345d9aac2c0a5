"""The runner, end to end with real papermill kernels on local hosts; and its CLI commands."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from ladder.core.errors import ConfigError, ParameterError, RunbookError, SecretParameterError
from ladder.engine import journal, kernel, redact, runner

pytestmark = pytest.mark.e2e

BOOKS = Path(__file__).parent / "notebooks"
SECRET = "tok-Zq8-secret-4711"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A ladder.yml with two prod hosts that are folders in tmp_path; runs go to tmp_path/runs."""
    for name in ("prod1", "prod2"):
        (tmp_path / "hosts" / name).mkdir(parents=True)
    (tmp_path / "ladder.yml").write_text(
        "app: {name: shop, repo: repo}\n"
        "environments:\n"
        "  prod:\n"
        "    hosts:\n"
        "      - {name: prod1, address: local, base: hosts/prod1}\n"
        "      - {name: prod2, address: local, base: hosts/prod2}\n"
        "runs: runs\n"
    )
    return tmp_path


def run(site: Path, book: str, **kwargs) -> runner.RunOutcome:
    return runner.run(BOOKS / book, config=site / "ladder.yml", **kwargs)


def bad_config(site: Path) -> dict:
    (site / "broken.yml").write_text("app: {name: shop}\nenvironments: {prod: {hosts: []}}\n")
    return {"config": site / "broken.yml"}


@pytest.mark.parametrize(
    "runbook, kwargs, error, words",
    [
        ("9-no-such-book", {}, RunbookError, ["unknown runbook", "1-record-changes", "2-fail-on-host"]),
        ("1", {"text_params": {"atempts": "3"}}, ParameterError, ["unknown parameter 'atempts'", "attempts"]),
        ("1", {"text_params": {"attempts": "three"}}, ParameterError, ["'attempts'", "expects int", "'three'"]),
        ("1", {"params": {"dry_run": "no"}}, ParameterError, ["'dry_run'", "expects bool"]),
        ("1", {"text_params": {"api_token": "x"}}, SecretParameterError, ["'api_token'", "environment variable"]),
        ("1", {"text_params": {"folder": "AKIAIOSFODNN7EXAMPLE"}}, SecretParameterError, ["AWS", "key file"]),
        ("1", {"config": "missing.yml"}, ConfigError, ["missing.yml", "not found"]),
        ("1", "bad-config", ConfigError, ["broken.yml", "app.repo", "required"]),
    ],
)
def test_bad_input_is_one_clear_error_and_nothing_runs(site, monkeypatch, runbook, kwargs, error, words):
    monkeypatch.chdir(site)
    kwargs = bad_config(site) if kwargs == "bad-config" else dict(kwargs)
    kwargs.setdefault("config", site / "ladder.yml")
    with pytest.raises(error) as err:
        runner.run(runbook, root=BOOKS, **kwargs)
    assert all(w in str(err.value) for w in words), str(err.value)
    if error is RunbookError:
        assert "3-wait" in str(err.value)
    assert not (site / "runs").exists()  # no run folder, no journal row
    assert not any((site / "hosts" / "prod1").iterdir())


def test_a_dry_run_plans_writes_artifacts_and_changes_nothing(site):
    out = run(site, "1-record-changes.ipynb", text_params={"attempts": "7"}, params={"labels": ["x"]})
    assert out.ok and out.error is None
    assert out.run_dir.parent == site / "runs" and out.run_dir.name == out.run_id
    assert {p.name for p in out.run_dir.iterdir()} == {"runbook.ipynb", "report.html", "result.json"}
    result = json.loads(out.result.read_text())
    assert result["status"] == "ok" and result["params"]["dry_run"] is True and result["params"]["attempts"] == 7
    assert result["matrix"] == {"prod1": {"Make the folder": "planned"}, "prod2": {"Make the folder": "planned"}}
    assert result["figures"] == {"hosts": 2, "attempts": 7, "ratio": 0.5, "labels": 1}
    assert not (site / "hosts" / "prod1" / "shared").exists()
    (row,) = journal.history(site / "runs" / journal.FILENAME)
    assert (row["id"], row["status"], row["changes"], row["rung"]) == (out.run_id, "ok", 2, "1")
    assert row["hosts"] == {"prod1": "planned", "prod2": "planned"}
    nb = nbformat.read(out.notebook, as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert f'run_id = "{out.run_id}"' in injected[0].source or f"run_id = '{out.run_id}'" in injected[0].source
    html = out.report.read_text()
    assert "Record changes on every prod host" in html and "data:image/png;base64," in html


def test_apply_changes_hosts_once_and_a_second_apply_changes_nothing(site):
    first = run(site, "1-record-changes.ipynb", apply=True, out_dir=site / "elsewhere")
    assert first.ok and first.summary["changes"] == 2
    assert first.summary["matrix"]["prod1"] == {"Make the folder": "changed"}
    assert (site / "hosts" / "prod1" / "shared" / "uploads").is_dir()
    second = run(site, "1-record-changes.ipynb", apply=True, out_dir=site / "elsewhere")
    assert second.ok and second.summary["changes"] == 0
    assert second.summary["hosts"] == {"prod1": "ok", "prod2": "ok"}
    assert [r["changes"] for r in journal.history(site / "elsewhere" / journal.FILENAME)] == [2, 0]


def test_dry_run_false_without_apply_is_refused_before_anything_runs(site):
    with pytest.raises(ParameterError, match="pass --apply"):
        run(site, "1-record-changes.ipynb", params={"dry_run": False})
    assert not (site / "runs").exists()  # no run folder, no journal row
    assert not (site / "hosts" / "prod1" / "shared").exists()


def test_plain_papermill_without_the_confirmation_stops_at_it(site):
    import papermill
    from papermill.exceptions import PapermillExecutionError

    params = {"config": str(site / "ladder.yml"), "dry_run": False}
    with pytest.raises(PapermillExecutionError) as err:
        papermill.execute_notebook(
            str(BOOKS / "1-record-changes.ipynb"),
            str(site / "out.ipynb"),
            parameters=params,
            progress_bar=False,
            kernel_name=kernel.kernel_name(),
            cwd=str(BOOKS),
        )
    assert err.value.ename == "ConfirmationRequired" and "--apply" in err.value.evalue
    assert not (site / "hosts" / "prod1" / "shared").exists()


def test_a_host_failing_mid_run_fails_the_run_and_keeps_other_hosts(site):
    out = run(site, "2-fail-on-host.ipynb")
    assert out.status == "failed"
    assert (out.error.cell, out.error.step, out.error.ename) == (9, "Check the host", "FleetError")
    assert out.error.hosts == {"prod1": "ok", "prod2": "failed"}
    result = json.loads(out.result.read_text())
    assert result["matrix"] == {
        "prod1": {"Make the releases folder": "planned", "Check the host": "ok"},
        "prod2": {"Make the releases folder": "planned", "Check the host": "failed"},
    }
    assert result["error"]["step"] == "Check the host"
    (row,) = journal.history(site / "runs" / journal.FILENAME)
    assert row["status"] == "failed" and row["hosts"] == {"prod1": "planned", "prod2": "failed"}
    assert "Check the host" in row["error"] and "prod2" in row["error"]
    html = out.report.read_text()
    assert "Step: Check the host" in html and "prod2 (failed)" in html
    nb = nbformat.read(out.notebook, as_version=4)
    assert any(o.get("output_type") == "error" for c in nb.cells for o in c.get("outputs", []))


def test_a_secret_in_the_environment_is_in_no_artifact(site, monkeypatch):
    monkeypatch.setenv("LADDER_TEST_TOKEN", SECRET)
    out = run(site, "1-record-changes.ipynb")
    assert out.ok
    files = [p for p in (site / "runs").rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"runbook.ipynb", "report.html", "result.json", "journal.sqlite"}
    for path in files:
        assert SECRET.encode() not in path.read_bytes(), path
    # The kernel did print it: the notebook shows where it was redacted.
    nb = nbformat.read(out.notebook, as_version=4)
    printed = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert "token in use: [redacted]" in printed


def test_a_secret_in_an_error_message_is_redacted_from_the_failure_too(site, monkeypatch):
    monkeypatch.setenv("LADDER_TEST_TOKEN", "!= prod2")  # part of the failing command's text
    out = run(site, "2-fail-on-host.ipynb")
    assert out.status == "failed"
    assert "!= prod2" not in out.error.describe() and "[redacted]" in out.error.evalue
    for path in (p for p in (site / "runs").rglob("*") if p.is_file()):
        assert b"!= prod2" not in path.read_bytes(), path


REGISTERED = "reg-Zq8-4711-registered"


def run_with_a_registered_secret(site: Path, **params) -> runner.RunOutcome:
    """Run the test runbook that reads a secret from a file (no environment variable names it) and registers it."""
    (site / "deploy.key").write_text(REGISTERED + "\n")
    return run(site, "4-register-secret.ipynb", params={"key_file": str(site / "deploy.key"), **params})


def assert_nowhere_in_the_runs(site: Path, secret: str) -> None:
    files = [p for p in (site / "runs").rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"runbook.ipynb", "report.html", "result.json", "journal.sqlite"}
    assert not [p.name for p in files if p.name == redact.HANDOFF_FILE]  # read, then deleted
    for path in files:
        assert secret.encode() not in path.read_bytes(), path
    (row,) = journal.history(site / "runs" / journal.FILENAME)
    assert secret not in json.dumps(row)


def test_a_value_the_kernel_registers_is_in_no_artifact(site):
    out = run_with_a_registered_secret(site)
    assert out.ok, out.error and out.error.describe()
    assert_nowhere_in_the_runs(site, REGISTERED)
    assert REGISTERED not in json.dumps(out.summary)
    assert out.summary["figures"] == {"secret": "[redacted]"} and out.summary["result"]["note"] == "[redacted]"
    nb = nbformat.read(out.notebook, as_version=4)
    printed = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert "secret in use: [redacted]" in printed
    assert "secret in use: <b>[redacted]</b>" in out.report.read_text()


def test_a_run_begins_in_its_kernel_with_the_error_hook_and_redacts_the_failure(site):
    # The host error comes before any step or confirmation: only the run's start installed the hook.
    out = run_with_a_registered_secret(site, fail_host="prod2")
    assert out.status == "failed" and out.error.hosts == {"prod2": "failed"}
    assert out.error.evalue == "prod2: refused [redacted]"
    assert REGISTERED not in out.error.describe()
    assert_nowhere_in_the_runs(site, REGISTERED)


def test_a_run_leaves_no_notebook_in_memory_and_no_handler_with_papermill(site):
    from papermill.iorw import papermill_io

    out = run(site, "3-wait.ipynb")
    assert out.ok
    handler = papermill_io.get_handler(f"ladder-memory://{out.run_id}/runbook.ipynb")
    assert not isinstance(handler, kernel.MemoryIO)


# --- the CLI: ladder list / run / history ------------------------------------------
def ladder(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ladder.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def test_cli_list_shows_rungs_titles_and_parameter_types(tmp_path):
    proc = ladder("list", "--root", str(BOOKS), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "1-record-changes  Record changes on every prod host" in proc.stdout
    assert "attempts: int = 2" in proc.stdout and "dry_run: bool = True" in proc.stdout


def test_cli_bad_parameter_exits_non_zero_before_running(site):
    proc = ladder(
        "run", str(BOOKS / "1-record-changes.ipynb"), "-p", "attempts", "three", "--config", "ladder.yml", cwd=site
    )
    assert proc.returncode == 2
    assert "'attempts'" in proc.stderr and "expects int" in proc.stderr and "'three'" in proc.stderr
    assert not (site / "runs").exists()


def test_cli_failed_run_prints_one_block_and_history_shows_it(site):
    (site / "params.yml").write_text("fail_host: prod1\n")
    proc = ladder("run", str(BOOKS / "2-fail-on-host.ipynb"), "-f", "params.yml", "--config", "ladder.yml", cwd=site)
    assert proc.returncode == 1
    err = proc.stderr
    assert "failed in step 'Check the host' (cell 9)" in err and "FleetError" in err
    assert "prod1 failed" in err and "report: runs/" in err
    history = ladder("history", "--json", "--config", "ladder.yml", cwd=site)
    (row,) = json.loads(history.stdout)
    assert row["status"] == "failed" and row["params"]["fail_host"] == "prod1"
    table = ladder("history", "--out", "runs", cwd=site)
    assert "2-fail-on-host" in table.stdout and "failed" in table.stdout


def test_a_run_killed_mid_run_leaves_a_running_row_and_no_unredacted_notebook(site):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ladder.cli",
            "run",
            str(BOOKS / "3-wait.ipynb"),
            "-p",
            "seconds",
            "600",
            "--config",
            "ladder.yml",
        ],
        cwd=site,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120  # a bound on waiting, not a timing assertion
    while not list((site / "runs").glob("*/waiting")):
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "the runbook never reached its waiting cell"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    conn = sqlite3.connect(site / "runs" / journal.FILENAME)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    (row,) = journal.history(site / "runs" / journal.FILENAME)
    assert row["status"] == "running" and row["runbook"] == "3-wait" and row["ended"] is None
    (run_dir,) = [p for p in (site / "runs").iterdir() if p.is_dir()]
    assert [p.name for p in run_dir.iterdir()] == ["waiting"]  # nothing unredacted was written


def test_runs_started_together_from_one_folder_each_talk_to_their_own_kernel(site):
    command = [
        sys.executable,
        "-m",
        "ladder.cli",
        "run",
        str(BOOKS / "1-record-changes.ipynb"),
        "--config",
        "ladder.yml",
    ]
    procs = [subprocess.Popen(command, cwd=site, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(3)]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [err.decode()[-400:] for _, err in outputs]
    assert all(b"(dry run): 2 change(s) planned on 2 host(s)" in out for out, _ in outputs)  # counted by outcome
    rows = journal.history(site / "runs" / journal.FILENAME)
    assert [r["status"] for r in rows] == ["ok", "ok", "ok"]
