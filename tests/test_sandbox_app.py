"""Tests for ladder.sandbox.app: the app's files, called as WSGI and served from its seeded repo by real gunicorn."""

from __future__ import annotations

import ast
import importlib.util
import io
import json
import logging
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path
from wsgiref.util import setup_testing_defaults

import pytest
from prometheus_client import REGISTRY

from ladder.sandbox.app import app_files
from ladder.sandbox.repo import seed_repo
from ladder.sandbox.sshd import free_port


@pytest.mark.unit
def test_requirements_pin_the_installed_server_metrics_and_json_logger() -> None:
    assert app_files()["requirements.txt"] == "".join(
        f"{name}=={metadata.version(name)}\n" for name in ("gunicorn", "prometheus-client", "python-json-logger")
    )


@pytest.mark.unit
def test_routes_are_a_static_table_of_unversioned_literals() -> None:
    tree = ast.parse(app_files()["app.py"])
    table = next(n.value for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == "ROUTES")
    routes = {(e.elts[0].value, e.elts[1].value) for e in table.elts}
    assert routes == {
        ("GET", "/"),
        ("GET", "/health"),
        ("GET", "/metrics"),
        ("GET", "/items"),
        ("POST", "/items"),
        ("GET", "/items/<id>"),
    }


# --- the app itself, called as WSGI without a server ---


@pytest.fixture
def load_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Write the app to a folder and import it fresh, with the environment given."""
    src = tmp_path / "src"
    src.mkdir()
    for path, text in app_files().items():
        (src / path).write_text(text)
    monkeypatch.syspath_prepend(str(src))
    loaded: list = []

    def forget_metrics() -> None:
        """Each load registers the app's metrics again in prometheus_client's one default registry."""
        while loaded:
            module = loaded.pop()
            for metric in (module.REQUESTS, module.LATENCY):
                REGISTRY.unregister(metric)

    def load(**env: str):
        forget_metrics()
        for name in ("APP_DB_PATH", "APP_VERSION", "APP_SECRET_KEY", "APP_ENV", "PROMETHEUS_MULTIPROC_DIR"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("APP_DB_PATH", str(tmp_path / "items.db"))
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        sys.modules.pop("config", None)
        spec = importlib.util.spec_from_file_location("sandbox_items_app", src / "app.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        loaded.append(module)
        return module

    load.src = src
    yield load
    forget_metrics()
    sys.modules.pop("config", None)


def call(app, method: str, path: str, body: object = None) -> tuple[str, dict, bytes]:
    environ: dict = {}
    setup_testing_defaults(environ)
    environ.update(REQUEST_METHOD=method, PATH_INFO=path)
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        environ.update({"wsgi.input": io.BytesIO(data), "CONTENT_LENGTH": str(len(data))})
    seen: dict = {}
    out = b"".join(app.application(environ, lambda status, headers: seen.update(s=status, h=dict(headers))))
    assert int(seen["h"]["Content-Length"]) == len(out)
    return seen["s"], seen["h"], out


@pytest.mark.local
def test_health_reports_the_version_from_env_then_file_then_unknown(load_app) -> None:
    assert json.loads(call(load_app(), "GET", "/health")[2]) == {"status": "ok", "version": "unknown"}
    (load_app.src / "VERSION").write_text("2024.03.1\n")
    assert json.loads(call(load_app(), "GET", "/health")[2])["version"] == "2024.03.1"
    status, headers, body = call(load_app(APP_VERSION="abc123"), "GET", "/health")
    assert (status, headers["Content-Type"]) == ("200 OK", "application/json")
    assert json.loads(body) == {"status": "ok", "version": "abc123"}


@pytest.mark.local
def test_items_are_created_listed_and_fetched(load_app) -> None:
    app = load_app(APP_SECRET_KEY="s3cret-value")
    assert json.loads(call(app, "GET", "/items")[2]) == []
    status, _, body = call(app, "POST", "/items", {"name": " milk "})
    assert (status, json.loads(body)) == ("201 Created", {"id": 1, "name": "milk"})
    listed = json.loads(call(app, "GET", "/items")[2])
    assert [(i["id"], i["name"]) for i in listed] == [(1, "milk")]
    status, _, body = call(app, "GET", "/items/1")
    assert status == "200 OK" and json.loads(body)["name"] == "milk"


@pytest.mark.local
def test_bad_requests_get_clear_statuses(load_app) -> None:
    app = load_app()
    assert call(app, "GET", "/items/7")[0] == "404 Not Found"
    assert call(app, "GET", "/items/abc")[0] == "404 Not Found"
    assert call(app, "GET", "/nope")[0] == "404 Not Found"
    assert call(app, "DELETE", "/items")[0] == "405 Method Not Allowed"
    assert call(app, "POST", "/items", b"not json")[0] == "400 Bad Request"
    assert call(app, "POST", "/items", {"name": ""})[0] == "400 Bad Request"


def wsgi(app, path: str, query: str = "", **headers: str) -> tuple[str, dict]:
    """Call the app with a query string and HTTP_* headers; its status and response headers."""
    environ: dict = {}
    setup_testing_defaults(environ)
    environ.update(REQUEST_METHOD="GET", PATH_INFO=path, QUERY_STRING=query, **headers)
    seen: dict = {}

    def start_response(status, response_headers, *exc_info):
        seen.update(status=status, headers=dict(response_headers))

    b"".join(app.application(environ, start_response))
    return seen["status"], seen["headers"]


@pytest.mark.local
def test_each_request_is_one_json_log_line_with_no_secret(load_app, tmp_path) -> None:
    log = tmp_path / "app.log"
    logging.getLogger("app.requests").handlers.clear()  # the logger outlives each fresh import of the app
    app = load_app(APP_LOG_FILE=str(log), APP_HOST="prod9", APP_VERSION="1.2.3", APP_SECRET_KEY="k-3f9a")
    secret = {"HTTP_AUTHORIZATION": "Bearer tok-8c1d", "HTTP_COOKIE": "session=ck-77e2"}
    status, headers = wsgi(
        app, "/items/5", "password=pw-19ab&api_token=tk-4e0c&page=2", HTTP_X_REQUEST_ID="req-1", **secret
    )
    assert status.startswith("404") and headers["X-Request-Id"] == "req-1"
    status, headers = wsgi(app, "/items/" + "9" * 30, HTTP_X_REQUEST_ID="not a valid id")
    assert status.startswith("500") and len(headers["X-Request-Id"]) == 32  # replaced by a fresh one
    logging.getLogger("app.requests").handlers[0].flush()
    text = log.read_text()
    first, second = (json.loads(line) for line in text.splitlines())
    assert {k: first[k] for k in ("request_id", "method", "route", "status", "version", "host", "error")} == {
        "request_id": "req-1",
        "method": "GET",
        "route": "/items/<id>",
        "status": 404,
        "version": "1.2.3",
        "host": "prod9",
        "error": "no item 5",
    }
    assert first["query"] == {"password": "[redacted]", "api_token": "[redacted]", "page": "2"}
    assert first["latency_ms"] >= 0 and first["timestamp"]
    assert (first["level"], second["level"], second["status"]) == ("INFO", "ERROR", 500)
    assert second["error"] == "internal error (OverflowError)"
    for value in ("pw-19ab", "tk-4e0c", "tok-8c1d", "ck-77e2", "k-3f9a"):
        assert value not in text
    logging.getLogger("app.requests").handlers.clear()


@pytest.mark.local
def test_home_page_is_html(load_app) -> None:
    status, headers, body = call(load_app(), "GET", "/")
    assert status == "200 OK" and headers["Content-Type"].startswith("text/html")
    assert b'href="/items"' in body


def sample(text: str, name: str, **labels: str) -> float:
    """One sample's value from Prometheus' text format, 0 when absent."""
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


@pytest.mark.local
def test_metrics_count_requests_by_handler_and_status_with_latency(load_app) -> None:
    app = load_app()
    call(app, "GET", "/items")
    call(app, "GET", "/items/9")
    status, headers, body = call(app, "GET", "/metrics")
    assert status == "200 OK" and headers["Content-Type"].startswith("text/plain")
    text = body.decode()
    assert sample(text, "app_requests_total", method="GET", handler="list_items", status="200") == 1
    assert sample(text, "app_requests_total", method="GET", handler="get_item", status="404") == 1
    assert sample(text, "app_request_duration_seconds_count", method="GET", handler="list_items") == 1


@pytest.mark.local
def test_fault_file_fails_or_slows_the_named_route_but_never_health(load_app) -> None:
    app = load_app(APP_SLOW_SECONDS="0.2")
    (load_app.src / "FAULT").write_text("error /items\n")
    assert call(app, "GET", "/items")[0] == "500 Internal Server Error"
    assert call(app, "GET", "/")[0] == "200 OK"
    assert call(app, "GET", "/health")[0] == "200 OK"
    (load_app.src / "FAULT").write_text("slow\n")
    started = time.perf_counter()
    assert call(app, "GET", "/")[0] == "200 OK"
    slow = time.perf_counter() - started
    (load_app.src / "FAULT").unlink()
    started = time.perf_counter()
    call(app, "GET", "/")
    assert slow > time.perf_counter() - started  # read per request: no restart needed
    text = call(app, "GET", "/metrics")[2].decode()
    assert sample(text, "app_requests_total", handler="list_items", status="500") == 1


# --- the seeded repo served by a real gunicorn over real HTTP ---


def http(method: str, url: str, body: dict | None = None) -> tuple[int, object]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


@pytest.fixture
def served(tmp_path: Path):
    """The seeded repo served by gunicorn on a free loopback port; yields (base url, repo, log file)."""
    repo = seed_repo(tmp_path / "items")
    port = free_port()
    log = tmp_path / "gunicorn.log"
    env = {
        **os.environ,
        "APP_DB_PATH": str(tmp_path / "items.db"),
        "APP_SECRET_KEY": "s3cret-value",
        "APP_ENV": "production",
        "APP_VERSION": "seeded-1",
    }
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--chdir",
                str(repo),
                "app:application",
                "-b",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, f"gunicorn exited early:\n{log.read_text()}"
            try:
                http("GET", url + "/health")
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, f"gunicorn did not answer:\n{log.read_text()}"
                time.sleep(0.1)
        yield url, repo, log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.mark.local
def test_gunicorn_serves_health_and_items_over_http(served) -> None:
    url, repo, log = served
    assert http("GET", url + "/health") == (200, {"status": "ok", "version": "seeded-1"})
    status, created = http("POST", url + "/items", {"name": "bread"})
    assert status == 201 and created["name"] == "bread"
    status, items = http("GET", url + "/items")
    assert status == 200 and [i["name"] for i in items] == ["bread"]
    assert http("GET", f"{url}/items/{created['id']}")[1]["name"] == "bread"
    assert "s3cret-value" not in log.read_text()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)
    porcelain = subprocess.run(["git", "status", "--porcelain"], cwd=repo, env=env, capture_output=True, text=True)
    assert porcelain.returncode == 0 and porcelain.stdout == ""  # bytecode and db stay out of git's way


# --- metrics shared by the worker processes of gunicorn and uWSGI (prometheus_client's multiprocess mode) ---


@pytest.fixture(params=["gunicorn", "uwsgi"])
def two_workers(request, tmp_path: Path):
    """The seeded repo served by two worker processes of gunicorn or uWSGI; yields (url, metrics folder)."""
    from ladder.app.layout import Layout
    from ladder.sandbox.servers import uwsgi_ini

    lay = Layout(str(tmp_path))
    seed_repo(Path(lay.app))
    Path(lay.logs).mkdir()
    metrics = Path(lay.metrics)
    metrics.mkdir(parents=True)
    (metrics / "counter_999999.db").write_bytes(b"left by a previous run")
    port = free_port()
    env = {**os.environ, "APP_DB_PATH": str(tmp_path / "items.db"), "PROMETHEUS_MULTIPROC_DIR": str(metrics)}
    env["APP_SLOW_SECONDS"] = "0.2"  # so that concurrent requests keep both workers busy
    (Path(lay.app) / "FAULT").write_text("slow /items\n")
    if request.param == "uwsgi":
        ini = tmp_path / "uwsgi.ini"
        ini.write_text(uwsgi_ini(lay, port, "app:application", daemonize=False))
        argv = [str(Path(sys.executable).with_name("uwsgi")), "--ini", str(ini)]
    else:
        argv = [sys.executable, "-m", "gunicorn", "--chdir", lay.app, "app:application", "-b", f"127.0.0.1:{port}"]
        argv += ["--workers", "2"]
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        # gunicorn reads gunicorn.conf.py from its working directory, as the sandbox starts it.
        proc = subprocess.Popen(
            argv, cwd=lay.app, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, f"{request.param} exited early:\n{log.read_text()}"
            try:
                http("GET", url + "/health")
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, f"{request.param} did not answer:\n{log.read_text()}"
                time.sleep(0.1)
        yield url, metrics
    finally:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait(timeout=10)


@pytest.mark.local
def test_metrics_sum_every_worker_under_gunicorn_and_uwsgi(two_workers) -> None:
    url, metrics = two_workers
    assert not (metrics / "counter_999999.db").exists()  # emptied as the server started
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: http("GET", url + "/items"), range(20)))
    pids = {f.stem.rsplit("_", 1)[1] for f in metrics.glob("counter_*.db")}
    assert len(pids) == 2, f"expected both workers to have served requests, got files for {pids}"
    for _ in range(4):  # whichever worker answers the scrape reports the sum of both
        with urllib.request.urlopen(url + "/metrics", timeout=10) as response:
            text = response.read().decode()
        assert sample(text, "app_requests_total", method="GET", handler="list_items", status="200") == 20
        assert sample(text, "app_request_duration_seconds_count", method="GET", handler="list_items") == 20


@pytest.mark.local
def test_a_usr2_upgrade_keeps_the_counts_of_the_old_workers(tmp_path: Path) -> None:
    from ladder.app import service
    from ladder.app.layout import Layout
    from ladder.core.hosts import LocalHost

    host, lay = LocalHost("web", str(tmp_path)), Layout(str(tmp_path))
    seed_repo(Path(lay.app))
    Path(lay.logs).mkdir()
    Path(lay.env_file).write_text(f"APP_DB_PATH={tmp_path}/items.db\nPROMETHEUS_MULTIPROC_DIR={lay.metrics}\n")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    try:
        service.start(
            host,
            chdir=lay.app,
            python=sys.executable,
            port=port,
            wsgi="app:application",
            env_file=lay.env_file,
            pid_file=lay.pid_file,
            logs=lay.logs,
        )
        for _ in range(3):
            assert http("GET", url + "/items")[0] == 200
        old = service.get_process(host, lay.pid_file)
        assert old is not None
        host.run(f"kill -USR2 {old.pid}")  # the new master runs gunicorn.conf.py's on_starting again
        deadline = time.monotonic() + 30
        while not service.is_running(host, lay.pid_file + ".2"):
            assert time.monotonic() < deadline, Path(lay.logs, "error.log").read_text()
            time.sleep(0.1)
        host.run(f"kill -QUIT {old.pid}")
        while (new := service.get_process(host, lay.pid_file)) is None or new.pid == old.pid:
            assert time.monotonic() < deadline, Path(lay.logs, "error.log").read_text()
            time.sleep(0.1)
        with urllib.request.urlopen(url + "/metrics", timeout=10) as response:
            text = response.read().decode()
        assert sample(text, "app_requests_total", method="GET", handler="list_items", status="200") == 3
    finally:
        service.stop(host, lay.pid_file)
