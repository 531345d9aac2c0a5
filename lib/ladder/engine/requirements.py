"""What a runbook needs from ladder.yml and its parameters: declared in its notebook, checked before a run starts.

A runbook declares it in its notebook's metadata (Edit > Notebook metadata in JupyterLab)::

    "ladder": {"requires": {"environments": ["dev", "prod"], "repo": true, "parameters": {"ref": "git_ref"}}}
"""

from __future__ import annotations

import os
import re
import subprocess
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
def _days(value: str) -> str:
    try:
        days = float(value)
    except ValueError:
        days = -1.0
    if not days >= 0:
        raise ValueError(f"{value!r} is not a number of days of 0 or more; pass e.g. 2")
    return value


KINDS: dict[str, Callable[[str], str]] = {"git_ref": check_ref, "name": _name, "days": _days}
BRANCHES = "branches"  # a list of branch names of app.repo, checked against the repository (check_branches)
LS_REMOTE_TIMEOUT = 60


class Requires(Strict):
    """metadata.ladder.requires of a runbook notebook."""

    environments: list[Literal["dev", "staging", "prod"]] = Field(
        default_factory=list, description="environments that must be defined, each with at least one host"
    )
    repo: bool = Field(False, description="app.repo must be a git URL or a git repository on this machine")
    delegates: list[Literal["dev", "staging", "prod"]] = Field(
        default_factory=list,
        description="environments the runbook changes only through another actor that takes their locks itself "
        "(rung 4's CI server deploys): an apply does not hold their locks, so that actor can",
    )
    parameters: dict[str, Literal["git_ref", "name", "days", "branches"]] = Field(
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
        if kind == BRANCHES:
            if isinstance(value, str) or not isinstance(value, list | tuple):
                raise ParameterError(
                    f"parameter {name!r}: {value!r} is not a list of branch names; pass e.g. ['release/1.x']"
                )
            for branch in value:
                try:
                    check_ref(str(branch))
                except (LadderError, ValueError) as exc:
                    raise ParameterError(f"parameter {name!r}: {exc}") from None
            continue
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


def check_branches(requires: Requires, values: Mapping[str, Any], cfg: Config | None) -> None:
    """app.repo has a trunk, and every branch a 'branches' parameter names is one of its branches."""
    named = {name: values.get(name) or [] for name, kind in requires.parameters.items() if kind == BRANCHES}
    if cfg is None or not requires.repo or not named:
        return
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", LC_ALL="C")
    try:
        done = subprocess.run(
            ["git", "ls-remote", "--symref", "--", str(cfg.app.repo), "HEAD", "refs/heads/*"],
            capture_output=True,
            text=True,
            env=env,
            timeout=LS_REMOTE_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ConfigError(
            f"{cfg.app.repo} did not answer within {LS_REMOTE_TIMEOUT}s", path=cfg.path, key="app.repo"
        ) from None
    if done.returncode != 0:
        raise ConfigError(f"{cfg.app.repo} cannot be read: {done.stderr.strip()[:200]}", path=cfg.path, key="app.repo")
    heads = {
        line.split("\t")[1].removeprefix("refs/heads/") for line in done.stdout.splitlines() if "\trefs/heads/" in line
    }
    head = next((line.split()[1] for line in done.stdout.splitlines() if line.startswith("ref: ")), "")
    if head.removeprefix("refs/heads/") not in heads and not heads & {"main", "master", "trunk"}:
        raise ConfigError(
            f"{cfg.app.repo} has no trunk branch (main, master, trunk or the one HEAD names); "
            "point app.repo at the team's repository",
            path=cfg.path,
            key="app.repo",
        )
    for name, branches in named.items():
        unknown = [b for b in branches if b not in heads]
        if unknown:
            raise ParameterError(
                f"parameter {name!r}: no branch {unknown[0]!r} in {cfg.app.repo}; its branches are {', '.join(sorted(heads))}"
            )
