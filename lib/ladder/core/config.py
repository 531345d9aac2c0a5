"""ladder.yml: typed sections (pydantic), merged in one order: file -> LADDER_* env -> overrides."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, ValidationError

from .build_config import ArtifactsConfig, ArtifactsSection, BuildConfig, BuildSection, resolve
from .errors import ConfigError
from .host_config import HostConfig, HostSection, Port, host_config, resolve_path_at
from .names import LocalPath, Name, Repo, UrlPath, Wsgi
from .support_config import (
    BalancerConfig,
    BalancerSection,
    CIConfig,
    CISection,
    LogsConfig,
    LogsSection,
    MonitoringConfig,
    MonitoringSection,
    balancer_config,
    ci_config,
    logs_config,
    monitoring_config,
)
from .validation import Strict, explain, parse_yaml, read_yaml

DEV, STAGING, PROD = "dev", "staging", "prod"
ENVIRONMENTS = (DEV, STAGING, PROD)
SANDBOX = "sandbox"

Seconds = Annotated[float, Field(gt=0, description="a finite number of seconds above 0")]
_SCP_LIKE = re.compile(r"^[\w.-]+@[\w.-]+:")


class AppSection(Strict):
    """app: the web app Ladder delivers."""

    name: Name
    repo: Repo = Field(description="a git URL, or the path of a clone (relative to ladder.yml)")
    wsgi: Wsgi = "app:application"
    health_path: UrlPath = "/health"
    port: Port = 8000


class SSHSection(Strict):
    """ssh: how Ladder reaches SSH hosts."""

    known_hosts: LocalPath = "~/.ssh/known_hosts"
    identity_file: LocalPath | None = None
    connect_timeout: Seconds = 10
    command_timeout: Seconds = 300


class EnvironmentSection(Strict):
    """An environment: its hosts."""

    hosts: list[HostSection]


class LadderFile(Strict):
    """ladder.yml: the app, its environments and their hosts, SSH settings and the runs home."""

    app: AppSection
    environments: dict[Literal["dev", "staging", "prod"], EnvironmentSection] = Field(min_length=1)
    ssh: SSHSection = Field(default_factory=SSHSection)
    runs: LocalPath | None = Field(None, description="the runs home (default $LADDER_HOME/runs)")
    artifacts: ArtifactsSection = Field(default_factory=ArtifactsSection)
    build: BuildSection = Field(default_factory=BuildSection)
    balancer: BalancerSection | None = None
    ci: CISection | None = None
    logs: LogsSection | None = None
    monitoring: MonitoringSection | None = None
    fixes: ClassVar[dict[str, str]] = {
        "app": "add app: with name and repo",
        "environments": "define at least prod: environments: {prod: {hosts: [...]}}",
    }


@dataclass(frozen=True)
class AppConfig:
    """The web app Ladder delivers."""

    name: str
    repo: str  # a git URL, or an absolute path on this machine
    wsgi: str
    health_path: str
    port: int


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
    artifacts: ArtifactsConfig = ArtifactsConfig("", "")
    build: BuildConfig = BuildConfig("")
    raw: dict = field(repr=False, compare=False, default_factory=dict)
    balancer: BalancerConfig | None = None
    ci: CIConfig | None = None
    logs: LogsConfig | None = None
    monitoring: MonitoringConfig | None = None

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
    data = read_yaml(file)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError("the top level must be a mapping with app: and environments:", path=file)
    if "runs_dir" in data:
        raise ConfigError("is now called runs: rename the key (runs: FOLDER)", path=file, key="runs_dir")
    from_env, names = env_overrides(os.environ)
    merged = merge(merge(data, from_env), unflatten(overrides or {}))
    try:
        checked = LadderFile.model_validate(merged)
    except ValidationError as exc:
        err = explain(exc, LadderFile, path=file)
        if err.key in names:  # the value came from the environment, not the file
            raise ConfigError(err.message, path=file, key=f"{err.key} (from ${names[err.key]})") from None
        raise err from None
    return build(checked, file, merged)


def merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict:
    """Deep-merge two mappings; values in extra win."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
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


def env_overrides(environ: Mapping[str, str]) -> tuple[dict, dict[str, str]]:
    """LADDER_APP_PORT=8001 -> {'app': {'port': 8001}}, and each dotted key's variable name.

    A number's value is read as YAML (8001, 2.5); every other value is kept as the text it is.
    """
    out: dict = {}
    names: dict[str, str] = {}
    for section, model in (("app", AppSection), ("ssh", SSHSection)):
        for key, info in model.model_fields.items():
            name = f"LADDER_{section.upper()}_{key.upper()}"
            if name in environ:
                text = environ[name]
                numeric = info.annotation in (int, float, int | None, float | None)
                out.setdefault(section, {})[key] = parse_yaml(text, key=name) if numeric else text
                names[f"{section}.{key}"] = name
    if "LADDER_RUNS" in environ:
        out["runs"] = environ["LADDER_RUNS"]
        names["runs"] = "LADDER_RUNS"
    return out, names


def _repo(value: str, root: Path) -> str:
    """Keep a git URL (scheme:// or scp-like user@host:path) as is; make a path absolute."""
    if "://" in value or _SCP_LIKE.match(value):
        return value
    return str(resolve_path_at(value, root))


def build(checked: LadderFile, file: Path, raw: dict | None = None) -> Config:
    """A Config from a validated file; relative paths resolve against the file's folder."""
    root = file.parent.absolute()
    seen: set[str] = set()
    environments: dict[str, EnvironmentConfig] = {}
    for env_name, env in checked.environments.items():
        hosts = [
            host_config(h, root, seen, file, f"environments.{env_name}.hosts[{i}]") for i, h in enumerate(env.hosts)
        ]
        environments[env_name] = EnvironmentConfig(env_name, tuple(hosts))
    app, ssh, ci, lb, mon = checked.app, checked.ssh, checked.ci, checked.balancer, checked.monitoring
    bases = {h.name: h.base for e in environments.values() for h in e.hosts}
    dev = environments.get(DEV)
    artifacts, build_host = resolve(
        checked.artifacts, checked.build, bases, dev.hosts[0].name if dev and dev.hosts else "", file
    )
    worker = (ci.worker or build_host.host) if ci else ""
    if ci is not None and worker not in bases:
        raise ConfigError(f"no host {worker!r} for the worker; name a host of environments", path=file, key="ci.worker")
    return Config(
        path=file,
        app=AppConfig(app.name, _repo(app.repo, root), app.wsgi, app.health_path, app.port),
        environments=environments,
        ssh=SSHConfig(
            known_hosts=resolve_path_at(ssh.known_hosts, root),
            identity_file=resolve_path_at(ssh.identity_file, root) if ssh.identity_file else None,
            connect_timeout=float(ssh.connect_timeout),
            command_timeout=float(ssh.command_timeout),
        ),
        # One runs home, whichever folder a command starts from: the file's runs:, else $LADDER_HOME/runs.
        runs_dir=resolve_path_at(checked.runs, root) if checked.runs else default_runs_dir(),
        artifacts=artifacts,
        build=build_host,
        raw=raw if raw is not None else checked.model_dump(),
        balancer=balancer_config(lb, root, seen, file) if lb else None,
        ci=ci_config(ci, worker, root, seen, file) if ci else None,
        logs=logs_config(checked.logs, root, seen, file) if checked.logs else None,
        monitoring=monitoring_config(mon, root, seen, file) if mon else None,
    )


def schema() -> dict[str, Any]:
    """The JSON Schema of ladder.yml, from its models."""
    return LadderFile.model_json_schema()
