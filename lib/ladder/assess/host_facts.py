"""What the host checks read: every host of a ladder.yml, read in parallel and grouped by environment."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ..app import health, parity
from ..app.layout import Layout
from ..app.server import AppServer, get_server
from ..core.config import DEV, PROD, Config
from ..core.errors import LadderError
from ..core.fleet import run_all
from ..core.hosts import Host, environment_hosts
from .checks import HOST, INFERRED, MEASURED, CheckResult, inconclusive, result
from .ci_runs import ServerBuilds
from .ci_runs import read as read_ci
from .probes import PROBE_TIMEOUT, Deployment, Logs, Migrations, get_deployment, get_logs, get_migrations

HEALTH_TIMEOUT = 5.0


@dataclass
class HostReport:
    """Everything read from one host; error set when the host could not be read at all."""

    name: str
    environment: str
    identity: tuple
    base: str
    deployment: Deployment | None = None
    platform: parity.Facts | None = None
    logs: Logs | None = None
    migrations: Migrations | None = None
    health: health.HealthResult | None = None
    server: AppServer | None = None  # what answers on the app's port (prod)
    error: str | None = None

    @property
    def server_evidence(self) -> str | None:
        """The app server and its manager in one line of evidence, when they were read."""
        return self.server.summary() if self.server else None

    def nothing_deployed(self) -> str:
        """Why there is nothing to judge: neither a `current` link nor a checkout where the app lives."""
        layout = Layout(self.base)
        return f"neither {layout.current} nor a checkout at {layout.app}"


@dataclass
class HostFacts:
    """Host reports grouped by environment: what every host check reads."""

    environments: dict[str, list[HostReport]] = field(default_factory=dict)
    ci: ServerBuilds | None = None  # the CI server's builds, when ladder.yml has a ci: section

    @property
    def prod(self) -> list[HostReport]:
        """Prod's host reports."""
        return self.environments.get(PROD, [])

    @property
    def dev(self) -> list[HostReport]:
        """Dev's host reports."""
        return self.environments.get(DEV, [])


def host_identity(host: Host) -> tuple:
    """Which machine a host is: ('local',) for folders here, else (address, port)."""
    address = getattr(host, "address", None)
    return ("local",) if address is None else (address, getattr(host, "port", 22))


def read_host(
    host: Host,
    environment: str,
    *,
    python: str = "python3",
    health_url: str | None = None,
    app_port: int | None = None,
) -> HostReport:
    """Read every fact a host check needs from one host; an unreachable host becomes report.error."""
    report = HostReport(host.name, environment, host_identity(host), host.base)
    try:
        report.platform = parity.get_facts(host, python, timeout=PROBE_TIMEOUT)
        report.deployment = get_deployment(host)
        if environment == PROD:
            report.logs = get_logs(host)
            report.migrations = get_migrations(host, python)
            if app_port:
                report.server = get_server(host, app_port, timeout=PROBE_TIMEOUT)
    except LadderError as exc:
        report.error = str(exc)
    if health_url:
        try:
            report.health = health.check(health_url, timeout=HEALTH_TIMEOUT)
        except ValueError as exc:  # a malformed URL fails this host's health check, not the whole assessment
            report.health = health.HealthResult(health_url, False, error=str(exc))
    return report


def read_hosts(
    environments: Mapping[str, list[Host]],
    *,
    python: Mapping[str, str] | None = None,
    health_urls: Mapping[str, str] | None = None,
    app_ports: Mapping[str, int] | None = None,
    workers: int = 10,
) -> HostFacts:
    """Read every host (in parallel, per environment); a host that fails to answer is named in its report."""
    python = python or {}
    health_urls = health_urls or {}
    app_ports = app_ports or {}
    facts = HostFacts()
    for env, hosts in environments.items():
        if not hosts:
            facts.environments[env] = []
            continue

        def read(h: Host, env: str = env) -> HostReport:
            return read_host(
                h,
                env,
                python=python.get(h.name, "python3"),
                health_url=health_urls.get(h.name),
                app_port=app_ports.get(h.name),
            )

        outcomes = run_all(hosts, read, workers=workers, deadline=4 * PROBE_TIMEOUT, raise_on_error=False)
        reports = []
        for h in hosts:
            got = outcomes[h.name]
            if isinstance(got, BaseException):
                got = HostReport(h.name, env, host_identity(h), h.base, error=str(got))
            reports.append(got)
        facts.environments[env] = reports
    return facts


def read_config_hosts(config: Config) -> HostFacts:
    """Read every host of every environment in a loaded ladder.yml, read-only, and close the connections."""
    environments: dict[str, list[Host]] = {}
    python: dict[str, str] = {}
    health_urls: dict[str, str] = {}
    app_ports: dict[str, int] = {}
    for name, env in config.environments.items():
        environments[name] = environment_hosts(config, name)
        for hc in env.hosts:
            python[hc.name] = hc.python
            if name == PROD:
                address = "127.0.0.1" if hc.is_local else hc.address
                health_urls[hc.name] = f"http://{address}:{config.app_port(hc)}{config.app.health_path}"
                app_ports[hc.name] = config.app_port(hc)
    try:
        facts = read_hosts(environments, python=python, health_urls=health_urls, app_ports=app_ports)
        facts.ci = read_ci(config)
        return facts
    finally:
        for hosts in environments.values():
            for h in hosts:
                h.close()


def per_prod(facts: HostFacts, check_id: str, judge: Callable[[HostReport], CheckResult | None]) -> CheckResult:
    """Judge every readable prod host; the worst host decides, and unreachable ones are named."""
    prod = facts.prod
    if not prod:
        return inconclusive(check_id, HOST, "no prod hosts in ladder.yml")
    reachable = [r for r in prod if r.error is None]
    errors = {r.name: r.error for r in prod if r.error}
    if not reachable:
        return inconclusive(check_id, HOST, f"no prod host could be read: {next(iter(errors.values()))}", errors=errors)
    results = [res for res in (judge(r) for r in reachable) if res is not None]
    scored = [res for res in results if res.score is not None]
    if not scored:
        first = results[0] if results else None
        return inconclusive(
            check_id,
            HOST,
            first.reason if first else "nothing to check on the prod hosts",
            hosts={res.evidence.get("host"): res.reason for res in results},
            errors=errors,
        )
    worst = min(scored, key=lambda res: res.score or 0.0)
    reason = worst.reason if len(prod) == 1 else f"{worst.evidence.get('host')}: {worst.reason}"
    if errors:
        reason += f" ({len(errors)} prod host(s) unreadable)"
    label = INFERRED if any(res.label == INFERRED for res in scored) else MEASURED
    return result(
        check_id, HOST, worst.score, reason, label=label, hosts=[res.evidence for res in results], errors=errors
    )
