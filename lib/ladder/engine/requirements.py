"""What a runbook needs from ladder.yml and its parameters: declared in its notebook, checked before a run starts.

A runbook declares it in its notebook's metadata (Edit > Notebook metadata in JupyterLab)::

    "ladder": {"requires": {"environments": ["dev", "prod"], "repo": true, "parameters": {"ref": "git_ref"}}}
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError

from ..core.config import Config
from ..core.errors import ConfigError, LadderError, ParameterError
from ..core.names import NAME, WORDS, check_ref
from ..core.validation import Strict, explain


def _name(value: str) -> str:
    if not re.fullmatch(NAME.strip("^$"), value):
        raise ValueError(f"{value!r} is not a name; use {WORDS[NAME]}")
    return value


# A parameter's kind -> its check, which raises with the fix.
KINDS: dict[str, Callable[[str], str]] = {"git_ref": check_ref, "name": _name}


class Requires(Strict):
    """metadata.ladder.requires of a runbook notebook."""

    environments: list[Literal["dev", "staging", "prod"]] = Field(
        default_factory=list, description="environments that must be defined, each with at least one host"
    )
    repo: bool = Field(False, description="app.repo must be a git URL or a git repository on this machine")
    parameters: dict[str, Literal["git_ref", "name"]] = Field(
        default_factory=dict, description="parameter name -> the kind of text it must be"
    )


def read(metadata: Mapping[str, Any], notebook: Path) -> Requires:
    """A notebook's declared requirements (none declared: none required)."""
    raw = (metadata.get("ladder") or {}).get("requires") or {}
    try:
        return Requires.model_validate(raw)
    except ValidationError as exc:
        err = explain(exc, Requires, path=notebook)
        raise ConfigError(
            err.message, path=notebook, key=f"metadata.ladder.requires.{err.key or ''}".rstrip(".")
        ) from None


def check_parameters(requires: Requires, values: Mapping[str, Any]) -> None:
    """Each declared parameter's value (given, else its default) is of its kind."""
    for name, kind in requires.parameters.items():
        if name not in values:
            continue
        value = values[name]
        try:
            KINDS[kind](value if isinstance(value, str) else str(value))
        except (LadderError, ValueError) as exc:
            raise ParameterError(f"parameter {name!r}: {exc}") from None


def check_config(requires: Requires, runbook: str, cfg: Config | None) -> None:
    """The environments, SSH files and app repository the runbook needs are in cfg and on this machine."""
    if cfg is None:
        if requires.environments or requires.repo:
            raise ConfigError(f"runbook {runbook} needs a ladder.yml; pass --config PATH or run: ladder sandbox up")
        return
    for name in requires.environments:
        env = cfg.environments.get(name)
        if env is None or not env.hosts:
            raise ConfigError(
                f"runbook {runbook} needs a {name} environment with at least one host; "
                f"add environments: {name}: hosts: [{{name: ..., address: ..., base: ...}}]",
                path=cfg.path,
                key=f"environments.{name}",
            )
    remote = [h for name in requires.environments for h in cfg.environments[name].hosts if not h.is_local]
    if remote and not cfg.ssh.known_hosts.is_file():
        raise ConfigError(
            f"{cfg.ssh.known_hosts} does not exist, so no SSH host can be trusted; "
            f"record the hosts' keys with: ladder hosts trust {remote[0].name}",
            path=cfg.path,
            key="ssh.known_hosts",
        )
    if remote and cfg.ssh.identity_file is not None and not cfg.ssh.identity_file.is_file():
        raise ConfigError(
            f"{cfg.ssh.identity_file} does not exist; fix the path or create the key (ssh-keygen -f PATH)",
            path=cfg.path,
            key="ssh.identity_file",
        )
    if requires.repo and not _is_git_url(cfg.app.repo) and not _is_repository(Path(cfg.app.repo)):
        raise ConfigError(
            f"{cfg.app.repo} is not a git repository on this machine; give the app's git URL or the path of a clone",
            path=cfg.path,
            key="app.repo",
        )


def _is_git_url(repo: str) -> bool:
    return "://" in repo or not Path(repo).is_absolute()


def _is_repository(path: Path) -> bool:
    """A work tree (has .git) or a bare repository (has HEAD and objects/)."""
    return (path / ".git").exists() or ((path / "HEAD").is_file() and (path / "objects").is_dir())
