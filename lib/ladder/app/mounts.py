"""Where routes are mounted: prefixes of routers, blueprints and URL includes, resolved across a repo's modules.

A pure read of Python texts: FastAPI APIRouter(prefix=) and include_router(prefix=), Flask Blueprint(url_prefix=)
and register_blueprint(url_prefix=), Django path("api/", include("pkg.urls")) followed module to module, Django
REST framework routers (router.register) and Pyramid add_route / config.include(route_prefix=). A prefix may be a
constant: a module's, a settings class attribute (API_V1_STR: str = "/api/v1"), or settings.X through imports.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

# Calls that make an object routes hang off, and the keyword holding its own prefix.
OBJECTS = {"APIRouter": "prefix", "FastAPI": "", "Flask": "", "Blueprint": "url_prefix", "Starlette": ""}
DRF_ROUTERS = {"DefaultRouter", "SimpleRouter", "ExtendedSimpleRouter", "NestedSimpleRouter", "OrderedDefaultRouter"}
INCLUDES = {"include_router": "prefix", "register_blueprint": "url_prefix"}
DJANGO_CALLS = {"path", "re_path", "url"}
VERBS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}  # aiohttp: add_route("GET", "/x", h)
MAX_PREFIXES = 8  # one object mounted in more places than this is a generic helper, not an app's tree
FILE = ""  # the owner of a file's own routes: Django urlpatterns, a Pyramid includeme

Key = tuple[str, str]  # (file, owner): the object routes are declared on


@dataclass(frozen=True)
class Extra:
    """A route a file declares in a form read only here: a DRF router.register or a Pyramid add_route."""

    method: str
    path: str
    file: str
    line: int
    owner: str


@dataclass(frozen=True)
class Mounts:
    """The full prefixes each route owner is served under, and the routes only this read finds."""

    prefixes: Mapping[Key, tuple[str, ...]] = field(default_factory=dict)
    extra: tuple[Extra, ...] = ()

    def of(self, file: str, owner: str) -> tuple[str, ...]:
        """The prefixes of routes declared on owner in file (the file's own when owner is unknown)."""
        return self.prefixes.get((file, owner)) or self.prefixes.get((file, FILE)) or ("",)


def norm(prefix: str) -> str:
    """A prefix as '' or '/a/b': Django's 'api/v1/' and regex '^api/' forms, FastAPI's '/api/v1'."""
    head = prefix.strip().removeprefix("^").removesuffix("$").strip("/")
    return f"/{head}" if head else ""


def join(prefix: str, path: str) -> str:
    """A path under a prefix: join('/api/v1', '/items') -> '/api/v1/items'; join('api/', '/') -> '/api/'."""
    head = norm(prefix)
    return head + path if path.startswith("/") else f"{head}/{path}"


def module_names(files: Iterator[str] | list[str]) -> dict[str, str]:
    """Dotted module name -> file, under every suffix of its path (src/app/urls.py is app.urls and urls too)."""
    out: dict[str, str] = {}
    for f in sorted(files, key=lambda p: (p.count("/"), p)):
        parts = f.removesuffix(".py").split("/")
        if parts[-1] == "__init__":
            parts.pop()
        for i in range(len(parts)):
            out.setdefault(".".join(parts[i:]), f)
    return out


class _Module:
    """What one module says: constants, imports, route objects, and mount edges (read in one walk)."""

    def __init__(self, file: str, tree: ast.Module) -> None:
        self.file, self.tree = file, tree
        self.consts: dict[str, ast.expr] = {}
        self.imports: dict[str, tuple[str, str]] = {}  # local name -> (module, attribute or '' for a module)
        self.nodes = list(ast.walk(tree))  # walked once: the reads below go over it three more times
        for node in self.nodes:
            if isinstance(node, ast.Import):
                for a in node.names:
                    self.imports[a.asname or a.name.split(".")[0]] = (a.name if a.asname else a.name.split(".")[0], "")
            elif isinstance(node, ast.ImportFrom):
                for a in node.names:
                    self.imports[a.asname or a.name] = (self.absolute(node), a.name)
        for stmt in tree.body:
            body = stmt.body if isinstance(stmt, ast.ClassDef) else [stmt]
            for s in body:
                if isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name):
                    self.consts[s.targets[0].id] = s.value
                elif isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name) and s.value is not None:
                    self.consts[s.target.id] = s.value

    def absolute(self, node: ast.ImportFrom) -> str:
        """The module an import names, relative ones (from . import x) made absolute from this file's package."""
        if not node.level:
            return node.module or ""
        package = self.file.removesuffix(".py").split("/")[:-1]
        base = package[: len(package) - node.level + 1]
        return ".".join([*base, *([node.module] if node.module else [])])


class _Reader:
    """Resolves names across modules and collects objects, edges and extra routes."""

    def __init__(self, modules: dict[str, _Module]) -> None:
        self.modules = modules
        self.names = module_names(list(modules))
        self.own: dict[Key, str] = {}
        self.edges: dict[Key, list[tuple[Key, str]]] = {}
        self.extra: list[Extra] = []
        self.drf: set[Key] = set()
        # The repo's own subclasses too: class TeamRouter(DefaultRouter), class UserAPIRouter(APIRouter).
        self.routers = set(DRF_ROUTERS)
        self.kinds = dict(OBJECTS)
        classes = [n for m in modules.values() for n in m.tree.body if isinstance(n, ast.ClassDef)]
        for _ in range(3):
            for c in classes:
                bases = [_name(b) for b in c.bases]
                if any(b in self.routers for b in bases):
                    self.routers.add(c.name)
                kind = next((self.kinds[b] for b in bases if b in self.kinds), None)
                if kind is not None:
                    self.kinds.setdefault(c.name, kind)
        self.included: set[Key] = set()  # DRF routers mounted by include(router.urls)
        by_attr: dict[str, set[str]] = {}
        for m in modules.values():
            for name, node in m.consts.items():
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    by_attr.setdefault(name, set()).add(node.value)
        # settings.X read without an import this read can follow: the one value X has across the repo
        self.unique = {k: next(iter(v)) for k, v in by_attr.items() if len(v) == 1}

    def module(self, dotted: str) -> _Module | None:
        file = self.names.get(dotted)
        return self.modules.get(file) if file else None

    def text(self, node: ast.expr | None, m: _Module, depth: int = 0) -> str | None:
        """The string an expression spells, following constants and imports; None when unknown."""
        if node is None or depth > 6:
            return None
        if isinstance(node, ast.Constant):
            return node.value if isinstance(node.value, str) else None
        if isinstance(node, ast.JoinedStr):
            parts = [self.text(v.value if isinstance(v, ast.FormattedValue) else v, m, depth + 1) for v in node.values]
            return None if None in parts else "".join(p or "" for p in parts)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            a, b = self.text(node.left, m, depth + 1), self.text(node.right, m, depth + 1)
            return None if a is None or b is None else a + b
        if isinstance(node, ast.Name):
            if node.id in m.consts:
                return self.text(m.consts[node.id], m, depth + 1)
            module, attr = m.imports.get(node.id, ("", ""))
            other = self.module(module) if attr else None
            return self.text(other.consts.get(attr), other, depth + 1) if other else None
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            module, attr = m.imports.get(node.value.id, ("", ""))
            other = self.module(f"{module}.{attr}" if attr else module) if module else None
            if other and node.attr in other.consts:
                return self.text(other.consts[node.attr], other, depth + 1)
            return self.unique.get(node.attr)
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):  # app.config["URL_PREFIX"]
            return self.unique.get(str(node.slice.value))
        return None

    def target(self, node: ast.expr, m: _Module) -> Key | None:
        """The (file, owner) an include names: a local object, an imported one, or module.router."""
        if isinstance(node, ast.Name):
            if (m.file, node.id) in self.own:
                return m.file, node.id
            module, attr = m.imports.get(node.id, ("", ""))
            other = self.module(module) if attr else None
            if other is None and module:
                other = self.module(f"{module}.{attr}" if attr else module)
                return (other.file, FILE) if other else None
            return (other.file, attr) if other else None
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            module, attr = m.imports.get(node.value.id, ("", ""))
            other = self.module(f"{module}.{attr}" if attr else module) if module else None
            return (other.file, node.attr) if other else None
        return None

    def objects(self, m: _Module) -> None:
        for node in m.nodes:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                name = _name(node.value.func)
                for t in node.targets:
                    if isinstance(t, ast.Name) and name in self.kinds:
                        kw = self.kinds[name]
                        self.own[(m.file, t.id)] = self.text(_kw(node.value, kw), m) or "" if kw else ""
                    elif isinstance(t, ast.Name) and name in self.routers:
                        self.own[(m.file, t.id)] = ""
                        self.drf.add((m.file, t.id))

    def mounts(self, m: _Module) -> None:
        for node in m.nodes:
            if not isinstance(node, ast.Call):
                continue
            name, owner = _name(node.func), _owner(node.func)
            if name in INCLUDES and node.args and (child := self.target(node.args[0], m)):
                prefix = self.text(_kw(node, INCLUDES[name]), m) or ""
                self.edges.setdefault(child, []).append(((m.file, owner), prefix))
            elif name in DJANGO_CALLS and len(node.args) >= 2 and is_include(node.args[1]):
                self._include(node.args[1], self.text(node.args[0], m) or "", m)
            elif name == "register" and (m.file, owner) in self.drf and node.args:
                path = self.text(node.args[0], m)
                if path is not None:
                    self.extra.append(Extra("*", norm(path) + "/", m.file, node.lineno, owner))
            elif name == "add_route" and len(node.args) >= 2:
                path = self.text(node.args[1], m)
                verb = (self.text(node.args[0], m) or "").upper()
                if path is not None and not path.startswith(("http:", "https:")):
                    method = verb if verb in VERBS else "*"
                    self.extra.append(Extra(method, "/" + path.lstrip("/"), m.file, node.lineno, FILE))
            elif name == "include" and owner == "config" and node.args:
                where = self.text(node.args[0], m) or ""
                other = self.module(where.lstrip("."))
                if other:
                    prefix = self.text(_kw(node, "route_prefix"), m) or ""
                    self.edges.setdefault((other.file, FILE), []).append(((m.file, FILE), prefix))
        for node in m.nodes:  # urlpatterns += router.urls, outside any include()
            if isinstance(node, ast.Attribute) and node.attr == "urls" and isinstance(node.value, ast.Name):
                key = (m.file, node.value.id)
                if key in self.drf and key not in self.included:
                    self.edges.setdefault(key, []).append(((m.file, FILE), ""))

    def _include(self, node: ast.expr, prefix: str, m: _Module) -> None:
        arg = node.args[0] if isinstance(node, ast.Call) and node.args else node
        if isinstance(arg, ast.Tuple) and arg.elts:
            arg = arg.elts[0]
        child: Key | None = None
        if isinstance(arg, ast.Attribute) and arg.attr == "urls" and isinstance(arg.value, ast.Name):
            child = (m.file, arg.value.id)
            self.included.add(child)
        elif (dotted := self.text(arg, m)) is not None:
            other = self.module(dotted)
            child = (other.file, FILE) if other else None
        else:
            child = self.target(arg, m)
        if child:
            self.edges.setdefault(child, []).append(((m.file, FILE), prefix))

    def full(self, key: Key, seen: frozenset[Key] = frozenset()) -> tuple[str, ...]:
        """Every prefix routes on key are served under, from the roots of the mount tree down."""
        own = norm(self.own.get(key, ""))
        parents = [(p, pre) for p, pre in self.edges.get(key, []) if p not in seen and p != key]
        if not parents or len(seen) > 12:
            return (own,)
        out = [head + norm(pre) + own for parent, pre in parents for head in self.full(parent, seen | {key})]
        return tuple(dict.fromkeys(out))[:MAX_PREFIXES]


def is_include(node: ast.expr) -> bool:
    """True for a Django include(...) or a router's .urls: a mount of other routes, not a route."""
    if isinstance(node, ast.Call):
        return _name(node.func) == "include"
    return isinstance(node, ast.Attribute) and node.attr == "urls"


def _name(node: ast.expr) -> str:
    return node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else ""


def _owner(node: ast.expr) -> str:
    return _name(node.value) if isinstance(node, ast.Attribute) else ""


def _kw(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def resolve(trees: Mapping[str, ast.Module]) -> Mounts:
    """Where each route owner of some parsed Python files is mounted, and the routes only a repo-wide read finds."""
    modules = {f: _Module(f, t) for f, t in trees.items()}
    reader = _Reader(modules)
    for m in modules.values():
        reader.objects(m)
    for m in modules.values():
        reader.mounts(m)
    keys = set(reader.own) | set(reader.edges)
    prefixes = {k: p for k in keys if (p := reader.full(k)) != ("",)}
    return Mounts(prefixes, tuple(reader.extra))
