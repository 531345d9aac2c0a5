"""A real team's first ladder.yml, from a few answers: each checked and named by its flag, then written validated."""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import yaml

from . import names
from .config import Config, load_config
from .errors import ConfigError, OptionError

_HOST_SPEC = re.compile(
    r"^(?:(?P<user>[A-Za-z_][\w.-]*)@)?(?P<host>[A-Za-z0-9][A-Za-z0-9.-]*|\[[0-9A-Fa-f:.]+\])(?::(?P<port>\d+))?$"
)
_WSGI = re.compile(names.WSGI)  # the patterns ladder.yml's models check, so init writes only what loads
_NAME = re.compile(names.NAME)
_URL = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|[\w.-]+@[\w.-]+:)")


@dataclass(frozen=True)
class HostSpec:
    """An SSH server as `--dev deploy@web1:22` names it."""

    address: str
    port: int = 22
    user: str | None = None


def parse_host(text: str, option: str) -> HostSpec:
    """'user@host:port' (user and port optional) -> HostSpec; OptionError naming the flag otherwise."""
    m = _HOST_SPEC.match(text.strip())
    port = int(m.group("port")) if m and m.group("port") else 22
    if not m or not 1 <= port <= 65535 or m.group("host") == "local":
        raise OptionError(option, text, "give an SSH server as user@host:port, e.g. deploy@web1.example.com:22")
    return HostSpec(m.group("host").strip("[]"), port, m.group("user"))


def parse_repo(text: str) -> str:
    """A git URL as given, or the absolute path of a local git repository."""
    if _URL.match(text):
        return text
    path = Path(text).expanduser().absolute()
    done = subprocess.run(
        ["git", "-C", str(path), "rev-parse", "--git-dir"], capture_output=True, text=True, timeout=30
    )
    if not path.is_dir() or done.returncode != 0:
        raise OptionError("--repo", text, "give a git URL (https://..., git@host:team/app.git) or a local git clone")
    return str(path)


def parse_wsgi(text: str) -> str:
    """'module:callable', as gunicorn takes it."""
    if not _WSGI.match(text):
        raise OptionError("--wsgi", text, "give the WSGI app as module:callable, e.g. shop.wsgi:application")
    return text


def parse_url_path(text: str, option: str) -> str:
    """An absolute URL path such as /health."""
    if not text.startswith("/") or any(c.isspace() for c in text):
        raise OptionError(option, text, "give an absolute URL path, e.g. /health")
    return text


def parse_base(text: str) -> str:
    """An absolute folder on the servers, such as /srv/shop."""
    if not PurePosixPath(text).is_absolute() or any(c.isspace() for c in text):
        raise OptionError("--base", text, "give an absolute folder on the servers, e.g. /srv/shop")
    return text


def parse_name(text: str) -> str:
    """The app's name: letters, digits, '.', '_' and '-'."""
    if not _NAME.match(text):
        raise OptionError("--name", text, "give a name of letters, digits, '.', '_' and '-', e.g. shop")
    return text


def name_from(repo: str) -> str:
    """The app's name from its repository: the last part of the URL or path, without .git."""
    stem = re.split(r"[/:]", repo.rstrip("/"))[-1].removesuffix(".git")
    return stem if _NAME.match(stem) else "app"


@dataclass(frozen=True)
class Team:
    """What `ladder init` asks: the app, its dev and prod servers, and how Ladder reaches them."""

    repo: str
    wsgi: str
    dev: HostSpec
    prod: tuple[HostSpec, ...]
    base: str
    health_path: str = "/health"
    name: str = ""
    port: int = 8000
    known_hosts: Path | None = None
    identity_file: Path | None = None

    def document(self) -> dict:
        """The ladder.yml this team gets, as data."""
        hosts = {"dev": [("dev", self.dev)], "prod": [(f"prod{i}", h) for i, h in enumerate(self.prod, 1)]}
        doc: dict = {
            "app": {
                "name": self.name or name_from(self.repo),
                "repo": self.repo,
                "wsgi": self.wsgi,
                "health_path": self.health_path,
                "port": self.port,
            },
            "environments": {
                env: {"hosts": [_host_entry(name, h, self.base) for name, h in entries]}
                for env, entries in hosts.items()
            },
        }
        ssh = {"known_hosts": self.known_hosts, "identity_file": self.identity_file}
        if any(ssh.values()):
            doc["ssh"] = {key: str(value) for key, value in ssh.items() if value is not None}
        return doc


def _host_entry(name: str, host: HostSpec, base: str) -> dict:
    entry: dict = {"name": name, "address": host.address, "port": host.port}
    if host.user:
        entry["user"] = host.user
    entry["base"] = base
    return entry


def render(team: Team, path: str | Path = "ladder.yml") -> str:
    """The ladder.yml text: a header saying what comes next, then the document."""
    header = f"# Written by `ladder init`. Next: ladder hosts check --config {path}; ladder assess --config {path}\n"
    return header + yaml.safe_dump(team.document(), sort_keys=False)


def write(team: Team, out: str | Path, *, force: bool = False) -> Config:
    """Validate the rendered file with the loader every command uses, then put it in place atomically."""
    out = Path(out).absolute()
    if out.exists() and not force:
        raise OptionError("--out", str(out), "exists; pass --force to overwrite it")
    out.parent.mkdir(parents=True, exist_ok=True)
    # Next to the target, so relative paths resolve the same and the rename stays on one filesystem.
    tmp = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}")
    tmp.write_text(render(team, out))
    try:
        try:
            load_config(tmp)
        except ConfigError as exc:
            raise ConfigError(f"ladder init made an invalid file ({exc.message}); this is a bug", key=exc.key) from None
        if force:
            os.replace(tmp, out)
        else:
            try:
                os.link(tmp, out)  # fails rather than overwrite a file made meanwhile
            except FileExistsError:
                raise OptionError("--out", str(out), "exists; pass --force to overwrite it") from None
    finally:
        tmp.unlink(missing_ok=True)
    return load_config(out)
