"""Copy a local file to hosts: skipped when the sha256 already matches, else a temp file renamed over the target."""

from __future__ import annotations

import hashlib
import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from . import facts
from .errors import HostError, SourceMissing
from .fleet import run_all
from .hosts import Host
from .ops import Action, Change, command, settle


@dataclass(frozen=True)
class Source:
    """A local file to copy: its path, size and sha256, read once for any number of hosts."""

    path: Path
    size: int
    sha256: str

    @classmethod
    def read(cls, local: str | Path) -> Source:
        """Hash a local file; refuse a missing one before any host is touched."""
        path = Path(local)
        if not path.is_file():
            raise SourceMissing(path)
        digest = hashlib.sha256()
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
        return cls(path, path.stat().st_size, digest.hexdigest())


def copy(
    host: Host, local: str | Path | Source, remote: str, mode: int | None = None, *, dry_run: bool = True
) -> Change:
    """Make remote (relative: under the host's base) hold local's bytes and mode; copy atomically only what differs."""
    source = local if isinstance(local, Source) else Source.read(local)
    remote = host.path(remote)  # a relative path lies under the host's base folder; an absolute one stays
    info = facts.get_path(host, remote)
    if info is not None and not info.is_file:
        raise HostError(f"{remote} exists and is a {info.kind}, not a file; move it away first", host=host.name)
    actions: list[Action] = []
    reason = ""
    if info is None or info.sha256 != source.sha256:
        # No mode given: a replaced file keeps its own and a new one gets the host's default, as Ansible's copy does.
        keep = mode if mode is not None else (info.mode if info is not None else None)
        text = f"copy {source.path.name} to {remote} ({source.size} bytes, sha256 {source.sha256[:12]}"
        text += f", mode {keep:o})" if keep is not None else ")"
        actions.append((text, lambda: _replace(host, source, remote, keep)))
        reason = "missing" if info is None else "content differs"
    elif mode is not None and info.mode != mode:
        actions.append(command(host, f"chmod {mode:o} -- {shlex.quote(remote)}"))
        reason = f"mode {info.mode:o} -> {mode:o}"
    return settle(host, "copy", remote, actions, reason, dry_run=dry_run)


def _replace(host: Host, source: Source, remote: str, mode: int | None) -> None:
    """Host.replace, its file errors (no such folder, no space, not writable) named with the host and the path."""
    try:
        host.replace(source.path, remote, mode)
    except OSError as exc:
        folder = str(Path(remote).parent)
        raise HostError(
            f"copying {source.path.name} to {remote} failed ({exc}); the old file is unchanged. "
            f"Check that {folder} exists (ops.directory makes it) and is writable, with space left",
            host=host.name,
        ) from exc


def copy_all(
    hosts: Iterable[Host],
    local: str | Path,
    remote: str,
    mode: int | None = None,
    *,
    dry_run: bool = True,
    workers: int = 10,
    deadline: float = 120,
) -> dict[str, Change]:
    """Copy one local file to every host in parallel; raise one FleetError naming each host that failed."""
    source = Source.read(local)
    results = run_all(
        hosts, lambda h: copy(h, source, remote, mode, dry_run=dry_run), workers=workers, deadline=deadline
    )
    return {name: change for name, change in results.items() if isinstance(change, Change)}
