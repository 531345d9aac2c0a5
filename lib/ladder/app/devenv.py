"""A developer's environment made by one command: checkout, venv with locked requirements, settings, app server."""

from __future__ import annotations

import re
import secrets
import shlex
from dataclasses import dataclass

from ..core import ops
from ..core.config import DEV
from ..core.hosts import Host
from . import checkout, health, parity, service
from .layout import Layout

q = shlex.quote
BRANCH = "master"
# A plain (isolated) venv, not --system-site-packages: a venv made from inside another venv
# would see the base interpreter's packages, not the ones next to Ladder, so nothing is
# reused that way; pip installs the locked requirements, which is what a developer does.
PIP_TIMEOUT = 300
VENV_TIMEOUT = 120
SECRET_KEY = "APP_SECRET_KEY"


@dataclass(frozen=True)
class DevEnv:
    """What to build on a dev host: the repo to clone, the interpreter to make the venv with, the port."""

    base: str
    repo: str
    python: str = "python3"
    port: int = 8000
    wsgi: str = "app:application"
    health_path: str = "/health"
    branch: str = BRANCH

    @property
    def layout(self) -> Layout:
        """The app's folders and files under base."""
        return Layout(self.base)

    @property
    def venv_python(self) -> str:
        """The venv's interpreter, which serves the app."""
        return self.layout.venv_python

    def settings(self) -> dict[str, str]:
        """The dev settings that are not secret (APP_SECRET_KEY is generated on the host's first build)."""
        return {
            "APP_ENV": DEV,
            "APP_DB_PATH": f"{self.layout.data}/app.db",
            "APP_LOG_FILE": f"{self.layout.logs}/app.log",
            "PROMETHEUS_MULTIPROC_DIR": self.layout.metrics,
        }


_REQ = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(?:==\s*([^\s;#]+))?")


def parse_requirements(text: str) -> dict[str, str | None]:
    """Requirement lines as {normalized name: pinned version or None}; options and comments are skipped."""
    out: dict[str, str | None] = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        m = _REQ.match(line)
        if m:
            out[parity.normalize(m.group(1))] = m.group(2)
    return out


def unmet(requirements: dict[str, str | None], installed: dict[str, str]) -> list[str]:
    """The requirements the installed packages do not satisfy, as 'name==version' or 'name'."""
    missing = []
    for name, version in requirements.items():
        have = installed.get(name)
        if have is None or (version is not None and have != version):
            missing.append(f"{name}=={version}" if version else name)
    return missing


def _checkout(host: Host, env: DevEnv, *, dry_run: bool = True) -> ops.Change:
    return checkout.sync(host, env.layout.app, env.repo, env.branch, dry_run=dry_run)


def _venv(host: Host, env: DevEnv, *, dry_run: bool = True) -> ops.Change:
    if host.exists(env.venv_python):
        return ops.settle(host, "venv", env.layout.venv, [], dry_run=dry_run)
    cmd = f"{q(env.python)} -m venv {q(env.layout.venv)}"
    return ops.settle(host, "venv", env.layout.venv, [ops.command(host, cmd, VENV_TIMEOUT)], "missing", dry_run=dry_run)


def _requirements(host: Host, env: DevEnv, *, dry_run: bool = True) -> ops.Change:
    req_file = f"{env.layout.app}/requirements.txt"
    cmd = f"{q(env.venv_python)} -m pip install --quiet --disable-pip-version-check -r {q(req_file)}"
    action = [ops.command(host, cmd, PIP_TIMEOUT)]
    if not host.exists(req_file) or not host.exists(env.venv_python):
        return ops.settle(host, "requirements", req_file, action, "venv or checkout is new", dry_run=dry_run)
    wanted = parse_requirements(host.read_text(req_file))
    missing = unmet(wanted, parity.get_packages(host, env.venv_python))
    return ops.settle(
        host,
        "requirements",
        req_file,
        action if missing else [],
        f"not installed: {', '.join(missing)}",
        dry_run=dry_run,
    )


def env_file_text(env: DevEnv, secret_key: str) -> str:
    """The dev app.env: the dev settings plus a dev-only secret key."""
    lines = [f"{k}={v}" for k, v in env.settings().items()]
    return "\n".join(lines + [f"{SECRET_KEY}={secret_key}", ""])


def _env_file(host: Host, env: DevEnv, *, dry_run: bool = True) -> ops.Change:
    path = env.layout.env_file
    # Checked on the host with grep, so the secret's value never travels back to Ladder.
    checks = [f"grep -qxF {q(f'{k}={v}')} {q(path)}" for k, v in env.settings().items()]
    checks.append(f"grep -q {q('^' + SECRET_KEY + '=.')} {q(path)}")
    if host.run(" && ".join(checks), warn=True).ok:
        return ops.settle(host, "app.env", path, [], dry_run=dry_run)
    names = ", ".join([*env.settings(), SECRET_KEY])
    text = f"write {path} (mode 600: {names}; a new dev-only secret key)"
    action = (text, lambda: host.write_text(path, env_file_text(env, secrets.token_hex(32)), mode=0o600))
    reason = "missing" if not host.exists(path) else "dev settings differ"
    return ops.settle(host, "app.env", path, [action], reason, dry_run=dry_run)


def _server(
    host: Host, env: DevEnv, *, restart: bool = False, reload: bool = False, dry_run: bool = True
) -> ops.Change:
    lay = env.layout
    running = service.is_running(host, lay.pid_file)
    start = service.start_command(
        chdir=lay.app,
        python=env.venv_python,
        port=env.port,
        wsgi=env.wsgi,
        env_file=lay.env_file,
        pid_file=lay.pid_file,
        logs=lay.logs,
    )
    actions: list[ops.Action] = []
    reason = ""
    if not running:
        actions, reason = [ops.command(host, start, 30)], "not running"
    elif restart:
        stop = (f"stop gunicorn (pid file {lay.pid_file})", lambda: service.stop(host, lay.pid_file))
        actions, reason = [stop, ops.command(host, start, 30)], "settings changed: restart"
    elif reload:
        actions, reason = (
            [ops.command(host, service.reload_command(lay.pid_file), 10)],
            "code or packages changed: reload",
        )
    return ops.settle(host, "app server", f"127.0.0.1:{env.port}", actions, reason, dry_run=dry_run)


def build(host: Host, env: DevEnv, *, dry_run: bool = True) -> list[ops.Change]:
    """Make (or bring up to date) the dev environment on host; plan only unless dry_run is False."""
    lay = env.layout
    changes = [_checkout(host, env, dry_run=dry_run)]
    changes += [ops.directory(host, d, dry_run=dry_run) for d in (lay.data, lay.logs)]
    changes.append(_venv(host, env, dry_run=dry_run))
    changes.append(_requirements(host, env, dry_run=dry_run))
    settings = _env_file(host, env, dry_run=dry_run)
    changes.append(settings)
    code = changes[0].changed or changes[-2].changed
    changes.append(_server(host, env, restart=settings.changed, reload=code, dry_run=dry_run))
    return changes


def check(host: Host, env: DevEnv, timeout: float = 20) -> health.HealthResult:
    """Check that the dev app answers its health check over HTTP on the dev host."""
    return health.check_on(host, env.port, env.health_path, python=env.venv_python, timeout=timeout)
