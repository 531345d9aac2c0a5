"""ladder.yml: validated on load, merged in one order: defaults -> file -> LADDER_* env -> overrides."""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError

DEV, STAGING, PROD = "dev", "staging", "prod"
ENVIRONMENTS = (DEV, STAGING, PROD)
SANDBOX = "sandbox"

DEFAULTS: dict[str, Any] = {
    "app": {"wsgi": "app:application", "health_path": "/health", "port": 8000},
    "ssh": {
        "known_hosts": "~/.ssh/known_hosts",
        "identity_file": None,
        "connect_timeout": 10,
        "command_timeout": 300,
    },
}

# key -> (type, required). Types are checked exactly (bool is not an int here).
_APP = {"name": (str, True), "repo": (str, True), "wsgi": (str, True), "health_path": (str, True), "port": (int, True)}
_SSH = {
    "known_hosts": (str, True),
    "identity_file": ((str, type(None)), False),
    "connect_timeout": ((int, float), True),
    "command_timeout": ((int, float), True),
}
_HOST = {
    "name": (str, True),
    "address": (str, True),
    "base": (str, True),
    "port": (int, False),
    "user": ((str, type(None)), False),
    "app_port": (int, False),
    "python": (str, False),
}
_SCP_LIKE = re.compile(r"^[\w.-]+@[\w.-]+:")
_TOP = {"app", "environments", "ssh", "runs"}
_FORMS = {str: "a string", int: "an integer", (int, float): "a number", (str, type(None)): "a string or null"}


@dataclass(frozen=True)
class AppConfig:
    """The web app Ladder delivers."""

    name: str
    repo: str  # a git URL, or an absolute path on this machine
    wsgi: str
    health_path: str
    port: int


@dataclass(frozen=True)
class HostConfig:
    """One host of an environment: 'local' (a folder here) or an SSH address."""

    name: str
    address: str
    base: str
    port: int = 22
    user: str | None = None
    app_port: int | None = None
    python: str = "python3"

    @property
    def is_local(self) -> bool:
        """True for a folder on this machine rather than an SSH server."""
        return self.address == "local"


@dataclass(frozen=True)
class EnvironmentConfig:
    """A named environment (dev, staging, prod) and its hosts."""

    name: str
    hosts: tuple[HostConfig, ...]


@dataclass(frozen=True)
class SSHConfig:
    """How Ladder reaches SSH hosts."""

    known_hosts: Path
    identity_file: Path | None
    connect_timeout: float
    command_timeout: float


@dataclass(frozen=True)
class Config:
    """A validated ladder.yml with every value merged in."""

    path: Path | None
    app: AppConfig
    environments: dict[str, EnvironmentConfig]
    ssh: SSHConfig
    runs_dir: Path
    raw: dict = field(repr=False, compare=False, default_factory=dict)

    def environment(self, name: str) -> EnvironmentConfig:
        """The named environment, or a ConfigError listing the ones defined."""
        if name not in self.environments:
            raise ConfigError(
                f"no environment {name!r}; defined: {', '.join(self.environments) or 'none'}",
                path=self.path,
                key="environments",
            )
        return self.environments[name]

    def host_config(self, name: str) -> HostConfig:
        """The host with this name in any environment."""
        for env in self.environments.values():
            for h in env.hosts:
                if h.name == name:
                    return h
        known = [h.name for e in self.environments.values() for h in e.hosts]
        raise ConfigError(f"no host {name!r}; defined: {', '.join(known)}", path=self.path, key="environments")

    def app_port(self, host: HostConfig) -> int:
        """The port the app listens on for this host."""
        return host.app_port or self.app.port


def ladder_home() -> Path:
    """Ladder's own folder on this machine: $LADDER_HOME, else ~/.ladder."""
    return Path(os.environ.get("LADDER_HOME") or "~/.ladder").expanduser()


def sandbox_dir() -> Path:
    """Where `ladder sandbox up` builds the sandbox by default."""
    return ladder_home() / "sandbox"


def default_runs_dir() -> Path:
    """The runs home when ladder.yml names none: $LADDER_HOME/runs, the same from every folder and entry point."""
    return ladder_home() / "runs"


def resolve_path(path: str | Path | None) -> Path:
    """The ladder.yml a name stands for: a path, or 'sandbox'; None looks in one order for every command.

    That order: $LADDER_CONFIG, then ./ladder.yml, then the sandbox's when one is up.
    """
    if path is None:
        return _look_up()
    if str(path) == SANDBOX:
        target = sandbox_dir() / "ladder.yml"
        if not target.is_file():
            raise ConfigError(f"no sandbox at {target.parent}; create it with: ladder sandbox up", path=target)
        return target
    return Path(path).expanduser()


def _look_up() -> Path:
    """The first ladder.yml of $LADDER_CONFIG, ./ladder.yml and the sandbox's; ConfigError naming each one tried."""
    named = os.environ.get("LADDER_CONFIG")
    if named:
        return Path(named).expanduser()
    tried = []
    for candidate, missing in (
        (Path("ladder.yml"), "./ladder.yml (no such file)"),
        (sandbox_dir() / "ladder.yml", f"the sandbox at {sandbox_dir()} (not up)"),
    ):
        if candidate.is_file():
            return candidate
        tried.append(missing)
    raise ConfigError(
        "no ladder.yml found; tried $LADDER_CONFIG (not set), "
        + ", ".join(tried)
        + ". Pass --config PATH, or run: ladder sandbox up",
        key="--config",
    )


def load_config(path: str | Path | None = None, overrides: Mapping[str, Any] | None = None) -> Config:
    """Load, merge and validate a ladder.yml; raise ConfigError naming file, key and fix."""
    file = resolve_path(path)
    if not file.is_file():
        raise ConfigError("file not found; pass --config PATH or run: ladder sandbox up", path=file)
    try:
        data = yaml.safe_load(file.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"not valid YAML{where}: {getattr(exc, 'problem', exc)}", path=file) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError("the top level must be a mapping with app: and environments:", path=file)
    merged = merge(DEFAULTS, data)
    merged = merge(merged, env_overrides(os.environ))
    merged = merge(merged, unflatten(overrides or {}))
    return parse(merged, file)


def merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict:
    """Deep-merge two mappings; values in extra win."""
    out = copy.deepcopy(dict(base))
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def unflatten(values: Mapping[str, Any]) -> dict:
    """Turn {'ssh.connect_timeout': 5} into {'ssh': {'connect_timeout': 5}}."""
    out: dict = {}
    for dotted, value in values.items():
        node = out
        *parents, leaf = dotted.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return out


def env_overrides(environ: Mapping[str, str]) -> dict:
    """LADDER_APP_PORT=8001 -> {'app': {'port': 8001}}; values are parsed as YAML scalars."""
    out: dict = {}
    for section, keys in (("app", _APP), ("ssh", _SSH)):
        for key in keys:
            name = f"LADDER_{section.upper()}_{key.upper()}"
            if name in environ:
                out.setdefault(section, {})[key] = yaml.safe_load(environ[name])
    if "LADDER_RUNS" in environ:
        out["runs"] = environ["LADDER_RUNS"]
    return out


def _check(mapping: Any, spec: dict, where: str, file: Path) -> dict:
    if not isinstance(mapping, dict):
        raise ConfigError("must be a mapping", path=file, key=where)
    for key in mapping:
        if key not in spec:
            raise ConfigError(f"unknown key {key!r}; allowed: {', '.join(spec)}", path=file, key=where)
    for key, (kind, required) in spec.items():
        value = mapping.get(key)
        if value is None and key not in mapping:
            if required:
                raise ConfigError("is required", path=file, key=f"{where}.{key}")
            continue
        ok = isinstance(value, kind) and not (isinstance(value, bool) and kind in (int, (int, float)))
        if not ok:
            raise ConfigError(f"must be {_FORMS.get(kind, kind)}, got {value!r}", path=file, key=f"{where}.{key}")
    return mapping


def _port(value: int, key: str, file: Path) -> int:
    if not 1 <= value <= 65535:
        raise ConfigError(f"port {value} is out of range; use 1-65535", path=file, key=key)
    return value


def _repo(value: str, root: Path) -> str:
    """Keep a git URL (scheme:// or scp-like user@host:path) as is; make a path absolute."""
    if "://" in value or _SCP_LIKE.match(value):
        return value
    return str(_resolve(value, root))


def _resolve(value: str, root: Path) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else (root / p)


def parse(data: dict, file: Path) -> Config:
    """Validate merged data and build a Config; relative paths resolve against the file's folder."""
    root = file.parent.absolute()
    if "runs_dir" in data:
        raise ConfigError("is now called runs: rename the key (runs: FOLDER)", path=file, key="runs_dir")
    unknown = set(data) - _TOP
    if unknown:
        raise ConfigError(f"unknown key {sorted(unknown)[0]!r}; allowed: {', '.join(sorted(_TOP))}", path=file)
    if "name" not in data.get("app", {}):
        raise ConfigError("is missing; add app: with name and repo", path=file, key="app")
    app = _check(data["app"], _APP, "app", file)
    ssh = _check(data["ssh"], _SSH, "ssh", file)
    envs_raw = data.get("environments")
    if not envs_raw:
        raise ConfigError("is missing or empty; define at least prod", path=file, key="environments")
    if not isinstance(envs_raw, dict):
        raise ConfigError("must be a mapping of environment name to {hosts: [...]}", path=file, key="environments")
    seen: set[str] = set()
    environments: dict[str, EnvironmentConfig] = {}
    for env_name, env in envs_raw.items():
        where = f"environments.{env_name}"
        if env_name not in ENVIRONMENTS:
            raise ConfigError(f"unknown environment; use one of {', '.join(ENVIRONMENTS)}", path=file, key=where)
        env = _check(env, {"hosts": (list, True)}, where, file)
        hosts = []
        for i, h in enumerate(env["hosts"]):
            hwhere = f"{where}.hosts[{i}]"
            h = _check(h, _HOST, hwhere, file)
            if h["name"] in seen:
                raise ConfigError(
                    f"duplicate host name {h['name']!r}; host names must be unique", path=file, key=hwhere
                )
            seen.add(h["name"])
            port = _port(h.get("port", 22), f"{hwhere}.port", file)
            app_port = _port(h["app_port"], f"{hwhere}.app_port", file) if "app_port" in h else None
            if h["address"] == "local":
                base = str(_resolve(h["base"], root))
            elif not h["base"].startswith("/"):
                raise ConfigError("must be an absolute path on the remote host", path=file, key=f"{hwhere}.base")
            else:
                base = h["base"]
            hosts.append(
                HostConfig(h["name"], h["address"], base, port, h.get("user"), app_port, h.get("python", "python3"))
            )
        environments[env_name] = EnvironmentConfig(env_name, tuple(hosts))
    identity = ssh.get("identity_file")
    return Config(
        path=file,
        app=AppConfig(
            app["name"], _repo(app["repo"], root), app["wsgi"], app["health_path"], _port(app["port"], "app.port", file)
        ),
        environments=environments,
        ssh=SSHConfig(
            known_hosts=_resolve(ssh["known_hosts"], root),
            identity_file=_resolve(identity, root) if identity else None,
            connect_timeout=float(ssh["connect_timeout"]),
            command_timeout=float(ssh["command_timeout"]),
        ),
        # One runs home, whichever folder a command starts from: the file's runs:, else $LADDER_HOME/runs.
        runs_dir=_resolve(str(data["runs"]), root) if "runs" in data else default_runs_dir(),
        raw=data,
    )
