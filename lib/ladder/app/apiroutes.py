"""Which of an app's routes serve an API (JSON for programs) and which serve web pages (HTML for people).

Only API routes make a promise that versioning keeps. A route serves an API when its path is under /api (or a
version), when it is declared in or handled by an API module (api.py, api/, *_api.py: Django's `api.` subdomain
modules too), when it is a router registration or view of an API framework (Django REST framework, django-ninja,
Tastypie). A view that returns JSON by hand (JsonResponse, jsonify, a Flask view returning a dict) is an API route
in an app that serves no pages; beside pages it is their helper (AJAX, a .json feed), not a public contract.
Otherwise each framework's default decides:
FastAPI and Starlette routes return JSON unless they say HTMLResponse or a template; Django and Flask views
render templates unless they say JSON; a route table of no known framework keeps being counted as an API, and a
route in a front-end script (a .js file that is no server) is not one.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping, Sequence

from . import routes
from .routepaths import exemption
from .routes import Declaration, Route

API = "api"
PAGE = "page"
JSON_VIEW = "json"  # API in an app without pages, else a page's helper
API_SEGMENT = re.compile(r"^/(api|apis|rest)(/|$)", re.IGNORECASE)
API_MODULE = re.compile(r"(^|/)(api|apis|rest|rest_api)(/|\.py$)|(^|/)(api_[^/]*|[^/]*_api)\.py$", re.IGNORECASE)
API_FRAMEWORK = re.compile(r"\bAPIView\b|ViewSet\b|@api_view|rest_framework|\bninja\b|tastypie")
JSON = re.compile(r"JsonResponse|jsonify\(|json_response|application/json|JSONResponse|return\s+\{")
PAGE_MARKERS = re.compile(
    r"\brender(_template|_to_response|_to_string)?\(|TemplateResponse|HTMLResponse|template_name"
    r"|\b(Template|List|Detail|Form|Create|Update|Delete|Redirect|Archive\w*|Login|Logout)View\b"
)
FASTAPI = re.compile(r"\b(fastapi|starlette|APIRouter)\b")
HTML_FRAMEWORK = re.compile(r"\b(django|flask|urlpatterns|Blueprint)\b")
# What a non-Python file declaring routes looks like when it is a server, not a front-end script.
SERVER = re.compile(r"express\(|\bRouter\(|fastify|new Koa|res\.json\(|Route::|routes\.draw|render json:")


def kinds(found: Sequence[Route], texts: Mapping[str, str]) -> dict[Route, str]:
    """Each route as API or PAGE; texts holds the declaring files and the modules that define their views."""
    defs = _definitions(texts)
    trees = routes.parse_all({f: texts.get(f, "") for f in {r.file for r in found}})
    handlers = {
        (f, d.route.line): _judge_handler(d, trees[f], texts[f], defs)
        for f, decls in routes.declared(trees, texts).items()
        for d in decls
    }
    declared = set(trees)
    first = {r: _kind(r, texts.get(r.file, ""), handlers, r.file in declared) for r in found}
    pages = any(k == PAGE and not exemption(r.path) for r, k in first.items())
    return {r: (PAGE if pages else API) if k == JSON_VIEW else k for r, k in first.items()}


def _kind(r: Route, text: str, handlers: Mapping[tuple[str, int], str | None], parsed: bool) -> str:
    if r.versioned or API_SEGMENT.match(r.path) or API_MODULE.search(r.file):
        return API
    if not r.file.endswith(".py"):
        return API if SERVER.search(text) else PAGE
    key = (r.file, r.line)
    if parsed and key not in handlers:
        return API if API_FRAMEWORK.search(text) or "router" in text.lower() else _default(text)  # a router's
    return handlers.get(key) or _default(text)


def _default(text: str) -> str:
    """The framework's default for a view that says neither JSON nor HTML."""
    if FASTAPI.search(text):
        return API
    return PAGE if HTML_FRAMEWORK.search(text) else API


def _definitions(texts: Mapping[str, str]) -> dict[str, list[tuple[str, str]]]:
    """Top-level functions and classes by name: (file, source) of each, for views declared in another module."""
    out: dict[str, list[tuple[str, str]]] = {}
    for file, text in texts.items():
        if not file.endswith(".py"):
            continue
        try:
            tree = ast.parse(text, filename=file)
        except (SyntaxError, ValueError):
            continue
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                out.setdefault(node.name, []).append((file, ast.get_source_segment(text, node) or ""))
    return out


def _judge_handler(
    d: Declaration, tree: ast.Module, text: str, defs: Mapping[str, list[tuple[str, str]]]
) -> str | None:
    """API or PAGE by what the route's view says, None when it says neither (or cannot be found)."""
    if d.kind == "decorator":
        function = next(
            (
                n
                for n in ast.walk(tree)
                if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and d.node in n.decorator_list
            ),
            None,
        )
        return _by_text(ast.get_source_segment(text, function) or "") if function else None
    name = _handler_name(d)
    sources = defs.get(name, []) if name else []
    if any(API_MODULE.search(file) for file, _ in sources):
        return API
    judged = {_by_text(source) for _, source in sources}
    return next((k for k in (API, JSON_VIEW, PAGE) if k in judged), None)


def _by_text(source: str) -> str | None:
    if API_FRAMEWORK.search(source):
        return API
    if JSON.search(source):
        return JSON_VIEW
    return PAGE if PAGE_MARKERS.search(source) else None


def _handler_name(d: Declaration) -> str:
    """The view's name: views.home -> home, HomeView.as_view() -> HomeView, csrf_exempt(hook) -> hook."""
    node = d.value
    if node is None and isinstance(d.node, ast.Call):
        view = [k.value for k in d.node.keywords if k.arg in ("view_func", "view")]
        node = view[0] if view else d.node.args[1] if len(d.node.args) > 1 else None
    if node is None and isinstance(d.node, ast.Tuple):
        node = next((e for e in d.node.elts if isinstance(e, ast.Name | ast.Attribute | ast.Call)), None)
    for _ in range(3):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr == "as_view":
                node = func.value
            else:
                node = node.args[0] if node.args else None
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def view_modules(paths: Sequence[str]) -> list[str]:
    """The files that may define an app's views, beside the files that declare its routes."""
    return [p for p in paths if p.endswith(".py") and re.search(r"(^|/)(views?|api|apis|handlers?)(/|[^/]*\.py$)", p)]
