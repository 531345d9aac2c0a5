"""The transcript: outputs taken from ipykernel's messages, and the run put back into its notebook."""

from __future__ import annotations

import nbformat
import pytest

from ladder.core.errors import ConfirmationRequired
from ladder.engine.transcript import Transcript, error_output

pytestmark = pytest.mark.unit


def msg(kind: str, parent: str, **content) -> dict:
    return {"header": {"msg_type": kind}, "parent_header": {"msg_id": parent}, "content": content}


def test_outputs_go_to_the_cell_whose_request_they_answer():
    t = Transcript()
    first = t.start_cell("print('a')", "c1", 1, "m1")
    second = t.start_cell("x", "c2", 2, "m2")
    t.on_message(msg("stream", "m1", name="stdout", text="a\n"))
    t.on_message(msg("stream", "m1", name="stdout", text="b\n"))  # late, from the IOPub thread: same cell
    t.on_message(msg("execute_result", "m2", data={"text/plain": "1"}, metadata={}, execution_count=2))
    t.on_message(msg("display_data", "other", data={"text/plain": "not ours"}))
    assert first.outputs == [{"output_type": "stream", "name": "stdout", "text": "a\nb\n"}]
    assert [o["output_type"] for o in second.outputs] == ["execute_result"]


def test_images_are_base64_and_displays_update_and_clear():
    t = Transcript()
    cell = t.start_cell("plot()", "c1", 1, "m1")
    t.on_message(msg("display_data", "m1", data={"image/png": b"\x89PNG"}, transient={"display_id": "d"}))
    t.on_message(msg("update_display_data", "m1", data={"text/plain": "updated"}, transient={"display_id": "d"}))
    assert cell.outputs[0]["data"] == {"text/plain": "updated"}
    t.on_message(msg("clear_output", "m1", wait=False))
    assert cell.outputs == []
    t.on_message(msg("display_data", "m1", data={"image/png": b"\x89PNG"}))
    assert t.data("image/png") == ["iVBORw=="]


def test_a_cell_run_again_replaces_its_earlier_run():
    t = Transcript()
    t.start_cell("confirm()", "c1", 1, "m1")
    t.on_message(msg("display_data", "m1", data={"text/plain": "button"}))
    t.start_cell("confirm()", "c1", 2, "m2")
    assert [c.execution_count for c in t.cells.values()] == [2] and t.data("text/plain") == []


def test_a_wait_for_confirmation_shows_one_calm_line_not_a_traceback():
    out = error_output(ConfirmationRequired("prod"))
    assert out["traceback"] == ["Paused before changing prod: waiting for your confirmation above."]
    assert out["ename"] == "ConfirmationRequired" and "--apply" in out["evalue"]
    assert len(error_output(RuntimeError("boom"))["traceback"]) >= 1


def test_the_notebook_keeps_the_narrative_and_fills_in_what_ran():
    base = nbformat.v4.new_notebook()
    base.cells = [
        nbformat.v4.new_markdown_cell("# Title"),
        nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_markdown_cell("## Step"),
        nbformat.v4.new_code_cell("step()"),
        nbformat.v4.new_code_cell("never_ran()", outputs=[nbformat.v4.new_output("stream", text="stale")]),
    ]
    base.cells[3]["id"] = "step-cell"
    t = Transcript()
    t.add_source("x = 1")  # ran before recording began: known by its source
    t.add_source("# Parameters\nx = 2\n")  # papermill's injected cell: in no file
    t.start_cell("step()  # edited", "step-cell", 3, "m3")  # known by its id, even when edited
    t.on_message(msg("stream", "m3", name="stdout", text="done\n"))
    nb = t.notebook(base)
    assert [c.source for c in nb.cells] == [
        "# Title",
        "x = 1",
        "# Parameters\nx = 2\n",
        "## Step",
        "step()  # edited",
        "never_ran()",
    ]
    assert nb.cells[2].metadata["tags"] == ["injected-parameters"]
    assert nb.cells[4].outputs[0]["text"] == "done\n" and nb.cells[4].execution_count == 3
    assert nb.cells[5].outputs == []  # a cell that did not run in this run shows nothing
    assert base.cells[4].outputs  # the file's notebook is not changed
    nbformat.validate(nb)
