"""The app's routes, found by reading its source (never by running it), and one count of how many carry a version."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..core.errors import MissingObjects
from . import mounts
from .git import GitRepo, open_repo
from .history import is_sample_path
from .routepaths import GRAPHQL, base_path, exemption, is_versioned

METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}
# Decorators and calls that register a route with its path as the first argument.
ROUTE_CALLS = frozenset(
    "route get post put patch delete head options api_route websocket "
    "add_url_rule add_route add_api_route path re_path Route Rule url".split()
)
DJANGO_CALLS = {"path", "re_path", "url"}
# Route calls that are also everyday method names (dict.get): a route only as a decorator or a statement.
VERB_CALLS = frozenset("route get post put patch delete head options api_route websocket".split())
MAX_BYTES = 512 * 1024  # a bigger source file is generated code, not where an app declares its routes
MAX_FILES = 4000  # route-declaring files read per commit; a bigger tree is read in path order up to this
SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", "build", "dist", ".tox", "vendor", "site-packages"}
# Files that may declare routes: Python (read as syntax) and the languages the line patterns below know.
ROUTE_SUFFIXES = (".py", ".js", ".mjs", ".cjs", ".ts", ".jsx", ".tsx", ".rb", ".php")
# A file is read only when some line has a quoted string starting with '/', a route mount (include(,
# include_router, register_blueprint, a DRF router) or names a versioning scheme (see schemes).
CANDIDATE = (
    r"""['"]\^?/|(^|[^A-Za-z0-9_.])(re_)?path\(|include\(|include_router|register_blueprint|Blueprint\(|add_route"""
    r"""|\.register\(|(Default|Simple)Router|VERSIONING|vnd\.|[Aa][Pp][Ii]-[Vv]ersion"""
)
# What a file that declares routes has (a test full of client.get("/x") calls has none): read before parsing it.
DECLARES = re.compile(
    r"^\s*@[\w.]+\.(route|get|post|put|patch|delete|api_route|websocket)\(|add_url_rule\(|add_api_route\(|"
    r"add_route\(|(^|[^\w.])(re_)?path\(\s*r?['\"]|app\.(get|post|put|patch|delete)\(\s*['\"]/",
    re.M,
)
LINE_PATTERNS = (
    re.compile(
        r"\.(route|get|post|put|patch|delete|api_route|add_url_rule|add_api_route)\(\s*[rfb]?['\"](/[^'\"]*)['\"]"
    ),
    re.compile(r"['\"](GET|POST|PUT|PATCH|DELETE)['\"]\s*,\s*['\"](/[^'\"]*)['\"]"),
    re.compile(r"(?:^|[^\w.])(re_)?path\(\s*r?['\"]\^?([^'\"]*?)\$?['\"]"),
)

WHY = """\
**Why version the routes now.** Every public route is a promise to whoever calls it: a
browser, a mobile app, a partner's script. Without a version in the path, the first change
to a response's shape breaks every caller at once, and the only safe move is never to change
anything. With `/v1/...` the team can ship `/v2/...` next to it, move callers over one at a
time, and retire `/v1` when the access log shows nobody uses it. It costs almost nothing
while the app has a handful of routes and few callers; it gets dearer with every new route
and every caller. The old paths keep answering, with a `Deprecation` header that points
callers at their `/v1` successor. The home page and operational endpoints (`/health`,
`/metrics`, static files) are not public API routes: load balancers and monitors fetch them
by a fixed path, so they stay where they are and are not counted.
"""


@dataclass(frozen=True)
class Route:
    """One route found in the source: method (or '*' when not stated), path, and where it is declared."""

    method: str
    path: str
    file: str
    line: int

    @property
    def versioned(self) -> bool:
        """True when the path starts with a version like /v1/ or /api/v2/."""
        return is_versioned(self.path)

    @property
    def base(self) -> str:
        """The path without its version prefix."""
        return base_path(self.path)

    @property
    def status(self) -> str:
        """'versioned', 'exempt' (see exemption) or 'unversioned', on its own (see statuses for 'deprecated')."""
        if self.versioned:
            return "versioned"
        return "exempt" if exemption(self.path) else "unversioned"

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class Declaration:
    """How one route is declared in a Python file, with the syntax nodes an edit needs.

    kind: 'table' (a (METHOD, path, handler) entry of a list), 'dict' (a path or (METHOD, path) key of a
    dispatch dict), 'decorator', 'statement' (a call on its own line, like add_url_rule) or 'other'.
    """

    route: Route
    kind: str
    node: ast.AST
    literal: ast.Constant
    owner: str = ""
    value: ast.expr | None = None


@dataclass(frozen=True)
class RouteCount:
    """How many public API routes carry a version: the one count both the runbook and the assessment show.

    A public route is a method and a path without its version prefix (GET /items), leaving out the
    home page and operational endpoints. It carries a version when it is declared under one (/v1/items),
    even while its old unversioned path still answers.
    """

    versioned: tuple[str, ...]
    unversioned: tuple[str, ...]
    exempt: tuple[str, ...] = ()

    @property
    def public(self) -> int:
        """How many public API routes there are."""
        return len(self.versioned) + len(self.unversioned)

    @property
    def score(self) -> float | None:
        """0-10: the share of public routes that carry a version; None without public routes."""
        return 10 * len(self.versioned) / self.public if self.public else None

    def summary(self) -> str:
        """'N of M public routes carry a version', and what was left out on purpose."""
        text = f"{len(self.versioned)} of {self.public} public routes carry a version"
        why = "operational, the home page or GraphQL" if self.graphql else "operational or the home page"
        return text + (f" ({', '.join(self.exempt)} not counted: {why})" if self.exempt else "")

    @property
    def graphql(self) -> bool:
        """True when a GraphQL endpoint is among the routes left out."""
        return any(exemption(p) == GRAPHQL for p in self.exempt)


def _path(node: ast.expr | None, *, relative: bool = False) -> str | None:
    """The route path a node spells (a string constant starting with '/', or any for Django), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        if node.value.startswith("/"):
            return node.value
        if relative and not node.value.startswith(("http:", "https:", ".")):
            return "/" + node.value.removeprefix("^").removesuffix("$")
    return None


def call_name(node: ast.expr) -> str:
    """The name a call or decorator uses: route for app.route, path for path."""
    return node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else ""


def _methods_kw(node: ast.Call) -> list[str]:
    for kw in node.keywords:
        if kw.arg == "methods" and isinstance(kw.value, (ast.List, ast.Tuple, ast.Set)):
            return [e.value.upper() for e in kw.value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return []


def _tuple_route(node: ast.Tuple) -> tuple[str, ast.Constant] | None:
    """(METHOD, path literal) of a tuple like ("GET", "/items", handler), else None."""
    strings = [e.value.upper() for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    methods = [s for s in strings if s in METHODS]
    paths = [e for e in node.elts if isinstance(e, ast.Constant) and _path(e)]
    return (methods[0], paths[0]) if methods and paths else None


def _dict_routes(node: ast.Dict, file: str) -> list[Declaration]:
    """Entries of a dispatch dict keyed by path: {"/items": handler} or {"/items": {"GET": handler}}."""
    found = []
    for key, value in zip(node.keys, node.values):
        path = _path(key)
        if path is None or not isinstance(key, ast.Constant):
            continue
        if isinstance(value, (ast.Name, ast.Attribute, ast.Lambda)):
            found.append(Declaration(Route("*", path, file, key.lineno), "dict", key, key, value=value))
        elif isinstance(value, ast.Dict):
            methods = [k.value.upper() for k in value.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)]
            found += [
                Declaration(Route(m, path, file, key.lineno), "dict", key, key, value=value)
                for m in methods
                if m in METHODS
            ]
    return found


def declarations(source: str, file: str = "<source>", tree: ast.Module | None = None) -> list[Declaration]:
    """How each route in one Python file is declared: route tables, dispatch dicts, decorators and calls."""
    tree = tree or ast.parse(source, filename=file)
    nodes = list(ast.walk(tree))
    parents = {child: node for node in nodes for child in ast.iter_child_nodes(node)}
    functions = [n for n in nodes if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    decorators = {id(d) for n in functions for d in n.decorator_list}
    found: list[Declaration] = []
    for node in nodes:
        parent = parents.get(node)
        if isinstance(node, ast.Tuple) and (entry := _tuple_route(node)):
            method, literal = entry
            route = Route(method, str(literal.value), file, literal.lineno)
            if isinstance(parent, ast.List | ast.Tuple | ast.Set) and node in parent.elts:
                found.append(Declaration(route, "table", node, literal))
            elif isinstance(parent, ast.Dict) and node in parent.keys:
                value = parent.values[parent.keys.index(node)]
                found.append(Declaration(route, "dict", node, literal, value=value))
            else:
                found.append(Declaration(route, "other", node, literal))
        elif isinstance(node, ast.Dict):
            found += _dict_routes(node, file)
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            name = call_name(node.func)
            django = name in DJANGO_CALLS and len(node.args) >= 2
            path = _path(node.args[0], relative=django)
            if name not in ROUTE_CALLS or path is None or (django and mounts.is_include(node.args[1])):
                continue
            methods = _methods_kw(node) or ([name.upper()] if name.upper() in METHODS else ["*"])
            owner = call_name(node.func.value) if isinstance(node.func, ast.Attribute) else ""
            kind = "decorator" if id(node) in decorators else "statement" if isinstance(parent, ast.Expr) else "other"
            handler = len(node.args) > 1 or any(k.arg in ("view_func", "endpoint") for k in node.keywords)
            if name in VERB_CALLS and (kind == "other" or (kind == "statement" and not handler)):
                continue  # pdf.Root.get("/MarkInfo") reads a value, client.get("/items") calls one: neither declares
            for m in methods:
                found.append(Declaration(Route(m, path, file, node.args[0].lineno), kind, node, node.args[0], owner))
    return sorted(found, key=lambda d: (d.route.line, d.route.method, d.route.path))


def parse_routes(source: str, file: str = "<source>") -> list[Route]:
    """Routes declared in one Python file: route tables, dispatch dicts, route decorators and calls."""
    return sorted({d.route for d in declarations(source, file)}, key=lambda r: (r.file, r.line, r.method))


def parse_lines(source: str, file: str = "<source>") -> list[Route]:
    """Routes declared on source lines of other languages (Express-style calls, method tuples, Django path())."""
    found = []
    for number, text in enumerate(source.splitlines(), 1):
        for rx in LINE_PATTERNS:
            for m in rx.finditer(text):
                word, path = m.group(1) or "", m.group(2)
                method = word.upper() if word.upper() in METHODS else "*"
                found.append(Route(method, path if path.startswith("/") else "/" + path, file, number))
    return sorted(set(found), key=lambda r: (r.line, r.method, r.path))


def parse_source(source: str, file: str) -> list[Route]:
    """Routes in one file: Python read as syntax (lines when it does not parse), other languages by line."""
    if file.endswith(".py"):
        try:
            return parse_routes(source, file)
        except SyntaxError:
            pass
    return parse_lines(source, file)


def is_aside(path: str) -> bool:
    """True for a file of examples, documentation or tests: its routes are not the app's public ones."""
    return is_sample_path(path)


def is_source(path: str) -> bool:
    """True for a file that may declare the app's routes: not a test, example or doc, not vendored."""
    return path.endswith(ROUTE_SUFFIXES) and not is_aside(path) and not SKIP_DIRS & set(path.split("/"))


def _resolved(texts: Mapping[str, str]) -> list[Route]:
    """Routes of Python files, each under every prefix its router, blueprint or URL include mounts it at."""
    trees = {}
    for path, text in texts.items():
        try:
            trees[path] = ast.parse(text, filename=path)
        except (SyntaxError, ValueError):
            continue
    mounted = mounts.resolve(trees)
    found = {
        Route(d.route.method, mounts.join(prefix, d.route.path), f, d.route.line)
        for f, tree in trees.items()
        for d in declarations(texts[f], f, tree)
        for prefix in mounted.of(f, d.owner)
    }
    found |= {
        Route(e.method, mounts.join(p, e.path), e.file, e.line)
        for e in mounted.extra
        for p in mounted.of(e.file, e.owner)
    }
    rest = [r for f, text in texts.items() if f not in trees for r in parse_lines(text, f)]
    return sorted(found | set(rest), key=lambda r: (r.file, r.line, r.method, r.path))


def found_in(texts: Mapping[str, str]) -> list[Route]:
    """Every route the app declares in some files' texts (by path); tests, examples, docs and vendored code left out."""
    mine = dict(sorted((p, t) for p, t in texts.items() if is_source(p))[:MAX_FILES])
    python = {p: t for p, t in mine.items() if p.endswith(".py")}
    others = [r for p, t in mine.items() if p not in python for r in parse_lines(t, p)]
    return sorted([*_resolved(python), *others], key=lambda r: (r.file, r.line, r.method, r.path))


def aside_in(texts: Mapping[str, str]) -> list[Route]:
    """Routes declared in examples, docs and tests among some files' texts: excluded from the app's count."""
    return [
        r
        for p, t in sorted(texts.items())
        if p.endswith(ROUTE_SUFFIXES) and is_aside(p) and not SKIP_DIRS & set(p.split("/")) and DECLARES.search(t)
        for r in parse_source(t, p)
    ]


def source_texts(repo: GitRepo, rev: str) -> dict[str, str]:
    """The texts of a commit's source files that may declare routes, by path (one grep, one batch read)."""
    specs = [f":(glob)**/*{s}" for s in ROUTE_SUFFIXES]
    out = repo.git("grep", "-l", "-z", "-I", "-E", "-e", CANDIDATE, rev, "--", *specs, ok_codes=(0, 1, 128))
    gone = [f.path for f in repo.files(rev) if not f.present and is_source(f.path)]
    if gone:  # a partial clone lacks some sources: routes counted from the rest would be wrong
        raise MissingObjects(len(repo.missing_objects(rev)), ", ".join(sorted(gone)[:3]))
    names = [p.removeprefix(f"{rev}:") for p in out.decode(errors="replace").split("\0") if p]
    kept = sorted((p for p in names if not SKIP_DIRS & set(p.split("/"))), key=is_aside)
    return repo.read(rev, kept[:MAX_FILES], max_bytes=MAX_BYTES)


def in_commit(repo: GitRepo, rev: str) -> list[Route]:
    """Every route declared in a commit's source files: what the runbook and the assessment both count."""
    return found_in(source_texts(repo, rev))


def scan(repo: str | Path) -> list[Route]:
    """Every route declared on the trunk of the git repository at repo (what is committed is what is deployed)."""
    root = Path(repo)
    if not root.is_dir():
        raise FileNotFoundError(f"app repo {root} is not a folder; check app.repo in ladder.yml")
    git = open_repo(root)
    return in_commit(git, git.tip) if git.tip else []


def _successors(found: Iterable[Route]) -> dict[str, dict[str, str]]:
    """For each path without its version prefix: method ('*' for any) -> the versioned path declared for it."""
    out: dict[str, dict[str, str]] = {}
    for r in found:
        if r.versioned:
            out.setdefault(r.base, {}).setdefault(r.method, r.path)
    return out


def _successor(route: Route, successors: Mapping[str, dict[str, str]]) -> str | None:
    methods = successors.get(route.base, {})
    if route.method == "*":
        return next(iter(methods.values()), None)
    return methods.get(route.method) or methods.get("*")


def statuses(found: Sequence[Route]) -> list[str]:
    """Each route's status among the others: versioned, deprecated (has a versioned successor), exempt, unversioned."""
    successors = _successors(found)
    out = []
    for r in found:
        if r.versioned:
            out.append("versioned")
        elif exemption(r.path):
            out.append("exempt")
        else:
            out.append("deprecated" if _successor(r, successors) else "unversioned")
    return out


def count(found: Sequence[Route]) -> RouteCount:
    """How many public API routes (method + path without version) carry a version."""
    successors = _successors(found)
    units: dict[str, bool] = {}
    exempt: dict[str, None] = {}
    for r in found:
        if exemption(r.path):
            exempt.setdefault(r.base, None)
            continue
        key = f"{r.method} {r.base}"
        units[key] = units.get(key, False) or r.versioned or _successor(r, successors) is not None
    return RouteCount(
        tuple(sorted(k for k, v in units.items() if v)),
        tuple(sorted(k for k, v in units.items() if not v)),
        tuple(sorted(exempt)),
    )


def unversioned(found: Sequence[Route]) -> list[Route]:
    """The routes that should carry a version and have no versioned successor."""
    return [r for r, s in zip(found, statuses(found)) if s == "unversioned"]


def table(found: Sequence[Route]) -> pd.DataFrame:
    """Routes as a table: method, path, status, a note, and where each is declared; unversioned first."""
    order = {"unversioned": 0, "deprecated": 1, "versioned": 2, "exempt": 3}
    successors = _successors(found)

    def note(route: Route, status: str) -> str:
        if status == "exempt":
            return exemption(route.path) or ""
        if status == "deprecated":
            return f"kept for old callers, marked deprecated; successor {_successor(route, successors)}"
        return ""

    rows = [
        {"method": r.method, "path": r.path, "status": s, "note": note(r, s), "declared at": f"{r.file}:{r.line}"}
        for r, s in zip(found, statuses(found))
    ]
    frame = pd.DataFrame(rows, columns=["method", "path", "status", "note", "declared at"])
    if len(frame):
        frame = frame.sort_values(["status", "path", "method"], key=lambda s: s.map(order) if s.name == "status" else s)
    return frame.reset_index(drop=True)
