"""What a CI command leads to inside the repository, one level deep: a script, a Make target, a Taskfile task."""

from __future__ import annotations

import ast
import configparser
import posixpath
import re
import tomllib
from collections.abc import Callable
from typing import Any

import yaml

# Reads a repository file by path; "" when it is absent.
Read = Callable[[str], str]

SCRIPT = re.compile(
    r"(?:^|[\s;&|(])(?:(?:bash|sh|zsh|source|python3?|\.)\s+)?(\.{0,2}/?[\w.-]+(?:/[\w.-]+)*\.(?:sh|bash))\b"
)
# An extensionless script in the usual folders (`scripts/test`, `./bin/publish`), as encode's projects have them.
BARE_SCRIPT = re.compile(
    r"(?:^|[\s;&|(\"'])((?:\./)?(?:scripts|script|bin|tools|ci|\.ci|hack)/[\w.-]+)(?=$|[\s;&|)\"'])", re.M
)
MAKE = re.compile(r"\bmake\s+(?:-\S+\s+)*([A-Za-z_][\w.-]*)")
TASK = re.compile(r"(?:^|[\s;&|(])(?:go-)?task\s+(?:-\S+\s+)*([A-Za-z_][\w:.-]*)")
TEMPLATE = re.compile(r"^\s*-?\s*template:\s*['\"]?([^\s'\"@]+\.ya?ml)['\"]?\s*$", re.M)
TASKFILES = ("Taskfile.yml", "Taskfile.yaml", "taskfile.yml", "taskfile.yaml")
# `tox -e py312,lint`, `nox -s tests`, `nox --session=docs`: the runner, then the environments or sessions named.
RUNNER = re.compile(r"(?:^|[\s;&|(])(tox|nox)\b([^\n;&|]*)")
RUNNER_PICK = re.compile(r"(?:^|\s)(?:-e|--env|-s|--sessions?|-k)(?:\s+|=)([\w,.:-]+)")
# An environment or session named like this runs tests (tox's py312, nox's tests-3.12, unit, e2e).
TEST_ENV = re.compile(r"^(py\d*|pypy\d*|tests?|unit|integration|e2e|functional)([-_.:\d]|$)|[-_]tests?$")


def make_target(makefile: str, target: str) -> list[str]:
    """The recipe lines of one Make target, with those of the targets it depends on (same Makefile)."""
    rules: dict[str, tuple[list[str], list[str]]] = {}
    current: list[str] = []
    for line in makefile.splitlines():
        if line.startswith("\t"):
            for name in current:
                rules[name][1].append(line.strip())
            continue
        m = re.match(r"^([^\s#:=][^#:=]*?)\s*::?(?!=)\s*([^;#=]*)", line)
        if m and not line.lstrip().startswith(("export ", "define ", "include ")):
            current = m.group(1).split()
            for name in current:
                rules.setdefault(name, ([], []))[0].extend(m.group(2).split())
        elif line.strip():
            current = []
    prereqs, recipe = rules.get(target, ([], []))
    return recipe + [line for p in prereqs for line in rules.get(p, ([], []))[1]]


def taskfile_task(taskfile: str, name: str) -> list[str]:
    """The commands of one task in a Taskfile.yml (go-task), with those of the tasks it calls."""
    doc = _yaml(taskfile)
    tasks = doc.get("tasks") if isinstance(doc, dict) else None
    if not isinstance(tasks, dict):
        return []

    def cmds(task: Any) -> list[Any]:
        if isinstance(task, list):
            return task
        if isinstance(task, dict):
            return list(task.get("cmds") or []) + [{"task": d} for d in task.get("deps") or []]
        return [task] if isinstance(task, str) else []

    out: list[str] = []
    for cmd in cmds(tasks.get(name)):
        if isinstance(cmd, str):
            out.append(cmd)
        elif isinstance(cmd, dict) and isinstance(cmd.get("cmd"), str):
            out.append(cmd["cmd"])
        elif isinstance(cmd, dict) and isinstance(cmd.get("task"), str):
            out += [c for c in cmds(tasks.get(cmd["task"])) if isinstance(c, str)]
    return out


def tox_env(tox_ini: str, envs: list[str]) -> list[str]:
    """The commands of tox environments in a tox.ini: the named ones, else its envlist; [testenv] by default."""
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(tox_ini)
    except configparser.Error:
        return []
    if not envs and parser.has_option("tox", "envlist"):
        envs = [e.strip() for e in re.split(r"[,\n]", parser.get("tox", "envlist")) if e.strip()]
    out: list[str] = []
    for env in envs or [""]:
        for section in (f"testenv:{env}", "testenv"):
            if parser.has_option(section, "commands"):
                out += lines(parser.get(section, "commands"))
                break
    return out


def nox_sessions(noxfile: str, names: list[str]) -> list[str]:
    """The source lines of noxfile.py sessions: the named ones, else every session (nox runs them all)."""
    try:
        tree = ast.parse(noxfile)
    except (SyntaxError, ValueError):
        return []
    out: list[str] = []
    source = noxfile.splitlines()
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef) or not any(_is_session(d) for d in node.decorator_list):
            continue
        name = next((_session_name(d) for d in node.decorator_list if _session_name(d)), node.name)
        if not names or name in names or node.name in names:
            out += lines("\n".join(source[node.lineno - 1 : node.end_lineno]))
    return out


def _is_session(decorator: ast.expr) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return (isinstance(target, ast.Attribute) and target.attr == "session") or (
        isinstance(target, ast.Name) and target.id == "session"
    )


def _session_name(decorator: ast.expr) -> str:
    if isinstance(decorator, ast.Call):
        for kw in decorator.keywords:
            if kw.arg == "name" and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
                return kw.value.value
    return ""


def runner_runs_tests(command: str, read: Read, runs_tests: Callable[[str], bool]) -> bool | None:
    """Whether a tox or nox command runs tests: by what its environments run, else by their names; None if no runner."""
    calls = RUNNER.findall(command)
    if not calls:
        return None
    for runner, rest in calls:
        picked = [n for m in RUNNER_PICK.findall(rest) for n in m.split(",") if n]
        body = tox_env(read("tox.ini"), picked) if runner == "tox" else nox_sessions(read("noxfile.py"), picked)
        if body:
            if any(runs_tests(line) for line in body):
                return True
        elif not picked or any(TEST_ENV.search(n) for n in picked):
            return True  # the runner's config is elsewhere (pyproject, tox.toml): its default envs run tests
    return False


# A project's own test runner by its name: `ansible-test units`, `./run-tests.sh`, `python runtests.py`, `bin/test`.
OWN_RUNNER = re.compile(r"^(run-?tests?|runtests|[\w.]+[-_]test)(\.(sh|bash|py))?$")
# The YAML key a CI line may start with (`- bash: ...`, `script: ...`), env assignments, and interpreters.
LINE_KEY = re.compile(r"^-?\s*[\w.-]+:\s+")
LAUNCHERS = frozenset({"bash", "sh", "python", "python3", "exec", "uv", "poetry", "hatch", "pdm", "run"})


def own_test_runner(command: str, read: Read) -> str | None:
    """The project's own test runner a command calls (a file of the repository or a [project.scripts] entry), or None."""
    code = re.sub(r"(^|\s)#.*$", "", LINE_KEY.sub("", command.strip()))
    for segment in re.split(r"[;&|()]+", code):
        words = [w.strip("'\"") for w in segment.split() if "=" not in w or w.startswith("-")]
        while words and words[0] in LAUNCHERS:
            words = words[1:]
        if not words:
            continue
        program = words[0]
        name = posixpath.basename(program)
        if not (OWN_RUNNER.match(name) or (name == "test" and "/" in program)):
            continue
        if "/" in program:
            if read(posixpath.normpath(program)):
                return program
        elif read(program) or read(f"bin/{program}") or program in _project_scripts(read("pyproject.toml")):
            return program
    return None


def _project_scripts(text: str) -> set[str]:
    try:
        scripts = tomllib.loads(text).get("project", {}).get("scripts", {})
    except tomllib.TOMLDecodeError:
        return set()
    return set(scripts) if isinstance(scripts, dict) else set()


def gitlab_includes(doc: Any, read: Read) -> list[tuple[str, str]]:
    """(file, text) of the repository's own files a .gitlab-ci.yml includes (`include: local`), one level deep."""
    raw = doc.get("include") if isinstance(doc, dict) else None
    items = raw if isinstance(raw, list) else [raw] if raw else []
    out: list[tuple[str, str]] = []
    for item in items:
        path = item.get("local") if isinstance(item, dict) else item
        if isinstance(path, str) and "://" not in path and "*" not in path:
            clean = posixpath.normpath(path.lstrip("/"))
            text = read(clean)
            if text:
                out.append((clean, text))
    return out


def followed(command: str, read: Read) -> list[tuple[str, str]]:
    """(where, line) for each line of the repository's own files a shell command runs: scripts, Make, Taskfile."""
    out: list[tuple[str, str]] = []
    scripts = dict.fromkeys(posixpath.normpath(p) for p in SCRIPT.findall(command) + BARE_SCRIPT.findall(command))
    for clean in scripts:
        out += [(clean, line) for line in lines(read(clean))]
    for target in MAKE.findall(command):
        out += [(f"Makefile {target}", line) for line in make_target(read("Makefile"), target)]
    for task in TASK.findall(command):
        text = next((t for t in map(read, TASKFILES) if t), "")
        out += [(f"Taskfile {task}", line) for line in taskfile_task(text, task)]
    return out


def templates(text: str, path: str, read: Read) -> list[tuple[str, str]]:
    """(where, line) for each line of the local templates an Azure Pipelines file includes."""
    out: list[tuple[str, str]] = []
    for ref in TEMPLATE.findall(text):
        here = posixpath.normpath(posixpath.join(posixpath.dirname(path), ref.lstrip("/")))
        root = posixpath.normpath(ref.lstrip("/"))
        body = read(here) or read(root)
        out += [(here if read(here) else root, line) for line in lines(body)]
    return out


def lines(text: str) -> list[str]:
    """The stripped lines of a text that say something: no blanks, no comments."""
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def _yaml(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return None
