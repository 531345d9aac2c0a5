"""The pytest suite rung 2 adds to the team's app: a smoke test of every route through the WSGI app, and a lock file.

The smoke tests call the app in process through Werkzeug's test client (a real WSGI client, no server), one
test per declared route, so a route that raises or answers 5xx fails the suite. An app exporting Prometheus
metrics also gets a test that its /metrics counts the requests it serves: canary analysis reads those counts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from .routepaths import PROBE, exemption
from .routes import Route

SMOKE = "tests/test_routes.py"
CONFTEST = "tests/conftest.py"
FLAGS_TEST = "tests/test_flags.py"
METRICS_TEST = "tests/test_metrics.py"
METRICS_PATH = "/metrics"
DEV_REQUIREMENTS = "requirements-dev.txt"
PYTEST_INI = "pytest.ini"
# The dev requirements, locked: pytest and Werkzeug with everything they pull in, so every developer and the
# pre-push hook run the same versions.
LOCKED = (
    "pytest==9.2.0",
    "iniconfig==2.3.1",
    "packaging==26.4",
    "pluggy==1.7.0",
    "Pygments==2.21.0",
    "Werkzeug==3.1.3",
    "MarkupSafe==3.0.4",
)

CONFTEST_TEXT = '''"""Test settings: the app's database in a temporary folder, the app importable from the repository root."""

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SCRATCH = tempfile.mkdtemp(prefix="app-tests-")
atexit.register(shutil.rmtree, SCRATCH, True)  # the run's database and flags go with it
os.environ["APP_DB_PATH"] = os.path.join(SCRATCH, "app.db")
os.environ.setdefault("APP_ENV", "test")
os.environ.setdefault("APP_FLAGS_FILE", os.path.join(SCRATCH, "flags.json"))
'''

SMOKE_HEAD = '''"""Smoke tests: every route answers through the WSGI app, without a server error."""

import json

import pytest
from werkzeug.test import Client

from {module} import {app} as application

ROUTES = [
{routes}]


@pytest.fixture
def client():
    return Client(application)


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_route_answers(client, method, path):
    body = json.dumps({{"name": "smoke test"}}) if method in ("POST", "PUT", "PATCH") else None
    response = client.open(path, method=method, data=body, content_type="application/json")
    assert response.status_code < 500, response.get_data(as_text=True)[:500]


def test_an_unknown_path_is_not_found(client):
    assert client.get("/no-such-path-for-smoke-tests").status_code == 404
'''

METRICS_TEST_TEXT = '''"""The metrics endpoint: Prometheus' text format, and it counts every request the app serves."""

import pytest
from prometheus_client.parser import text_string_to_metric_families
from werkzeug.test import Client

from {module} import {app} as application

PATHS = [
{paths}]


@pytest.fixture
def client():
    return Client(application)


def counted(client):
    """The sum of every counter the app exports on {metrics}."""
    response = client.get("{metrics}")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.headers["Content-Type"].startswith("text/plain")
    families = text_string_to_metric_families(response.get_data(as_text=True))
    return sum(s.value for f in families if f.type == "counter" for s in f.samples if s.name.endswith("_total"))


def test_each_request_is_counted(client):
    before = counted(client)
    for path in PATHS:
        client.get(path)
    assert counted(client) - before >= len(PATHS)
'''

FLAGS_TEST_TEXT = '''"""Unit test of the flags provider: a flag is on only where the environment's flags file says so."""

import json

from flags import FileProvider


def test_a_flag_is_read_from_the_file_and_missing_means_off(tmp_path):
    path = tmp_path / "flags.json"
    provider = FileProvider(str(path))
    assert provider.resolve_boolean_details("redesign", False).value is False
    path.write_text(json.dumps({"redesign": True}))
    assert provider.resolve_boolean_details("redesign", False).value is True
    assert provider.resolve_boolean_details("other", False).value is False
'''


def example_path(path: str) -> str:
    """A concrete path for a route pattern: each <parameter> or {parameter} becomes 1."""
    return re.sub(r"<[^>]+>|\{[^}]+\}", "1", path)


def smoke_text(found: Sequence[Route], wsgi: str) -> str:
    """The smoke test module for these routes, importing the app from wsgi ('module:callable')."""
    module, _, app = wsgi.partition(":")
    pairs = sorted({(r.method.upper(), example_path(r.path)) for r in found})
    lines = "".join(f"    ({m!r}, {p!r}),\n" for m, p in pairs)
    return SMOKE_HEAD.format(module=module, app=app or "application", routes=lines)


def metrics_text(files: Mapping[str, str], found: Sequence[Route], wsgi: str) -> str | None:
    """The metrics test module when the app serves GET /metrics with prometheus_client, else None."""
    gets = sorted({example_path(r.path) for r in found if r.method.upper() in ("GET", "*")})
    exports = any(p.endswith(".py") and "prometheus_client" in text for p, text in files.items())
    if METRICS_PATH not in gets or not exports:
        return None
    # The app's own pages, not its probes: an app may leave /health out of its request counts.
    paths = [p for p in gets if exemption(p) != PROBE] or [p for p in gets if p != METRICS_PATH]
    module, _, app = wsgi.partition(":")
    lines = "".join(f"    {p!r},\n" for p in paths)
    return METRICS_TEST_TEXT.format(module=module, app=app or "application", paths=lines, metrics=METRICS_PATH)


def suite_files(files: Mapping[str, str], found: Sequence[Route], wsgi: str) -> dict[str, str]:
    """The files to add (path -> text): smoke tests, the metrics test, conftest, pytest.ini, the dev lock; {} when there."""
    if SMOKE in files:
        return {}
    metrics = metrics_text(files, found, wsgi)
    return {
        **({METRICS_TEST: metrics} if metrics else {}),
        SMOKE: smoke_text(found, wsgi),
        CONFTEST: CONFTEST_TEXT,
        PYTEST_INI: "[pytest]\ntestpaths = tests\naddopts = -p no:cacheprovider\n",
        DEV_REQUIREMENTS: "# Test tools, locked (rung 2). Install: pip install -r requirements-dev.txt\n-r requirements.txt\n"
        + "".join(f"{line}\n" for line in LOCKED),
    }


def flags_test(files: Mapping[str, str]) -> dict[str, str]:
    """The flags provider's unit test, to land with the flags; {} when already there."""
    return {} if FLAGS_TEST in files else {FLAGS_TEST: FLAGS_TEST_TEXT}
