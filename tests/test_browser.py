"""The browser harness itself, on a notebook with one widget of each kind: set, read, click, and a clean stop."""

from __future__ import annotations

import pytest

from browser import chromium, jupyter_lab, open_notebook

pytestmark = pytest.mark.e2e

WIDGETS = "tests/lab/widgets.ipynb"


def test_the_harness_sets_reads_and_clicks_widgets_then_stops_lab_and_kernels(tmp_path, request):
    with jupyter_lab(tmp_path, ("tests/lab",), wait=False) as lab:
        with chromium(lab, tmp_path, request) as page:
            nb = open_notebook(page, lab, WIDGETS)
            nb.run_all()
            assert (nb.selected("Environment"), nb.selected("Mode"), nb.selected("Size")) == ("dev", "dry run", "small")
            nb.choose("prod", within="Environment")
            nb.choose("apply", within="Mode")
            nb.choose("large", within="Size")
            assert (nb.selected("Environment"), nb.selected("Mode"), nb.selected("Size")) == ("prod", "apply", "large")
            nb.click("Show the choices")
            nb.wait_for_text("chose prod, apply, large")  # the kernel saw every choice
            assert "chose prod, apply, large" in nb.output(2)
            assert [k["execution_state"] for k in lab.api("kernels")] == ["idle"]
        assert not (lab.root / "notebooks").exists() and (lab.root / WIDGETS).is_file()  # a copy, never the repo's
    assert lab.process.poll() is not None
    assert not list((tmp_path / "jupyter" / "runtime").glob("kernel-*.json"))  # every kernel shut down
