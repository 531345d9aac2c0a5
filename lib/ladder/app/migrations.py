"""Schema migrations of the app's SQLite database on a host: back up, upgrade with Alembic, verify, restore on failure.

Everything runs on the host with the app's own Python: app/dbtool.py is sent as `python -c SOURCE`, so reading
facts installs nothing. An upgrade leaves `backups/upgrading.json` (naming its backup) until it ends; a run that
finds it knows the last upgrade was killed, and puts that backup back before it does anything else.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..core import ops
from ..core.errors import CommandTimeout, HostError, MigrationFailed, ParameterError, UnknownBackup
from ..core.hosts import Host
from . import health
from .layout import layout_of

q = shlex.quote
TOOL = Path(__file__).with_name("dbtool.py")
STATE_TIMEOUT = 120.0
BACKUP_TIMEOUT = 600.0
UPGRADE_TIMEOUT = 900.0


@dataclass(frozen=True)
class Site:
    """Where a migration acts on one host: the database, the code holding alembic.ini, its Python, the backups."""

    host: str
    db: str
    code: str
    python: str
    backups: str


def parse_env(text: str) -> dict[str, str]:
    """KEY=value lines of an env file (comments and blank lines skipped, quotes removed)."""
    out = {}
    for raw in text.splitlines():
        key, sep, value = raw.strip().removeprefix("export ").partition("=")
        if sep and key and not key.startswith("#"):
            out[key.strip()] = value.strip().strip("'\"")
    return out


def site_of(host: Host, python: str | None = None, code: str | None = None) -> Site:
    """The host's site by Ladder's layout: APP_DB_PATH from the env file (shared/ first), the served code, its venv.

    Without python: the current release's venv, else the host's venv, else python3 (list and restore need only it).
    """
    lay = layout_of(host)
    env_file = next((p for p in (f"{lay.shared}/app.env", lay.env_file) if host.exists(p)), lay.env_file)
    if not host.exists(env_file):
        raise HostError(f"{env_file} is missing: the app's settings (APP_DB_PATH) are not on this host", host=host.name)
    db = parse_env(host.read_text(env_file)).get("APP_DB_PATH", "")
    if not db.startswith("/"):
        raise HostError(f"{env_file}: APP_DB_PATH must be an absolute path, got {db!r}; set it there", host=host.name)
    served = lay.current if host.exists(lay.current) else lay.app
    pythons = [f"{lay.current}/venv/bin/python", lay.venv_python]
    found = python or next((p for p in pythons if host.exists(p)), "python3")
    return Site(host.name, db, code or served, found, f"{lay.shared}/backups")


def check_keep(keep_backups: int) -> None:
    """Refuse a keep_backups below 1 before any host is touched: the newest backup is the way back."""
    if isinstance(keep_backups, bool) or not isinstance(keep_backups, int) or keep_backups < 1:
        raise ParameterError(f"parameter 'keep_backups': must be a whole number of at least 1, got {keep_backups!r}")


# --- facts -----------------------------------------------------------------------
@dataclass(frozen=True)
class TableSum:
    """One table's figures: its columns, the columns hashed, its row count, sha256 over its rows in key order."""

    columns: tuple[str, ...]
    over: tuple[str, ...]
    rows: int
    sha256: str


def _sums(raw: dict) -> dict[str, TableSum]:
    return {t: TableSum(tuple(v["columns"]), tuple(v["over"]), int(v["rows"]), v["sha256"]) for t, v in raw.items()}


@dataclass(frozen=True)
class DbState:
    """The database on one host: file hash, tables, its revision, the code's heads, and a pending (killed) upgrade."""

    exists: bool
    file_sha256: str
    tables: dict[str, TableSum]
    revision: str | None = None
    heads: tuple[str, ...] = ()
    declared: dict[str, int] = field(default_factory=dict)  # row changes the pending revisions declare
    pending: str | None = None  # the backup of an upgrade that never ended
    wal: bool = False

    @property
    def at_head(self) -> bool:
        """True when the database's revision is the code's single head."""
        return self.revision is not None and self.heads == (self.revision,)


def _last_json(output: str) -> object:
    lines = [line for line in output.strip().splitlines() if line.startswith(("{", "["))]
    if not lines:
        raise ValueError(f"no JSON in the database tool's output: {output.strip()[-300:]!r}")
    return json.loads(lines[-1])


def parse_state(output: str) -> DbState:
    """Parse the tool's `state` JSON line."""
    d = _last_json(output)
    assert isinstance(d, dict)
    return DbState(
        d["exists"],
        d["file_sha256"],
        _sums(d["tables"]),
        d.get("revision"),
        tuple(d.get("heads", ())),
        dict(d.get("declared", {})),
        d.get("pending"),
        d.get("wal", False),
    )


def _tool(site: Site, command: str, **options: str) -> str:
    """The tool's command line on the host: the app's Python running dbtool's source."""
    args = {"db": site.db, "backups": site.backups, **options}
    flags = " ".join(f"--{k} {q(v)}" for k, v in args.items() if v)
    return f"{q(site.python)} -c {q(TOOL.read_text())} {command} {flags}"


def _run(host: Host, site: Site, command: str, timeout: float, **options: str) -> str:
    result = host.run(_tool(site, command, **options), timeout=timeout, warn=True)
    if result.failed:
        raise HostError(f"ladder-db {command} failed: {result.stderr.strip()[-1500:]}", host=host.name)
    return result.stdout


def get_state(host: Host, site: Site, columns: dict[str, tuple[str, ...]] | None = None) -> DbState:
    """The database's facts; columns limits each table's checksum to those columns (the ones a backup had)."""
    cols = json.dumps({t: list(c) for t, c in columns.items()}) if columns else ""
    return parse_state(_run(host, site, "state", STATE_TIMEOUT, code=site.code, columns=cols))


@dataclass(frozen=True)
class Backup:
    """One kept backup: its id (<timestamp>-<revision>), the revision it holds, its file's sha256 and its tables."""

    id: str
    revision: str
    created: str
    file_sha256: str
    tables: dict[str, TableSum]


def parse_backups(output: str) -> list[Backup]:
    """Parse the tool's `list` JSON line, oldest first."""
    found = _last_json(output)
    assert isinstance(found, list)
    return [Backup(b["id"], b["revision"], b["created"], b["file_sha256"], _sums(b["tables"])) for b in found]


def get_backups(host: Host, site: Site) -> list[Backup]:
    """The backups kept on the host, oldest first."""
    cmd = f"{q(site.python)} -c {q(TOOL.read_text())} list --backups {q(site.backups)}"
    return parse_backups(host.run(cmd, timeout=STATE_TIMEOUT).stdout)


# --- pure comparisons ------------------------------------------------------------
@dataclass(frozen=True)
class TableCheck:
    """One table before and after: rows, the change a revision declared, and whether the old columns' sums match."""

    table: str
    rows_before: int
    rows_after: int
    expected_change: int
    sha256_before: str
    sha256_after: str

    @property
    def rows_ok(self) -> bool:
        """True when the row count moved by exactly what the revisions declared."""
        return self.rows_after - self.rows_before == self.expected_change

    @property
    def checksum_ok(self) -> bool:
        """True when the rows' values in the columns the table had before are unchanged."""
        return self.expected_change != 0 or self.sha256_before == self.sha256_after


def compare(before: DbState, after: DbState) -> list[TableCheck]:
    """Every table of before (and new ones of after) checked against after, with before's declared row changes."""
    names = sorted(set(before.tables) | set(after.tables))
    empty = TableSum((), (), 0, "")
    return [
        TableCheck(
            t,
            before.tables.get(t, empty).rows,
            after.tables.get(t, empty).rows,
            before.declared.get(t, 0),
            before.tables.get(t, after.tables.get(t, empty)).sha256,
            after.tables.get(t, empty).sha256,
        )
        for t in names
    ]


def to_prune(backups: Sequence[Backup], keep: int, protect: str | None = None) -> list[Backup]:
    """The backups beyond the newest `keep`, never the one a pending upgrade names."""
    return [b for b in backups[: max(0, len(backups) - keep)] if b.id != protect]


# --- operations --------------------------------------------------------------------
def backup(host: Host, site: Site, revision: str | None, *, dry_run: bool = True) -> tuple[ops.Change, Backup | None]:
    """Back the database up with SQLite's online backup API into backups/, checked by PRAGMA integrity_check."""
    cmd = _tool(site, "backup", rev=revision or "none")
    text = (
        f"back up {site.db} to {site.backups}/<timestamp>-{revision or 'none'}.db (online backup API, integrity_check)"
    )
    made: list[Backup] = []

    def do() -> None:
        result = host.run(cmd, timeout=BACKUP_TIMEOUT, warn=True)
        if result.failed:
            raise HostError(f"backup of {site.db} failed: {result.stderr.strip()[-800:]}", host=host.name)
        raw = _last_json(result.stdout)
        assert isinstance(raw, dict)
        made.append(Backup(raw["id"], raw["revision"], raw["created"], raw["file_sha256"], _sums(raw["tables"])))

    change = ops.settle(host, "db backup", site.db, [(text, do)], "before the upgrade", dry_run=dry_run)
    return change, (made[0] if made else None)


def restore(host: Host, site: Site, backup_id: str, *, dry_run: bool = True) -> ops.Change:
    """Put a kept backup back over the database atomically (temp copy, checked, renamed; -wal/-shm dropped)."""
    known = [b.id for b in get_backups(host, site)]
    if backup_id not in known:
        raise UnknownBackup(backup_id, known, host=host.name, folder=site.backups)
    cmd = _tool(site, "restore", backup=backup_id)
    text = f"restore {site.backups}/{backup_id}.db over {site.db} (copy, sha256 check, drop -wal/-shm, rename)"

    def do() -> None:
        result = host.run(cmd, timeout=BACKUP_TIMEOUT, warn=True)
        if result.failed:
            raise HostError(f"restore of {backup_id} failed: {result.stderr.strip()[-800:]}", host=host.name)

    return ops.settle(host, "db restore", site.db, [(text, do)], f"put back {backup_id}", dry_run=dry_run)


def prune(host: Host, site: Site, keep: int, *, dry_run: bool = True) -> ops.Change:
    """Delete the backups beyond the newest `keep` (their .db and .json)."""
    check_keep(keep)
    pending = get_state(host, site).pending
    old = to_prune(get_backups(host, site), keep, pending)
    paths = " ".join(q(f"{site.backups}/{b.id}{ext}") for b in old for ext in (".db", ".json"))
    actions = [ops.command(host, f"rm -f -- {paths}")] if old else []
    return ops.settle(host, "db backups", site.backups, actions, f"keep the newest {keep}", dry_run=dry_run)


@dataclass(frozen=True)
class Migration:
    """One host's migration: the state before and after, each table's check, the backup, and the changes."""

    host: str
    before: DbState
    after: DbState | None
    backup: str | None
    checks: tuple[TableCheck, ...]
    changes: tuple[ops.Change, ...]
    health: str = "not checked"


def migrate(
    host: Host,
    site: Site,
    *,
    keep_backups: int = 5,
    health_port: int | None = None,
    health_path: str = "/health",
    dry_run: bool = True,
) -> Migration:
    """Back up, `alembic upgrade head`, verify (head, rows, checksums, health), keep `keep_backups`; restore on failure.

    A pending upgrade (one killed mid-way) is restored first, so a re-run starts from the last good database.
    """
    check_keep(keep_backups)
    changes: list[ops.Change] = []
    before = get_state(host, site)
    if before.pending:
        changes.append(restore(host, site, before.pending, dry_run=dry_run))
        if not dry_run:
            before = get_state(host, site)
    if before.at_head and not before.pending:
        changes.append(ops.settle(host, "db upgrade", site.db, [], dry_run=dry_run))
        return Migration(host.name, before, before, None, tuple(compare(before, before)), tuple(changes))
    if not before.heads and not dry_run:
        raise HostError(f"{site.code}/alembic.ini is missing: no migrations to run; ship them first", host=host.name)
    made_change, made = backup(host, site, before.revision, dry_run=dry_run)
    changes.append(made_change)
    upgrade_cmd = _tool(site, "upgrade", code=site.code, backup=made.id if made else "")
    text = f"alembic upgrade head in {site.code or 'the shipped migrations'} ({before.revision or 'no revision'} -> {', '.join(before.heads) or 'head'})"
    if dry_run or made is None:
        changes.append(ops.settle(host, "db upgrade", site.db, [(text, lambda: None)], "not at head", dry_run=True))
        return Migration(host.name, before, None, None, (), tuple(changes))
    try:
        result = host.run(upgrade_cmd, timeout=UPGRADE_TIMEOUT, warn=True)
    except CommandTimeout as exc:  # the timeout killed the upgrade: restore now rather than on the next run
        result = exc.result
    changes.append(
        ops.Change(host.name, "db upgrade", site.db, (text,), True, True, result.failed, result.stderr[-300:])
    )
    error = _error_of(result.exited, result.stderr) if result.failed else ""
    after = get_state(host, site, {t: s.columns for t, s in before.tables.items()}) if not error else None
    checks = compare(before, after) if after else []
    seen = "not checked"
    if after is not None:
        error = _verify(after, checks)
    if not error and health_port is not None:
        got = health.check_on(host, health_port, health_path, python=site.python)
        seen = "ok" if got.ok else f"failed: {got.error or got.status}"
        error = "" if got.ok else f"the app's health check {seen}"
    if error:
        changes.append(restore(host, site, made.id, dry_run=False))
        back = get_state(host, site)
        raise MigrationFailed(error, host=host.name, backup=made.id, restored=back.file_sha256 == made.file_sha256)
    changes.append(prune(host, site, keep_backups, dry_run=False))
    return Migration(host.name, before, after, made.id, tuple(checks), tuple(changes), seen)


def _error_of(exited: int, stderr: str) -> str:
    """The migration's own error: the last line of its traceback, or the signal that killed it."""
    if exited == 124 or exited < 0:  # coreutils timeout's status, or the client's own kill
        return f"the upgrade ran past its {UPGRADE_TIMEOUT:g}s timeout and was stopped"
    if exited > 128:
        return f"the upgrade process was killed (exit {exited}, signal {exited - 128})"
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    return lines[-1] if lines else f"the upgrade process exited {exited} with no message"


def _verify(after: DbState, checks: Sequence[TableCheck]) -> str:
    """Why the upgraded database is wrong, or '' when it is at head with every count and checksum held."""
    if not after.at_head:
        return f"the database is at {after.revision}, not at the head {', '.join(after.heads)}"
    bad = [c for c in checks if not (c.rows_ok and c.checksum_ok)]
    return "; ".join(
        f"table {c.table}: rows {c.rows_before} -> {c.rows_after} (declared {c.expected_change:+d}), "
        f"checksum {'matched' if c.checksum_ok else 'changed'}"
        for c in bad
    )
