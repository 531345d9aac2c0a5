"""Private folders and files, as ssh keeps keys: folders 0700, files 0600, each file written whole or not at all.

Runs hold what Ladder saw on hosts (prod's in-place edits, their secrets included), so nothing in a runs
home is readable by another user, whatever the umask.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: str | Path, *, exist_ok: bool = True) -> Path:
    """Make a folder and its missing parents 0700; a folder that already exists is left as its owner set it."""
    path = Path(path)
    if path.is_dir() and not exist_ok:
        raise FileExistsError(f"{path} already exists")
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for folder in reversed(missing):
        try:
            folder.mkdir()
        except FileExistsError:  # made meanwhile by another process
            if folder == path and not exist_ok:
                raise
            continue
        folder.chmod(FOLDER_MODE)  # not mkdir(mode=...): the umask would cut it
    return path


def private_file(path: str | Path) -> Path:
    """Make sure a file exists that only its owner can read (created empty, or an existing one of ours tightened)."""
    path = Path(path)
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, FILE_MODE)
    try:
        if os.fstat(fd).st_uid == os.getuid():
            os.fchmod(fd, FILE_MODE)  # a file an older Ladder made with the umask's mode
    finally:
        os.close(fd)
    return path


def write_private(path: str | Path, data: str | bytes) -> Path:
    """Write a file only its owner can read, atomically: a reader sees the old file or the new one, never half."""
    path = Path(path)
    private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # mkstemp makes it 0600
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
