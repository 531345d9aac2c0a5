"""A host in ladder.yml: its section (validated), its resolved config, and the TCP port type they share."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from .errors import ConfigError
from .names import Address, Command, LocalPath, Name, User
from .validation import Strict

Port = Annotated[int, Field(ge=1, le=65535, description="a TCP port, 1-65535")]


class HostSection(Strict):
    """One host: 'local' (a folder here) or an SSH address."""

    name: Name
    address: Address
    base: LocalPath = Field(description="the app's folder: absolute on an SSH host, relative to ladder.yml if local")
    port: Port = 22
    user: User | None = None
    app_port: Port | None = None
    python: Command = "python3"

    @field_validator("base")
    @classmethod
    def _absolute_when_remote(cls, base: str, info: ValidationInfo) -> str:
        """An SSH host's folder is an absolute path there: a relative one would depend on the login's home."""
        if info.data.get("address", "local") != "local" and (
            not base.startswith("/") or any(c.isspace() for c in base)
        ):
            raise PydanticCustomError(
                "remote_base", "must be an absolute path on the remote host, without spaces, like /srv/shop"
            )
        return base


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


def resolve_path_at(value: str, root: Path) -> Path:
    """value as a path: absolute as given, else relative to root (~ expanded)."""
    p = Path(value).expanduser()
    return p if p.is_absolute() else (root / p)


def host_config(h: HostSection, root: Path, seen: set[str], file: Path, key: str) -> HostConfig:
    """A HostConfig whose name no other host has; a local host's folder resolves against ladder.yml's."""
    if h.name in seen:
        raise ConfigError(f"duplicate host name {h.name!r}; host names must be unique", path=file, key=key)
    seen.add(h.name)
    base = str(resolve_path_at(h.base, root)) if h.address == "local" else h.base
    return HostConfig(h.name, h.address, base, h.port, h.user, h.app_port, h.python)
