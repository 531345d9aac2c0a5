"""Release tags on the shared repository: the `vX.Y.Z` a release is built from, cut as semantic-release cuts it.

A commit that is not on a release tag builds as a setuptools-scm dev version (X.Y.Z.devN+g<node>); releasing it
means tagging it with the version that dev build leads to, pushing the tag, and building the tag. The tag is
annotated (who and when), never moved and never forced: an existing tag is a release already made.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..core import ops
from ..core.errors import LadderError
from . import trunk
from .branches import mirror

REPO = "repository"  # the Change's host column for the team's shared repository
_DEV = re.compile(r"^(?P<release>[0-9]+(\.[0-9]+)*)\.dev[0-9]+(\+.*)?$")


def next_release(version: str) -> str:
    """The release a version leads to: 1.0.1.dev3+gabc -> 1.0.1, 0.1.dev5+gabc -> 0.1.0; a release is itself."""
    m = _DEV.match(version)
    if m is None:
        return version
    parts = m.group("release").split(".")
    return ".".join(parts + ["0"] * (3 - len(parts)))


def is_release(version: str) -> bool:
    """True for a plain release (X.Y.Z), False for a dev build between releases."""
    return _DEV.match(version) is None


@dataclass(frozen=True)
class Tagged:
    """The release a run deploys: its tag, version and commit, and the Change that made (or would make) the tag."""

    tag: str
    version: str
    sha: str
    change: ops.Change

    def __repr__(self) -> str:
        return f"{self.tag} ({self.sha[:12]}): {self.change.reason}"


def tag(repo: str, sha: str, version: str, *, dry_run: bool = True) -> Tagged:
    """Tag sha `v<version>` (annotated) on the shared repository and push the tag; never moves an existing one."""
    name = f"v{version}"
    message = f"Release {version} (cut by Ladder's rung 3a)"
    with mirror(repo) as path:
        held = trunk.git(path, "rev-parse", "--verify", "--quiet", f"refs/tags/{name}^{{commit}}", ok_codes=(0, 1))
        if held and held != sha:
            raise LadderError(
                f"{repo}: tag {name} already names {held[:12]}, not {sha[:12]}; tags are never moved. "
                "Build and deploy the tag itself (ref = the tag), or commit and release the next version"
            )
        cmd = f"git tag -a {name} {sha[:12]} -m {message!r} && git push origin refs/tags/{name}"

        def do() -> None:
            who = () if trunk.git(path, "config", "--get", "user.email", ok_codes=(0, 1)) else trunk.FALLBACK_IDENTITY
            trunk.git(path, *who, "tag", "-a", name, sha, "-m", message)
            trunk.git(path, "push", "--quiet", "origin", f"refs/tags/{name}")

        if held:
            change = ops.Change(REPO, "release tag", name, reason=f"{name} already names {sha[:12]}")
        else:
            if not dry_run:
                do()
            change = ops.Change(
                REPO, "release tag", name, (cmd,), True, not dry_run, reason=f"{sha[:12]} is not tagged yet"
            )
    return Tagged(name, version, sha, change)
