"""Where an app lives on a host, by Ladder's convention: everything under the host's base folder.

A checkout served in place (rung 1) is `app/`; releases (rung 3a on) follow Capistrano:
`releases/<version>/`, `current -> releases/<version>`, and `shared/` for what outlives a release.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from ..core.hosts import Host

q = shlex.quote


@dataclass(frozen=True)
class Layout:
    """The paths of an app under one host's base folder."""

    base: str

    def _path(self, name: str) -> str:
        return f"{self.base.rstrip('/')}/{name}"

    @property
    def app(self) -> str:
        """The app's git checkout, which the app server serves until releases take over."""
        return self._path("app")

    @property
    def env_file(self) -> str:
        """The app's settings (KEY=value lines, sourced before start; may hold secrets)."""
        return self._path("app.env")

    @property
    def pid_file(self) -> str:
        """The app server master's pid file."""
        return self._path("gunicorn.pid")

    @property
    def logs(self) -> str:
        """The folder for access.log and error.log."""
        return self._path("logs")

    @property
    def data(self) -> str:
        """The folder for the app's database."""
        return self._path("data")

    @property
    def metrics(self) -> str:
        """The folder where the app server's worker processes share their Prometheus metrics (PROMETHEUS_MULTIPROC_DIR)."""
        return f"{self.data}/metrics"

    @property
    def bin(self) -> str:
        """Scripts Ladder installs on the host, such as bin/deploy."""
        return self._path("bin")

    @property
    def deploy_script(self) -> str:
        """The one repeatable way code reaches the host (rung 1)."""
        return f"{self.bin}/deploy"

    @property
    def edits(self) -> str:
        """Where the deploy script keeps in-place edits it had to discard (outside the checkout)."""
        return self._path("edits")

    @property
    def venv(self) -> str:
        """The virtual environment the app is served from (dev's, or the sandbox's prod)."""
        return self._path("venv")

    @property
    def venv_python(self) -> str:
        """The venv's interpreter, which serves the app."""
        return f"{self.venv}/bin/python"

    @property
    def releases(self) -> str:
        """The folder of kept releases, one folder per version."""
        return self._path("releases")

    def release(self, version: str) -> str:
        """The folder of one release."""
        return f"{self.releases}/{version}"

    @property
    def current(self) -> str:
        """The symlink to the release being served."""
        return self._path("current")

    @property
    def shared(self) -> str:
        """What outlives a release: settings, the database, logs."""
        return self._path("shared")


def layout_of(host: Host) -> Layout:
    """The app layout under a host's base folder."""
    return Layout(host.base)


def code_shell(layout: Layout) -> str:
    """Shell that sets $c to the code being served, with a trailing slash: the current release, else the checkout."""
    return f"if [ -L {q(layout.current)} ]; then c={q(layout.current + '/')}; else c={q(layout.app + '/')}; fi; "
