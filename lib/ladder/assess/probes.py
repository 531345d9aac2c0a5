"""Read-only probes of one host for the assessment: get_x(host) runs one command, parse_x(output) is pure.

Paths come from app.layout (where an app lives on a host). Python, packages, setting names and OS
are read by app.parity's reader, the same one the rung-1 runbook uses.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from typing import Any

from ..app import checkout
from ..app.layout import Layout, code_shell, layout_of
from ..core.hosts import Host

PROBE_TIMEOUT = 30.0
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


# ---- logs ------------------------------------------------------------------------------------------


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


# ---- migrations ------------------------------------------------------------------------------------
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
    return f'{code_shell(layout)}{q(python)} -c {q(_MIGRATIONS_PROBE)} "$c" {q(layout.shared)}'


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
