"""ladder.yml's optional sections for the hosts around the app: balancer, CI, central logs and monitoring."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import Field

from .host_config import HostConfig, HostSection, Port, host_config
from .names import HttpUrl, Name, RemotePath
from .validation import Strict


class BalancerSection(Strict):
    """balancer: the HAProxy in front of prod, on a host of its own, driven through its admin socket."""

    host: HostSection
    port: Port = Field(description="the frontend's port, where users reach the app")
    backend: Name = "app"
    socket: RemotePath = Field(description="the admin socket's absolute path on the balancer's host")


class CISection(Strict):
    """ci: the team's CI server (Buildbot): its master's host, web root and worker port, and the build host."""

    host: HostSection
    url: Annotated[
        str, Field(pattern=r"^https?://[^\s/]+/$", description="the master's web root, like http://ci:8010/")
    ]
    pb_port: Port = 9989
    worker: Name | None = Field(None, description="the host that runs the worker (default: the build host)")


class LogsSection(Strict):
    """logs: the central log host (rsyslog) that every app host forwards its app log to over TCP."""

    host: HostSection
    port: Port = Field(description="the TCP port rsyslog receives on (imtcp)")
    dir: RemotePath | None = Field(None, description="where it keeps files per host per day (default <base>/central)")


class MonitoringSection(Strict):
    """monitoring: the Prometheus that scrapes the app's hosts and the balancer, on a host of its own."""

    host: HostSection
    url: HttpUrl = Field(description="where Ladder reaches Prometheus' HTTP API, like http://127.0.0.1:9090")


@dataclass(frozen=True)
class BalancerConfig:
    """The load balancer in front of prod: its host, frontend port, backend name and admin socket."""

    host: HostConfig
    port: int
    backend: str
    socket: str


@dataclass(frozen=True)
class MonitoringConfig:
    """The Prometheus that watches the app: its host and the URL of its HTTP API."""

    host: HostConfig
    url: str


@dataclass(frozen=True)
class CIConfig:
    """The team's CI server: the master's host, its web root, the workers' port and the build host's name."""

    host: HostConfig
    url: str
    pb_port: int
    worker: str


@dataclass(frozen=True)
class LogsConfig:
    """The central log host: its host, the TCP port it receives on and the folder of files per host per day."""

    host: HostConfig
    port: int
    dir: str


def balancer_config(lb: BalancerSection, root: Path, seen: set[str], file: Path) -> BalancerConfig:
    """balancer: resolved: the balancer's host, port, backend and admin socket."""
    return BalancerConfig(host_config(lb.host, root, seen, file, "balancer.host"), lb.port, lb.backend, lb.socket)


def ci_config(ci: CISection, worker: str, root: Path, seen: set[str], file: Path) -> CIConfig:
    """ci: resolved, with the worker's host already chosen."""
    return CIConfig(host_config(ci.host, root, seen, file, "ci.host"), ci.url, ci.pb_port, worker)


def logs_config(logs: LogsSection, root: Path, seen: set[str], file: Path) -> LogsConfig:
    """logs: resolved: the log host, and its folder of central files (default: central/ under its base)."""
    host = host_config(logs.host, root, seen, file, "logs.host")
    return LogsConfig(host, logs.port, logs.dir or f"{host.base.rstrip('/')}/central")


def monitoring_config(mon: MonitoringSection, root: Path, seen: set[str], file: Path) -> MonitoringConfig:
    """monitoring: resolved: Prometheus' host and its API's URL without a trailing slash."""
    return MonitoringConfig(host_config(mon.host, root, seen, file, "monitoring.host"), mon.url.rstrip("/"))
