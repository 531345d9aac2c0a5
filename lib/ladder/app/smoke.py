"""The pytest suite rung 2 adds to the team's app: a smoke test of every route through the WSGI app, and a lock file.

The smoke tests call the app in process through Werkzeug's test client (a real WSGI client, no server), one
test per declared route, so a route that raises or answers 5xx fails the suite.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from .routes import Route

SMOKE = "tests/test_routes.py"
CONFTEST = "tests/conftest.py"
FLAGS_TEST = "tests/test_flags.py"
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

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["APP_DB_PATH"] = os.path.join(tempfile.mkdtemp(prefix="app-tests-"), "app.db")
os.environ.setdefault("APP_ENV", "test")
os.environ.setdefault("APP_FLAGS_FILE", os.path.join(tempfile.mkdtemp(prefix="app-flags-"), "flags.json"))
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


def suite_files(files: Mapping[str, str], found: Sequence[Route], wsgi: str) -> dict[str, str]:
    """The files to add (path -> text): smoke tests, conftest, pytest.ini, the dev lock; {} when already there."""
    if SMOKE in files:
        return {}
    return {
        SMOKE: smoke_text(found, wsgi),
        CONFTEST: CONFTEST_TEXT,
        PYTEST_INI: "[pytest]\ntestpaths = tests\naddopts = -p no:cacheprovider\n",
        DEV_REQUIREMENTS: "# Test tools, locked (rung 2). Install: pip install -r requirements-dev.txt\n-r requirements.txt\n"
        + "".join(f"{line}\n" for line in LOCKED),
    }


def flags_test(files: Mapping[str, str]) -> dict[str, str]:
    """The flags provider's unit test, to land with the flags; {} when already there."""
    return {} if FLAGS_TEST in files else {FLAGS_TEST: FLAGS_TEST_TEXT}
