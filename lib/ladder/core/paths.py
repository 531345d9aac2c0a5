"""Paths built from outside data (host names, run ids, file names from hosts) kept inside their folder."""

from __future__ import annotations

from pathlib import Path, PurePath

from .errors import PathOutside


def inside(folder: str | Path, *parts: str | PurePath, what: str = "name") -> Path:
    """folder joined with parts, refused (PathOutside) unless it lies strictly under folder.

    A part may hold subfolders ("a/b.txt") but no '..', no absolute path and no NUL. Symlinks in the
    result are resolved, so one that points out of folder is refused too; the path returned is the plain
    join, as the caller named it.
    """
    base = Path(folder)
    joined = base.joinpath(*parts)
    for part in parts:
        text = str(part)
        pure = PurePath(text)
        if not text or "\0" in text or pure.is_absolute() or ".." in pure.parts:
            raise PathOutside(text, base, what)
    real_base = base.resolve()
    real = joined.resolve()
    if real == real_base or not real.is_relative_to(real_base):
        raise PathOutside("/".join(str(p) for p in parts), base, what)
    return joined
