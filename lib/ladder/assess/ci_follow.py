"""What a CI command leads to inside the repository, one level deep: a script, a Make target, a Taskfile task."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from typing import Any

import yaml

# Reads a repository file by path; "" when it is absent.
Read = Callable[[str], str]

SCRIPT = re.compile(
    r"(?:^|[\s;&|(])(?:(?:bash|sh|zsh|source|python3?|\.)\s+)?(\.{0,2}/?[\w.-]+(?:/[\w.-]+)*\.(?:sh|bash))\b"
)
MAKE = re.compile(r"\bmake\s+(?:-\S+\s+)*([A-Za-z_][\w.-]*)")
TASK = re.compile(r"(?:^|[\s;&|(])(?:go-)?task\s+(?:-\S+\s+)*([A-Za-z_][\w:.-]*)")
TEMPLATE = re.compile(r"^\s*-?\s*template:\s*['\"]?([^\s'\"@]+\.ya?ml)['\"]?\s*$", re.M)
TASKFILES = ("Taskfile.yml", "Taskfile.yaml", "taskfile.yml", "taskfile.yaml")


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


def followed(command: str, read: Read) -> list[tuple[str, str]]:
    """(where, line) for each line of the repository's own files a shell command runs: scripts, Make, Taskfile."""
    out: list[tuple[str, str]] = []
    for path in SCRIPT.findall(command):
        clean = posixpath.normpath(path)
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
