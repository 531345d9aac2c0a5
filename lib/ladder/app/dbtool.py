"""The script Ladder runs on a host with the app's Python: facts, backup, upgrade and restore of an SQLite database.

Shipped to the host as one file (app/migrations.py copies it) and run as `python ladder-db.py COMMAND ...`;
it needs only the standard library, plus Alembic for `state` and `upgrade`. Every command prints one JSON line.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sqlite3
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import Any

PENDING = "upgrading.json"  # in the backups folder while an upgrade runs: names the backup to restore
VERSION_TABLE = "alembic_version"
# The header fields the backup's own commit bumps (file change counter, schema cookie, version-valid-for): copied
# from the source, read in the same read transaction, so that the copy is byte-identical (checked by sha256).
COUNTERS = ((24, 28), (40, 44), (92, 96))


def file_sha256(path: str | Path) -> str:
    """sha256 of a file's bytes ('' when it does not exist)."""
    if not os.path.exists(path):
        return ""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _value(v: Any) -> Any:
    return {"blob": v.hex()} if isinstance(v, bytes) else v


def tables(db: sqlite3.Connection, columns: dict[str, list[str]] | None = None) -> dict[str, dict]:
    """Per user table: all its columns, its row count, and sha256 over its rows (given columns) in primary-key order."""
    names = [
        r[0]
        for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        if not r[0].startswith("sqlite_") and r[0] != VERSION_TABLE
    ]
    out = {}
    for name in names:
        info = db.execute(f'PRAGMA table_info("{name}")').fetchall()
        every = [c[1] for c in info]
        pk = [c[1] for c in sorted(info, key=lambda c: c[5]) if c[5]] or ["rowid"]
        over = [c for c in (columns or {}).get(name, every) if c in every]
        digest = hashlib.sha256()
        rows = 0
        quoted = ", ".join(f'"{c}"' for c in over) or "NULL"
        order = ", ".join(f'"{c}"' if c != "rowid" else c for c in pk)
        for row in db.execute(f'SELECT {quoted} FROM "{name}" ORDER BY {order}'):
            digest.update(json.dumps([_value(v) for v in row]).encode() + b"\n")
            rows += 1
        out[name] = {"columns": every, "over": over, "rows": rows, "sha256": digest.hexdigest()}
    return out


def _alembic(code: str, db: str) -> Any:
    from alembic.config import Config

    cfg = Config(str(Path(code) / "alembic.ini"))
    cfg.set_main_option("sqlalchemy.url", f"sqlite:///{db}")
    return cfg


def current_revision(db: str) -> str | None:
    """The database's Alembic revision (MigrationContext), or None before the first upgrade."""
    try:
        from alembic.runtime.migration import MigrationContext
        from sqlalchemy import create_engine, pool
    except ImportError:  # Alembic not installed yet (a dry run before the requirements step): read the table itself
        with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
            found = conn.execute("SELECT name FROM sqlite_master WHERE name = ?", (VERSION_TABLE,)).fetchone()
            row = conn.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchone() if found else None
        return row[0] if row else None
    engine = create_engine(f"sqlite:///{db}", poolclass=pool.NullPool)
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    engine.dispose()
    return current


def revisions(code: str, db: str, current: str | None) -> dict:
    """The code's heads (ScriptDirectory) and the row changes its revisions after `current` declare."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_alembic(code, db))
    heads = list(script.get_heads())
    declared: dict[str, int] = {}
    if current not in heads:
        for rev in script.iterate_revisions("heads", current or "base"):
            for table, delta in getattr(rev.module, "expected_row_changes", {}).items():
                declared[table] = declared.get(table, 0) + int(delta)
    return {"heads": heads, "declared": declared}


def state(args: argparse.Namespace) -> dict:
    """Facts: file hashes, tables, revisions, and the backup an interrupted upgrade left pending."""
    pending = Path(args.backups) / PENDING
    out: dict[str, Any] = {
        "exists": os.path.exists(args.db),
        "file_sha256": file_sha256(args.db),
        "wal": os.path.exists(args.db + "-wal"),
        "pending": json.loads(pending.read_text())["backup"] if pending.exists() else None,
        "tables": {},
    }
    if out["exists"]:
        with closing(sqlite3.connect(args.db)) as db:  # read-write: a hot journal left by a kill is rolled back
            out["tables"] = tables(db, json.loads(args.columns) if args.columns else None)
        out["revision"] = current_revision(args.db)
    if args.code and (Path(args.code) / "alembic.ini").exists():
        out.update(revisions(args.code, args.db, out.get("revision")))
    return out


def backup(args: argparse.Namespace) -> dict:
    """Copy the database with SQLite's online backup API, check the copy, and write its facts as JSON beside it."""
    folder = Path(args.backups)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    ident = f"{stamp}-{args.rev}"
    n = 1
    while (folder / f"{ident}.db").exists() or (folder / f"{ident}.json").exists():
        n += 1
        ident = f"{stamp}-{args.rev}-{n}"
    final, tmp = folder / f"{ident}.db", folder / f".{ident}.db.partial"
    with closing(sqlite3.connect(args.db, isolation_level=None)) as src, closing(sqlite3.connect(tmp)) as dst:
        src.execute("BEGIN")  # one read transaction: the header read and the copy see the same database
        src.execute("SELECT count(*) FROM sqlite_master").fetchone()
        with open(args.db, "rb") as f:
            header = f.read(100)
        src.backup(dst)
        figures = tables(src)
        wal = os.path.exists(args.db + "-wal")
        source_sha256 = "" if wal else file_sha256(args.db)  # writers wait for this read lock: no WAL, one file
        src.execute("COMMIT")
    if not wal and len(header) == 100:
        with open(tmp, "r+b") as f:
            for start, end in COUNTERS:
                f.seek(start)
                f.write(header[start:end])
            os.fsync(f.fileno())
    with closing(sqlite3.connect(tmp)) as copy:
        integrity = [r[0] for r in copy.execute("PRAGMA integrity_check")]
        copied = tables(copy)
    if integrity != ["ok"] or copied != figures:
        tmp.unlink()
        raise SystemExit(
            f"backup of {args.db} failed its check: integrity {integrity[:3]}, tables match: {copied == figures}"
        )
    os.replace(tmp, final)
    record = {"id": ident, "file": str(final), "db": args.db, "revision": args.rev, "created": stamp}
    record.update({"file_sha256": file_sha256(final), "integrity": "ok", "tables": figures})
    record["byte_identical"] = record["file_sha256"] == source_sha256
    (folder / f".{ident}.json.partial").write_text(json.dumps(record, indent=1))
    os.replace(folder / f".{ident}.json.partial", folder / f"{ident}.json")
    return record


def upgrade(args: argparse.Namespace) -> dict:
    """Mark the upgrade pending (naming its backup), run `alembic upgrade head`, then clear the mark."""
    from alembic import command

    pending = Path(args.backups) / PENDING
    pending.write_text(json.dumps({"backup": args.backup, "pid": os.getpid()}))
    command.upgrade(_alembic(args.code, args.db), "head")
    pending.unlink()
    return {"upgraded": True}


def restore(args: argparse.Namespace) -> dict:
    """Put a backup back atomically: copy beside the database, drop its journal files, rename over it."""
    source = Path(args.backups) / f"{args.backup}.db"
    record = json.loads((Path(args.backups) / f"{args.backup}.json").read_text())
    tmp = f"{args.db}.ladder-restore"
    shutil.copyfile(source, tmp)
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    if file_sha256(tmp) != record["file_sha256"]:
        os.unlink(tmp)
        raise SystemExit(f"{source}: sha256 differs from its record; the backup is damaged, nothing was restored")
    # A -wal, -shm or hot -journal left by the half-migrated database would be replayed into the restored file.
    for suffix in ("-wal", "-shm", "-journal"):
        if os.path.exists(args.db + suffix):
            os.unlink(args.db + suffix)
    os.replace(tmp, args.db)
    dirfd = os.open(os.path.dirname(os.path.abspath(args.db)), os.O_RDONLY)
    try:
        os.fsync(dirfd)
    finally:
        os.close(dirfd)
    (Path(args.backups) / PENDING).unlink(missing_ok=True)
    return {"restored": args.backup, "file_sha256": file_sha256(args.db)}


def listing(args: argparse.Namespace) -> list[dict]:
    """The backups' records, oldest first (a record without its .db file is left out)."""
    folder = Path(args.backups)
    found = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        if path.name != PENDING and path.with_suffix(".db").exists():
            record = json.loads(path.read_text())
            found.append({k: record[k] for k in ("id", "revision", "created", "file_sha256", "tables")})
    return found


def main(argv: list[str]) -> None:
    """Parse the command line, run one command, print its JSON."""
    parser = argparse.ArgumentParser(prog="ladder-db")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, fn in (("state", state), ("backup", backup), ("upgrade", upgrade), ("restore", restore)):
        p = sub.add_parser(name)
        p.set_defaults(fn=fn)
        p.add_argument("--db", required=True)
        p.add_argument("--backups", required=True)
        p.add_argument("--code", default="")
        p.add_argument("--columns", default="")
        p.add_argument("--rev", default="none")
        p.add_argument("--backup", default="")
    p = sub.add_parser("list")
    p.set_defaults(fn=listing)
    p.add_argument("--backups", required=True)
    args = parser.parse_args(argv)
    print(json.dumps(args.fn(args)))


if __name__ == "__main__":
    main(sys.argv[1:])
