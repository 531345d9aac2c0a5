"""The HTTP smoke suite against a real server on loopback: routes answer below 500, /health names the version."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest

from ladder.app import http_smoke
from ladder.app.routes import Route


class Quiet(WSGIRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/health":
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps({"status": "ok", "version": "1.2.0"}).encode()]
    if path == "/broken":
        start_response("500 Internal Server Error", [])
        return [b"boom"]
    if path.startswith("/items"):
        start_response("201 Created" if environ["REQUEST_METHOD"] == "POST" else "200 OK", [])
        return [b"[]"]
    start_response("404 Not Found", [])
    return [b""]


@pytest.fixture
def base() -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, handler_class=Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


ROUTES = [
    Route("GET", "/items", "app.py", 1),
    Route("POST", "/items", "app.py", 2),
    Route("*", "/items/<id>", "app.py", 3),
]


@pytest.mark.unit
def test_each_declared_route_is_asked_once_with_a_concrete_path():
    assert http_smoke.requests_for([*ROUTES, ROUTES[0]]) == [("GET", "/items"), ("GET", "/items/1"), ("POST", "/items")]


@pytest.mark.local
def test_a_healthy_app_of_the_expected_version_passes(base):
    report = http_smoke.run(base, ROUTES, "/health", "1.2.0")
    assert report.ok, report.summary()
    assert [(p.method, p.path, p.status) for p in report.probes] == [
        ("GET", "/health", 200), ("GET", "/items", 200), ("GET", "/items/1", 200), ("POST", "/items", 201)
    ]  # fmt: skip
    assert "4 check(s) passed" in report.summary()


@pytest.mark.local
def test_a_route_answering_500_or_another_version_fails_naming_it(base):
    report = http_smoke.run(base, [*ROUTES, Route("GET", "/broken", "app.py", 9)], "/health", "1.3.0")
    assert not report.ok
    assert {(p.path, p.error) for p in report.failed} == {
        ("/broken", "HTTP 500"), ("/health", "reports version '1.2.0', not '1.3.0'")
    }  # fmt: skip
    assert "GET /broken: HTTP 500" in report.summary()


@pytest.mark.local
def test_nothing_listening_is_a_failure_not_an_exception():
    report = http_smoke.run("http://127.0.0.1:9", ROUTES[:1], "/health", "1.0")
    assert not report.ok and all(p.status is None and p.error.startswith("no answer") for p in report.probes)
