"""ladder.yml's artifacts: and build: sections: which host keeps the artifact store, and which one builds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from pydantic import Field

from .errors import ConfigError
from .names import LocalPath, Name
from .validation import Strict

STORE = "artifacts"


class ArtifactsSection(Strict):
    """artifacts: the artifact store, a folder on one of the environments' hosts."""

    host: Name | None = Field(default=None, description="the host that keeps the store (default: the first dev host)")
    path: LocalPath = Field(
        default=STORE, description="the store's folder on that host, relative to its base unless absolute"
    )


class BuildSection(Strict):
    """build: the host that builds artifacts (it needs git, a Python and access to app.repo)."""

    host: Name | None = Field(default=None, description="the build host (default: the first dev host)")


@dataclass(frozen=True)
class ArtifactsConfig:
    """Where the artifact store is: a host name and an absolute folder there ('' host: no dev host to default to)."""

    host: str
    path: str


@dataclass(frozen=True)
class BuildConfig:
    """Which host builds artifacts ('' when ladder.yml names none and defines no dev host)."""

    host: str


def resolve(
    artifacts: ArtifactsSection, build: BuildSection, bases: Mapping[str, str], first_dev: str, file: Path
) -> tuple[ArtifactsConfig, BuildConfig]:
    """Check the named hosts against the environments' (bases: host name -> base) and place the store."""

    def host(name: str | None, key: str) -> str:
        if name is None:
            return first_dev
        if name not in bases:
            raise ConfigError(
                f"no host {name!r} in environments; name one of {', '.join(bases) or 'none'}, "
                "or leave the key out for the first dev host",
                path=file,
                key=key,
            )
        return name

    store_host = host(artifacts.host, "artifacts.host")
    path = artifacts.path
    if store_host and not path.startswith("/"):
        path = str(PurePosixPath(bases[store_host], path))
    return ArtifactsConfig(store_host, path), BuildConfig(host(build.host, "build.host"))
