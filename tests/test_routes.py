"""ladder.app.routes: routes found by reading source, and which of them carry no version prefix."""

import pytest

from gitrepo import GitRepo
from ladder.app import routes
from ladder.core.errors import NotARepository
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
        ("GET", "/metrics"),
        ("GET", "/items"),
        ("POST", "/items"),
        ("GET", "/items/<id>"),
    }
    assert {r.path for r in routes.unversioned(found)} == {"/items", "/items/<id>"}
    frame = routes.table(found)
    assert list(frame.columns) == ["method", "path", "status", "note", "declared at"]
    assert frame["status"].tolist() == ["unversioned"] * 3 + ["exempt"] * 3
    assert frame.loc[frame["path"] == "/health", "note"].iloc[0].startswith("operational")
    assert all(at.startswith("app.py:") for at in frame["declared at"])


@pytest.mark.local
def test_scan_reads_what_is_committed_on_trunk(tmp_path):
    repo = GitRepo(tmp_path / "repo", branch="master")
    repo.commit(
        {
            "good.py": TABLE_APP,
            "broken.py": 'def (:\n    app.get("/legacy", f)\n',  # no Python 3: read line by line
            ".venv/lib.py": 'X = ("GET", "/vendored")\n',
            "tests/test_app.py": 'R = [("GET", "/fixture", f)]\n',
        }
    )
    (repo.path / "draft.py").write_text('R = [("GET", "/draft", f)]\n')  # not committed: not deployed either
    repo.branch("feature")
    repo.commit({"feature.py": 'R = [("GET", "/feature", f)]\n'})
    assert {r.path for r in routes.scan(repo.path)} == {"/", "/health", "/items", "/v1/items", "/legacy"}


@pytest.mark.local
def test_scan_of_a_folder_that_is_no_repository(tmp_path):
    with pytest.raises(NotARepository):
        routes.scan(tmp_path)


@pytest.mark.local
def test_scan_of_a_missing_repo_says_which_setting(tmp_path):
    with pytest.raises(FileNotFoundError, match="app.repo in ladder.yml"):
        routes.scan(tmp_path / "nope")


@pytest.mark.unit
def test_why_text_explains_versioning():
    assert "/v1/" in routes.WHY and "/health" in routes.WHY


@pytest.mark.unit
def test_other_shapes_are_found():
    source = """
DISPATCH = {"/items": list_items, "/orders": {"GET": orders, "POST": add_order}, "/not-a-route": 3}
BY_METHOD = {("GET", "/users"): users}
urlpatterns = [path("api/v1/items/", views.items), re_path(r"^v2/x$", v), path("", views.home)]
open("/etc/hosts")
"""
    found = {(r.method, r.path) for r in routes.parse_routes(source)}
    assert found == {
        ("*", "/items"),
        ("GET", "/orders"),
        ("POST", "/orders"),
        ("GET", "/users"),
        ("*", "/api/v1/items/"),
        ("*", "/v2/x"),
        ("*", "/"),
    }


@pytest.mark.unit
def test_other_languages_are_read_by_line():
    source = "app.get('/items', list)\nrouter.post(\"/v1/orders\", add)\nconst x = '/etc/hosts'\n"
    assert [(r.method, r.path, r.line) for r in routes.parse_source(source, "server.js")] == [
        ("GET", "/items", 1),
        ("POST", "/v1/orders", 2),
    ]


@pytest.mark.unit
def test_a_route_with_a_versioned_successor_is_deprecated_not_unversioned():
    found = routes.parse_routes(TABLE_APP.replace('("POST", "/v1/items", create_item)', '("GET", "/v1/items", f)'))
    assert routes.statuses(found) == ["exempt", "exempt", "deprecated", "versioned"]
    assert routes.unversioned(found) == []
    frame = routes.table(found)
    assert frame["status"].tolist() == ["deprecated", "versioned", "exempt", "exempt"]
    assert frame["note"][0] == "kept for old callers, marked deprecated; successor /v1/items"


@pytest.mark.unit
def test_one_count_of_public_routes():
    found = routes.parse_routes(TABLE_APP)  # GET /items unversioned, POST /v1/items versioned
    counted = routes.count(found)
    assert (counted.versioned, counted.unversioned, counted.exempt) == (
        ("POST /items",),
        ("GET /items",),
        ("/", "/health"),
    )
    assert (
        counted.summary()
        == "1 of 2 public routes carry a version (/, /health not counted: operational or the home page)"
    )
    assert counted.score == 5
    assert routes.count([]).score is None and routes.count([]).summary() == "0 of 0 public routes carry a version"
    # A route under a version counts once, whether or not its old path still answers.
    both = routes.parse_routes('R = [("GET", "/items", f), ("GET", "/v1/items", f), ("GET", "/api/v2/users", u)]')
    assert routes.count(both).versioned == ("GET /api/users", "GET /items")


@pytest.mark.unit
def test_a_value_read_with_get_is_no_route():
    source = '''
def tagged(pdf):
    """True when the document root has /MarkInfo with /Marked true."""
    info = pdf.Root.get("/MarkInfo")
    return bool(info and info.get("/Marked", False))

@app.get("/reports")
def reports(): ...
'''
    assert {r.path for r in routes.parse_routes(source, "pdfs.py")} == {"/reports"}


@pytest.mark.unit
def test_examples_docs_and_tests_are_not_the_apps_routes_but_are_counted_apart():
    texts = {
        "app/api.py": '@app.get("/v1/items")\ndef a(): ...\n',
        "examples/minimal/main.py": '@app.get("/hello")\ndef h(): ...\n',
        "docs_src/tutorial/app.py": '@app.post("/items")\ndef c(): ...\n',
        "docs/conf.py": 'html_static_path = ["/static"]\n',
        "tests/conftest.py": '@app.get("/fixture")\ndef f(): ...\n',
        "app/test_api.py": 'client.get("/items")\n',
        "node_modules/x/index.js": "app.get('/vendored', f)\n",
    }
    assert [r.path for r in routes.found_in(texts)] == ["/v1/items"]
    assert sorted(r.path for r in routes.aside_in(texts)) == ["/fixture", "/hello", "/items"]


@pytest.mark.unit
def test_a_graphql_endpoint_is_left_out_with_its_reason():
    counted = routes.count(routes.parse_routes('urlpatterns = [path("graphql/", view), path("orders/", o)]'))
    assert counted.unversioned == ("* /orders/",) and counted.exempt == ("/graphql/",) and counted.graphql
    assert counted.summary().endswith("(/graphql/ not counted: operational, the home page or GraphQL)")
