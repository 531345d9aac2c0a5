"""Evidence from the hosts in a ladder.yml, read-only: get_x(host) runs one command, parse_x is pure."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..app import checkout, devenv, health, parity
from ..app.layout import Layout, layout_of
from ..core.config import DEV, PROD, Config
from ..core.errors import LadderError
from ..core.facts import parse_os_release
from ..core.fleet import run_all
from ..core.hosts import Host, environment_hosts
from .checks import INFERRED, MEASURED, CheckResult, inconclusive, register, registered, result, run_check

SOURCE = "host"
PROBE_TIMEOUT = 30.0
HEALTH_TIMEOUT = 5.0
SAMPLES = 20
LOG_SHIPPERS = (
    "promtail",
    "fluent-bit",
    "fluentd",
    "td-agent",
    "td-agent-bit",
    "vector",
    "filebeat",
    "otelcol",
    "otelcol-contrib",
    "datadog-agent",
    "amazon-cloudwatch-agent",
    "google_cloud_ops_agent",
    "splunkd",
    "logstash",
    "alloy",
    "grafana-agent",
    "nxlog",
)
CHECKSUM_FILES = ("SHA256SUMS", "sha256sums.txt", "CHECKSUMS", ".checksums")
q = shlex.quote


def _code(layout: Layout) -> str:
    """Shell that sets $c to the code being served, with a trailing slash: the current release, else the checkout."""
    return f"if [ -L {q(layout.current)} ]; then c={q(layout.current + '/')}; else c={q(layout.app + '/')}; fi; "


# ---- what a host runs: a release or a checkout ---------------------------------------------------


@dataclass(frozen=True)
class Deployment:
    """What a host runs: a `current` link and the kept releases, or a git checkout and its in-place edits."""

    current: str | None = None
    releases_dir: bool = False
    releases: tuple[str, ...] = ()
    checkout: str | None = None
    git: bool = False
    modified: tuple[str, ...] = ()
    checksum_file: str | None = None
    checksum_failures: tuple[str, ...] = ()
    deploy_scripts: tuple[str, ...] = ()

    @property
    def found(self) -> bool:
        """True when the host runs something: a `current` link or a checkout."""
        return self.current is not None or self.checkout is not None

    @property
    def runs_release(self) -> bool:
        """True when `current` links into releases/."""
        return self.current is not None and "releases/" in self.current


def deployment_command(layout: Layout) -> str:
    """Shell that prints what runs under a layout as tab-separated key/value lines, git status last."""
    sums = " ".join(q(f) for f in CHECKSUM_FILES)
    return (
        f"cur={q(layout.current)}; a={q(layout.app)}; rel={q(layout.releases)}; bin={q(layout.bin)}; c=''; "
        'if [ -L "$cur" ]; then printf "current\\t%s\\n" "$(readlink "$cur")"; c="$cur/"; '
        'elif [ -e "$a" ]; then printf "checkout\\t%s\\n" "$a"; c="$a/"; fi; '
        'if [ -d "$rel" ]; then echo releases_dir; '
        'for r in "$rel"/*/; do [ -d "$r" ] && printf "release\\t%s\\n" "$(basename "$r")"; done; fi; '
        'for s in "$bin"/deploy*; do [ -x "$s" ] && printf "deploy_script\\t%s\\n" "$s"; done; '
        'if [ -n "$c" ]; then '
        f'for f in {sums}; do if [ -f "$c$f" ]; then printf "checksums\\t%s\\n" "$f"; '
        '(cd "$c" && sha256sum -c --quiet "$f" 2>/dev/null) | sed -n "s/: FAILED.*$//p" | sed "s/^/checksum_failed\\t/"; '
        "break; fi; done; "
        # Last, as git prints it (NUL-separated): everything after the `git` line is the status. The
        # checkout may belong to another user: git's ownership check must not refuse to read it.
        f'if [ -e "$c.git" ]; then echo git; {checkout.GIT} -c safe.directory=\'*\' -C "$c" status --porcelain=v1 -z '
        "--untracked-files=no 2>/dev/null; fi; fi; true"
    )


def parse_deployment(output: str) -> Deployment:
    """Parse deployment_command's output."""
    info: dict[str, Any] = {"releases": [], "checksum_failures": [], "deploy_scripts": []}
    lines = output.split("\n")
    if "git" in lines:
        at = lines.index("git")
        modified, untracked = checkout.parse_status("\n".join(lines[at + 1 :]))
        info["git"], info["modified"], lines = True, modified + untracked, lines[:at]
    single = {"current": "current", "checkout": "checkout", "checksums": "checksum_file"}
    many = {"release": "releases", "checksum_failed": "checksum_failures", "deploy_script": "deploy_scripts"}
    for line in lines:
        key, _, value = line.partition("\t")
        if key in single:
            info[single[key]] = value
        elif key in many:
            info[many[key]].append(value)
        elif key == "releases_dir":
            info["releases_dir"] = True
    fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in info.items()}
    return Deployment(**fields)


def get_deployment(host: Host) -> Deployment:
    """What the host runs, under its app layout."""
    out = host.run(deployment_command(layout_of(host)), timeout=PROBE_TIMEOUT, warn=True).stdout
    return parse_deployment(out)


# ---- parity: Python, OS, packages, setting names ---------------------------------------------------


def platform_command(layout: Layout, python: str = "python3") -> str:
    """Shell that prints the Python, OS, installed packages and setting names the app runs with."""
    # One command where parity.get_facts runs four, to keep host reads cheap; its output goes through
    # parity's parsers into parity.Facts. The virtualenv and env file are looked for where teams keep them.
    venvs = f'"${{c}}.venv" "${{c}}venv" "$b/{devenv.VENV}" "$b/.venv" "$s/venv" "$s/.venv"'
    envs = '"$s/.env" "$s/app.env" "$e" "${c}.env" "$b/.env"'
    return (
        f"b={q(layout.base.rstrip('/'))}; s={q(layout.shared)}; e={q(layout.env_file)}; py={q(python)}; "
        f"{_code(layout)}"
        f'for v in {venvs}; do if [ -x "$v/bin/python" ]; then py="$v/bin/python"; '
        'printf "venv\\t%s\\n" "$v"; '
        f'"$py" -c {q(parity.PACKAGES_SCRIPT)} 2>/dev/null | sed "s/^/pkg\\t/"; break; fi; done; '
        "printf 'python\\t%s\\n' \"$(\"$py\" -c 'import platform; print(platform.python_version())' 2>/dev/null)\"; "
        'if [ -r /etc/os-release ]; then sed "s/^/os\\t/" /etc/os-release; '
        'else printf "os\\tID=%s\\n" "$(uname -s)"; fi; '
        f'for f in {envs}; do if [ -f "$f" ]; then '
        f'sed -n -E {q(parity.ENV_NAMES_SED)} "$f" | sed "s/^/config\\t/"; '
        "fi; done; true"
    )


def parse_platform(output: str, host: str = "") -> parity.Facts:
    """Parse platform_command's output with parity's parsers; an unread Python or OS is ''."""
    found: dict[str, list[str]] = {"venv": [], "pkg": [], "python": [], "os": [], "config": []}
    for line in output.splitlines():
        key, _, value = line.partition("\t")
        if key in found and value.strip():
            found[key].append(value.strip())
    release = parse_os_release("\n".join(found["os"]))
    return parity.Facts(
        host=host,
        os=parity.os_name(release) if release else "",
        python=parity.parse_python_version(found["python"][-1]) if found["python"] else "",
        packages=parity.parse_packages("\n".join(found["pkg"])),
        env_names=parity.parse_env_names("\n".join(found["config"])),
        venv=found["venv"][0] if found["venv"] else None,
    )


def get_platform(host: Host, python: str = "python3") -> parity.Facts:
    """The Python, OS, packages and setting names the app runs with on a host."""
    out = host.run(platform_command(layout_of(host), python), timeout=PROBE_TIMEOUT, warn=True).stdout
    return parse_platform(out, host.name)


def compare_platforms(dev: parity.Facts, prod: parity.Facts) -> dict[str, Any]:
    """Where prod differs from dev, dimension by dimension; None where a side is unknown."""

    # Not parity.compare's table: a score needs a verdict per dimension, an unread side is not
    # compared, and Python counts as the same when its minor version is.
    def minor(v: str | None) -> str | None:
        return ".".join(v.split(".")[:2]) if v else None

    def pins(f: parity.Facts) -> set[str]:
        return {f"{name}=={version}" for name, version in f.packages.items()}

    dev_names, prod_names = set(dev.env_names), set(prod.env_names)
    out: dict[str, Any] = {}
    out["python"] = (
        None
        if not (dev.python and prod.python)
        else ([] if minor(dev.python) == minor(prod.python) else [f"dev {dev.python}, prod {prod.python}"])
    )
    out["os"] = None if not (dev.os and prod.os) else ([] if dev.os == prod.os else [f"dev {dev.os}, prod {prod.os}"])
    out["packages"] = (
        None
        if not (dev.packages and prod.packages)
        else sorted(
            [f"dev only: {p}" for p in pins(dev) - pins(prod)] + [f"prod only: {p}" for p in pins(prod) - pins(dev)]
        )
    )
    out["config_names"] = (
        None
        if not (dev_names or prod_names)
        else sorted(
            [f"dev only: {n}" for n in dev_names - prod_names] + [f"prod only: {n}" for n in prod_names - dev_names]
        )
    )
    return out


# ---- logs ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Logs:
    """Log shippers running on a host and log files found under its base folder."""

    shippers: tuple[str, ...] = ()
    files: tuple[str, ...] = ()


def logs_command(layout: Layout) -> str:
    """Shell that lists running processes' names and *.log files under the app's base folder."""
    return (
        "ps -eo comm= 2>/dev/null | sort -u | sed 's/^/proc\\t/'; "
        f"find {q(layout.base)} -maxdepth 4 -name '*.log' -not -path '*/releases/*' -not -path '*/.git/*' "
        "2>/dev/null | head -n 50 | sed 's/^/log\\t/'; true"
    )


def parse_logs(output: str) -> Logs:
    """Parse logs_command's output."""
    procs, files = set(), []
    for line in output.splitlines():
        key, _, value = line.partition("\t")
        if key == "proc":
            procs.add(value.strip())
        elif key == "log":
            files.append(value.strip())
    # ps truncates command names to 15 characters (the kernel's TASK_COMM_LEN).
    shippers = {s for s in LOG_SHIPPERS for p in procs if p == s[:15]}
    return Logs(tuple(sorted(shippers)), tuple(files))


def get_logs(host: Host) -> Logs:
    """Whether logs are shipped from the host, and which log files it writes."""
    return parse_logs(host.run(logs_command(layout_of(host)), timeout=PROBE_TIMEOUT, warn=True).stdout)


# ---- migrations ---------------------------------------------------------------------------------

# Runs on the host with its Python: finds migrations in the running code and the ones a sqlite
# database under shared/ has applied (alembic, django, or a schema_migrations-style table).
_MIGRATIONS_PROBE = r"""
import glob, json, os, re, sqlite3, sys
code, shared = sys.argv[1], sys.argv[2]
out = {"kind": None, "files": 0, "applied": 0, "pending": [], "db": None, "error": None}
alembic = [p for p in glob.glob(os.path.join(code, "**", "versions", "*.py"), recursive=True)]
django = [p for p in glob.glob(os.path.join(code, "**", "migrations", "[0-9]*.py"), recursive=True)]
sql = sorted(glob.glob(os.path.join(code, "**", "migrations", "*.sql"), recursive=True))
wanted = set()
if alembic:
    revs, downs = set(), set()
    for p in alembic:
        text = open(p, errors="replace").read()
        m = re.search(r"^revision\s*[:=][^'\"]*['\"]([^'\"]+)", text, re.M)
        if m:
            revs.add(m.group(1))
            downs.update(re.findall(r"['\"]([0-9a-f]{4,})['\"]", (re.search(r"^down_revision.*$", text, re.M) or [""])[0]))
    out["kind"], out["files"], wanted = "alembic", len(revs), revs - downs
elif django:
    out["kind"], out["files"] = "django", len(django)
    wanted = {os.path.basename(os.path.dirname(os.path.dirname(p))) + "." + os.path.basename(p)[:-3] for p in django}
elif sql:
    out["kind"], out["files"] = "sql", len(sql)
    wanted = {os.path.basename(p)[:-4] for p in sql}
if out["kind"]:
    dbs = [p for ext in ("db", "sqlite", "sqlite3") for p in glob.glob(os.path.join(shared, "**", "*." + ext), recursive=True)]
    for db in dbs:
        try:
            con = sqlite3.connect("file:" + db + "?mode=ro", uri=True)
            tables = {r[0] for r in con.execute("select name from sqlite_master where type='table'")}
            applied = None
            if out["kind"] == "alembic" and "alembic_version" in tables:
                applied = {r[0] for r in con.execute("select version_num from alembic_version")}
            elif out["kind"] == "django" and "django_migrations" in tables:
                applied = {r[0] + "." + r[1] for r in con.execute("select app, name from django_migrations")}
            elif out["kind"] == "sql":
                for t in ("schema_migrations", "ladder_migrations", "migrations"):
                    if t in tables:
                        col = [r[1] for r in con.execute("pragma table_info(%s)" % t)][0]
                        applied = {str(r[0]) for r in con.execute("select %s from %s" % (col, t))}
                        applied |= {a[:-4] for a in applied if a.endswith(".sql")}
                        break
            con.close()
        except Exception as exc:
            out["error"] = type(exc).__name__ + ": " + str(exc)
            continue
        if applied is not None:
            out["db"], out["applied"] = os.path.relpath(db, shared), len(applied)
            out["pending"] = sorted(w for w in wanted if w not in applied and w.split("_")[0] not in applied)
            break
print(json.dumps(out))
"""


@dataclass(frozen=True)
class Migrations:
    """Migrations found in the running code, and which of them the database has not applied."""

    kind: str | None = None
    files: int = 0
    db: str | None = None
    applied: int = 0
    pending: tuple[str, ...] = ()
    error: str | None = None


def migrations_command(layout: Layout, python: str = "python3") -> str:
    """Shell that runs the migrations probe against the code being served and shared/."""
    return f'{_code(layout)}{q(python)} -c {q(_MIGRATIONS_PROBE)} "$c" {q(layout.shared)}'


def parse_migrations(output: str) -> Migrations:
    """Parse the probe's JSON line."""
    for line in reversed(output.strip().splitlines()):
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if isinstance(data, dict):
            return Migrations(
                data.get("kind"),
                int(data.get("files") or 0),
                data.get("db"),
                int(data.get("applied") or 0),
                tuple(data.get("pending") or ()),
                data.get("error"),
            )
    return Migrations(error="no output from the migrations probe")


def get_migrations(host: Host, python: str = "python3") -> Migrations:
    """Whether the running code's migrations are applied to the host's sqlite database."""
    r = host.run(migrations_command(layout_of(host), python), timeout=PROBE_TIMEOUT, warn=True)
    if r.failed:
        return Migrations(error=(r.stderr.strip().splitlines() or [f"exit {r.exited}"])[-1])
    return parse_migrations(r.stdout)


# ---- facts per host and per fleet -----------------------------------------------------------------


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
    error: str | None = None

    def nothing_deployed(self) -> str:
        """Why there is nothing to judge: neither a `current` link nor a checkout where the app lives."""
        layout = Layout(self.base)
        return f"neither {layout.current} nor a checkout at {layout.app}"


@dataclass
class HostFacts:
    """Host reports grouped by environment: what every host check reads."""

    environments: dict[str, list[HostReport]] = field(default_factory=dict)

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


def read_host(host: Host, environment: str, *, python: str = "python3", health_url: str | None = None) -> HostReport:
    """Read every fact a host check needs from one host; an unreachable host becomes report.error."""
    report = HostReport(host.name, environment, host_identity(host), host.base)
    try:
        report.platform = get_platform(host, python)
        report.deployment = get_deployment(host)
        if environment == PROD:
            report.logs = get_logs(host)
            report.migrations = get_migrations(host, python)
    except LadderError as exc:
        report.error = str(exc)
    if health_url:
        try:
            report.health = health.check(health_url, timeout=HEALTH_TIMEOUT)
        except ValueError as exc:  # a malformed URL fails this host's health check, not the whole assessment
            report.health = health.HealthResult(health_url, False, error=str(exc))
    return report


def assess_hosts(
    environments: Mapping[str, list[Host]],
    *,
    python: Mapping[str, str] | None = None,
    health_urls: Mapping[str, str] | None = None,
    workers: int = 10,
) -> list[CheckResult]:
    """Read every host (in parallel) and run every host check on what was read."""
    python = python or {}
    health_urls = health_urls or {}
    facts = HostFacts()
    for env, hosts in environments.items():
        if not hosts:
            facts.environments[env] = []
            continue

        def read(h: Host, env: str = env) -> HostReport:
            return read_host(h, env, python=python.get(h.name, "python3"), health_url=health_urls.get(h.name))

        outcomes = run_all(hosts, read, workers=workers, deadline=4 * PROBE_TIMEOUT, raise_on_error=False)
        reports = []
        for h in hosts:
            got = outcomes[h.name]
            if isinstance(got, BaseException):
                got = HostReport(h.name, env, host_identity(h), h.base, error=str(got))
            reports.append(got)
        facts.environments[env] = reports
    return [run_check(spec, facts) for spec in registered(SOURCE).values()]


def gather_host_evidence(config: Config) -> list[CheckResult]:
    """Host evidence for every environment in a loaded ladder.yml, read-only."""
    environments: dict[str, list[Host]] = {}
    python: dict[str, str] = {}
    health_urls: dict[str, str] = {}
    for name, env in config.environments.items():
        hosts = environment_hosts(config, name)
        environments[name] = hosts
        for hc in env.hosts:
            python[hc.name] = hc.python
            if name == PROD:
                address = "127.0.0.1" if hc.is_local else hc.address
                health_urls[hc.name] = f"http://{address}:{config.app_port(hc)}{config.app.health_path}"
    try:
        return assess_hosts(environments, python=python, health_urls=health_urls)
    finally:
        for hosts in environments.values():
            for h in hosts:
                h.close()


# ---- checks -------------------------------------------------------------------------------------


def _per_prod(facts: HostFacts, check_id: str, fn: Callable[[HostReport], CheckResult | None]) -> CheckResult:
    """Run a per-host judgement on every prod host; the worst host decides, unreachable ones are named."""
    prod = facts.prod
    if not prod:
        return inconclusive(check_id, SOURCE, "no prod hosts in ladder.yml")
    reachable = [r for r in prod if r.error is None]
    errors = {r.name: r.error for r in prod if r.error}
    if not reachable:
        return inconclusive(
            check_id, SOURCE, f"no prod host could be read: {next(iter(errors.values()))}", errors=errors
        )
    results = [res for res in (fn(r) for r in reachable) if res is not None]
    scored = [res for res in results if res.score is not None]
    if not scored:
        first = results[0] if results else None
        return inconclusive(
            check_id,
            SOURCE,
            first.reason if first else "nothing to check on the prod hosts",
            hosts={res.evidence.get("host"): res.reason for res in results},
            errors=errors,
        )
    worst = min(scored, key=lambda res: res.score)
    reason = worst.reason if len(prod) == 1 else f"{worst.evidence.get('host')}: {worst.reason}"
    if errors:
        reason += f" ({len(errors)} prod host(s) unreadable)"
    label = INFERRED if any(res.label == INFERRED for res in scored) else MEASURED
    return result(
        check_id, SOURCE, worst.score, reason, label=label, hosts=[res.evidence for res in results], errors=errors
    )


@register("separate-hosts", SOURCE)
def separate_hosts(facts: HostFacts) -> CheckResult:
    """Dev and prod are separate hosts (or at least separate folders)."""
    if not facts.prod:
        return inconclusive("separate-hosts", SOURCE, "no prod environment in ladder.yml")
    if not facts.dev:
        return inconclusive(
            "separate-hosts", SOURCE, "no dev environment in ladder.yml", prod=[r.name for r in facts.prod]
        )
    shared_machine, shared_folder = [], []
    for d in facts.dev:
        for p in facts.prod:
            if d.identity == p.identity:
                shared_machine.append(f"{d.name}/{p.name}")
                db, pb = d.base.rstrip("/") + "/", p.base.rstrip("/") + "/"
                if db.startswith(pb) or pb.startswith(db):
                    shared_folder.append(f"{d.name}/{p.name}")
    evidence = {
        "dev": [r.name for r in facts.dev],
        "prod": [r.name for r in facts.prod],
        "same_machine": shared_machine,
        "same_folder": shared_folder,
    }
    if shared_folder:
        return result(
            "separate-hosts", SOURCE, 0, f"dev and prod share a folder: {', '.join(shared_folder)}", **evidence
        )
    if shared_machine:
        return result("separate-hosts", SOURCE, 8, "dev and prod are separate folders on the same machine", **evidence)
    return result("separate-hosts", SOURCE, 10, "dev and prod are separate hosts", **evidence)


@register("prod-unmodified", SOURCE)
def prod_unmodified(facts: HostFacts) -> CheckResult:
    """Prod's code has no edits made in place: a clean checkout, or a release matching its checksums."""

    def judge(r: HostReport) -> CheckResult | None:
        lay = r.deployment
        if lay is None or not lay.found:
            return inconclusive("prod-unmodified", SOURCE, r.nothing_deployed(), host=r.name)
        if lay.modified:
            return result(
                "prod-unmodified",
                SOURCE,
                0,
                f"{len(lay.modified)} file(s) edited in place on prod",
                host=r.name,
                modified=list(lay.modified[:SAMPLES]),
            )
        if lay.checksum_failures:
            return result(
                "prod-unmodified",
                SOURCE,
                0,
                f"{len(lay.checksum_failures)} file(s) differ from {lay.checksum_file}",
                host=r.name,
                modified=list(lay.checksum_failures[:SAMPLES]),
            )
        if lay.git:
            return result("prod-unmodified", SOURCE, 10, "no uncommitted edits in prod's code", host=r.name)
        if lay.checksum_file:
            return result("prod-unmodified", SOURCE, 10, f"release matches its {lay.checksum_file}", host=r.name)
        return result(
            "prod-unmodified",
            SOURCE,
            8,
            "release folder without a checksum manifest to verify it against",
            label=INFERRED,
            host=r.name,
        )

    return _per_prod(facts, "prod-unmodified", judge)


@register("prod-runs-release", SOURCE)
def prod_runs_release(facts: HostFacts) -> CheckResult:
    """Prod runs a release folder switched by the `current` link, not a git checkout."""

    def judge(r: HostReport) -> CheckResult | None:
        lay = r.deployment
        if lay is None or not lay.found:
            return inconclusive("prod-runs-release", SOURCE, r.nothing_deployed(), host=r.name)
        if lay.runs_release:
            return result("prod-runs-release", SOURCE, 10, f"current -> {lay.current}", host=r.name)
        if lay.current:
            return result("prod-runs-release", SOURCE, 5, f"current -> {lay.current}, outside releases/", host=r.name)
        return result("prod-runs-release", SOURCE, 0, f"prod runs a git checkout at {lay.checkout}", host=r.name)

    return _per_prod(facts, "prod-runs-release", judge)


@register("releases-kept", SOURCE)
def releases_kept(facts: HostFacts) -> CheckResult:
    """How many releases are kept on prod for rollback."""

    def judge(r: HostReport) -> CheckResult | None:
        lay = r.deployment
        if lay is None:
            return inconclusive("releases-kept", SOURCE, r.nothing_deployed(), host=r.name)
        n = len(lay.releases)
        score = {0: 0, 1: 3, 2: 7}.get(n, 10)
        what = f"{n} release(s) kept in releases/" if lay.releases_dir else "no releases/ folder"
        return result("releases-kept", SOURCE, score, what, host=r.name, releases=list(lay.releases[-SAMPLES:]))

    return _per_prod(facts, "releases-kept", judge)


@register("app-health", SOURCE)
def app_health(facts: HostFacts) -> CheckResult:
    """The app answers its health check on every prod host."""

    def judge(r: HostReport) -> CheckResult | None:
        h = r.health
        if h is None:
            return inconclusive("app-health", SOURCE, "no health URL for this host", host=r.name)
        if h.status is not None and 200 <= h.status < 300:
            return result("app-health", SOURCE, 10, f"{h.url} answered {h.status}", host=r.name, url=h.url)
        if h.status is not None:
            return result("app-health", SOURCE, 2, f"{h.url} answered {h.status}", host=r.name, url=h.url)
        return result("app-health", SOURCE, 0, f"{h.url} did not answer: {h.error}", host=r.name, url=h.url)

    return _per_prod(facts, "app-health", judge)


@register("logs-collected", SOURCE)
def logs_collected(facts: HostFacts) -> CheckResult:
    """Logs leave prod: a log shipper runs (promtail, fluent-bit, vector, ...)."""

    def judge(r: HostReport) -> CheckResult | None:
        logs = r.logs or Logs()
        if logs.shippers:
            return result(
                "logs-collected",
                SOURCE,
                10,
                f"log shipper running: {', '.join(logs.shippers)}",
                host=r.name,
                shippers=list(logs.shippers),
            )
        if logs.files:
            return result(
                "logs-collected",
                SOURCE,
                4,
                f"{len(logs.files)} log file(s) kept on the host, none shipped",
                host=r.name,
                files=list(logs.files[:SAMPLES]),
            )
        return result("logs-collected", SOURCE, 0, "no log shipper and no log files", host=r.name)

    return _per_prod(facts, "logs-collected", judge)


@register("migrations-current", SOURCE)
def migrations_current(facts: HostFacts) -> CheckResult:
    """The running code's migrations are all applied to prod's database."""

    def judge(r: HostReport) -> CheckResult | None:
        m = r.migrations or Migrations()
        if not m.kind:
            return inconclusive(
                "migrations-current", SOURCE, m.error or "no migrations in the running code", host=r.name
            )
        if m.db is None:
            return inconclusive(
                "migrations-current",
                SOURCE,
                f"{m.files} {m.kind} migration(s), but no sqlite database under shared/ records them",
                host=r.name,
                error=m.error,
            )
        if m.pending:
            return result(
                "migrations-current",
                SOURCE,
                0,
                f"{len(m.pending)} migration(s) not applied to {m.db}",
                host=r.name,
                pending=list(m.pending[:SAMPLES]),
            )
        return result("migrations-current", SOURCE, 10, f"all {m.kind} migrations applied to {m.db}", host=r.name)

    return _per_prod(facts, "migrations-current", judge)


@register("dev-prod-parity", SOURCE)
def dev_prod_parity(facts: HostFacts) -> CheckResult:
    """Dev and prod run the same Python, OS, packages and config names."""
    dev = [r for r in facts.dev if r.error is None and r.platform]
    prod = [r for r in facts.prod if r.error is None and r.platform]
    if not dev or not prod:
        return inconclusive("dev-prod-parity", SOURCE, "needs a readable dev host and prod host in ladder.yml")
    d = dev[0]
    diffs: dict[str, dict] = {}
    compared: set[str] = set()
    for p in prod:
        cmp = compare_platforms(d.platform, p.platform)
        compared |= {k for k, v in cmp.items() if v is not None}
        diffs[p.name] = {k: v for k, v in cmp.items() if v}
    if not compared:
        return inconclusive("dev-prod-parity", SOURCE, "nothing comparable (no Python, OS or packages read)")
    differing = sorted({k for per in diffs.values() for k in per})
    score = 10 * (1 - len(differing) / len(compared))
    reason = (
        f"dev host {d.name!r} and prod differ in {', '.join(differing)}"
        if differing
        else f"dev and prod match on {', '.join(sorted(compared))}"
    )
    return result(
        "dev-prod-parity",
        SOURCE,
        score,
        reason,
        dev=d.name,
        compared=sorted(compared),
        differences={h: {k: v[:SAMPLES] for k, v in per.items()} for h, per in diffs.items()},
    )


@register("dev-environment", SOURCE)
def dev_environment(facts: HostFacts) -> CheckResult:
    """Every dev host has the app checked out with its own virtualenv."""
    dev = facts.dev
    if not dev:
        return inconclusive("dev-environment", SOURCE, "no dev environment in ladder.yml")
    readable = [r for r in dev if r.error is None]
    if not readable:
        return inconclusive("dev-environment", SOURCE, f"no dev host could be read: {dev[0].error}")
    rows = []
    for r in readable:
        code = r.deployment.checkout or r.deployment.current if r.deployment else None
        venv = r.platform.venv if r.platform else None
        rows.append({"host": r.name, "code": code, "venv": venv, "score": 10 if code and venv else 5 if code else 0})
    worst = min(rows, key=lambda row: row["score"])
    reason = {
        10: "the app is checked out with its virtualenv",
        5: "the app is checked out, but without a virtualenv",
        0: "no app checkout",
    }[worst["score"]]
    if len(rows) > 1:
        reason = f"{worst['host']}: {reason}"
    return result("dev-environment", SOURCE, worst["score"], reason, hosts=rows)


@register("deploy-step", SOURCE)
def deploy_step(facts: HostFacts) -> CheckResult:
    """Prod has a deploy script (bin/deploy*) or a release layout made by deploy tooling."""

    def judge(r: HostReport) -> CheckResult | None:
        lay = r.deployment or Deployment()
        if lay.deploy_scripts:
            return result(
                "deploy-step",
                SOURCE,
                10,
                f"deploy script {lay.deploy_scripts[0]}",
                host=r.name,
                scripts=list(lay.deploy_scripts),
            )
        if lay.runs_release:
            return result("deploy-step", SOURCE, 10, "releases switched by the current link", host=r.name)
        return result(
            "deploy-step", SOURCE, 0, f"no deploy script in {Layout(r.base).bin} and no release layout", host=r.name
        )

    return _per_prod(facts, "deploy-step", judge)
