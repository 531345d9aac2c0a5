"""A snapshot of a folder tree, to prove that a dry run or a failed step changed nothing."""

from __future__ import annotations

import os


def snapshot(root, skip: tuple[str, ...] = ("logs", "metrics")) -> dict:
    """Every path under root with its mode and content (bytes, or a link's target); skipped folders left out.

    By default, what a serving app writes as it answers requests: its logs and its Prometheus metrics' files.
    """
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in skip]
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            if os.path.islink(p):
                content = os.readlink(p)
            elif os.path.isfile(p):
                content = open(p, "rb").read()
            else:
                content = None
            out[p] = (st.st_mode, content)
    return out
