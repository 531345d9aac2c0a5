"""Items: a small web app that keeps a list of items."""

import json
import logging
import logging.handlers
import re
import sqlite3
import sys
import time
import uuid
from contextlib import closing
from pathlib import Path
from urllib.parse import parse_qsl

from pythonjsonlogger.json import JsonFormatter

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import multiprocess

import config

SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
)
"""

REQUESTS = Counter("app_requests", "HTTP requests served.", ["method", "handler", "status"])
LATENCY = Histogram("app_request_duration_seconds", "Time spent serving a request.", ["method", "handler"])

INDEX_HTML = """<!doctype html>
<html>
<head><meta charset="utf-8"><title>Items</title></head>
<body>
<h1>Items</h1>
<p>The list lives at <a href="/items">/items</a>. Status: <a href="/health">/health</a>.</p>
</body>
</html>
"""


def connect():
    """Open the database, creating the table on first use."""
    db = sqlite3.connect(config.DB_PATH)
    db.row_factory = sqlite3.Row
    db.execute(SCHEMA)
    return db


def app_version():
    """The running version: APP_VERSION, else the VERSION file, else unknown."""
    if config.VERSION:
        return config.VERSION
    version_file = Path(__file__).with_name("VERSION")
    if version_file.exists():
        return version_file.read_text().strip() or "unknown"
    return "unknown"


def fault(path):
    """The fault switched on for this path by the FAULT file next to the app: "error", "slow" or None.

    The file holds a kind and an optional path, like "error /items": a release carrying it is a bad release.
    """
    fault_file = Path(__file__).with_name("FAULT")
    try:
        kind, _, only = fault_file.read_text().strip().partition(" ")
    except OSError:
        return None
    if kind in ("error", "slow") and only.strip() in ("", path) and path not in ("/health", "/metrics"):
        return kind
    return None


def read_json(environ):
    """The request body parsed as JSON, or None when it is not JSON."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        return json.loads(environ["wsgi.input"].read(length) or b"null")
    except ValueError:
        return None


def index(environ):
    """Home page."""
    return "200 OK", INDEX_HTML


def health(environ):
    """Liveness check for the load balancer."""
    return "200 OK", {"status": "ok", "version": app_version()}


def metrics(environ):
    """Prometheus metrics, summed over every worker process when they share config.METRICS_DIR."""
    if not config.METRICS_DIR:
        return "200 OK", generate_latest(REGISTRY)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return "200 OK", generate_latest(registry)


def list_items(environ):
    """All items, oldest first."""
    with closing(connect()) as db:
        rows = db.execute("SELECT id, name, created_at FROM items ORDER BY id").fetchall()
    return "200 OK", [dict(row) for row in rows]


def create_item(environ):
    """Add an item from a JSON body like {"name": "milk"}."""
    data = read_json(environ)
    name = data.get("name") if isinstance(data, dict) else None
    if not isinstance(name, str) or not name.strip():
        return "400 Bad Request", {"error": 'send JSON like {"name": "milk"}'}
    with closing(connect()) as db, db:
        cursor = db.execute("INSERT INTO items (name) VALUES (?)", (name.strip(),))
    return "201 Created", {"id": cursor.lastrowid, "name": name.strip()}


def get_item(environ, item_id):
    """One item by id."""
    with closing(connect()) as db:
        row = db.execute(
            "SELECT id, name, created_at FROM items WHERE id = ?", (int(item_id),)
        ).fetchone()
    if row is None:
        return "404 Not Found", {"error": f"no item {item_id}"}
    return "200 OK", dict(row)


ROUTES = [
    ("GET", "/", index),
    ("GET", "/health", health),
    ("GET", "/metrics", metrics),
    ("GET", "/items", list_items),
    ("POST", "/items", create_item),
    ("GET", "/items/<id>", get_item),
]


def route(method, path):
    """The handler and URL arguments for a request, or the error status."""
    path_matched = False
    for route_method, pattern, handler in ROUTES:
        match = re.fullmatch(re.sub(r"<\w+>", r"(\\d+)", pattern), path)
        if match:
            path_matched = True
            if route_method == method:
                return handler, match.groups(), None
    return None, (), "405 Method Not Allowed" if path_matched else "404 Not Found"


SECRET_WORDS = ("password", "passwd", "token", "secret", "key", "auth", "cookie", "session", "credential")
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def request_logger():
    """One JSON line per request, to APP_LOG_FILE (reopened after logrotate moves it) or stderr."""
    logger = logging.getLogger("app.requests")
    if not logger.handlers:
        if config.LOG_FILE:
            handler = logging.handlers.WatchedFileHandler(config.LOG_FILE)
        else:
            handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(
            JsonFormatter("%(levelname)s %(message)s", rename_fields={"levelname": "level"}, timestamp=True)
        )
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger


def redact(values):
    """Values of secret-looking keys replaced, so nothing secret reaches the logs."""
    return {
        k: "[redacted]" if any(word in k.lower() for word in SECRET_WORDS) else v
        for k, v in values.items()
    }


def route_of(path):
    """The route pattern a path matches (/items/<id>), so logs group by route, not by URL."""
    for _, pattern, _ in ROUTES:
        if re.fullmatch(re.sub(r"<\w+>", r"(\\d+)", pattern), path):
            return pattern
    return "unmatched"


def with_request_id(environ, start_response):
    """Take the caller's X-Request-Id (or make one), keep it for the log and echo it back."""
    given = environ.get("HTTP_X_REQUEST_ID", "")
    environ["app.request_id"] = given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex

    def start(status, headers, *exc_info):
        return start_response(status, headers + [("X-Request-Id", environ["app.request_id"])], *exc_info)

    return start


def guarded(handler, environ, args):
    """Run a handler; an unexpected error is a 500 naming its kind, never a traceback to the client."""
    try:
        return handler(environ, *args)
    except Exception as exc:  # the request fails, the worker lives on, and the log says what broke
        return "500 Internal Server Error", {"error": f"internal error ({type(exc).__name__})"}


def log_request(environ, status, payload, started):
    """Log the request as one JSON line: no header, no body, and secret-looking query values redacted."""
    code = int(status.split()[0])
    fields = {
        "request_id": environ.get("app.request_id"),
        "method": environ.get("REQUEST_METHOD", "GET"),
        "route": route_of(environ.get("PATH_INFO") or "/"),
        "status": code,
        "latency_ms": round((time.perf_counter() - started) * 1000, 3),
        "version": app_version(),
        "host": config.HOST,
        "env": config.ENV,
        "query": redact(dict(parse_qsl(environ.get("QUERY_STRING", "")))),
    }
    if code >= 400 and isinstance(payload, dict):
        fields["error"] = str(payload.get("error", status))
    request_logger().log(logging.ERROR if code >= 500 else logging.INFO, "request", extra=fields)


def application(environ, start_response):
    """WSGI entry point."""
    started = time.perf_counter()
    method = environ.get("REQUEST_METHOD", "GET")
    path = environ.get("PATH_INFO") or "/"
    handler, args, error = route(method, path)
    injected = fault(path)
    if injected == "slow":
        time.sleep(config.SLOW_SECONDS)
    if handler is None:
        status, payload = error, {"error": error}
    elif injected == "error":
        status, payload = "500 Internal Server Error", {"error": "fault injected by the FAULT file"}
    else:
        status, payload = guarded(handler, environ, args)
    if isinstance(payload, bytes):
        body, content_type = payload, CONTENT_TYPE_LATEST
    elif isinstance(payload, str):
        body, content_type = payload.encode(), "text/html; charset=utf-8"
    else:
        body, content_type = json.dumps(payload).encode(), "application/json"
    start_response = with_request_id(environ, start_response)
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    name = handler.__name__ if handler else "none"
    REQUESTS.labels(method, name, status.split()[0]).inc()
    LATENCY.labels(method, name).observe(time.perf_counter() - started)
    log_request(environ, status, payload, started)
    return [body]
