"""The run's record: a runbook's result emitted as display data the runner reads back."""

from __future__ import annotations

import dataclasses
import html
import json
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

from ..core.markup import styler
from ..core.ops import Change, worst
from . import state

if TYPE_CHECKING:
    import pandas as pd

RESULT_MIME = "application/vnd.ladder.result+json"
STEP_MIME = "application/vnd.ladder.step+json"
ERROR_MIME = "application/vnd.ladder.error+json"

COLOURS = {"failed": "#f8d7da", "changed": "#fff3cd", "planned": "#dbe9ff", "ok": "#d4edda"}

# What record() and record_step() accept: typed changes, alone, listed, or by host as fleet.run_all returns them.
Changes: TypeAlias = Change | Sequence[Change] | Mapping[str, Change | Sequence[Change]]
SHAPES = "a Change, a list of Changes, or {host: Change or list of Changes}"
# Columns of a step's table that hold long text (paths, reasons, shell commands), each with its narrowest width.
WRAPPED = {"target": "14em", "reason": "8em", "commands": "16em"}


def change_row(change: Change, step: str | None = None) -> dict:
    """One Change as a plain dict for tables and JSON: its fields, outcome and step (default: its operation)."""
    if not isinstance(change, Change):
        raise TypeError(f"a change must be a ladder.core.ops.Change, got {type(change).__name__}: {change!r:.100}")
    return {**change.to_dict(), "step": step or change.operation}


def _listed(value: Any, host: str | None = None) -> Sequence[Any]:
    if isinstance(value, Change):
        return [value]
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return value
    got = f"{type(value).__name__}: {value!r:.100}"
    if host is not None:
        raise TypeError(f"changes by host hold a Change or a list of Changes per host, but {host!r} holds {got}")
    raise TypeError(f"changes must be {SHAPES}, got {got}")


def change_rows(changes: Changes, step: str | None = None) -> list[dict]:
    """Changes as plain dicts with their step: a Change, a list of them, or {host: Change or list}."""
    if not isinstance(changes, Mapping):
        return [change_row(c, step) for c in _listed(changes)]
    rows = []
    for host, value in changes.items():
        for c in _listed(value, host):
            row = change_row(c, step)
            if row["host"] != host:
                raise TypeError(
                    f"changes by host hold each host's own changes, but {host!r} holds one on {row['host']!r}; "
                    "name a step with record_step(step, changes)"
                )
            rows.append(row)
    return rows


def matrix(changes: list[dict]) -> dict[str, dict[str, str]]:
    """{host: {step: outcome}} over a flat list of change dicts."""
    out: dict[str, dict[str, list[str]]] = {}
    for c in changes:
        out.setdefault(c["host"], {}).setdefault(c["step"], []).append(c["outcome"])
    return {h: {s: worst(o) for s, o in steps.items()} for h, steps in out.items()}


def matrix_frame(cells: Mapping[str, Mapping[str, str]], steps: list[str] | None = None) -> pd.DataFrame:
    """The host x step matrix as a DataFrame ('' where a host had nothing in a step)."""
    import pandas as pd

    order = steps or list(dict.fromkeys(s for row in cells.values() for s in row))
    frame = pd.DataFrame(
        [[cells[h].get(s, "") for s in order] for h in cells], index=list(cells), columns=order, dtype=object
    )
    # Named on the columns, so the label sits in the corner cell instead of a row of its own.
    return frame.rename_axis(index=None, columns="host")


def style_matrix(frame: pd.DataFrame) -> Any:
    """A pandas Styler colouring ok / planned / changed / failed cells, cells and labels HTML-escaped."""
    return styler(frame).map(lambda v: f"background-color: {COLOURS[v]}" if v in COLOURS else "")


def matrix_html(cells: Mapping[str, Mapping[str, str]], steps: list[str] | None = None) -> str:
    """The host x step matrix as a styled HTML table."""
    if not cells:
        return "<p><em>No host changes were recorded.</em></p>"
    return style_matrix(matrix_frame(cells, steps)).to_html()


def changes_frame(rows: list[dict]) -> pd.DataFrame:
    """A table of change rows (see change_rows): one row per host and operation."""
    import pandas as pd

    cols = ["host", "step", "operation", "target", "outcome", "reason", "commands"]
    frame = pd.DataFrame([{k: r.get(k, "") for k in cols} for r in rows], columns=cols)
    frame["commands"] = frame["commands"].map(lambda c: "\n".join(c) if isinstance(c, list) else c)
    return frame


def _jsonable(value: Any) -> Any:
    def default(o: Any) -> Any:
        if hasattr(o, "item"):  # numpy scalars
            return o.item()
        if hasattr(o, "tolist"):
            return o.tolist()
        if dataclasses.is_dataclass(o) and not isinstance(o, type):
            return dataclasses.asdict(o)
        return str(o)

    return json.loads(json.dumps(value, default=default))


def _display(bundle: dict) -> None:
    from IPython.display import display

    display(bundle, raw=True)


def _figures_html(figures: Mapping[str, Any]) -> str:
    if not figures:
        return ""
    rows = "".join(
        f"<tr><th style='text-align:left'>{html.escape(str(k))}</th>"
        f"<td style='text-align:right'>{html.escape(str(v))}</td></tr>"
        for k, v in figures.items()
    )
    return f"<table class='ladder-figures'>{rows}</table>"


def step_table(frame: pd.DataFrame) -> str:
    """A step's changes as an HTML table: left-aligned, outcomes coloured, long text wrapped within the page."""
    table = (
        style_matrix(frame.drop(columns=["step"]))
        .hide(axis="index")
        .set_properties(**{"text-align": "left", "white-space": "pre-wrap"})
        # Headers too: JupyterLab's and nbconvert's table CSS right-align them, away from their text.
        .set_table_styles([{"selector": "th", "props": "text-align: left;"}], overwrite=False)
    )
    for column, width in WRAPPED.items():  # a long path or command breaks anywhere rather than widen the page
        table = table.set_properties(subset=[column], **{"overflow-wrap": "anywhere", "min-width": width})
    return table.to_html()


def record_step(step: str, changes: Changes) -> None:
    """Show one step's changes as a table and keep them for the run's record."""
    install_error_hook()
    rows = change_rows(changes, step)
    state.current().steps[step] = rows
    frame = changes_frame(rows)
    _display(
        {
            STEP_MIME: {"step": step, "changes": rows},
            "text/html": step_table(frame) if len(frame) else f"<p><em>{html.escape(step)}: no changes.</em></p>",
            "text/plain": frame.to_string(index=False) if len(frame) else f"{step}: no changes",
        }
    )


def build(
    status: str = "ok", changes: Changes | None = None, figures: Mapping[str, Any] | None = None, **extra: Any
) -> dict:
    """The result payload: status, changes per host and step, the host x step matrix, key figures.

    Without changes, the steps this run recorded with record_step() are used.
    """
    rows = change_rows(changes) if changes is not None else [c for step in state.current().steps.values() for c in step]
    cells = matrix(rows)
    payload = {
        "status": status,
        "changes": rows,
        "steps": list(dict.fromkeys(c["step"] for c in rows)),
        "hosts": {h: worst(s.values()) for h, s in cells.items()},
        "matrix": cells,
        "figures": _jsonable(dict(figures or {})),
    }
    payload.update(_jsonable(extra))
    return payload


def record(
    status: str = "ok", changes: Changes | None = None, figures: Mapping[str, Any] | None = None, **extra: Any
) -> None:
    """Emit the run's result (the last cell of every runbook) as application/vnd.ladder.result+json; end the run.

    changes: a Change, a list of Changes, or {host: Change or list of Changes} as fleet.run_all
    returns; when omitted, the steps this run recorded with record_step() are used.
    """
    install_error_hook()
    payload = build(status, changes, figures, **extra)
    counted = sum(1 for c in payload["changes"] if c["outcome"] in ("changed", "planned"))
    head = f"<h4>Result: {html.escape(status)} ({counted} change{'s' if counted != 1 else ''})</h4>"
    summary = matrix_frame(payload["matrix"], payload["steps"]) if payload["matrix"] else None
    _display(
        {
            RESULT_MIME: payload,
            "text/html": head + matrix_html(payload["matrix"], payload["steps"]) + _figures_html(payload["figures"]),
            "text/plain": f"Result: {status}, {counted} change(s)"
            + (f"\n{summary.to_string()}" if summary is not None else "")
            + "".join(f"\n{k}: {v}" for k, v in payload["figures"].items()),
        }
    )
    state.end()


def _host_outcome(value: Any) -> str:
    """How one host fared in a FleetError: failed on an error, the worst outcome of its changes, else ok."""
    if isinstance(value, BaseException):
        return "failed"
    if isinstance(value, Change):
        return value.outcome
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)) and value:
        if all(isinstance(c, Change) for c in value):
            return worst(c.outcome for c in value)
    return "ok"  # another result (a command's Result, a value, None): the host succeeded


def failure(error: BaseException) -> dict:
    """What a failed step tells about hosts: {'error', 'message', 'hosts': {name: outcome}}."""
    from ..core.errors import FleetError, HostError

    hosts: dict[str, str] = {}
    if isinstance(error, FleetError):
        hosts = {name: _host_outcome(value) for name, value in error.results.items()}
    elif isinstance(error, HostError):
        hosts[error.host] = "failed"
    return {"error": type(error).__name__, "message": str(error), "hosts": hosts}


def _on_error(shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: int | None = None) -> None:
    """IPython hook: record which hosts failed, then show the usual traceback (the cell still fails)."""
    info = failure(value)
    if info["hosts"]:
        text = ", ".join(f"{h}: {o}" for h, o in info["hosts"].items())
        _display({ERROR_MIME: info, "text/plain": f"Host outcomes: {text}"})
    shell.showtraceback((etype, value, tb), tb_offset=tb_offset)


def install_error_hook(shell: Any = None) -> bool:
    """In an IPython shell, record failing hosts of LadderErrors as display data; True if installed.

    Called on the engine's first use in a run, never on import.
    """
    if shell is None:
        ipython = sys.modules.get("IPython")
        if ipython is None:  # not in an IPython shell; and importing IPython would slow every `import ladder`
            return False
        shell = ipython.get_ipython()
        if shell is None:
            return False
    from ..core.errors import LadderError

    if shell.custom_exceptions == (LadderError,):
        return True
    if shell.custom_exceptions:  # someone else's handler: leave it alone
        return False
    shell.set_custom_exc((LadderError,), _on_error)
    return True


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext ladder.engine.record`, as the runner does in each kernel it starts: begin a run, install the hook."""
    state.begin(managed=True)
    install_error_hook(ipython)
