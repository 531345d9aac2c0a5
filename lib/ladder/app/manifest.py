"""An artifact's manifest: what was built, from which commit, by which Python, and the sha256 of every file.

An artifact lives in the store as `<store>/<name>/<version>/`: `manifest.json` beside `wheelhouse/`,
which holds the app's own wheel and the wheels of its locked dependencies. Every file the manifest
lists is relative to that folder, so the same manifest checks a copy on any host.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..core.errors import LadderError

MANIFEST = "manifest.json"
WHEELHOUSE = "wheelhouse"
# PEP 440's public part plus a local label: what setuptools-scm and `git describe` give.
VERSION = re.compile(r"^[0-9]+(\.[0-9]+)*((a|b|rc)[0-9]+)?(\.post[0-9]+)?(\.dev[0-9]+)?(\+[a-z0-9]+(\.[a-z0-9]+)*)?$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
GIT_SHA = re.compile(r"^[0-9a-f]{40}$")
FIELDS = ("name", "version", "git_sha", "built_at", "python", "wheel", "files")


class ManifestError(LadderError):
    """A manifest that is not valid: names the field, the file and the fix."""

    def __init__(self, message: str, *, path: str, key: str) -> None:
        self.path = path
        self.key = key
        super().__init__(f"{path}: {key}: {message}")


@dataclass(frozen=True)
class Manifest:
    """One built version of the app."""

    name: str
    version: str
    git_sha: str
    built_at: str  # ISO 8601, UTC
    python: str  # the builder's Python, X.Y.Z
    wheel: str  # the app's own wheel, a key of files
    files: Mapping[str, str] = field(default_factory=dict)  # path under the artifact folder -> sha256

    def to_json(self) -> str:
        """The manifest's text: sorted and indented, so the same build writes the same bytes."""
        data = {name: getattr(self, name) for name in FIELDS}
        data["files"] = dict(sorted(self.files.items()))
        return json.dumps(data, indent=2, sort_keys=True) + "\n"


def parse(text: str, path: str = MANIFEST) -> Manifest:
    """Read a manifest's text; ManifestError names the first field that is missing or wrong."""
    try:
        data = json.loads(text)
    except ValueError as e:
        raise ManifestError(f"not JSON ({e}); rebuild the artifact", path=path, key="(file)") from None
    if not isinstance(data, dict):
        raise ManifestError("must be a JSON object; rebuild the artifact", path=path, key="(file)")
    for name in FIELDS:
        if name not in data:
            raise ManifestError("missing; rebuild the artifact", path=path, key=name)
    manifest = Manifest(**{name: data[name] for name in FIELDS})
    check(manifest, path)
    return manifest


def check(manifest: Manifest, path: str = MANIFEST) -> None:
    """Refuse a manifest whose fields could not have come from a build."""

    def bad(key: str, message: str) -> ManifestError:
        return ManifestError(message, path=path, key=key)

    for name in ("name", "version", "git_sha", "built_at", "python", "wheel"):
        if not isinstance(getattr(manifest, name), str) or not getattr(manifest, name):
            raise bad(name, "must be a non-empty string")
    if not VERSION.match(manifest.version):
        raise bad("version", f"{manifest.version!r} is not a PEP 440 version such as 1.2.0 or 0.1.dev3+g1a2b3c4")
    if not GIT_SHA.match(manifest.git_sha):
        raise bad("git_sha", f"{manifest.git_sha!r} is not a full 40-character commit id")
    if not isinstance(manifest.files, Mapping) or not manifest.files:
        raise bad("files", "must map each file of the artifact to its sha256")
    for name, digest in manifest.files.items():
        if not isinstance(name, str) or name.startswith("/") or ".." in Path(name).parts:
            raise bad("files", f"{name!r} must be a path inside the artifact folder")
        if not isinstance(digest, str) or not SHA256.match(digest):
            raise bad("files", f"{name}: {digest!r} is not a sha256 hex digest")
    if manifest.wheel not in manifest.files:
        raise bad("wheel", f"{manifest.wheel!r} is not one of the listed files")


def folder(store: str, name: str, version: str) -> str:
    """The artifact's folder in a store (a path on the store's host)."""
    return f"{store.rstrip('/')}/{name}/{version}"
