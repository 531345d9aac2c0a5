"""The repeatable deploy step on a host: a script that fetches, checks out a ref and reloads the app server."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from ..core import ops
from ..core.errors import HostError
from ..core.hosts import Host
from . import checkout, importcheck, reload, service
from .checkout import SavedPatch
from .git import GIT
from .layout import Layout
from .server import get_server, master_pid_command

q = shlex.quote
VERSION_FILE = "VERSION"
VERSION_LENGTH = 12


@dataclass(frozen=True)
class Target:
    """Where the app server comes from on a prod host; what the deploy script is built from."""

    base: str
    python: str
    port: int
    wsgi: str = "app:application"
    reload: str = ""  # the command that reloads a server Ladder did not start (from app.reload); "": Ladder's gunicorn
    health_path: str = "/health"

    @property
    def layout(self) -> Layout:
        """The app's folders and files under base."""
        return Layout(self.base)


def script(target: Target) -> str:
    """The deploy script's text: deterministic, so writing it again changes nothing."""
    lay = target.layout
    start = service.start_command(
        chdir=lay.app,
        python=target.python,
        port=target.port,
        wsgi=target.wsgi,
        env_file=lay.env_file,
        pid_file=lay.pid_file,
        logs=lay.logs,
    )
    own = f"""pid=$(cat "$PID_FILE" 2>/dev/null | tr -dc 0-9 || true)
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
  {service.reload_command(lay.pid_file)}
  echo "deploy: reloaded the app server (pid $pid)"
else
  {start}
  echo "deploy: started the app server"
fi"""
    patch = checkout.patch_command(git="$GIT")
    loads = importcheck.command(target.python, lay.app, target.wsgi, pid_from=master_pid_command(target.port))
    serve = f"{target.reload}\necho {q('deploy: reloaded the app server: ' + target.reload)}" if target.reload else own
    return f"""#!/usr/bin/env bash
# Written by Ladder (rung 1): the one repeatable way code reaches this host.
# Usage: deploy [REF]   fetch origin, check out REF (default: master), reload the app server.
# Fail-safe: nothing in the checkout changes until the fetch worked and REF names a commit,
# and a commit whose app does not import is checked out back before any reload,
# so a failed deploy leaves the old code serving. Edits made in place are saved under
# EDITS before they are discarded. /health reports the deployed commit (the VERSION file).
set -euo pipefail
APP={q(lay.app)}
PID_FILE={q(lay.pid_file)}
EDITS={q(lay.edits)}
GIT={q(GIT)}
ref="${{1:-master}}"
case "$ref" in ""|-*|*..*|*[!A-Za-z0-9._/-]*) echo "deploy: '$ref' is not a branch, tag or commit name" >&2; exit 2;; esac
cd "$APP"
was=$($GIT rev-parse HEAD)
current=$(echo "$was" | cut -c1-{VERSION_LENGTH})
$GIT fetch --quiet --prune --tags origin || {{ echo "deploy: git fetch failed; still serving $current" >&2; exit 3; }}
target=$($GIT rev-parse --verify --quiet "refs/remotes/origin/$ref^{{commit}}" \\
  || $GIT rev-parse --verify --quiet "refs/tags/$ref^{{commit}}" \\
  || $GIT rev-parse --verify --quiet "$ref^{{commit}}") \\
  || {{ echo "deploy: ref '$ref' is not on origin; still serving $current" >&2; exit 4; }}
if [ -n "$($GIT status --porcelain --untracked-files=all)" ]; then
  mkdir -p "$EDITS"
  saved="$EDITS/$(date -u +%Y%m%dT%H%M%SZ)-$current.patch"
  {patch} > "$saved"
  echo "deploy: saved in-place edits to $saved"
fi
exclude=$($GIT rev-parse --git-path info/exclude)
mkdir -p "$(dirname "$exclude")"
grep -qxF {VERSION_FILE} "$exclude" 2>/dev/null || echo {VERSION_FILE} >> "$exclude"
$GIT checkout --quiet --force --detach "$target"
$GIT clean --quiet --force -d
if ! (set -a; [ ! -f {q(lay.env_file)} ] || . {q(lay.env_file)}; set +a; {loads}) >&2; then
  $GIT checkout --quiet --force --detach "$was"
  echo "deploy: $ref does not load (above), so nothing was reloaded; $current is checked out again and serves" >&2
  exit 5
fi
printf '%s\\n' "$(echo "$target" | cut -c1-{VERSION_LENGTH})" > {VERSION_FILE}
{serve}
echo "deploy: $ref -> $(cat {VERSION_FILE}) (was $current)"
"""


def version_of(commit: str) -> str:
    """What /health reports for a commit after the deploy step."""
    return commit[:VERSION_LENGTH]


@dataclass(frozen=True)
class State:
    """What a prod host serves now: checkout status, the VERSION file and whether the server runs."""

    status: checkout.Status
    version: str
    running: bool


def get_state(host: Host, target: Target) -> State:
    """Read the checkout, its VERSION file and the app server's pid; changes nothing."""
    lay = target.layout
    status = checkout.get_status(host, lay.app)
    if status is None:
        raise HostError(f"{lay.app} is not a git checkout; clone the app there first", host=host.name)
    version = host.run(f"cat {q(lay.app + '/' + VERSION_FILE)} 2>/dev/null || true").stdout.strip()
    return State(status, version, get_server(host, target.port).known)


def install(host: Host, target: Target, *, dry_run: bool = True) -> list[ops.Change]:
    """Put the deploy script on the host (mode 755); a plan unless dry_run is False; a second call changes nothing."""
    lay = target.layout
    return [
        ops.directory(host, lay.bin, dry_run=dry_run),
        ops.file(host, lay.deploy_script, script(target), mode=0o755, dry_run=dry_run),
    ]


def deploy(
    host: Host,
    target: Target,
    ref: str = "master",
    *,
    saved: SavedPatch | None = None,
    dry_run: bool = True,
    timeout: float | None = None,
) -> ops.Change:
    """Run the deploy script for ref unless prod serves it from a clean tree already; a plan unless dry_run is False.

    In-place edits must have been saved first (checkout.save_edits), or nothing is applied.
    """
    checkout.check_ref(ref)
    state = get_state(host, target)
    commit = checkout.remote_commit(host, target.layout.app, ref)
    if commit is None and not checkout.is_commit_id(ref):
        raise HostError(f"ref {ref!r} is not a branch or tag on origin; nothing was changed", host=host.name)
    serving = (
        state.status.head
        if state.status.clean and state.running and state.version == version_of(state.status.head)
        else None
    )
    if commit is not None and serving == commit:
        return ops.settle(host, "deploy", target.layout.app, [], dry_run=dry_run)
    if not dry_run and not state.status.clean and (saved is None or saved.head != state.status.head):
        raise HostError(
            f"{target.layout.app} has in-place edits ({', '.join(state.status.edited)}) that were not saved; "
            "save them with checkout.save_edits before deploying",
            host=host.name,
        )
    reasons = []
    if not state.status.clean:
        where = f" (saved to {saved.path.name})" if saved is not None else ""
        reasons.append(f"discard in-place edits: {', '.join(state.status.edited)}{where}")
    if commit is None or commit != state.status.head:
        reasons.append(f"{version_of(state.status.head)} -> {version_of(commit) if commit else ref}")
    elif state.version != version_of(commit):
        reasons.append("write VERSION")
    if not state.running:
        reasons.append("app server not running")
    cmd = f"{q(target.layout.deploy_script)} {q(ref)}"
    action = (
        ops.command(host, cmd, timeout)
        if not target.reload
        else (cmd, lambda: _run_and_verify(host, target, cmd, timeout))
    )
    return ops.settle(host, "deploy", target.layout.app, [action], "; ".join(reasons), dry_run=dry_run)


def _run_and_verify(host: Host, target: Target, cmd: str, timeout: float | None) -> None:
    """Run the deploy script on a server Ladder did not start, then check its workers were replaced and are healthy."""
    found = get_server(host, target.port)
    way = reload.choose(host.name, found)
    before = reload.get_workers(host, found.pid)
    host.run(cmd, timeout=timeout)
    python = target.python
    reload.verify(host, found, way, before, path=target.health_path, python=python, deadline=reload.VERIFY_DEADLINE)
