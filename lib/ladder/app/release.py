"""Releases on a prod host (Capistrano's layout): send an artifact, verify it, install it offline, prune old ones.

`releases/<version>/` holds the copied `wheelhouse/` and `manifest.json`, its own `venv/`, `site` (a link to the
venv's site-packages, which the app server puts first on sys.path through `current`), links to `shared/`, and
`.complete`, written last: a release without it is partial, and nothing switches to it. Switching is app/switch.py.
"""

from __future__ import annotations

import shlex
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from ..core import ops
from ..core.copy import copy
from ..core.errors import HostError, LadderError, ParameterError
from ..core.hosts import Host
from . import manifest as mf
from .artifact import Store
from .layout import Layout

q = shlex.quote
COMPLETE = ".complete"
SITE = "site"
SHARED = ("app.env", "data", "logs")  # what outlives a release, linked into each one
INSTALL_TIMEOUT = 300.0
VERIFY_TIMEOUT = 120.0
Pause = Callable[[str], None]


def no_pause(name: str) -> None:
    """The default pause hook: carry on (a runbook passes engine.pausepoint.point for fault tests)."""


class ChecksumMismatch(HostError):
    """Files of a copied artifact whose sha256 is not the manifest's: names the host, the files and the fix."""

    def __init__(self, host: str, folder: str, files: list[str]) -> None:
        self.folder = folder
        self.files = files
        super().__init__(
            f"{folder}: sha256 of {', '.join(files)} does not match the manifest; nothing was installed. "
            "Rebuild or re-copy the artifact (the store's copy may be corrupt)",
            host=host,
        )


@dataclass(frozen=True)
class Release:
    """One folder under releases/: its version, whether it is complete, and when it was completed."""

    version: str
    complete: bool
    completed_at: int = 0  # the marker's mtime, seconds since the epoch; 0 when partial


@dataclass(frozen=True)
class Releases:
    """The releases on one host, oldest first, and the version `current` points at (None without current)."""

    releases: tuple[Release, ...] = ()
    current: str | None = None

    @property
    def complete(self) -> tuple[str, ...]:
        """The complete releases' versions, oldest first."""
        return tuple(r.version for r in self.releases if r.complete)

    def is_complete(self, version: str) -> bool:
        """True when the version's release is complete."""
        return version in self.complete


# --- facts -----------------------------------------------------------------------
def releases_command(lay: Layout) -> str:
    """Shell printing `current TARGET` and one `release NAME MTIME|-` line per release folder; changes nothing."""
    return (
        f'echo "current $(readlink {q(lay.current)} 2>/dev/null)"; '
        f'for d in {q(lay.releases)}/*/; do [ -d "$d" ] || continue; n=$(basename "$d"); '
        f'if [ -f "$d{COMPLETE}" ]; then echo "release $n $(stat -c %Y "$d{COMPLETE}")"; '
        'else echo "release $n -"; fi; done'
    )


def parse_releases(output: str) -> Releases:
    """Parse releases_command's output: releases ordered by completion (partial ones first), then by name."""
    current = None
    found: list[Release] = []
    for line in output.splitlines():
        words = line.split()
        if words[:1] == ["current"] and len(words) == 2:
            current = words[1].rstrip("/").rsplit("/", 1)[-1]
        elif words[:1] == ["release"] and len(words) == 3:
            done = words[2].isdigit()
            found.append(Release(words[1], done, int(words[2]) if done else 0))
    found.sort(key=lambda r: (r.complete, r.completed_at, version_key(r.version)))
    return Releases(tuple(found), current)


def version_key(version: str) -> tuple:
    """A sort key that orders 1.10 after 1.9 (numbers as numbers, the rest as text)."""
    parts = version.replace("+", ".").replace("-", ".").split(".")
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts)


def get_releases(host: Host, lay: Layout) -> Releases:
    """The releases on a host and the current one."""
    return parse_releases(host.run(releases_command(lay), timeout=30).stdout)


def verify_command(folder: str, files: dict[str, str]) -> str:
    """Shell that checks every listed file's sha256 inside folder (sha256sum -c) and prints the failures."""
    lines = "".join(f"{digest}  {name}\n" for name, digest in sorted(files.items()))
    return f"cd {q(folder)} && printf %s {q(lines)} | sha256sum -c --quiet - 2>&1 || true"


def parse_verify(output: str) -> list[str]:
    """The files `sha256sum -c --quiet` reports as failed or missing."""
    bad = []
    for line in output.splitlines():
        name, sep, what = line.rpartition(": ")
        if sep and what.startswith("FAILED") and name not in bad:
            bad.append(name)
    return bad


def get_mismatches(host: Host, folder: str, files: dict[str, str]) -> list[str]:
    """The files under folder whose sha256 differs from the manifest's, or that are missing."""
    return parse_verify(host.run(verify_command(folder, files), timeout=VERIFY_TIMEOUT).stdout)


# --- the artifact in the store --------------------------------------------------------
def check_keep(keep_releases: int) -> None:
    """Refuse a keep_releases below 1 (the current release is always kept)."""
    if not isinstance(keep_releases, int) or isinstance(keep_releases, bool) or keep_releases < 1:
        raise ParameterError(f"keep_releases must be an integer of at least 1, not {keep_releases!r}")


def check_version(version: str) -> None:
    """Refuse a version that no build makes (and that could name a path outside the store)."""
    if not isinstance(version, str) or not mf.VERSION.match(version):
        raise ParameterError(f"version must be a PEP 440 version such as 1.2.0, not {version!r}")


def check_artifact(artifact: mf.Manifest, name: str, version: str) -> None:
    """Refuse an artifact that is not the asked version of the app, or that has no wheelhouse to install from."""
    if (artifact.name, artifact.version) != (name, version):
        raise LadderError(f"the store's {name} {version} describes {artifact.name} {artifact.version}; rebuild it")
    if not any(f.startswith(mf.WHEELHOUSE + "/") for f in artifact.files):
        raise LadderError(f"{name} {version} lists no {mf.WHEELHOUSE}/ files; rebuild the artifact")


class Fetched:
    """Store files fetched once to this machine for any number of hosts; one thread at a time uses the store's
    connection (an SFTP session shared by threads can hang)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()

    def get(self, store_host: Host, source: str) -> Path:
        """The local copy of source, fetched on first use (to a .part file, then renamed)."""
        local = self.folder / source.lstrip("/")
        with self._lock:
            if not local.exists():
                local.parent.mkdir(parents=True, exist_ok=True)
                part = local.with_name(local.name + ".part")
                store_host.get(source, part)
                part.rename(local)
        return local


def copy_file(store_host: Host, source: str, host: Host, target: str, fetched: Fetched) -> ops.Change:
    """Copy one file from the store to a host: fetched once, then core.copy's atomic, sha256-skipping op."""
    local = fetched.get(store_host, source)
    host.run(f"mkdir -p {q(str(Path(target).parent))}", timeout=30)
    return copy(host, local, target, 0o644, dry_run=False)


def send(
    host: Host,
    lay: Layout,
    store: Store,
    artifact: mf.Manifest,
    *,
    dry_run: bool = True,
    pause: Pause = no_pause,
    fetched: Fetched | None = None,
) -> ops.Change:
    """Copy the artifact's files the host lacks into releases/<version>/, then verify them all on the host.

    Hosts sent to in parallel share one Fetched, so each file leaves the store once.
    """
    folder = lay.release(artifact.version)
    if get_releases(host, lay).is_complete(artifact.version):
        return ops.settle(host, "send", folder, [], dry_run=dry_run)
    files = dict(artifact.files)
    missing = get_mismatches(host, folder, files) if host.exists(folder) else sorted(files)
    source = store.folder(artifact.name, artifact.version)

    def copy_all() -> None:
        with tempfile.TemporaryDirectory(prefix="ladder-artifact-") as tmp:
            for i, name in enumerate(missing):
                copy_file(store.host, f"{source}/{name}", host, f"{folder}/{name}", fetched or Fetched(Path(tmp)))
                if i == 0:
                    pause(f"send:{host.name}")
        host.write_text(f"{folder}/{mf.MANIFEST}", artifact.to_json())
        bad = get_mismatches(host, folder, files)
        if bad:
            raise ChecksumMismatch(host.name, folder, bad)

    actions: list[ops.Action] = []
    if missing or not host.exists(f"{folder}/{mf.MANIFEST}"):
        text = f"copy {len(missing)} file(s) from {store.host.name}:{source} to {folder}, then sha256 -c every file"
        actions.append((text, copy_all))
    reason = f"{len(missing)} of {len(files)} file(s) missing or different"
    return ops.settle(host, "send", folder, actions, reason, dry_run=dry_run)


# --- install ---------------------------------------------------------------------
def install_script(lay: Layout, artifact: mf.Manifest, python: str) -> str:
    """Shell that makes the release's venv offline from its wheelhouse, links site and shared/, writes VERSION."""
    folder = lay.release(artifact.version)
    venv = f"{folder}/venv"
    purelib = "import sysconfig; print(sysconfig.get_path('purelib'))"
    links = "; ".join(f"ln -sfn -- {q(lay.shared + '/' + name)} {q(folder + '/' + name)}" for name in SHARED)
    # The interpreter itself, not a version manager's shim: pyenv's shim rehashes after `pip install` and fails
    # the install when another one holds its lock.
    real = f"py=$({q(python)} -c 'import sys; print(sys.executable)')"
    return (
        f'set -e; rm -rf -- {q(venv)}; {real}; "$py" -m venv --without-pip {q(venv)}; '
        f'"$py" -m pip --python {q(venv + "/bin/python")} install --quiet --disable-pip-version-check '
        f"--no-index --find-links {q(folder + '/' + mf.WHEELHOUSE)} {q(f'{artifact.name}=={artifact.version}')}; "
        f'site=$({q(venv + "/bin/python")} -c {q(purelib)}); ln -sfn -- "$site" {q(folder + "/" + SITE)}; '
        # The app reports the VERSION file beside its module (the sandbox's does); a release's version is the artifact's.
        f'printf "%s\\n" {q(artifact.version)} > "$site/VERSION"; {links}'
    )


def install(
    host: Host,
    lay: Layout,
    artifact: mf.Manifest,
    *,
    python: str = "python3",
    dry_run: bool = True,
    pause: Pause = no_pause,
) -> ops.Change:
    """Install a sent release offline (verified first), link shared/ into it, then write its .complete marker.

    python makes the venv and runs pip (`pip --python`), so the release's venv needs no pip of its own.
    """
    folder = lay.release(artifact.version)
    if get_releases(host, lay).is_complete(artifact.version):
        return ops.settle(host, "install", folder, [], dry_run=dry_run)
    if not dry_run:
        bad = get_mismatches(host, folder, dict(artifact.files))
        if bad:
            raise ChecksumMismatch(host.name, folder, bad)
    script = install_script(lay, artifact, python)

    def do() -> None:
        host.run(f"bash -c {q(script)}", timeout=INSTALL_TIMEOUT)
        pause(f"install:{host.name}")
        host.run(f"touch -- {q(folder + '/' + COMPLETE)}", timeout=30)

    text = f"sha256 -c; pip install --no-index --find-links {folder}/{mf.WHEELHOUSE} into venv/; touch {COMPLETE}"
    actions: list[ops.Action] = [(text, do)]
    return ops.settle(host, "install", folder, actions, "not installed yet", dry_run=dry_run)


def shared(host: Host, lay: Layout, *, dry_run: bool = True) -> list[ops.Change]:
    """shared/ for what outlives releases: links to the host's settings, data and logs (kept where they are)."""
    changes = [ops.directory(host, lay.shared, dry_run=dry_run)]
    for name, real in (("app.env", lay.env_file), ("data", lay.data), ("logs", lay.logs)):
        changes.append(ops.symlink(host, f"{lay.shared}/{name}", real, dry_run=dry_run))
    return changes


# --- prune -----------------------------------------------------------------------
def to_prune(found: Releases, keep_releases: int) -> list[str]:
    """The releases to remove: partial ones and all but the newest keep_releases complete ones; never current."""
    check_keep(keep_releases)
    complete = [v for v in found.complete if v != found.current]
    kept = set(complete[-(keep_releases - 1) :] if keep_releases > 1 else [])
    return [
        r.version for r in found.releases if r.version != found.current and (not r.complete or r.version not in kept)
    ]


def _remove(host: Host, folder: str, pause: Pause) -> None:
    """Remove a release, its marker first: a removal cut short leaves a partial release, never a "complete" half."""
    host.run(f"rm -f -- {q(folder + '/' + COMPLETE)}", timeout=30)
    pause(f"prune:{host.name}")
    host.run(f"rm -rf -- {q(folder)}", timeout=120)


def prune(
    host: Host, lay: Layout, keep_releases: int = 5, *, dry_run: bool = True, pause: Pause = no_pause
) -> ops.Change:
    """Remove old and partial releases, keeping the current one and the newest complete ones (keep_releases in all)."""
    check_keep(keep_releases)
    found = get_releases(host, lay)
    actions: list[ops.Action] = []
    for version in to_prune(found, keep_releases):
        folder = lay.release(version)
        cmd = f"rm -f -- {q(folder + '/' + COMPLETE)} && rm -rf -- {q(folder)}"
        actions.append((cmd, partial(_remove, host, folder, pause)))
    reason = f"keep {keep_releases} release(s) with {found.current or 'no current'}"
    return ops.settle(host, "prune", lay.releases, actions, reason, dry_run=dry_run)
