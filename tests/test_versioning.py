"""ladder.app.versioning: the /v1 edit planned on apps of several shapes, the middleware it writes, run as WSGI,
and rung 1's route-versions step on a real sandbox: dry run, apply, deploy, real HTTP, apply again."""

from __future__ import annotations

import ast
import urllib.error
import urllib.request
from datetime import date
from wsgiref.util import setup_testing_defaults

import pytest

from gitrepo import git
from ladder import load_config
from ladder.app import routes, versioning
from ladder.assess.evidence import gather_repo_evidence
from ladder.rungs import rung1

NOW = 1718000000

WSGI_APP = '''"""A plain WSGI app with a route table, like the sandbox's."""
import re


def items(environ):
    return "200 OK", "items"


def item(environ, item_id):
    return "200 OK", "item " + item_id


def health(environ):
    return "200 OK", "ok"


ROUTES = [
    ("GET", "/health", health),
    ("GET", "/items", items),
    ("GET", "/items/<id>", item),
]


def application(environ, start_response):
    for method, pattern, handler in ROUTES:
        match = re.fullmatch(re.sub(r"<\\w+>", "([^/]+)", pattern), environ["PATH_INFO"])
        if match and method == environ["REQUEST_METHOD"]:
            status, body = handler(environ, *match.groups())
            start_response(status, [("Content-Type", "text/plain")])
            return [body.encode()]
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"no"]


if __name__ == "__main__":
    from wsgiref.simple_server import make_server

    make_server("", 8000, application).serve_forever()
'''

DICT_APP = """
HANDLERS = {
    "/": home,
    "/orders": {"GET": list_orders, "POST": add_order},
    "/metrics": metrics,
}

def application(environ, start_response):
    return dispatch(HANDLERS, environ, start_response)
"""

FLASK_APP = """from flask import Flask

app = Flask(__name__)


@app.route("/orders", methods=["GET", "POST"])
def orders():
    return "orders"


@app.get("/health")
def health():
    return "ok"


def legacy():
    return "legacy"


app.add_url_rule("/legacy", view_func=legacy)
"""


def call(app, path: str, method: str = "GET") -> tuple[str, dict[str, str], bytes]:
    """One request to a WSGI app in this process: status, headers, body."""
    environ: dict = {}
    setup_testing_defaults(environ)
    environ.update(PATH_INFO=path, REQUEST_METHOD=method)
    got: dict = {}
    body = b"".join(app(environ, lambda status, headers, exc_info=None: got.update(status=status, headers=headers)))
    return got["status"], dict(got["headers"]), body


def load(text: str) -> dict:
    """Run a module's text and return its namespace (the app under test, edited or not)."""
    space: dict = {"__name__": "team_app"}
    exec(compile(text, "app.py", "exec"), space)
    return space


@pytest.mark.unit
def test_a_route_table_gets_v1_entries_and_the_old_paths_answer_deprecated():
    plan = versioning.plan({"app.py": WSGI_APP}, "app:application", now=NOW)
    assert [str(r) for r in plan.todo] == ["GET /items", "GET /items/<id>"]
    assert plan.table()["new path"].tolist() == ["/v1/items", "/v1/items/<id>"]
    new = plan.new["app.py"]
    assert '    ("GET", "/v1/items", items),\n    ("GET", "/items", items),' in new
    assert new.index("application = deprecation_headers(application)") < new.index('if __name__ == "__main__":')
    assert '+    ("GET", "/v1/items/<id>", item),' in plan.diff()

    app = load(new)["application"]
    assert call(app, "/v1/items/7") == ("200 OK", {"Content-Type": "text/plain"}, b"item 7")
    status, headers, body = call(app, "/items/7")
    assert (status, body) == ("200 OK", b"item 7")
    assert headers["Deprecation"] == f"@{NOW}" and headers["Link"] == '</v1/items/7>; rel="successor-version"'
    assert "Sunset" not in headers
    assert "Deprecation" not in call(app, "/health")[1]
    assert routes.count(routes.found_in(plan.new)).summary().startswith("2 of 2 public routes carry a version")


@pytest.mark.unit
def test_a_second_plan_changes_nothing_and_a_new_route_joins_the_same_middleware():
    once = versioning.plan({"app.py": WSGI_APP}, "app:application", now=NOW).new["app.py"]
    again = versioning.plan({"app.py": once}, "app:application", now=NOW + 60)
    assert not again.edits and not again.todo and again.summary().endswith("Nothing to version.")

    grown = once.replace(
        '    ("GET", "/health", health),\n', '    ("GET", "/health", health),\n    ("GET", "/users", items),\n'
    )
    later = versioning.plan({"app.py": grown}, "app:application", now=NOW + 60).new["app.py"]
    assert later.count("def deprecation_headers(") == 1 and later.count("= deprecation_headers(") == 1
    assert load(later)["DEPRECATED_PATHS"] == {"/items": f"@{NOW}", "/items/<id>": f"@{NOW}", "/users": f"@{NOW + 60}"}


@pytest.mark.unit
def test_sunset_is_sent_when_a_date_is_given():
    plan = versioning.plan({"app.py": WSGI_APP}, "app:application", now=NOW, sunset=date(2030, 1, 31))
    headers = call(load(plan.new["app.py"])["application"], "/items")[1]
    assert headers["Sunset"] == "Thu, 31 Jan 2030 00:00:00 GMT"


@pytest.mark.unit
def test_a_dispatch_dict_gets_v1_keys():
    plan = versioning.plan({"app.py": DICT_APP}, "app:application", now=NOW)
    new = plan.new["app.py"]
    assert '    "/v1/orders": {"GET": list_orders, "POST": add_order},\n    "/orders":' in new
    assert 'DEPRECATED_PATHS = {\n    "/orders"' in new
    found = routes.found_in(plan.new)
    assert routes.unversioned(found) == [] and routes.count(found).versioned == ("GET /orders", "POST /orders")


@pytest.mark.unit
def test_one_line_tables_get_their_twin_on_the_same_line():
    source = 'R = [("GET", "/a", a), ("GET", "/b", b)]\n\ndef application(environ, start_response):\n    pass\n'
    new = versioning.plan({"app.py": source}, "app:application", now=NOW).new["app.py"]
    assert new.startswith('R = [("GET", "/v1/a", a), ("GET", "/a", a), ("GET", "/v1/b", b), ("GET", "/b", b)]\n')


@pytest.mark.unit
def test_flask_routes_get_a_second_rule_and_the_app_the_middleware():
    plan = versioning.plan({"app.py": FLASK_APP}, "app:app", now=NOW)
    new = plan.new["app.py"]
    # The /v1 rule goes under the old one, so it is registered first and url_for() builds /v1 URLs.
    assert '@app.route("/orders", methods=["GET", "POST"])\n@app.route("/v1/orders", methods=["GET", "POST"])\n' in new
    assert 'app.add_url_rule("/legacy", view_func=legacy)\napp.add_url_rule("/v1/legacy", view_func=legacy)\n' in new
    assert '@app.get("/v1/health")' not in new
    assert new.rstrip().endswith("app.wsgi_app = deprecation_headers(app.wsgi_app)")
    paths = next(
        n.value for n in ast.parse(new).body if isinstance(n, ast.Assign) and n.targets[0].id == "DEPRECATED_PATHS"
    )
    assert ast.literal_eval(paths) == {"/orders": f"@{NOW}", "/legacy": f"@{NOW}"}


@pytest.mark.unit
@pytest.mark.parametrize(
    "files, wsgi, reason",
    [
        (
            {"main.py": 'from fastapi import FastAPI\napp = FastAPI()\n\n@app.get("/items")\ndef items(): ...\n'},
            "main:app",
            "main.py defines app as neither a plain WSGI function nor a Flask app",
        ),
        (
            {
                "app.py": "from flask import Flask\nfrom shop import bp\napp = Flask(__name__)\napp.register_blueprint(bp)\n",
                "shop.py": 'from flask import Blueprint\nbp = Blueprint("shop", __name__)\n\n@bp.route("/items")\n'
                "def items(): ...\n",
            },
            "app:app",
            "* /items at shop.py:4 is declared in a way Ladder does not edit (decorator)",
        ),
        (
            {"app.py": 'R = [("GET", "/items", items)]\n'},
            "wsgi:application",
            "its WSGI entry module (wsgi.py or wsgi/__init__.py, from app.wsgi 'wsgi:application') is not in the repo",
        ),
        (
            {"app.py": 'R = [("GET", "/it" "ems", items)]\n\ndef application(environ, start_response): ...\n'},
            "app:application",
            "is not written out plainly at app.py:1",
        ),
    ],
    ids=["fastapi", "flask-blueprint", "no-entry-module", "implicit-concatenation"],
)
def test_apps_ladder_cannot_edit_safely_get_instructions_instead(files, wsgi, reason):
    plan = versioning.plan(files, wsgi, now=NOW)
    assert plan.todo and not plan.edits and plan.diff() == ""
    assert reason in plan.manual
    assert "Deprecation: @<unix time of the change> (RFC 9745)" in plan.manual
    assert 'rel="successor-version"' in plan.manual and "Sunset" in plan.manual
    assert f"/items -> /v1/items   ({plan.todo[0].file}:{plan.todo[0].line})" in plan.manual
    assert plan.table()["old path answers"].tolist() == ["by hand (see below)"]
    assert "version the routes by hand" in plan.summary()


@pytest.mark.unit
def test_the_commit_message_says_what_moved_and_why():
    message = versioning.plan({"app.py": WSGI_APP}, "app:application", now=NOW).message()
    subject, blank, *body = message.splitlines()
    assert subject == "Serve the public routes under /v1; old paths answer with a Deprecation header" and not blank
    assert "  GET /items -> /v1/items" in body and "  GET /items/<id> -> /v1/items/<id>" in body
    assert any("RFC 9745" in line for line in body) and 'step "Route versions"' in message


@pytest.mark.unit
def test_the_written_middleware_is_plain_python_without_imports_at_module_level():
    new = versioning.plan({"app.py": WSGI_APP}, "app:application", now=NOW).new["app.py"]
    assert new.count("\nimport ") == WSGI_APP.count("\nimport ")  # the team's imports are left alone
    ast.parse(new)


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return resp.status, dict(resp.headers), resp.read()


@pytest.mark.ssh
def test_route_versions_on_a_real_sandbox(ssh_sandbox, tmp_path):
    box = ssh_sandbox
    cfg = load_config(box.config_path)
    base = f"http://127.0.0.1:{cfg.app_port(cfg.host_config('prod1'))}"
    head = git(box.repo, "rev-parse", "master")

    def assessed():
        (res,) = gather_repo_evidence(box.repo, checks=["versioned-routes"])
        return res

    before = rung1.route_report(cfg)
    assert (
        before.summary()
        == "0 of 3 public routes carry a version (/, /health, /metrics not counted: operational or the home page)."
    )
    assert assessed().reason + "." == before.summary()

    plan = rung1.version_routes(cfg, "master")
    assert plan.edits and not plan.committed and '+    ("GET", "/v1/items", list_items),' in plan.diff()
    assert git(box.repo, "rev-parse", "master") == head and git(box.repo, "status", "--porcelain") == ""

    applied = rung1.version_routes(cfg, "master", dry_run=False)
    master = git(box.repo, "rev-parse", "master")
    assert applied.committed == master and git(box.repo, "rev-parse", "master^") == head
    assert git(box.repo, "log", "-1", "--format=%s") == applied.message().splitlines()[0]
    assert git(box.repo, "status", "--porcelain") == ""
    with pytest.raises(urllib.error.HTTPError, match="404"):  # prod serves the old code until the deploy
        get(base + "/v1/items")

    edits = rung1.save_prod_edits(cfg, str(tmp_path / "run"))
    rung1.deploy_prod(cfg, "master", edits, dry_run=False)
    rung1.verify_prod(cfg, "master", dry_run=False)
    status, headers, body = get(base + "/v1/items")
    assert status == 200 and "Deprecation" not in headers
    status, headers, old_body = get(base + "/items")
    assert status == 200 and old_body == body
    assert headers["Deprecation"] == applied.new["app.py"].split('"/items": "', 1)[1].split('"', 1)[0]
    assert headers["Deprecation"].startswith("@") and headers["Link"] == '</v1/items>; rel="successor-version"'
    assert "Deprecation" not in get(base + "/health")[1]
    status, headers, _ = get(base + "/metrics")  # operational like /health: unversioned, no successor
    assert status == 200 and "Deprecation" not in headers
    with pytest.raises(urllib.error.HTTPError, match="404"):
        get(base + "/v1/metrics")

    after = rung1.route_report(cfg)
    assert after.summary().startswith("3 of 3 public routes carry a version")
    assert assessed().reason + "." == after.summary() and assessed().score == 10

    again = rung1.version_routes(cfg, "master", dry_run=False)
    assert not again.edits and not again.committed and git(box.repo, "rev-parse", "master") == master
