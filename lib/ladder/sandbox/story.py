"""The story of how the team's app grew: its steps, early versions, hotfixes, noise and the abandoned redesign."""

from __future__ import annotations

ALL = "*"

# How the app grew, oldest first: (message, units revealed per file, early versions made final).
# A file's units are its top-level statements (.py), sections (.md) or lines (others).
PLAN: list[tuple[str, dict[str, list[str] | str], list[str]]] = [
    ("initial commit", {"README.md": ["# items"]}, []),
    (
        "hello world",
        {"app.py": ["doc", "json", "re", "INDEX_HTML", "index", "ROUTES", "ROUTES:index", "route", "application"]},
        [],
    ),
    ("add gunicorn", {"requirements.txt": ALL, "README.md": ["## Run"]}, []),
    ("gitignore", {".gitignore": ["__pycache__/", "*.pyc"]}, []),
    ("add health check", {"app.py": ["health", "ROUTES:health"]}, []),
    ("send content-length", {}, ["content-length"]),
    ("add sqlite storage", {"app.py": ["sqlite3", "closing", "SCHEMA", "connect"], ".gitignore": ["*.db"]}, []),
    ("add items endpoint", {"app.py": ["list_items", "ROUTES:list_items"]}, []),
    ("new home page", {}, ["home-page"]),
    ("create items", {"app.py": ["read_json", "create_item", "ROUTES:create_item"]}, []),
    ("get item by id", {"app.py": ["get_item", "ROUTES:get_item"]}, []),
    ("read db path from env", {"app.py": ["config"], "config.py": ["doc", "os", "DB_PATH"]}, ["db-path"]),
    ("only select the columns we need", {}, ["select-columns"]),
    ("Return 405 for wrong method", {}, ["405"]),
    ("utf-8 charset for html", {}, ["charset"]),
    ("version in /health", {"app.py": ["Path", "app_version"], "config.py": ["VERSION"]}, ["health-version"]),
    ("use re.fullmatch", {}, ["fullmatch"]),
    ("fall back to a VERSION file", {}, ["version-file"]),
    ("better error message", {}, ["name-error"]),
    ("readme: settings", {"README.md": ["## Settings"]}, []),
    ("secret key from env", {"config.py": ["SECRET_KEY"]}, ["readme-secret"]),
    ("ignore venv", {".gitignore": [".venv/"]}, []),
    ("APP_ENV setting", {"config.py": ["ENV"]}, ["readme-env"]),
    ("how to deploy", {"README.md": ["## Deploy"]}, []),
    (
        "structured request logs",
        {
            "app.py": [
                *("logging", "logging.handlers", "sys", "time", "uuid", "parse_qsl", "JsonFormatter"),
                *("SECRET_WORDS", "REQUEST_ID", "request_logger", "redact", "route_of", "with_request_id"),
                *("guarded", "log_request"),
            ],
            "config.py": ["socket", "LOG_FILE", "HOST"],
        },
        ["request-log"],
    ),
    (
        "prometheus metrics",
        {
            "app.py": [
                "CONTENT_TYPE_LATEST",
                "multiprocess",
                "REQUESTS",
                "LATENCY",
                "metrics",
                "ROUTES:metrics",
            ],
            "config.py": ["METRICS_DIR"],
            "gunicorn.conf.py": ALL,
            "README.md": ["## Metrics"],
        },
        ["metrics"],
    ),
    ("FAULT file to rehearse a bad release", {"app.py": ["fault"], "config.py": ["SLOW_SECONDS"]}, ["fault"]),
]

# Earlier versions of final lines: (file, final line stripped, earlier line stripped or None when absent).
EARLY: dict[str, list[tuple[str, str, str | None]]] = {
    "content-length": [
        (
            "app.py",
            'start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])',
            'start_response(status, [("Content-Type", content_type)])',
        )
    ],
    "home-page": [
        ("app.py", "<h1>Items</h1>", "<h1>Hello</h1>"),
        (
            "app.py",
            '<p>The list lives at <a href="/items">/items</a>. Status: <a href="/health">/health</a>.</p>',
            "<p>Hello, world.</p>",
        ),
    ],
    "db-path": [("app.py", "db = sqlite3.connect(config.DB_PATH)", 'db = sqlite3.connect("app.db")')],
    "select-columns": [
        (
            "app.py",
            'rows = db.execute("SELECT id, name, created_at FROM items ORDER BY id").fetchall()',
            'rows = db.execute("SELECT * FROM items").fetchall()',
        )
    ],
    "405": [
        ("app.py", "path_matched = False", None),
        ("app.py", "path_matched = True", None),
        (
            "app.py",
            'return None, (), "405 Method Not Allowed" if path_matched else "404 Not Found"',
            'return None, (), "404 Not Found"',
        ),
    ],
    "charset": [
        (
            "app.py",
            'body, content_type = payload.encode(), "text/html; charset=utf-8"',
            'body, content_type = payload.encode(), "text/html"',
        )
    ],
    "fullmatch": [
        (
            "app.py",
            r'match = re.fullmatch(re.sub(r"<\w+>", r"(\\d+)", pattern), path)',
            r'match = re.match("^" + re.sub(r"<\w+>", r"(\\d+)", pattern) + "$", path)',
        )
    ],
    "version-file": [
        ("app.py", 'version_file = Path(__file__).with_name("VERSION")', None),
        ("app.py", "if version_file.exists():", None),
        ("app.py", 'return version_file.read_text().strip() or "unknown"', None),
    ],
    "health-version": [
        ("app.py", 'return "200 OK", {"status": "ok", "version": app_version()}', 'return "200 OK", {"status": "ok"}')
    ],
    "name-error": [
        (
            "app.py",
            'return "400 Bad Request", {"error": \'send JSON like {"name": "milk"}\'}',
            'return "400 Bad Request", {"error": "bad request"}',
        )
    ],
    "request-log": [
        ("app.py", "started = time.perf_counter()", None),
        ("app.py", "status, payload = guarded(handler, environ, args)", "status, payload = handler(environ, *args)"),
        ("app.py", "start_response = with_request_id(environ, start_response)", None),
        ("app.py", "log_request(environ, status, payload, started)", None),
    ],
    "readme-secret": [("README.md", "- `APP_SECRET_KEY`: the secret key, set it in production", None)],
    "readme-env": [("README.md", "- `APP_ENV`: `development` or `production`", None)],
}

EARLY["metrics"] = [
    ("app.py", "if isinstance(payload, bytes):", None),
    ("app.py", "body, content_type = payload, CONTENT_TYPE_LATEST", None),
    ("app.py", "elif isinstance(payload, str):", "if isinstance(payload, str):"),
    ("app.py", 'name = handler.__name__ if handler else "none"', None),
    ("app.py", "REQUESTS.labels(method, name, status.split()[0]).inc()", None),
    ("app.py", "LATENCY.labels(method, name).observe(time.perf_counter() - started)", None),
]
EARLY["fault"] = [
    ("app.py", 'path = environ.get("PATH_INFO") or "/"', None),
    (
        "app.py",
        "handler, args, error = route(method, path)",
        'handler, args, error = route(method, environ.get("PATH_INFO") or "/")',
    ),
    ("app.py", "injected = fault(path)", None),
    ("app.py", 'if injected == "slow":', None),
    ("app.py", "time.sleep(config.SLOW_SECONDS)", None),
    ("app.py", 'elif injected == "error":', None),
    ("app.py", 'status, payload = "500 Internal Server Error", {"error": "fault injected by the FAULT file"}', None),
]

# Quick fixes made on prod and reverted later: (file, final line stripped, hotfixed line stripped).
HOTFIXES = [
    ("app.py", "db = sqlite3.connect(config.DB_PATH)", "db = sqlite3.connect(config.DB_PATH, timeout=30)"),
    (
        "app.py",
        'rows = db.execute("SELECT id, name, created_at FROM items ORDER BY id").fetchall()',
        'rows = db.execute("SELECT id, name, created_at FROM items ORDER BY id DESC LIMIT 100").fetchall()',
    ),
    (
        "config.py",
        'DB_PATH = os.environ.get("APP_DB_PATH", "app.db")',
        'DB_PATH = os.environ.get("APP_DB_PATH", "items.db")',
    ),
    ("app.py", 'return version_file.read_text().strip() or "unknown"', "return version_file.read_text()"),
]

TODOS = ["pagination", "auth", "move to postgres?", "validate input", "logging", "cache this", "tests"]
MESSAGES = {
    "typo-md": ["update readme", "readme", "docs"],
    "typo-py": ["comments", "tidy up docstrings", "docstrings"],
    "typo-close": ["fix typo", "fix typo", "typo", "fix typo in {path}"],
    "debug": ["debugging", "wip", "debug prod issue", "add debug output", "try to find the bug"],
    "debug-close": ["remove debug print", "cleanup", "remove prints", 'Revert "{open}"'],
    "todo": ["todo", "notes", "add todo"],
    "todo-close": ["remove old todo", "cleanup", "done"],
    "hotfix": ["hotfix prod", "hotfix", "quick fix for prod", "HOTFIX", "hotfix prod again"],
    "hotfix-close": ['Revert "{open}"'],
}

# The redesign that was started on a branch and never merged: (message, files written).
REDESIGN = [
    ("start redesign", {"static/style.css": "body { font-family: sans-serif; }\n"}),
    (
        "base template",
        {
            "templates/base.html": "<!doctype html>\n<html>\n<head>\n"
            '<link rel="stylesheet" href="/static/style.css">\n</head>\n'
            "<body>{{ content }}</body>\n</html>\n"
        },
    ),
    (
        "wip",
        {
            "static/style.css": "body { font-family: sans-serif; margin: 0 auto; max-width: 40em; }\n"
            "h1 { color: #335; }\n"
        },
    ),
    ("redesign home page", {"templates/index.html": '<h1>Items</h1>\n<ul id="items"></ul>\n'}),
    (
        "wip: nav bar",
        {
            "templates/base.html": "<!doctype html>\n<html>\n<head>\n"
            '<link rel="stylesheet" href="/static/style.css">\n</head>\n'
            '<body>\n<nav><a href="/">Home</a> <a href="/items">Items</a></nav>\n'
            "{{ content }}\n</body>\n</html>\n"
        },
    ),
    (
        "more redesign",
        {
            "static/style.css": "body { font-family: sans-serif; margin: 0 auto; max-width: 40em; }\n"
            "h1 { color: #335; }\nnav a { margin-right: 1em; }\n"
        },
    ),
]
