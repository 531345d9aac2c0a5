"""Idempotent operations: compare facts with the wanted state, return a Change.

Every operation plans by default: it changes a host only when called with dry_run=False.
"""

from __future__ import annotations

import hashlib
import shlex
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from . import facts
from .errors import HostError
from .hosts import Host

q = shlex.quote


# Worst first: a host's outcome over several changes is the worst of them.
OUTCOMES = ("failed", "changed", "planned", "ok")


@dataclass(frozen=True)
class Change:
    """What an operation would do, did, or failed to do on one host, and why."""

    host: str
    operation: str
    target: str
    commands: tuple[str, ...] = ()
    changed: bool = False
    applied: bool = False
    failed: bool = False
    reason: str = ""

    @property
    def outcome(self) -> str:
        """failed, changed (applied), planned (would change) or ok (already as wanted)."""
        if self.failed:
            return "failed"
        if self.changed:
            return "changed" if self.applied else "planned"
        return "ok"

    def to_dict(self) -> dict:
        """A plain dict for tables, JSON and the journal, with its outcome."""
        return {
            "host": self.host,
            "operation": self.operation,
            "target": self.target,
            "commands": list(self.commands),
            "changed": self.changed,
            "applied": self.applied,
            "failed": self.failed,
            "reason": self.reason,
            "outcome": self.outcome,
        }


def worst(outcomes: Iterable[str]) -> str:
    """The most serious of several outcomes; 'ok' for none."""
    found = set(outcomes)
    return next((o for o in OUTCOMES if o in found), "ok")


# An action is what a person reads in the plan plus the call that carries it out.
Action = tuple[str, Callable[[], object]]


def command(host: Host, cmd: str, timeout: float | None = None) -> Action:
    """An action that runs one shell command (timeout None: the host's, i.e. the config's command_timeout)."""
    return cmd, lambda: host.run(cmd, timeout=timeout)


def settle(
    host: Host, operation: str, target: str, actions: list[Action], reason: str = "", *, dry_run: bool = True
) -> Change:
    """Run the actions unless this is a dry run, and report the Change; no actions means already as wanted."""
    if not dry_run:
        for _, do in actions:
            do()
    return Change(
        host=host.name,
        operation=operation,
        target=target,
        commands=tuple(text for text, _ in actions),
        changed=bool(actions),
        applied=not dry_run and bool(actions),
        reason=reason if actions else "already as wanted",
    )


def directory(host: Host, path: str, mode: int | None = None, *, dry_run: bool = True) -> Change:
    """Ensure a directory exists (with its parents), optionally with a mode."""
    info = facts.get_path(host, path)
    if info is not None and not info.is_directory:
        raise HostError(f"{path} exists and is a {info.kind}, not a directory; move it away first", host=host.name)
    actions: list[Action] = []
    reason = ""
    if info is None:
        actions.append(command(host, f"mkdir -p -- {q(path)}"))
        reason = "missing"
    if mode is not None and (info is None or info.mode != mode):
        actions.append(command(host, f"chmod {mode:o} -- {q(path)}"))
        reason = "missing" if info is None else f"mode {info.mode:o} -> {mode:o}"
    return settle(host, "directory", path, actions, reason, dry_run=dry_run)


def file(host: Host, path: str, content: str, mode: int | None = None, *, dry_run: bool = True) -> Change:
    """Ensure a file holds exactly this content, optionally with a mode."""
    info = facts.get_path(host, path)
    if info is not None and not info.is_file:
        raise HostError(f"{path} exists and is a {info.kind}, not a file; move it away first", host=host.name)
    digest = hashlib.sha256(content.encode()).hexdigest()
    actions: list[Action] = []
    if info is None or info.sha256 != digest:
        text = f"write {path} ({len(content.encode())} bytes, sha256 {digest[:12]})"
        actions.append((text, lambda: host.write_text(path, content, mode)))
        reason = "missing" if info is None else "content differs"
    elif mode is not None and info.mode != mode:
        actions.append(command(host, f"chmod {mode:o} -- {q(path)}"))
        reason = f"mode {info.mode:o} -> {mode:o}"
    else:
        reason = ""
    return settle(host, "file", path, actions, reason, dry_run=dry_run)


def symlink(host: Host, path: str, target: str, *, dry_run: bool = True) -> Change:
    """Point a symlink at target, switching atomically (new link renamed over the old)."""
    info = facts.get_path(host, path)
    if info is not None and not info.is_link:
        raise HostError(f"{path} exists and is a {info.kind}, not a symlink; move it away first", host=host.name)
    if info is not None and info.target == target:
        return settle(host, "symlink", path, [], dry_run=dry_run)
    reason = "missing" if info is None else f"points at {info.target}"
    return settle(host, "symlink", path, [command(host, symlink_command(path, target))], reason, dry_run=dry_run)


def symlink_command(path: str, target: str) -> str:
    """Shell that points path at target atomically: a new link renamed over the old one."""
    tmp = f"{path}.ladder-new"
    return f"ln -sfn -- {q(target)} {q(tmp)} && mv -T -- {q(tmp)} {q(path)}"


def line(host: Host, path: str, text: str, *, dry_run: bool = True) -> Change:
    """Ensure a file contains text as a whole line, appending it when absent."""
    if "\n" in text:
        raise ValueError("line() takes a single line; use file() for several")
    info = facts.get_path(host, path)
    current = host.read_text(path) if info is not None and info.is_file else ""
    if facts.has_line(current, text):
        return settle(host, "line", path, [], dry_run=dry_run)
    # Keep the last existing line whole when the file lacks a final newline.
    prefix = "\\n" if current and not current.endswith("\n") else ""
    cmd = f"printf '{prefix}%s\\n' {q(text)} >> {q(path)}"
    return settle(host, "line", path, [command(host, cmd)], "line missing", dry_run=dry_run)
