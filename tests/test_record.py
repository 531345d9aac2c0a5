"""The run's record: change normalisation, the host x step matrix, display data and the error hook."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from traitlets.config import Config

from ladder.core.errors import FleetError, HostError
from ladder.core.hosts import LocalHost
from ladder.core.ops import Change, directory

# `ladder.record` is also the name of the function the package exports; import the module itself.
rec = importlib.import_module("ladder.engine.record")


@pytest.fixture
def shell():
    """A real IPython shell (no kernel), as a notebook cell would run in."""
    config = Config()
    config.HistoryManager.enabled = False
    sh = InteractiveShell.instance(config=config)
    rec._steps.clear()
    yield sh
    sh.set_custom_exc((), None)
    InteractiveShell.clear_instance()
    rec._steps.clear()


def change(host: str, changed: bool = True, applied: bool = True, operation: str = "directory") -> Change:
    return Change(
        host=host,
        operation=operation,
        target="/srv/app",
        commands=["mkdir -p /srv/app"],
        changed=changed,
        applied=applied,
        reason="missing",
    )


def test_changes_from_ops_dicts_and_dataclasses_become_dicts(tmp_path):
    real = directory(LocalHost("dev", tmp_path), str(tmp_path / "a"), dry_run=True)

    @dataclass
    class Other:
        host: str
        operation: str
        changed: bool

    rows = rec.normalize([real, {"host": "h2", "operation": "file", "changed": False}, Other("h3", "line", True)])
    assert [(r["host"], r["step"], r["outcome"]) for r in rows] == [
        ("dev", "directory", "planned"),
        ("h2", "file", "ok"),
        ("h3", "line", "planned"),
    ]
    assert rows[0]["commands"] == list(real.commands)
    with pytest.raises(TypeError, match="ladder.core.ops.Change or a dict"):
        rec.change_dict(object())


def test_outcomes_and_the_worst_of_them():
    assert rec.outcome({"changed": True, "applied": True}) == "changed"
    assert rec.outcome({"changed": True, "applied": False}) == "planned"
    assert rec.outcome({"changed": False}) == "ok"
    assert rec.outcome({"failed": True, "changed": True}) == "failed"
    assert rec.worst(["ok", "planned", "changed"]) == "changed"
    assert rec.worst(["ok", "failed", "changed"]) == "failed"
    assert rec.worst([]) == "ok"


def test_step_mappings_and_host_mappings():
    by_step = rec.normalize({"Make folders": [change("p1"), change("p2", changed=False)], "Link": [change("p1")]})
    assert [(r["host"], r["step"]) for r in by_step] == [("p1", "Make folders"), ("p2", "Make folders"), ("p1", "Link")]
    # {host: change or error}, as fleet.run_all(..., raise_on_error=False) returns.
    by_host = rec.normalize({"p1": change("p1"), "p2": HostError("disk full", host="p2")})
    assert [(r["host"], r["outcome"]) for r in by_host] == [("p1", "changed"), ("p2", "failed")]
    assert "disk full" in by_host[1]["reason"]


def test_matrix_is_host_by_step_with_the_worst_outcome():
    rows = rec.normalize({"A": [change("p1"), change("p1", changed=False)], "B": [change("p2", applied=False)]})
    assert rec.matrix(rows) == {"p1": {"A": "changed"}, "p2": {"B": "planned"}}
    frame = rec.matrix_frame(rec.matrix(rows))
    assert list(frame.columns) == ["A", "B"] and frame.loc["p2", "A"] == ""
    html = rec.matrix_html(rec.matrix(rows))
    assert "changed" in html and rec.COLOURS["planned"] in html


def test_record_emits_the_result_mime_with_a_readable_table(shell):
    with capture_output() as cap:
        rec.record(changes={"Deploy": [change("p1"), change("p2", changed=False)]}, figures={"releases": 2}, ref="v1.2")
    (out,) = cap.outputs
    payload = out.data[rec.RESULT_MIME]
    assert payload["status"] == "ok" and payload["ref"] == "v1.2"
    assert payload["matrix"] == {"p1": {"Deploy": "changed"}, "p2": {"Deploy": "ok"}}
    assert payload["hosts"] == {"p1": "changed", "p2": "ok"} and payload["figures"] == {"releases": 2}
    assert "Result: ok (1 change)" in out.data["text/html"] and "<table" in out.data["text/html"]
    assert "releases: 2" in out.data["text/plain"]


def test_record_without_changes_uses_the_recorded_steps(shell):
    with capture_output() as cap:
        rec.record_step("One", [change("p1")])
        rec.record_step("Two", {"p1": change("p1", changed=False), "p2": change("p2", applied=False)})
        rec.record_step("One", [change("p1", changed=False)])  # a re-run cell replaces its step
        rec.record()
    steps = [o.data[rec.STEP_MIME] for o in cap.outputs[:3]]
    assert [s["step"] for s in steps] == ["One", "Two", "One"]
    payload = cap.outputs[-1].data[rec.RESULT_MIME]
    assert payload["steps"] == ["One", "Two"]
    assert payload["matrix"] == {"p1": {"One": "ok", "Two": "ok"}, "p2": {"Two": "planned"}}


def test_failure_names_failed_hosts_and_keeps_the_others():
    err = FleetError({"p1": change("p1"), "p2": HostError("boom", host="p2"), "p3": [change("p3", changed=False)]})
    info = rec.failure(err)
    assert info["hosts"] == {"p1": "changed", "p2": "failed", "p3": "ok"}
    assert info["error"] == "FleetError" and "p2" in info["message"]
    assert rec.failure(HostError("down", host="p9"))["hosts"] == {"p9": "failed"}
    assert rec.failure(ValueError("x"))["hosts"] == {}


def test_the_error_hook_records_hosts_and_the_cell_still_fails(shell):
    assert rec.install_error_hook()
    with capture_output() as cap:
        result = shell.run_cell(
            "from ladder.core.errors import FleetError, HostError\n"
            "raise FleetError({'p1': 1, 'p2': HostError('boom', host='p2')})"
        )
    assert isinstance(result.error_in_exec, FleetError)
    (out,) = cap.outputs
    assert out.data[rec.ERROR_MIME]["hosts"] == {"p1": "ok", "p2": "failed"}
    assert "FleetError" in cap.stdout  # the usual traceback is still shown


def test_the_error_hook_leaves_other_errors_to_ipython(shell):
    rec.install_error_hook()
    with capture_output() as cap:
        result = shell.run_cell("1 / 0")
    assert isinstance(result.error_in_exec, ZeroDivisionError)
    assert cap.outputs == [] and "ZeroDivisionError" in cap.stdout
