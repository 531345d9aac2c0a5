"""A project's own route helpers: functions that forward a path, or a list of paths, to add_url_rule.

One level only: `def register_view(bp, routes, view_func): for r in routes: bp.add_url_rule(r, view_func=...)`
makes every `register_view(blog, routes=["/a", "/b"], view_func=...)` declare /a and /b on blog.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass

# The registering calls a helper may forward to: Flask's add_url_rule, FastAPI's add_api_route, Pyramid's add_route.
FORWARDED = {"add_url_rule", "add_api_route", "add_route"}


@dataclass(frozen=True)
class Helper:
    """A function forwarding its parameter `paths` (one path or a list) to a route call on its parameter `target`."""

    params: tuple[str, ...]
    paths: str
    target: str


def _loop_sources(function: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, str]:
    """Loop variables over a parameter: {'route': 'routes'} for `for route in routes:`."""
    return {
        n.target.id: n.iter.id
        for n in ast.walk(function)
        if isinstance(n, ast.For) and isinstance(n.target, ast.Name) and isinstance(n.iter, ast.Name)
    }


def _helper(function: ast.FunctionDef | ast.AsyncFunctionDef) -> Helper | None:
    params = tuple(a.arg for a in [*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs])
    loops = _loop_sources(function)
    for node in ast.walk(function):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in FORWARDED):
            continue
        first = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "rule"), None)
        name = first.id if isinstance(first, ast.Name) else ""
        paths = name if name in params else loops.get(name, "")
        target = node.func.value.id if isinstance(node.func.value, ast.Name) else ""
        if paths in params and target in params:
            return Helper(params, paths, target)
    return None


def find(trees: Mapping[str, ast.Module]) -> dict[str, Helper]:
    """The repository's route helpers by function name (module level only)."""
    out: dict[str, Helper] = {}
    for tree in trees.values():
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and (helper := _helper(node)):
                out[node.name] = helper
    return out


def _argument(call: ast.Call, helper: Helper, param: str) -> ast.expr | None:
    for k in call.keywords:
        if k.arg == param:
            return k.value
    index = helper.params.index(param)
    return call.args[index] if index < len(call.args) else None


def calls(tree: ast.Module, helpers: Mapping[str, Helper]) -> list[tuple[ast.Call, ast.Constant, str]]:
    """(call, path literal, owner name) for each path a module passes to one of the helpers."""
    out = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in helpers):
            continue
        helper = helpers[node.func.id]
        paths = _argument(node, helper, helper.paths)
        target = _argument(node, helper, helper.target)
        owner = target.id if isinstance(target, ast.Name) else target.attr if isinstance(target, ast.Attribute) else ""
        literals = paths.elts if isinstance(paths, ast.List | ast.Tuple) else [paths] if paths else []
        out += [
            (node, e, owner)
            for e in literals
            if isinstance(e, ast.Constant) and isinstance(e.value, str) and e.value.startswith("/")
        ]
    return out
