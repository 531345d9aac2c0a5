"""Master's history replayed from the story: the template app revealed unit by unit among transient noise."""

from __future__ import annotations

import ast
import random
import re

from . import story
from .story import ALL, EARLY, HOTFIXES, MESSAGES, PLAN, TODOS

SEED = 1312  # the shape of the history is fixed; only its dates move with `now`
NOISE_PAIRS = 50


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
            raise RuntimeError(f"seeded commit {message!r} changes nothing; fix PLAN in {story.__name__}")
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
            raise ValueError(
                f"{path}: expected one line {stripped!r}, found {len(hits)}; fix EARLY in {story.__name__}"
            )
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
        raise RuntimeError(f"seeded history does not end at the template app; fix EARLY in {story.__name__}")
    return history.commits
