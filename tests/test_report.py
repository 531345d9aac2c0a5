"""The HTML report: header, hidden code, no injected parameters, embedded images, widget state, fitting the page."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402

from browser import open_page, overflow  # noqa: E402
from hostile import FILES, ROUTE, assert_inert, plant  # noqa: E402
from ladder.engine import report, runner  # noqa: E402

BOOKS = Path(__file__).parent / "notebooks"

WIDGET_STATE = {
    "application/vnd.jupyter.widget-state+json": {
        "version_major": 2,
        "version_minor": 0,
        "state": {
            "m1": {
                "model_name": "IntSliderModel",
                "model_module": "@jupyter-widgets/controls",
                "model_module_version": "2.0.0",
                "state": {"value": 7, "description": "attempts"},
            }
        },
    }
}


def png() -> str:
    fig, ax = plt.subplots(figsize=(1, 1))
    ax.plot([0, 1], [1, 0])
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


@pytest.fixture
def executed() -> nbformat.NotebookNode:
    """A notebook as papermill leaves it: injected parameters, outputs, a chart, a widget, an error."""
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("dry_run = True")
    params.metadata["tags"] = ["parameters"]
    injected = nbformat.v4.new_code_cell("# Parameters\ninjected_marker = 'set-by-papermill'")
    injected.metadata["tags"] = ["injected-parameters"]
    chart = nbformat.v4.new_code_cell(
        "plot_marker()",
        outputs=[nbformat.v4.new_output("display_data", data={"image/png": png(), "text/plain": "<Figure>"})],
    )
    widget = nbformat.v4.new_code_cell(
        "slider_marker()",
        outputs=[
            nbformat.v4.new_output(
                "display_data",
                data={
                    "application/vnd.jupyter.widget-view+json": {
                        "version_major": 2,
                        "version_minor": 0,
                        "model_id": "m1",
                    },
                    "text/plain": "IntSlider(value=7, description='attempts')",
                },
            )
        ],
    )
    failing = nbformat.v4.new_code_cell(
        "deploy()",
        outputs=[
            nbformat.v4.new_output("error", ename="FleetError", evalue="1 of 2 hosts failed", traceback=["FleetError"])
        ],
    )
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Separate dev and prod"),
        params,
        injected,
        nbformat.v4.new_markdown_cell("## Deploy step"),
        chart,
        widget,
        failing,
    ]
    nb.metadata["widgets"] = WIDGET_STATE
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    return nb


SUMMARY = {
    "run_id": "20250101T000000000Z-abcdef",
    "runbook": "1-separate-dev-and-prod",
    "title": "Separate dev and prod",
    "params": {"dry_run": False, "ref": "v1.2"},
    "status": "failed",
    "started": "2025-01-01T00:00:00+00:00",
    "duration_s": 83.25,
    "changes": 3,
    "steps": ["Dev environment", "Deploy step"],
    "matrix": {"prod1": {"Dev environment": "ok", "Deploy step": "changed"}, "prod2": {"Deploy step": "failed"}},
    "figures": {"parity differences": 4},
    "error": {
        "cell": 7,
        "step": "Deploy step",
        "ename": "FleetError",
        "evalue": "1 of 2 hosts failed",
        "hosts": {"prod1": "ok", "prod2": "failed"},
    },
}


@pytest.mark.unit
def test_header_shows_runbook_status_duration_parameters_error_and_matrix():
    head = report.header(SUMMARY)
    assert "<h1>Separate dev and prod</h1>" in head and "1-separate-dev-and-prod" in head
    assert ">failed</span>" in head and "1 min 23.2 s" in head
    assert "<code>v1.2</code>" in head and "dry_run" in head
    assert "Step: Deploy step" in head and "prod2 (failed)" in head
    assert "parity differences" in head
    matrix = head[head.index("Hosts and steps") : head.index("Parameters")]
    assert all(word in matrix for word in ("prod1", "prod2", "Dev environment", "changed", "failed"))


@pytest.mark.unit
def test_what_the_runbook_says_must_be_read_first_stands_above_everything_else():
    note = "prod1: prod was edited in place (app.py). The deploy replaced the edit; it is saved as /r/prod1.patch"
    head = report.header({**SUMMARY, "notices": [note, "<script>x</script>"]})
    assert head.index("Read this first") < head.index("Hosts and steps") and note in head
    assert "<script>x</script>" not in head and "&lt;script&gt;" in head


@pytest.mark.unit
def test_report_hides_code_and_drops_the_injected_parameters_cell(executed):
    html = report.render(executed, SUMMARY)
    assert "injected_marker" not in html and "set-by-papermill" not in html
    # The code is in the page behind a toggle, hidden by default.
    assert "plot_marker" in html
    assert "#ladder-show-code:not(:checked) ~ main .jp-CodeCell .jp-Cell-inputWrapper { display: none; }" in html
    assert "<input type='checkbox' id='ladder-show-code'" in html
    assert "ladder-show-code" in re.search(r"<label[^>]*ladder-toggle[^>]*>", html).group(0)
    assert html.index("class='ladder-header'") < html.index("plot_marker")


@pytest.mark.unit
def test_a_cell_tagged_hide_in_report_stays_in_the_notebook_but_not_in_the_report(executed):
    hidden = nbformat.v4.new_code_cell("ladder.record('ok')")
    hidden.metadata["tags"] = [report.HIDDEN]
    hidden.outputs = [nbformat.v4.new_output("display_data", data={"text/html": "<h4>Result: ok (0 changes)</h4>"})]
    executed.cells.append(hidden)
    page = report.render(executed, SUMMARY)
    assert "Result: ok (0 changes)" not in page and "ladder.record" not in page
    assert executed.cells[-1].outputs  # the runner reads the record from the notebook, which keeps it


@pytest.mark.unit
def test_report_embeds_images_and_keeps_widget_state(executed):
    html = report.render(executed, SUMMARY)
    assert "data:image/png;base64," + executed.cells[4].outputs[0].data["image/png"][:40] in html
    assert "application/vnd.jupyter.widget-state+json" in html and '"IntSliderModel"' in html


@pytest.mark.unit
def test_report_of_a_notebook_without_widget_state_renders(executed):
    del executed.metadata["widgets"]
    html = report.render(executed, SUMMARY)
    assert "Separate dev and prod" in html


@pytest.mark.local
def test_report_is_redacted(executed, monkeypatch, tmp_path):
    monkeypatch.setenv("REGISTRY_PASSWORD", "pw-0123456789")
    executed.cells[6].outputs[0].evalue = "login failed for pw-0123456789"
    path = report.write(executed, dict(SUMMARY, params={"note": "pw-0123456789"}), tmp_path / "report.html")
    text = path.read_text()
    assert "pw-0123456789" not in text and "[redacted]" in text


@pytest.mark.unit
def test_a_successful_run_has_no_failure_block():
    head = report.header(dict(SUMMARY, status="ok", error=None))
    assert "Failure" not in head and ">ok</span>" in head


@pytest.mark.e2e
def test_a_step_with_a_long_command_fits_a_1000px_window(tmp_path):
    # A real run whose step table holds a 400-character command with nowhere a line may break.
    (tmp_path / "hosts" / "prod1").mkdir(parents=True)
    (tmp_path / "ladder.yml").write_text(
        "app: {name: shop, repo: repo}\n"
        "environments: {prod: {hosts: [{name: prod1, address: local, base: hosts/prod1}]}}\n"
        "runs: runs\n"
    )
    folder = "/".join(f"release{i:02d}withaverylongunbrokenname" for i in range(12))
    outcome = runner.run(
        BOOKS / "1-record-changes.ipynb", config=tmp_path / "ladder.yml", text_params={"folder": folder}
    )
    assert outcome.ok, outcome.error
    (change,) = outcome.summary["result"]["changes"]
    (command,) = change["commands"]
    assert len(command) > 400 and folder in command
    with open_page(outcome.report, width=1000) as viewed:
        assert viewed.page.get_by_text("mkdir -p --").count() == 1  # the step's table is in the page
        assert overflow(viewed.page) == {"page": 0, "table": 0}


@pytest.mark.e2e
def test_the_report_loads_nothing_runs_no_script_and_shows_code_on_a_click(executed, tmp_path):
    path = report.write(executed, SUMMARY, tmp_path / "report.html")
    with open_page(path) as viewed:
        code = viewed.page.get_by_text("plot_marker()")
        assert not code.is_visible()
        viewed.page.get_by_text("Show / hide code").click()
        assert code.is_visible()
        scripts = viewed.page.evaluate(
            "() => [...document.scripts].filter(s => !(s.type || '').startsWith('application/')).length"
        )
        assert scripts == 0 and viewed.requests == [] and viewed.dialogs == []
        assert [line for line in viewed.console if "Content Security Policy" in line] == []
        policy = viewed.page.evaluate(
            "() => document.querySelector('meta[http-equiv=Content-Security-Policy]').content"
        )
        assert policy == report.CSP


@pytest.mark.e2e
def test_hostile_file_names_on_prod_and_routes_in_the_repository_stay_text_in_the_rung_1_report(
    local_sandbox, tmp_path
):
    box = plant(local_sandbox)
    outcome = runner.run("1-separate-dev-and-prod", config=box.config_path, out_dir=tmp_path / "runs")
    assert outcome.ok, outcome.error
    assert_inert(outcome.report, (*FILES, ROUTE))
