"""The snapshot of a copied prod folder (not a checkout), taken before it is adopted: its archive and its diff
against the nearest commit, both in the run's folder, plus the in-place edits as rung 1 reads them from a checkout."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import HostError
from ..core.hosts import Host
from ..core.paths import inside
from ..core.private import write_private
from . import adopt, nearest, trunk
from .checkout import SavedPatch, Status


@dataclass(frozen=True)
class Snapshot:
    """A copied folder as found: its archive here, its files, and the nearest commit it is adopted at."""

    host: str
    path: str
    archive: Path
    files: int
    commit: str
    stamp: str
    status: Status
    patch: SavedPatch | None

    @property
    def kept(self) -> str:
        """Where adopt keeps the archive on the host, beside the folder."""
        return adopt.beside(self.path, self.stamp)

    def summary(self) -> str:
        """One line: the nearest commit, how many files differ, where the archive is."""
        return (
            f"a copied folder: nearest commit {self.commit[:12]}, {len(self.status.edited)} files edited, "
            f"archive saved as {self.archive}"
        )


def take(host: Host, path: str, repo: str, folder: Path, *, now: float | None = None) -> Snapshot:
    """Archive the folder into folder/<host>.tar.gz, find its nearest commit on repo's trunk and save the diff as
    folder/<host>.patch. Read-only on the host (its archive is a temporary file there)."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    files = adopt.get_files(host, path)
    archive = adopt.fetch_archive(host, path, folder)
    with trunk.workspace(repo) as ws:
        match = nearest.nearest(ws.path, ws.trunk, files)
        if match is None:
            raise HostError(
                f"{path} is not a git checkout and no file of it is in the last {nearest.HISTORY} commits of "
                f"{ws.trunk} in {repo}; its archive is saved at {archive}: make it a checkout by hand",
                host=host.name,
            )
        data, modified, added = nearest.diff(ws.path, match.commit, archive)
    status = Status(match.commit, modified, added)
    patch = None
    if data:
        target = write_private(inside(folder, f"{host.name}.patch", what="host name"), data)
        patch = SavedPatch(
            host.name, target, match.commit, modified, added, len(data), hashlib.sha256(data).hexdigest()
        )
    return Snapshot(host.name, path, archive, len(files), match.commit, stamp, status, patch)
