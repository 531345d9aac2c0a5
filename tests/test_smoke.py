"""ladder.app.smoke: the pytest suite rung 2 adds to an app, one smoke test per declared route."""

from __future__ import annotations

import ast
import os
import subprocess
import sys

import pytest

from ladder.app import routes, smoke
from ladder.sandbox.app import app_files


@pytest.mark.unit
def test_the_smoke_suite_names_every_route_of_the_app():
    files = app_files()
    added = smoke.suite_files(files, routes.found_in(files), "app:application")
    assert set(added) == {smoke.SMOKE, smoke.METRICS_TEST, smoke.CONFTEST, smoke.PYTEST_INI, smoke.DEV_REQUIREMENTS}
    tree = ast.parse(added[smoke.SMOKE])
    listed = next(n.value for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == "ROUTES")
    assert ast.literal_eval(listed) == [
        ("GET", "/"),
        ("GET", "/health"),
        ("GET", "/items"),
        ("GET", "/items/1"),
        ("GET", "/metrics"),
        ("POST", "/items"),
    ]
    assert "from app import application as application" in added[smoke.SMOKE]
    assert "from werkzeug.test import Client" in added[smoke.SMOKE]


@pytest.mark.unit
def test_the_dev_requirements_are_locked_on_top_of_the_apps():
    text = smoke.suite_files({}, [], "app:application")[smoke.DEV_REQUIREMENTS]
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert lines[0] == "-r requirements.txt" and all("==" in line for line in lines[1:])
    assert {line.split("==")[0].lower() for line in lines[1:]} >= {"pytest", "werkzeug", "markupsafe", "pluggy"}


@pytest.mark.unit
def test_nothing_is_added_twice():
    assert smoke.suite_files({smoke.SMOKE: "..."}, [], "app:application") == {}
    assert smoke.flags_test({smoke.FLAGS_TEST: "..."}) == {}
    assert smoke.example_path("/items/<id>/parts/{part}") == "/items/1/parts/1"


@pytest.mark.unit
def test_a_metrics_test_only_for_an_app_serving_prometheus_client_s_metrics():
    files = app_files()
    found = routes.found_in(files)
    text = smoke.metrics_text(files, found, "app:application")
    assert text is not None and "PATHS = [\n    '/',\n    '/items',\n    '/items/1',\n]" in text  # no probe
    without_client = {p: t.replace("prometheus_client", "other_client") for p, t in files.items()}
    assert smoke.metrics_text(without_client, found, "app:application") is None
    no_route = [r for r in found if r.path != smoke.METRICS_PATH]
    assert smoke.metrics_text(files, no_route, "app:application") is None


@pytest.mark.local
def test_the_suite_passes_on_the_sandbox_app_and_leaves_no_temporary_folder(tmp_path):
    files = app_files()
    repo, scratch = tmp_path / "app", tmp_path / "tmp"
    scratch.mkdir()
    for path, text in {**files, **smoke.suite_files(files, routes.found_in(files), "app:application")}.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    env = {**os.environ, "TMPDIR": str(scratch)}
    env.pop("PYTHONPATH", None)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:xdist"], cwd=repo, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert list(scratch.iterdir()) == []  # the run's database and flags file went with it
