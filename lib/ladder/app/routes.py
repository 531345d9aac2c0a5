"""The app's routes, found by reading its source (never by running it), and which carry no version prefix."""

from __future__ import annotations

import ast
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .git import GIT_ARGV

METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}
# Decorators and calls that register a route with its path as the first argument.
ROUTE_CALLS = {
    "route",
    "get",
    "post",
    "put",
    "patch",
    "delete",
    "head",
    "options",
    "api_route",
    "websocket",
    "add_url_rule",
    "add_route",
    "add_api_route",
    "path",
    "re_path",
    "Route",
    "Rule",
    "url",
}
VERSIONED = re.compile(r"^/(?:api/)?v\d+(?:[./]|$)")
# First path segments that may stay unversioned: what machines probe, and files, not API contracts.
OPERATIONAL = {
    "health",
    "healthz",
    "healthcheck",
    "ready",
    "readyz",
    "live",
    "livez",
    "ping",
    "metrics",
    "status",
    "favicon.ico",
    "robots.txt",
    "static",
    "assets",
    "admin",
}
HOME = "the home page: a page people open, not an API contract"
PROBE = "operational: load balancers, monitors and browsers fetch it by a fixed path; it should never move"
SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", "build", "dist", ".tox"}

WHY = """\
**Why version the routes now.** Every route above is a promise to whoever calls it: a
browser, a mobile app, a partner's script. Without a version in the path, the first change
to a response's shape breaks every caller at once, and the only safe move is never to change
anything. With `/v1/...` the team can ship `/v2/...` next to it, move callers over one at a
time, and retire `/v1` when the access log shows nobody uses it. It costs almost nothing
while the app has a handful of routes and few callers; it gets dearer with every new route
and every caller. Start now: serve each route under `/v1/` too, point new callers there, and
keep the old paths as aliases until the logs say they are unused. `/health` stays where it is:
it is for the load balancer, not for users.
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
    def status(self) -> str:
        """'versioned', 'exempt' (see exemption) or 'unversioned'."""
        if self.versioned:
            return "versioned"
        return "exempt" if exemption(self.path) else "unversioned"


def exemption(path: str) -> str | None:
    """Why a path may stay unversioned (the home page, operational endpoints, static files), or None."""
    first = path.strip("/").split("/", 1)[0].lower()
    if not first:
        return HOME
    return PROBE if first in OPERATIONAL else None


def is_versioned(path: str) -> bool:
    """True when a path starts with a version like /v1/ or /api/v2/."""
    return bool(VERSIONED.match(path))


def _path(node: ast.expr) -> str | None:
    """The route path a node spells (a string constant starting with '/'), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("/"):
        return node.value
    return None


def _call_name(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _methods_kw(node: ast.Call) -> list[str]:
    for kw in node.keywords:
        if kw.arg == "methods" and isinstance(kw.value, (ast.List, ast.Tuple, ast.Set)):
            return [e.value.upper() for e in kw.value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return []


def parse_routes(source: str, file: str = "<source>") -> list[Route]:
    """Routes declared in one Python file: route tables of (METHOD, '/path', handler) and route decorators/calls."""
    found: list[Route] = []
    for node in ast.walk(ast.parse(source, filename=file)):
        if isinstance(node, ast.Tuple):
            strings = [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
            methods = [s.upper() for s in strings if s.upper() in METHODS]
            paths = [(path, e.lineno) for e in node.elts if (path := _path(e))]
            if methods and paths:
                found += [Route(methods[0], path, file, line) for path, line in paths[:1]]
        elif isinstance(node, ast.Call) and node.args and (path := _path(node.args[0])):
            name = _call_name(node)
            if name in ROUTE_CALLS:
                methods = _methods_kw(node) or ([name.upper()] if name.upper() in METHODS else ["*"])
                found += [Route(m, path, file, node.args[0].lineno) for m in methods]
    return sorted(set(found), key=lambda r: (r.file, r.line, r.method))


def python_files(repo: str | Path) -> list[Path]:
    """The repo's tracked Python files (every .py outside tool folders when it is not a git repo)."""
    root = Path(repo)
    try:
        done = subprocess.run(
            [*GIT_ARGV, "-C", str(root), "ls-files", "-z", "--", "*.py"], capture_output=True, timeout=30
        )
    except OSError:  # no git here: fall back to walking the folder
        done = None
    if done is not None and done.returncode == 0:
        return sorted(root / p for p in done.stdout.decode().split("\0") if p)
    return sorted(p for p in root.rglob("*.py") if not SKIP_DIRS & set(p.relative_to(root).parts))


def scan(repo: str | Path) -> list[Route]:
    """Every route declared in the repo's Python files; files that do not parse are skipped."""
    root = Path(repo)
    if not root.is_dir():
        raise FileNotFoundError(f"app repo {root} is not a folder; check app.repo in ladder.yml")
    routes: list[Route] = []
    for path in python_files(root):
        try:
            routes += parse_routes(path.read_text(errors="replace"), str(path.relative_to(root)))
        except SyntaxError:
            continue
    return routes


def table(routes: list[Route]) -> pd.DataFrame:
    """Routes as a table: method, path, status, why exempt, and where each is declared; unversioned first."""
    order = {"unversioned": 0, "exempt": 1, "versioned": 2}
    rows = [
        {
            "method": r.method,
            "path": r.path,
            "status": r.status,
            "note": exemption(r.path) or "" if r.status == "exempt" else "",
            "declared at": f"{r.file}:{r.line}",
        }
        for r in routes
    ]
    frame = pd.DataFrame(rows, columns=["method", "path", "status", "note", "declared at"])
    if len(frame):
        frame = frame.sort_values(["status", "path", "method"], key=lambda s: s.map(order) if s.name == "status" else s)
    return frame.reset_index(drop=True)


def unversioned(routes: list[Route]) -> list[Route]:
    """The routes that should carry a version but do not."""
    return [r for r in routes if r.status == "unversioned"]
