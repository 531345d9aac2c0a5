"""The run's record: typed changes as rows, the host x step matrix, display data, the run's state and the error hook."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from traitlets.config import Config

from ladder.core.errors import FleetError, HostError, LadderError
from ladder.core.ops import Change
from ladder.engine import record as rec
from ladder.engine import state


@pytest.fixture
def shell():
    """A real IPython shell (no kernel), as a notebook cell would run in, and a run that starts empty."""
    config = Config()
    config.HistoryManager.enabled = False
    sh = InteractiveShell.instance(config=config)
    state.end()
    yield sh
    sh.set_custom_exc((), None)
    InteractiveShell.clear_instance()
    state.end()


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


@pytest.mark.unit
def test_changes_become_rows_with_their_step_and_outcome():
    real = Change(
        "dev", "directory", "/srv/app/a", commands=("mkdir -p -- /srv/app/a",), changed=True, reason="missing"
    )
    rows = rec.change_rows(
        [real, change("h2", changed=False, operation="file"), Change("h3", "health", "/", failed=True)]
    )
    assert [(r["host"], r["step"], r["outcome"]) for r in rows] == [
        ("dev", "directory", "planned"),
        ("h2", "file", "ok"),
        ("h3", "health", "failed"),
    ]
    assert rows[0]["commands"] == list(real.commands)
    assert rec.change_rows(change("p1"), step="Deploy")[0]["step"] == "Deploy"


@pytest.mark.unit
def test_changes_by_host_as_fleet_run_all_returns_them():
    rows = rec.change_rows({"p1": change("p1"), "p2": [change("p2", changed=False), change("p2", applied=False)]})
    assert [(r["host"], r["outcome"]) for r in rows] == [("p1", "changed"), ("p2", "ok"), ("p2", "planned")]


@pytest.mark.unit
@pytest.mark.parametrize(
    "changes, words",
    [
        ({"host": "h2", "operation": "file", "changed": False}, ["'host' holds str"]),  # a change-shaped dict
        ([{"host": "h2", "operation": "file"}], ["ladder.core.ops.Change", "dict"]),
        ({"p2": HostError("disk full", host="p2")}, ["'p2' holds HostError"]),  # an error is not a change
        ([[change("p1")]], ["ladder.core.ops.Change", "list"]),
        ("directory", ["str"]),
        ({"Make folders": [change("p1")]}, ["'Make folders'", "'p1'", "record_step"]),  # keyed by step, not host
    ],
)
def test_anything_but_typed_changes_is_a_clear_type_error(changes, words):
    with pytest.raises(TypeError) as err:
        rec.change_rows(changes)
    assert all(w in str(err.value) for w in words), str(err.value)


@pytest.mark.unit
def test_record_and_record_step_refuse_untyped_changes(shell):
    with capture_output(), pytest.raises(TypeError, match="Change"):
        rec.record_step("Deploy", [{"host": "p1", "operation": "deploy", "changed": True}])
    with capture_output(), pytest.raises(TypeError, match="Change"):
        rec.record(changes={"p1": ValueError("boom")})


@pytest.mark.unit
def test_outcomes_come_from_the_change_and_the_worst_from_ops():
    assert not hasattr(rec, "outcome") and not hasattr(rec, "OUTCOMES")
    assert [r["outcome"] for r in rec.change_rows([change("p1"), change("p1", applied=False)])] == [
        "changed",
        "planned",
    ]


@pytest.mark.unit
def test_matrix_is_host_by_step_with_the_worst_outcome():
    rows = rec.change_rows([change("p1"), change("p1", changed=False)], "A") + rec.change_rows(
        [change("p2", applied=False)], "B"
    )
    assert rec.matrix(rows) == {"p1": {"A": "changed"}, "p2": {"B": "planned"}}
    frame = rec.matrix_frame(rec.matrix(rows))
    assert list(frame.columns) == ["A", "B"] and frame.loc["p2", "A"] == ""
    html = rec.matrix_html(rec.matrix(rows))
    assert "changed" in html and rec.COLOURS["planned"] in html


@pytest.mark.unit
def test_record_emits_the_result_mime_with_a_readable_table(shell):
    with capture_output() as cap:
        rec.record(
            changes={"p1": change("p1", operation="deploy"), "p2": [change("p2", changed=False, operation="deploy")]},
            figures={"releases": 2},
            ref="v1.2",
        )
    (out,) = cap.outputs
    payload = out.data[rec.RESULT_MIME]
    assert payload["status"] == "ok" and payload["ref"] == "v1.2"
    assert payload["matrix"] == {"p1": {"deploy": "changed"}, "p2": {"deploy": "ok"}}
    assert payload["hosts"] == {"p1": "changed", "p2": "ok"} and payload["figures"] == {"releases": 2}
    assert "Result: ok (1 change)" in out.data["text/html"] and "<table" in out.data["text/html"]
    assert "releases: 2" in out.data["text/plain"]


@pytest.mark.unit
def test_a_step_table_aligns_its_text_and_headers_left(shell):
    with capture_output() as cap:
        rec.record_step("Deploy", [change("p1")])
    page = cap.outputs[0].data["text/html"]
    assert re.search(r"th\s*\{\s*text-align: left;", page) and "text-align: left" in page.split("</style>")[0]


@pytest.mark.unit
def test_a_step_table_shows_markup_in_a_change_as_text(shell):
    edit = Change("local", "commit", "app.py", ("in app.py: replace '<h1>Items</h1>'",), True, True, reason="<b>")
    with capture_output() as cap:
        rec.record_step("Your change", [edit])
    page = cap.outputs[0].data["text/html"]
    assert "&lt;h1&gt;Items&lt;/h1&gt;" in page and "<h1>" not in page and "&lt;b&gt;" in page


@pytest.mark.unit
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


@pytest.mark.unit
def test_failure_names_failed_hosts_and_keeps_the_others():
    err = FleetError(
        {
            "p1": change("p1"),
            "p2": HostError("boom", host="p2"),
            "p3": [change("p3", changed=False), change("p3", applied=False)],
            "p4": "a command's output",  # any other result: the host succeeded
        }
    )
    info = rec.failure(err)
    assert info["hosts"] == {"p1": "changed", "p2": "failed", "p3": "planned", "p4": "ok"}
    assert info["error"] == "FleetError" and "p2" in info["message"]
    assert rec.failure(HostError("down", host="p9"))["hosts"] == {"p9": "failed"}
    assert rec.failure(ValueError("x"))["hosts"] == {}


@pytest.mark.unit
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


@pytest.mark.unit
def test_the_error_hook_leaves_other_errors_to_ipython(shell):
    rec.install_error_hook()
    with capture_output() as cap:
        result = shell.run_cell("1 / 0")
    assert isinstance(result.error_in_exec, ZeroDivisionError)
    assert cap.outputs == [] and "ZeroDivisionError" in cap.stdout


# --- a run's state: it belongs to the run and starts empty -------------------------------
@pytest.mark.unit
def test_the_next_run_does_not_record_the_steps_of_the_last(shell):
    with capture_output() as cap:
        rec.record_step("Old step", [change("p1")])
        rec.record()  # the last cell: the run ends
        rec.record_step("New step", [change("p2")])
        rec.record()
    payload = cap.outputs[-1].data[rec.RESULT_MIME]
    assert payload["steps"] == ["New step"] and payload["matrix"] == {"p2": {"New step": "changed"}}


@pytest.mark.unit
def test_a_run_begun_explicitly_starts_empty(shell):
    with capture_output() as cap:
        rec.record_step("From a run that failed", [change("p1")])  # never reached record()
        state.begin()
        rec.record_step("Deploy", [change("p2")])
        rec.record()
    assert cap.outputs[-1].data[rec.RESULT_MIME]["steps"] == ["Deploy"]


@pytest.mark.unit
def test_the_kernel_extension_begins_a_run_and_installs_the_error_hook(shell):
    with capture_output():
        rec.record_step("Before the run", [change("p1")])
    shell.set_custom_exc((), None)
    shell.extension_manager.load_extension("ladder.engine.record")  # as the runner's kernels do at start
    assert state.current().steps == {} and shell.custom_exceptions == (LadderError,)


@pytest.mark.unit
def test_the_error_hook_is_installed_on_first_use(shell):
    assert shell.custom_exceptions == ()
    with capture_output():
        rec.record_step("Deploy", [change("p1")])
    assert shell.custom_exceptions == (LadderError,)


IMPORTS_IN_A_SHELL = """
import sys
from IPython.core.interactiveshell import InteractiveShell

shell = InteractiveShell.instance()
for name in sys.argv[1:]:
    assert shell.run_cell(f"import {name}").success, name
    if shell.custom_exceptions != ():
        sys.exit(f"importing {name} set IPython's custom_exceptions to {shell.custom_exceptions}")
"""


def ladder_modules() -> list[str]:
    """Every module of the package, by dotted name (the sandbox's app template is data, not Ladder's code)."""
    package = Path(rec.__file__).resolve().parents[1]
    names = []
    for path in sorted(package.rglob("*.py")):
        if "template" in path.parts:
            continue
        parts = ("ladder", *path.relative_to(package).with_suffix("").parts)
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


@pytest.mark.local
@pytest.mark.parametrize("names", [["ladder"], ladder_modules()], ids=["import ladder", "every module"])
def test_importing_ladder_leaves_ipython_alone(names):
    """In a fresh interpreter with a real IPython shell, no import installs a hook."""
    proc = subprocess.run(
        [sys.executable, "-c", IMPORTS_IN_A_SHELL, *names], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-2000:]


# --- the API the runbooks README documents ----------------------------------------------
DOCS = [
    Path(__file__).resolve().parents[1] / "runbooks" / "README.md",
    Path(__file__).resolve().parents[1] / "README.md",
]


def resolve(dotted: str) -> object:
    """ladder.a.b as Python would reach it after `import ladder.a`: attributes first, else submodules."""
    parts = dotted.split(".")
    obj: object = importlib.import_module(parts[0])
    for i, part in enumerate(parts[1:], start=2):
        obj = getattr(obj, part) if hasattr(obj, part) else importlib.import_module(".".join(parts[:i]))
    return obj


@pytest.mark.unit
def test_every_call_the_docs_show_resolves():
    shown = {m for doc in DOCS for m in re.findall(r"(?<![\w/.])ladder(?:\.[A-Za-z_]\w*)+(?=\()", doc.read_text())}
    assert {"ladder.record", "ladder.record_step"} <= shown
    for name in sorted(shown):
        assert callable(resolve(name)), name
