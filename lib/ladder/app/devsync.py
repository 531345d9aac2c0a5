"""A developer's changes put on their dev host: the dev checkout made to hold them, then the app reloaded."""

from __future__ import annotations

from pathlib import Path

from ..core import ops
from ..core.errors import HostError
from ..core.hosts import Host
from ..core.paths import inside
from . import checkout, service
from .devenv import DevEnv
from .git import GIT

q = checkout.q
SAVED = "dev-edits"  # the folder under a run's folder that keeps the dev edits a sync replaced


def _holds(host: Host, path: str, text: str) -> bool:
    """True when the file at path holds exactly text."""
    return host.exists(path) and host.read_text(path) == text


def sync(
    host: Host, env: DevEnv, files: dict[str, str], base: str, folder: Path, *, dry_run: bool = True
) -> list[ops.Change]:
    """Make the dev checkout hold files (path -> text) on top of commit base, and reload the app when they changed.

    Edits on dev that differ from files are saved as `<folder>/dev-edits/<host>.patch`, then undone.
    """
    app = env.layout.app
    saved = folder / SAVED
    patch = inside(saved, f"{host.name}.patch", what="host name")  # refused before the host is asked
    status = checkout.get_status(host, app)
    if status is None:
        raise HostError(f"{app} is not a git checkout; build the dev environment first", host=host.name)
    if status.head != base and dry_run:  # building the dev environment would move it there first
        reason = f"once the dev checkout is at {base[:10]} (it is at {status.head[:10]})"
        return [ops.Change(host.name, "your changes", app, changed=True, reason=reason)]
    if status.head != base:
        edits = f" after saving or discarding its edits ({', '.join(status.edited)})" if not status.clean else ""
        raise HostError(
            f"the dev checkout is at {status.head[:10]} but the changes start from {base[:10]}: "
            f"build the dev environment again{edits}",
            host=host.name,
        )
    changes = []
    stale = [p for p in status.edited if p not in files or not _holds(host, f"{app}/{p}", files[p])]
    if stale:
        save = (
            f"save {', '.join(status.edited)} as {patch}",
            lambda: checkout.save_edits(host, app, saved, status),
        )
        undo = ops.command(host, f"{GIT} -C {q(app)} checkout -q -- . && {GIT} -C {q(app)} clean -fdq")
        reason = f"edits on dev that are not these changes: {', '.join(stale)}"
        changes.append(ops.settle(host, "other dev edits", app, [save, undo], reason, dry_run=dry_run))
    changes += [ops.file(host, f"{app}/{name}", text, dry_run=dry_run) for name, text in files.items()]
    if not any(c.changed for c in changes):
        return changes
    if not dry_run and not service.is_running(host, env.layout.pid_file):
        raise HostError("the dev app is not running; build the dev environment again", host=host.name)
    reload = ops.command(host, service.reload_command(env.layout.pid_file), 30)
    target = f"127.0.0.1:{env.port}"
    return changes + [ops.settle(host, "app server", target, [reload], "code changed: reload", dry_run=dry_run)]
