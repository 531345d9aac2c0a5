"""Versioned routes: plan serving every public route under /v1 too, while its old path answers, marked deprecated.

The plan is an edit of the app's source: a /v1 twin of each route declaration (a route-table entry, a
dispatch-dict entry, a Flask decorator or add_url_rule call) and a small WSGI middleware that adds
`Deprecation` (RFC 9745), `Link: <...>; rel="successor-version"` and, when set, `Sunset` (RFC 8594) to
responses on the old paths. When Ladder cannot edit the app safely, the plan says what to do by hand.
"""

from __future__ import annotations

import ast
import difflib
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import format_datetime

import pandas as pd

from ..core.markup import styler
from . import routes
from .git import GitRepo
from .routes import Declaration, Route

PREFIX = "/v1"
PATHS = "DEPRECATED_PATHS"
WRAPPER = "deprecation_headers"
STEP = 'runbooks/1-separate-dev-and-prod.ipynb, step "Route versions"'

BLOCK = '''

# --- Versioned routes (written by Ladder, rung 1+) -------------------------------------------------
# Every public route is served under /v1 too. The old paths below keep answering as before, marked
# deprecated (RFC 9745) with a Link to their /v1 successor. When the access log shows nobody calls an
# old path any more, remove it here and from the routes.
{paths} = {{
{entries}}}
# When the old paths stop answering, as an HTTP date (RFC 8594), e.g. "Sat, 01 Nov 2025 00:00:00 GMT".
SUNSET = {sunset}


def {wrapper}(wsgi_app):
    """WSGI middleware: Deprecation and Link headers (and Sunset, when set) on the old paths above."""
    import re
    from urllib.parse import quote

    def pattern(path):
        parts = re.split(r"(<[^>]*>)", path)
        return re.compile("".join(
            (".+" if p.startswith("<path:") else "[^/]+") if p.startswith("<") else re.escape(p) for p in parts
        ))

    rules = [(pattern(path), since) for path, since in {paths}.items()]

    def app(environ, start_response):
        path = environ.get("PATH_INFO") or "/"
        since = next((s for rule, s in rules if rule.fullmatch(path)), None)
        if since is None:
            return wsgi_app(environ, start_response)
        successor = quote(environ.get("SCRIPT_NAME", "") + "{prefix}" + path)
        extra = [("Deprecation", since), ("Link", '<%s>; rel="successor-version"' % successor)]
        if SUNSET:
            extra.append(("Sunset", SUNSET))

        def start(status, headers, exc_info=None):
            return start_response(status, list(headers) + extra, exc_info)

        return wsgi_app(environ, start)

    return app


{wrap}
'''


@dataclass(frozen=True)
class Plan:
    """What versioning the routes takes: each route's /v1 successor and the edited files, or what to do by hand."""

    count: routes.RouteCount
    todo: tuple[Route, ...]
    old: Mapping[str, str] = field(default_factory=dict)
    new: Mapping[str, str] = field(default_factory=dict)
    manual: str = ""
    committed: str = ""
    where: str = ""
    notes: tuple[str, ...] = ()

    @property
    def edits(self) -> bool:
        """True when Ladder has an edit to commit."""
        return bool(self.new)

    def table(self) -> pd.DataFrame:
        """One row per unversioned public route: its /v1 successor and what the old path answers."""
        old = "by hand (see below)" if self.manual else "as before, plus Deprecation and Link headers"
        rows = [(r.method, r.path, PREFIX + r.path, old, f"{r.file}:{r.line}") for r in self.todo]
        return pd.DataFrame(rows, columns=["method", "path", "new path", "old path answers", "declared at"])

    def diff(self) -> str:
        """The edit as a unified diff (empty without one)."""
        return "".join(
            "".join(
                difflib.unified_diff(self.old[f].splitlines(True), self.new[f].splitlines(True), f"a/{f}", f"b/{f}")
            )
            for f in sorted(self.new)
        )

    def message(self) -> str:
        """The commit message: what moved where, and why the old paths still answer."""
        moves = "\n".join(f"  {r.method} {r.path} -> {PREFIX}{r.path}" for r in self.todo)
        return (
            f"Serve the public routes under {PREFIX}; old paths answer with a Deprecation header\n\n"
            f"Each public route is now served under {PREFIX} too, by the same handler:\n\n{moves}\n\n"
            "The old paths keep answering as before, with the headers Deprecation\n"
            f'(RFC 9745) and Link: <{PREFIX}/...>; rel="successor-version", so callers can\n'
            "move at their own pace. The home page and operational endpoints\n"
            "(health, metrics) are not public API routes and stay where they are.\n\n"
            f"Written by Ladder, rung 1+ ({STEP}).\n"
        )

    def summary(self) -> str:
        """What the step found and did, in a sentence or two."""
        head = self.count.summary() + "."
        if not self.todo:
            return head + " Nothing to version."
        if self.manual:
            return head + " Ladder does not edit this app; version the routes by hand as below."
        if self.committed:
            return (
                f"Committed {self.committed[:12]} on {self.where}: {len(self.todo)} public routes now answer under "
                f"{PREFIX} too (before: {self.count.summary()})."
            )
        return head + f" An apply commits the edit below on {self.where or 'trunk'} ({len(self.todo)} routes)."

    def __repr__(self) -> str:
        parts = [self.summary(), *self.notes]
        if self.todo:
            parts.append(self.table().to_string(index=False))
        return "\n\n".join(parts + [self.manual or self.diff()]).rstrip()

    def _repr_html_(self) -> str:
        out = [f"<p>{html.escape(self.summary())}</p>", *(f"<p><em>{html.escape(n)}</em></p>" for n in self.notes)]
        if self.todo:
            styled = styler(self.table()).hide(axis="index").set_properties(**{"text-align": "left"})
            out.append(styled.set_table_styles([{"selector": "th", "props": "text-align: left;"}]).to_html())
        text = self.manual or self.diff()
        if text:
            out.append(f"<pre>{html.escape(text)}</pre>")
        return "".join(out)


def instructions(todo: Sequence[Route], reason: str) -> str:
    """What to do by hand when Ladder cannot edit the app: the same change, step by step."""
    lines = "\n".join(f"  {r.method} {r.path} -> {PREFIX}{r.path}   ({r.file}:{r.line})" for r in todo)
    return (
        f"Ladder does not edit this app: {reason}.\nVersion the routes by hand:\n"
        f"1. Serve each route below under {PREFIX} as well, by the same handler (Flask: a second\n"
        f'   @app.route("{PREFIX}/...") under the first; a route table: a second entry).\n'
        "2. Keep each old path answering as before, and add to its responses the headers\n"
        "   Deprecation: @<unix time of the change> (RFC 9745) and\n"
        f'   Link: <{PREFIX}/...>; rel="successor-version"; when you know the date the old path\n'
        "   goes away, Sunset: <HTTP date> (RFC 8594) too. A middleware does it in one place.\n"
        "3. Commit on trunk and run this runbook with dry_run = False: the deploy step ships it,\n"
        "   and the route table below counts the routes again.\n\n" + lines
    )


def http_date(day: date) -> str:
    """Midnight UTC of a day as an HTTP date (RFC 9110), the form Sunset takes."""
    return format_datetime(datetime(day.year, day.month, day.day, tzinfo=UTC), usegmt=True)


def entry_file(wsgi: str) -> tuple[list[str], str]:
    """The files that may hold the WSGI entry module (app.wsgi 'module:name'), and the name."""
    module, _, name = wsgi.partition(":")
    base = module.replace(".", "/")
    return [f"{base}.py", f"{base}/__init__.py"], name or "application"


def _shape(tree: ast.Module, name: str) -> str | None:
    """'wsgi' when name is a plain WSGI function, 'flask' when it is a Flask app, else None."""
    for stmt in tree.body:
        if isinstance(stmt, ast.FunctionDef) and stmt.name == name and len(stmt.args.args) >= 2:
            return "wsgi"
        if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in stmt.targets):
            call = stmt.value
            if isinstance(call, ast.Call) and routes.call_name(call.func) == "Flask":
                return "flask"
    return None


class _Text:
    """One file's text with insertions at character offsets, applied last-first."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0]
        for line in text.splitlines(True):
            self.starts.append(self.starts[-1] + len(line))
        self.inserts: list[tuple[int, str]] = []

    def at(self, line: int, col: int) -> int:
        """The character offset of an ast (line, byte column) position."""
        start = self.starts[line - 1]
        raw = self.text[start : self.starts[line] if line < len(self.starts) else len(self.text)].encode()
        return start + len(raw[:col].decode(errors="replace"))

    def span(self, node: ast.AST, end: ast.AST | None = None) -> tuple[int, int]:
        last = end or node
        return self.at(node.lineno, node.col_offset), self.at(last.end_lineno or 0, last.end_col_offset or 0)  # type: ignore[attr-defined]

    def line_start(self, offset: int) -> int:
        return self.text.rfind("\n", 0, offset) + 1

    def line_end(self, offset: int) -> int:
        found = self.text.find("\n", offset)
        return len(self.text) if found < 0 else found + 1

    def edited(self) -> str:
        out = self.text
        # Last offset first, so earlier offsets stay valid; at one offset, the first insertion ends up first.
        for _, (offset, piece) in sorted(enumerate(self.inserts), key=lambda i: (i[1][0], i[0]), reverse=True):
            out = out[:offset] + piece + out[offset:]
        return out


def _twin(text: _Text, decl: Declaration) -> str | None:
    """Insert a /v1 copy of a declaration into text; the reason when that is not safe."""
    start, end = text.span(decl.node, decl.value)
    lit_start, lit_end = text.span(decl.literal)
    literal = text.text[lit_start:lit_end]
    if decl.route.path not in literal:
        return f"the path {decl.route.path} is not written out plainly at {decl.route.file}:{decl.route.line}"
    copy = text.text[start:lit_start] + literal.replace(decl.route.path, PREFIX + decl.route.path, 1)
    copy += text.text[lit_end:end]
    head = text.line_start(start)
    indent = text.text[head:start]
    if decl.kind in ("table", "dict"):
        if indent.strip():
            text.inserts.append((start, copy + ", "))
        else:
            text.inserts.append((head, indent + copy + ",\n"))
        return None
    rest = text.text[end : text.line_end(end)].strip()
    if indent.strip() != ("@" if decl.kind == "decorator" else "") or rest.split("#")[0].strip():
        return f"{decl.route.file}:{decl.route.line} shares its line with other code"
    view = [k.value for k in getattr(decl.node, "keywords", []) if k.arg == "view_func"]
    if any(isinstance(v, ast.Call) for v in view + list(getattr(decl.node, "args", [])[2:3])):
        return f"{decl.route.file}:{decl.route.line} makes its view inline; a second rule needs it bound to a name"
    text.inserts.append((text.line_end(end), indent + copy + "\n"))
    return None


def _deprecations(
    text: _Text, tree: ast.Module, shape: str, name: str, paths: list[str], since: str, sunset: str
) -> str | None:
    """Add the old paths to the entry module's DEPRECATED_PATHS, writing the middleware on first use."""
    when = datetime.fromtimestamp(int(since[1:]), UTC).date().isoformat()
    existing = next(
        (
            s.value
            for s in tree.body
            if isinstance(s, ast.Assign) and any(getattr(t, "id", "") == PATHS for t in s.targets)
        ),
        None,
    )
    if existing is None:
        wrap = f"{name} = {WRAPPER}({name})" if shape == "wsgi" else f"{name}.wsgi_app = {WRAPPER}({name}.wsgi_app)"
        entries = "".join(f'    "{p}": "{since}",  # {when}\n' for p in paths)
        block = BLOCK.format(paths=PATHS, entries=entries, sunset=sunset, wrapper=WRAPPER, prefix=PREFIX, wrap=wrap)
        last = tree.body[-1] if tree.body else None
        main = isinstance(last, ast.If) and "__name__" in ast.unparse(last.test)
        if main and last is not None:
            text.inserts.append((text.at(last.lineno, 0), block.lstrip("\n") + "\n\n"))
        else:
            text.inserts.append(
                (len(text.text), ("" if text.text.endswith("\n") else "\n") + block.rstrip("\n") + "\n")
            )
        return None
    if not isinstance(existing, ast.Dict) or f"def {WRAPPER}(" not in text.text:
        return f"{PATHS} in the entry module is not the dict and middleware Ladder writes"
    known = {k.value for k in existing.keys if isinstance(k, ast.Constant)}
    close = text.at(existing.end_lineno or 0, (existing.end_col_offset or 1) - 1)
    head = text.line_start(close)
    before = text.text[:head].rstrip().rsplit("\n", 1)[-1].split("#")[0].rstrip()
    if text.text[head:close].strip() or not before.endswith((",", "{")):
        return f"{PATHS} in the entry module is not laid out one path a line as Ladder writes it"
    text.inserts += [(head, f'    "{p}": "{since}",  # {when}\n') for p in paths if p not in known]
    return None


def plan(texts: Mapping[str, str], wsgi: str, *, now: int, sunset: date | None = None) -> Plan:
    """The edit that serves each unversioned public route under /v1 too, or what to do by hand.

    texts holds the app's source files by path (the WSGI entry module among them); now is the unix
    time the old paths are deprecated from; sunset, when given, the date they stop answering.
    """
    found = routes.found_in(texts)
    todo = tuple(routes.unversioned(found))
    counted = routes.count(found)
    if not todo:
        return Plan(counted, todo)

    def by_hand(reason: str) -> Plan:
        return Plan(counted, todo, manual=instructions(todo, reason))

    candidates, name = entry_file(wsgi)
    entry = next((f for f in candidates if f in texts), None)
    if entry is None:
        return by_hand(f"its WSGI entry module ({' or '.join(candidates)}, from app.wsgi {wsgi!r}) is not in the repo")
    if any(not r.file.endswith(".py") for r in todo):
        return by_hand("some routes are declared outside Python files")
    try:
        trees = {f: ast.parse(texts[f], f) for f in {entry, *(r.file for r in todo)}}
    except SyntaxError as err:
        return by_hand(f"{err.filename} does not parse as Python ({err.msg}, line {err.lineno})")
    shape = _shape(trees[entry], name)
    if shape is None:
        return by_hand(f"{entry} defines {name} as neither a plain WSGI function nor a Flask app")
    edits = {f: _Text(texts[f]) for f in trees}
    wanted = {(r.file, r.line, r.method, r.path) for r in todo}
    done: set[tuple[str, int, int]] = set()
    for file, text in sorted(edits.items()):
        for decl in routes.declarations(text.text, file):
            r, node = decl.route, decl.node
            key = (file, node.lineno, node.col_offset)  # type: ignore[attr-defined]
            if (r.file, r.line, r.method, r.path) not in wanted or key in done:
                continue
            done.add(key)
            kinds = ("table", "dict") if shape == "wsgi" else ("decorator", "statement")
            if decl.kind not in kinds or (shape == "flask" and (decl.owner != name or file != entry)):
                return by_hand(f"{r} at {r.file}:{r.line} is declared in a way Ladder does not edit ({decl.kind})")
            if reason := _twin(text, decl):
                return by_hand(reason)
    since = f"@{now}"
    sunset_text = f'"{http_date(sunset)}"' if sunset else "None"
    paths = list(dict.fromkeys(r.path for r in todo))
    if reason := _deprecations(edits[entry], trees[entry], shape, name, paths, since, sunset_text):
        return by_hand(reason)
    new = {f: t.edited() for f, t in edits.items() if t.inserts}
    return _checked(Plan(counted, todo, {f: texts[f] for f in new}, new), texts)


def _checked(result: Plan, texts: Mapping[str, str]) -> Plan:
    """The plan, if its edit compiles and leaves no route it meant to version unversioned; else by hand."""
    after = {**texts, **result.new}
    try:
        for f, text in result.new.items():
            compile(text, f, "exec")
    except SyntaxError as err:
        return Plan(result.count, result.todo, manual=instructions(result.todo, f"its edit would not compile ({err})"))
    left = {str(r) for r in routes.unversioned(routes.found_in(after))}
    if left & {str(r) for r in result.todo}:
        return Plan(
            result.count, result.todo, manual=instructions(result.todo, "its edit would leave routes unversioned")
        )
    return result


def plan_commit(repo: GitRepo, rev: str, wsgi: str, *, now: int, sunset: date | None = None) -> Plan:
    """plan() on a commit of the repository: its source files and its WSGI entry module."""
    texts = routes.source_texts(repo, rev)
    texts.update(repo.read(rev, [f for f in entry_file(wsgi)[0] if f not in texts]))
    return plan(texts, wsgi, now=now, sunset=sunset)
