"""The cells a kernel ran in one run, with their outputs, taken from ipykernel's own output hooks."""

from __future__ import annotations

import base64
import copy
import threading
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

# papermill's injected cell starts so (its Python translator); it is tagged as papermill tags it.
INJECTED_HEADER = "# Parameters"
INJECTED_TAG = "injected-parameters"


@dataclass
class Cell:
    """One executed cell: its source, its id from the frontend (if sent) and its outputs as nbformat dicts."""

    source: str
    cell_id: str | None = None
    execution_count: int | None = None
    outputs: list[dict] = field(default_factory=list)
    displays: dict[str, dict] = field(default_factory=dict)  # display_id -> its output, for update_display_data


def _data(bundle: dict) -> dict:
    """A MIME bundle as notebooks store it: binary values (images) base64-encoded, as Jupyter's session does."""
    return {k: base64.b64encode(v).decode("ascii") if isinstance(v, bytes) else v for k, v in bundle.items()}


def output_of(msg: dict) -> dict | None:
    """An iopub message as an nbformat output dict; None for messages that are not outputs."""
    kind, content = msg["header"]["msg_type"], msg["content"]
    if kind == "stream":
        return {"output_type": "stream", "name": content["name"], "text": content["text"]}
    if kind == "display_data":
        return {"output_type": "display_data", "data": _data(content["data"]), "metadata": content.get("metadata", {})}
    if kind == "execute_result":
        return {
            "output_type": "execute_result",
            "data": _data(content["data"]),
            "metadata": content.get("metadata", {}),
            "execution_count": content.get("execution_count"),
        }
    return None


def error_output(error: BaseException) -> dict:
    """An exception as an nbformat error output; IPython's _render_traceback_ is honoured as in the frontend."""
    render = getattr(error, "_render_traceback_", None)
    lines = render() if callable(render) else traceback.format_exception(error)
    return {
        "output_type": "error",
        "ename": type(error).__name__,
        "evalue": str(error),
        "traceback": [line.rstrip("\n") for line in lines],
    }


class Transcript:
    """Cells in the order they ran; running a cell again replaces its earlier run."""

    def __init__(self) -> None:
        self.cells: dict[str, Cell] = {}
        self._by_parent: dict[str, Cell] = {}
        self._lock = threading.Lock()  # streams arrive on ipykernel's IOPub thread

    def start_cell(self, source: str, cell_id: str | None, execution_count: int | None, parent: str | None) -> Cell:
        """A cell begins: later outputs whose parent message is `parent` belong to it."""
        cell = Cell(source, cell_id, execution_count)
        with self._lock:
            key = cell_id or f"execution-{execution_count}-{len(self.cells)}"
            self.cells.pop(key, None)
            self.cells[key] = cell
            if parent:
                self._by_parent[parent] = cell
        return cell

    def add_source(self, source: str) -> None:
        """A cell that ran before the run was recorded from here: its source only."""
        self.start_cell(source, None, None, None)

    def on_message(self, msg: dict) -> dict:
        """ipykernel hook: keep what the message adds to its cell, and let it through unchanged."""
        parent = (msg.get("parent_header") or {}).get("msg_id")
        with self._lock:
            cell = self._by_parent.get(parent) if parent else None
            if cell is not None:
                self._apply(cell, msg)
        return msg

    def _apply(self, cell: Cell, msg: dict) -> None:
        kind, content = msg["header"]["msg_type"], msg["content"]
        display_id = (content.get("transient") or {}).get("display_id")
        if kind == "clear_output":
            cell.outputs.clear()
            cell.displays.clear()
        elif kind == "update_display_data":
            shown = cell.displays.get(display_id or "")
            if shown is not None:
                shown["data"], shown["metadata"] = _data(content["data"]), content.get("metadata", {})
        elif (out := output_of(msg)) is not None:
            last = cell.outputs[-1] if cell.outputs else None
            if out["output_type"] == "stream" and last and last.get("name") == out["name"]:
                last["text"] += out["text"]
                return
            cell.outputs.append(out)
            if display_id:
                cell.displays[display_id] = out

    def fail(self, cell: Cell, error: BaseException) -> None:
        """The cell ended with an error."""
        with self._lock:
            cell.outputs.append(error_output(error))

    def data(self, mime: str) -> list[Any]:
        """Every output's data of this MIME type, in the order the cells ran."""
        with self._lock:
            return [o["data"][mime] for c in self.cells.values() for o in c.outputs if mime in o.get("data", {})]

    def notebook(self, base: Any = None) -> Any:
        """The run as a notebook: base's cells (markdown kept) with what ran filled in, by cell id, else by source.

        A cell that ran but is not in base is put after the last cell placed before it (papermill's
        injected parameters land after the parameters cell); cells of base that did not run keep no outputs.
        """
        import nbformat

        nb = copy.deepcopy(base) if base is not None else nbformat.v4.new_notebook()
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        with self._lock:
            ran = [copy.deepcopy(c) for c in self.cells.values()]
        placed: set[int] = set()
        at = -1
        for cell in ran:
            index = _match(nb.cells, cell, placed)
            if index is None:
                tags = [INJECTED_TAG] if cell.source.startswith(INJECTED_HEADER) else []
                new = nbformat.v4.new_code_cell(cell.source, metadata={"tags": tags} if tags else {})
                at += 1
                nb.cells.insert(at, new)
                placed = {i + 1 if i >= at else i for i in placed}
                index = at
            target = nb.cells[index]
            target.source, target.outputs = cell.source, [nbformat.from_dict(o) for o in cell.outputs]
            target.execution_count = cell.execution_count
            placed.add(index)
            at = index
        return nb


def _match(cells: Sequence[Any], cell: Cell, placed: set[int]) -> int | None:
    """The index of the notebook cell that ran: same id, else the first unplaced code cell with the same source."""
    if cell.cell_id:
        for i, c in enumerate(cells):
            if c.get("id") == cell.cell_id:
                return i
    for i, c in enumerate(cells):
        if i not in placed and c.cell_type == "code" and c.source.strip() == cell.source.strip():
            return i
    return None
