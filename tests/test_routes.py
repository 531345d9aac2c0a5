"""ladder.app.routes: routes found by reading source, and which of them carry no version prefix."""

import subprocess

import pytest

from ladder.app import routes
from ladder.sandbox.repo import seed_repo

TABLE_APP = """
ROUTES = [
    ("GET", "/", index),
    ("GET", "/health", health),
    ("GET", "/items", list_items),
    ("POST", "/v1/items", create_item),
]
"""

FLASK_APP = """
from flask import Flask
app = Flask(__name__)

@app.route("/orders", methods=["GET", "POST"])
def orders():
    pass

@app.get("/api/v2/users/<id>")
def user(id):
    pass

app.add_url_rule("/legacy", view_func=orders)
LOG_PATH = "/var/log/app.log"  # a path, not a route
"""


@pytest.mark.unit
def test_route_tables_are_found():
    found = routes.parse_routes(TABLE_APP, "app.py")
    assert [(r.method, r.path, r.line) for r in found] == [
        ("GET", "/", 3),
        ("GET", "/health", 4),
        ("GET", "/items", 5),
        ("POST", "/v1/items", 6),
    ]
    assert [r.status for r in found] == ["exempt", "exempt", "unversioned", "versioned"]


@pytest.mark.unit
def test_decorators_and_calls_are_found_and_other_strings_ignored():
    found = {(r.method, r.path) for r in routes.parse_routes(FLASK_APP, "web.py")}
    assert found == {("GET", "/orders"), ("POST", "/orders"), ("GET", "/api/v2/users/<id>"), ("*", "/legacy")}


@pytest.mark.unit
@pytest.mark.parametrize(
    "path, versioned",
    [
        ("/v1/items", True),
        ("/v12", True),
        ("/api/v3/x", True),
        ("/v1.2/x", True),
        ("/items", False),
        ("/version", False),
        ("/video/v1", False),
    ],
)
def test_version_prefix(path, versioned):
    assert routes.Route("GET", path, "f.py", 1).versioned is versioned


@pytest.mark.local
def test_scan_of_the_team_app(tmp_path):
    repo = seed_repo(tmp_path / "app")
    found = routes.scan(repo)
    assert {(r.method, r.path) for r in found} == {
        ("GET", "/"),
        ("GET", "/health"),
        ("GET", "/items"),
        ("POST", "/items"),
        ("GET", "/items/<id>"),
    }
    assert {r.path for r in routes.unversioned(found)} == {"/items", "/items/<id>"}
    frame = routes.table(found)
    assert list(frame.columns) == ["method", "path", "status", "note", "declared at"]
    assert frame["status"].tolist() == ["unversioned"] * 3 + ["exempt"] * 2
    assert frame.loc[frame["path"] == "/health", "note"].iloc[0].startswith("operational")
    assert all(at.startswith("app.py:") for at in frame["declared at"])


@pytest.mark.local
def test_scan_skips_broken_and_untracked_files(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "good.py").write_text(TABLE_APP)
    (repo / "broken.py").write_text("def (:\n")
    (repo / ".venv").mkdir()
    (repo / ".venv" / "lib.py").write_text('X = ("GET", "/vendored")\n')
    # Not a git repo: every .py outside tool folders is read.
    assert {r.path for r in routes.scan(repo)} == {"/", "/health", "/items", "/v1/items"}
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "add", "broken.py"], check=True)
    # A git repo: only tracked files are read (and the broken one is skipped).
    assert routes.scan(repo) == []


@pytest.mark.local
def test_scan_of_a_missing_repo_says_which_setting(tmp_path):
    with pytest.raises(FileNotFoundError, match="app.repo in ladder.yml"):
        routes.scan(tmp_path / "nope")


@pytest.mark.unit
def test_why_text_explains_versioning():
    assert "/v1/" in routes.WHY and "/health" in routes.WHY


@pytest.mark.unit
def test_one_policy_for_what_may_stay_unversioned():
    assert routes.exemption("/") == routes.HOME
    assert routes.exemption("/health") == routes.exemption("/metrics/") == routes.PROBE
    assert routes.exemption("/items") is None
    assert routes.is_versioned("/v1/items") and routes.is_versioned("/api/v2") and not routes.is_versioned("/items/v1")
