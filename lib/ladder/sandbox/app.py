"""The team from the story: a small web app in a git repo with months of seeded history."""

from __future__ import annotations

import ast
import os
import random
import re
import subprocess
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path

from ..core.errors import SeedError

TEMPLATE = Path(__file__).with_name("template")
AUTHOR = "Sam Solo <sam@example.com>"
MASTER = "master"
STALE_BRANCH = "feature/redesign"
HISTORY_DAYS = 182
FORK_DAYS_AGO = 120
SEED = 1312  # the shape of the history is fixed; only its dates move with `now`
NOISE_PAIRS = 50
GIT_TIMEOUT = 60
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
    "readme-secret": [("README.md", "- `APP_SECRET_KEY`: the secret key, set it in production", None)],
    "readme-env": [("README.md", "- `APP_ENV`: `development` or `production`", None)],
}

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


def app_files() -> dict[str, str]:
    """The app's final tree: relative path -> content (requirements pin the installed gunicorn)."""
    files = {
        p.relative_to(TEMPLATE).as_posix(): p.read_text()
        for p in sorted(TEMPLATE.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }
    files["requirements.txt"] = f"gunicorn=={_gunicorn_version()}\n"
    return files


def seed_repo(path: Path, *, now: datetime | None = None) -> Path:
    """Create the team's git repo at `path`: ~6 months of history ending at `now`, master checked out."""
    path = Path(path)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise SeedError("exists and is not an empty folder; pass a new path or remove it", path=path)
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    master = master_history(app_files())
    stream = _fast_import_stream(master, now)
    path.mkdir(parents=True, exist_ok=True)
    _git(path, "init", "-q", f"--initial-branch={MASTER}", ".")
    _git(path, "fast-import", "--quiet", "--done", input=stream)
    _git(path, "reset", "--hard", "-q", MASTER)
    return path


def line_units(path: str, text: str) -> list[str]:
    """Name the unit each line of a final file belongs to; a commit reveals whole units."""
    lines = text.splitlines()
    if path.endswith(".py"):
        units: list[str | None] = _python_units(text, lines)
    elif path.endswith(".md"):
        section = None
        units = []
        for line in lines:
            section = line if line.startswith("#") else section
            units.append(section if line.strip() else None)
    else:
        units = [line if line.strip() else None for line in lines]
    return _attach_blank_lines(units)


def _python_units(text: str, lines: list[str]) -> list[str | None]:
    """Top-level statements of a module, plus one unit per entry of its ROUTES table."""
    units: list[str | None] = [None] * len(lines)
    for node in ast.parse(text).body:
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) - 1
        while start > 0 and lines[start - 1].lstrip().startswith("#"):
            start -= 1
        name = _node_name(node)
        units[start : node.end_lineno] = [name] * (node.end_lineno - start)
        if name == "ROUTES" and isinstance(node, ast.Assign) and isinstance(node.value, ast.List | ast.Tuple):
            for entry in node.value.elts:
                if isinstance(entry, ast.Tuple) and isinstance(entry.elts[-1], ast.Name):
                    units[entry.lineno - 1] = f"ROUTES:{entry.elts[-1].id}"
    return units


def _node_name(node: ast.stmt) -> str:
    """A readable name for a top-level statement."""
    if isinstance(node, ast.Expr):
        return "doc"
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return node.names[0].asname or node.names[0].name
    if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id
    return getattr(node, "name", f"line {node.lineno}")


def _attach_blank_lines(units: list[str | None]) -> list[str]:
    """Give blank lines to the unit that follows them (the last unit for trailing ones)."""
    following: str | None = None
    for i in reversed(range(len(units))):
        units[i] = following = units[i] or following
    last = next((u for u in reversed(units) if u), "")
    return [u or last for u in units]


class _History:
    """The app's files as master grows: final lines, which are revealed so far, and how they differ."""

    def __init__(self, files: dict[str, str]) -> None:
        self.final = {p: t.splitlines() for p, t in files.items()}
        self.units = {p: line_units(p, t) for p, t in files.items()}
        self.revealed: set[tuple[str, str]] = set()
        self.early_keys = {name: [(p, self.find(p, final)) for p, final, _ in lines] for name, lines in EARLY.items()}
        self.early: dict[tuple[str, int], str | None] = {
            key: None if earlier is None else self.indent(*key, earlier)
            for name, lines in EARLY.items()
            for key, (_, _, earlier) in zip(self.early_keys[name], lines)
        }
        self.noise: dict[tuple[str, int], tuple[str, str]] = {}
        self.commits: list[tuple[str, dict[str, str]]] = []
        self.rng = random.Random(SEED)

    def tree(self) -> dict[str, str]:
        """Render every file as it is now."""
        tree = {}
        for path, lines in self.final.items():
            out = []
            for i, line in enumerate(lines):
                if (path, self.units[path][i]) not in self.revealed:
                    continue
                kind, text = self.noise.get((path, i), ("", ""))
                if kind == "insert":
                    out.append(text)
                early = self.early.get((path, i), line)
                if early is not None:
                    out.append(text if kind == "replace" else early)
            while out and not out[0].strip():
                out.pop(0)
            if out:
                tree[path] = "\n".join(out) + "\n"
        return tree

    def commit(self, message: str) -> None:
        """Record the current tree as the next commit."""
        tree = self.tree()
        if self.commits and tree == self.commits[-1][1]:
            raise RuntimeError(f"seeded commit {message!r} changes nothing; fix PLAN in {__name__}")
        self.commits.append((message, tree))

    def grow(self, message: str, reveal: dict[str, list[str] | str], finalize: list[str]) -> None:
        """One PLAN step, sometimes preceded by a "wip" commit holding half of it."""
        units = [
            (p, u) for p, names in reveal.items() for u in (dict.fromkeys(self.units[p]) if names == ALL else names)
        ]
        unknown = [u for u in units if u[1] not in self.units[u[0]]]
        if unknown:
            raise ValueError(f"PLAN step {message!r} names units the template lacks: {unknown}")
        if len(units) >= 4 and self.rng.random() < 0.4:
            self.revealed.update(units[: len(units) // 2])
            self.commit("wip")
        self.revealed.update(units)
        for key in (k for name in finalize for k in self.early_keys[name]):
            del self.early[key]
        self.commit(message)

    def open_noise(self) -> tuple[tuple[str, int], str] | None:
        """Commit one transient change (typo, debug print, todo, hotfix); return its line and closing message."""
        kinds = ["typo", "debug", "todo", "hotfix"]
        first = self.rng.choices(kinds, weights=[3, 3, 2, 2])[0]
        for kind in [first] + [k for k in kinds if k != first]:
            candidates = self.noise_candidates(kind)
            if not candidates:
                continue
            path, i, change, text = self.rng.choice(candidates)
            self.noise[(path, i)] = (change, text)
            opening = (kind + ("-md" if path.endswith(".md") else "-py")) if kind == "typo" else kind
            message = self.rng.choice(MESSAGES[opening])
            self.commit(message)
            return (path, i), self.rng.choice(MESSAGES[f"{kind}-close"]).format(path=path, open=message)
        return None

    def close_noise(self, key: tuple[str, int], message: str) -> None:
        """Commit the undoing of a transient change."""
        del self.noise[key]
        self.commit(message)

    def noise_candidates(self, kind: str) -> list[tuple[str, int, str, str]]:
        """Lines a transient change of `kind` could touch now: (file, line, insert|replace, new text)."""
        found = []
        for path, lines in self.final.items():
            for i, line in enumerate(lines):
                if not self.free(path, i):
                    continue
                if kind == "typo" and _prose(path, line) and (typo := _typo(line, i)):
                    found.append((path, i, "replace", typo))
                elif kind == "todo" and path.endswith(".py") and line.startswith("def "):
                    found.append((path, i, "insert", f"# TODO: {TODOS[i % len(TODOS)]}"))
                elif (
                    kind == "debug"
                    and path.endswith(".py")
                    and line.startswith("def ")
                    and lines[i + 1].strip().startswith('"""')
                    and self.free(path, i + 2)
                ):
                    name = line[4 : line.index("(")]
                    found.append((path, i + 2, "insert", self.indent(path, i + 2, f'print("DEBUG {name}")')))
                elif kind == "hotfix":
                    found += [
                        (path, i, "replace", self.indent(path, i, new))
                        for p, old, new in HOTFIXES
                        if p == path and line.strip() == old
                    ]
        return found

    def find(self, path: str, stripped: str) -> int:
        """The index of the one final line of `path` that reads `stripped`."""
        hits = [i for i, line in enumerate(self.final[path]) if line.strip() == stripped]
        if len(hits) != 1:
            raise ValueError(f"{path}: expected one line {stripped!r}, found {len(hits)}; fix EARLY in {__name__}")
        return hits[0]

    def indent(self, path: str, i: int, text: str) -> str:
        """`text` indented like final line i of `path`."""
        line = self.final[path][i]
        return line[: len(line) - len(line.lstrip())] + text

    def free(self, path: str, i: int) -> bool:
        """Whether line i is visible as its final self and untouched by noise."""
        return (
            (path, self.units[path][i]) in self.revealed and (path, i) not in self.early and (path, i) not in self.noise
        )


def _prose(path: str, line: str) -> bool:
    """Whether a line is prose a typo could hide in: a docstring, a comment, or README text."""
    if path.endswith(".py"):
        return line.strip().startswith(('"""', "#"))
    return path.endswith(".md") and bool(line.strip()) and not line.startswith(("#", "    "))


def _typo(line: str, i: int) -> str | None:
    """`line` with two letters of one of its long words swapped, or None when it has none."""
    words = list(re.finditer(r"[a-z]{6,}", line))
    if not words:
        return None
    j = words[(i * 7) % len(words)].start() + 2
    return None if line[j] == line[j + 1] else line[:j] + line[j + 1] + line[j] + line[j + 2 :]


def master_history(files: dict[str, str]) -> list[tuple[str, dict[str, str]]]:
    """The master branch as (message, tree) pairs, oldest first: PLAN steps among transient noise."""
    history = _History(files)
    actions = ["grow"] * (len(PLAN) - 2) + ["noise"] * NOISE_PAIRS
    history.rng.shuffle(actions)
    plan = iter(PLAN)
    closes: list[tuple[int, tuple[str, int], str]] = []
    for step, action in enumerate(["grow", "grow"] + actions):
        for due in [c for c in closes if c[0] <= step]:
            closes.remove(due)
            history.close_noise(*due[1:])
        if action == "grow":
            history.grow(*next(plan))
        elif opened := history.open_noise():
            closes.append((step + history.rng.randint(1, 6), *opened))
    for _, key, message in closes:
        history.close_noise(key, message)
    left = {p: sorted({u for u in units if (p, u) not in history.revealed}) for p, units in history.units.items()}
    if any(left.values()):  # the template grew beyond PLAN
        history.grow("more changes", {p: units for p, units in left.items() if units}, [])
    if history.commits[-1][1] != files:
        raise RuntimeError(f"seeded history does not end at the template app; fix EARLY in {__name__}")
    return history.commits


def _fast_import_stream(master: list[tuple[str, dict[str, str]]], now: datetime) -> bytes:
    """A `git fast-import` stream: master spread over HISTORY_DAYS up to `now`, plus the stale branch."""
    rng = random.Random(SEED + 1)
    end = int(now.timestamp())
    span = HISTORY_DAYS * 86400
    times = sorted(end - span + int(rng.random() * (span - 3600)) for _ in range(len(master) - 2))
    times = [end - span] + times + [end]
    fork = max(i for i, t in enumerate(times) if t <= end - FORK_DAYS_AGO * 86400)
    branch_times = sorted(times[fork] + 3600 + int(rng.random() * 20 * 86400) for _ in REDESIGN)
    offset = int((now.utcoffset() or timedelta(0)).total_seconds() // 60)
    tz = f"{'-' if offset < 0 else '+'}{abs(offset) // 60:02d}{abs(offset) % 60:02d}"
    out = bytearray()

    def emit(
        ref: str, mark: int, parent: int | None, when: int, message: str, old: dict[str, str], new: dict[str, str]
    ) -> None:
        msg = (message + "\n").encode()
        out.extend(f"commit {ref}\nmark :{mark}\n".encode())
        for role in ("author", "committer"):
            out.extend(f"{role} {AUTHOR} {when} {tz}\n".encode())
        out.extend(b"data %d\n%s" % (len(msg), msg))
        if parent:
            out.extend(f"from :{parent}\n".encode())
        for p in sorted(old.keys() - new.keys()):
            out.extend(f"D {p}\n".encode())
        for p, text in sorted(new.items()):
            if old.get(p) != text:
                data = text.encode()
                out.extend(b"M 100644 inline %s\ndata %d\n%s\n" % (p.encode(), len(data), data))
        out.extend(b"\n")

    previous: dict[str, str] = {}
    for i, ((message, tree), when) in enumerate(zip(master, times)):
        emit(f"refs/heads/{MASTER}", i + 1, i or None, when, message, previous, tree)
        previous = tree
    previous, parent = master[fork][1], fork + 1
    for j, ((message, changes), when) in enumerate(zip(REDESIGN, branch_times)):
        tree = {**previous, **changes}
        emit(f"refs/heads/{STALE_BRANCH}", len(master) + j + 1, parent, when, message, previous, tree)
        previous, parent = tree, len(master) + j + 1
    out.extend(b"done\n")
    return bytes(out)


def _gunicorn_version() -> str:
    """The gunicorn version installed next to Ladder, which the app's requirements pin."""
    try:
        return metadata.version("gunicorn")
    except metadata.PackageNotFoundError:
        raise SeedError("gunicorn is not installed; run `pip install gunicorn`", path=TEMPLATE) from None


def _git(path: Path, *args: str, input: bytes | None = None) -> str:
    """Run git in `path`, independent of the user's git config, hooks and GIT_* variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, GIT_TERMINAL_PROMPT="0")
    try:
        done = subprocess.run(
            ["git", "-c", f"core.hooksPath={os.devnull}", "-c", "commit.gpgsign=false", *args],
            cwd=path,
            env=env,
            input=input,
            capture_output=True,
            timeout=GIT_TIMEOUT,
        )
    except FileNotFoundError:
        raise SeedError("git is not installed; install git", path=path) from None
    if done.returncode != 0:
        raise SeedError(f"git {args[0]} failed: {done.stderr.decode(errors='replace').strip()}", path=path)
    return done.stdout.decode()
