"""Where deploys come from: Ladder's journal of runbook runs, else the repository's release tags."""

from __future__ import annotations

import json
import math
import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

from ..app.git import GitRepo

DEPLOY_RUNGS = frozenset({"1", "3a", "4", "5"})
FAILURE_SUBJECT = re.compile(r"^\s*revert\b|\bhot-?fix\b|\brollback\b|\broll back\b", re.IGNORECASE)
VERSION_TAG = re.compile(r"^(v|release[-/]|rel-)?\d+(\.\d+){1,3}([-+.][0-9A-Za-z.-]+)?$|^v?\d{4}[.-]\d{2}([.-]\d{2})?")
MAX_TAGS = 100
REF_KEYS = ("commit", "ref", "revision", "sha", "version")
JOURNAL_KINDS = ("runbook", "deploy", "rollback", "canary")  # runbook runs, Ladder's rollouts and canaries
PROD = "prod"


@dataclass(frozen=True)
class Deploy:
    """One deploy to prod: when, where it was recorded, the lead time of each change it shipped."""

    time: float
    source: str
    name: str
    lead_times: tuple[float, ...] = ()
    failed: bool = False
    recovery: float | None = None


@dataclass(frozen=True)
class JournalRun:
    """One row of the journal's runs table, as far as DORA needs it."""

    id: str
    runbook: str
    rung: str
    params: dict
    started: float | None
    ended: float | None
    status: str
    changes: int
    kind: str = "runbook"

    @property
    def in_prod(self) -> bool:
        """True unless the run names another environment (a rollout to staging is no deploy to prod)."""
        return str(self.params.get("environment") or PROD) == PROD

    @property
    def is_rollback(self) -> bool:
        """True for a run that rolled prod back."""
        action = str(self.params.get("action", "")) + str(self.params.get("mode", ""))
        named = (
            "rollback" in self.runbook.lower() or "rollback" in action.lower() or self.params.get("rollback") is True
        )
        return named and self.in_prod

    @property
    def is_failed_deploy(self) -> bool:
        """True for a rollout to prod that failed after changing a host: prod ran the change, so it counts."""
        return self.kind == "deploy" and self.status == "failed" and self.changes > 0 and self.in_prod

    @property
    def commit_time(self) -> float | None:
        """When the deployed commit was made, when the run recorded it (Ladder's rollouts do)."""
        return _iso(self.params.get("commit_time"))

    @property
    def is_dry_run(self) -> bool:
        """True for a run that only planned: its changes were never made."""
        return self.params.get("dry_run") is True

    @property
    def is_deploy(self) -> bool:
        """True for a successful run of a deploying rung's runbook that changed something (a dry run changes nothing)."""
        return (
            self.status == "ok"
            and self.changes > 0
            and self.rung in DEPLOY_RUNGS
            and not self.is_rollback
            and not self.is_dry_run
            and self.in_prod
        )

    @property
    def ref(self) -> str | None:
        """The commit or version the run deployed, when its parameters name one."""
        for key in REF_KEYS:
            value = self.params.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
        return None


def _iso(value: Any) -> float | None:
    from datetime import datetime

    if not isinstance(value, str) or not value:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def read_journal(path: str | Path | None) -> list[JournalRun] | None:
    """Runs from a journal.sqlite, oldest first; None when there is no usable journal (never an error)."""
    if path is None or not Path(path).is_file():
        return None
    try:
        db = sqlite3.connect(f"file:{Path(path).absolute()}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return None
    try:
        cols = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
        if not {"runbook", "status", "started"} <= cols:
            return None
        wanted = ["id", "runbook", "rung", "params", "started", "ended", "status", "changes", "kind"]
        select = ", ".join(c if c in cols else "NULL" for c in wanted)
        # Runbook runs and rollouts can deploy; assessments and builds share the table under other kinds.
        marks = ", ".join("?" for _ in JOURNAL_KINDS)
        where = f" WHERE kind IS NULL OR kind IN ({marks})" if "kind" in cols else ""
        rows = db.execute(f"SELECT {select} FROM runs{where}", JOURNAL_KINDS if where else ()).fetchall()
    except sqlite3.Error:
        return None
    finally:
        db.close()
    runs = []
    for rid, runbook, rung, params, started, ended, status, changes, kind in rows:
        try:
            p = json.loads(params) if params else {}
        except (TypeError, ValueError):
            p = {}
        try:
            n_changes = int(changes or 0)
        except (TypeError, ValueError):
            n_changes = 0
        runs.append(
            JournalRun(
                str(rid or ""),
                str(runbook or ""),
                str(rung or "").strip(),
                p if isinstance(p, dict) else {},
                _iso(started),
                _iso(ended),
                str(status or ""),
                n_changes,
                str(kind or "runbook"),
            )
        )
    runs.sort(key=lambda r: r.ended or r.started or 0)
    return runs


def _range_commits(repo: GitRepo, start: str | None, end: str) -> list[tuple[int, str]]:
    """(committer time, subject) of the commits in start..end (or all up to end)."""
    spec = f"{start}..{end}" if start else end
    out = repo.git("log", "--format=%ct%x00%s", spec, "--", ok_codes=(0, 128))
    commits = []
    for line in out.split(b"\n"):
        when, _, subject = line.partition(b"\0")
        if when.strip().isdigit():
            commits.append((int(when), subject.decode(errors="replace")))
    return commits


def _resolve(repo: GitRepo, ref: str) -> str | None:
    out = repo.git("rev-parse", "--verify", "-q", f"{ref}^{{commit}}", ok_codes=(0, 1, 128)).decode().strip()
    return out or None


def _with_failures(items: list[tuple[float, str, str, list[tuple[int, str]]]]) -> list[Deploy]:
    """Deploys from (time, source, name, commits): a deploy failed when the next one ships a revert or hotfix."""
    deploys = []
    for i, (when, source, name, commits) in enumerate(items):
        failed = recovery = None
        if i + 1 < len(items):
            nxt_when, _, nxt_name, nxt_commits = items[i + 1]
            if "hotfix" in nxt_name.lower() or any(FAILURE_SUBJECT.search(s) for _, s in nxt_commits):
                failed, recovery = True, max(0.0, nxt_when - when)
        leads = tuple(max(0.0, when - t) for t, _ in commits) if i > 0 else ()
        deploys.append(Deploy(when, source, name, leads, bool(failed), recovery))
    return deploys


def deploys_from_tags(repo: GitRepo) -> list[Deploy]:
    """One deploy per versioned release tag; lead times from the commits since the previous tag."""
    tags = sorted((t for t in repo.tags if VERSION_TAG.search(t.short)), key=lambda t: t.time)[-MAX_TAGS:]
    items: list[tuple[float, str, str, list[tuple[int, str]]]] = []
    prev = None
    for tag in tags:
        # The first tag's commits reach back to the start of history; they are neither a lead time nor a fix.
        commits: list[tuple[int, str]] = _range_commits(repo, prev, tag.commit) if prev else []
        items.append((float(tag.time), "tag", tag.short, commits))
        prev = tag.commit
    return _with_failures(items)


def deploys_from_journal(runs: list[JournalRun], repo: GitRepo | None = None) -> list[Deploy]:
    """Deploys to prod recorded in the journal, failed when a rollback follows, a revert or hotfix ships next,
    or the rollout itself failed; recovery runs to the rollback's end or the next good deploy (a fix forward)."""
    items: list[tuple[float, str, str, list[tuple[int, str]]]] = []
    prev_commit = None
    rollbacks = [r for r in runs if r.is_rollback and r.status == "ok"]
    deploy_runs = [r for r in runs if (r.is_deploy or r.is_failed_deploy) and (r.ended or r.started)]
    for run in deploy_runs:
        commits: list[tuple[int, str]] = []
        commit = _resolve(repo, run.ref) if repo is not None and run.ref else None
        if repo is not None and commit:
            commits = _range_commits(repo, prev_commit, commit) if prev_commit else []
            prev_commit = commit
        items.append((float(run.ended or run.started or 0), "journal", run.runbook, commits))
    deploys = _with_failures(items)
    for i, (d, run) in enumerate(zip(deploys, deploy_runs)):
        nxt = deploys[i + 1].time if i + 1 < len(deploys) else math.inf
        leads = d.lead_times or ((max(0.0, d.time - run.commit_time),) if run.commit_time is not None else ())
        failed, recovery = d.failed, d.recovery
        rb = next((r for r in rollbacks if d.time <= (r.ended or r.started or 0) < nxt), None)
        if rb is not None:
            failed, recovery = True, (rb.ended or rb.started or 0) - d.time
        elif run.status == "failed":
            good = next((e for e, r in zip(deploys[i + 1 :], deploy_runs[i + 1 :]) if r.status == "ok"), None)
            failed, recovery = True, (good.time - d.time if good is not None else None)
        deploys[i] = Deploy(d.time, d.source, d.name, leads, failed, recovery)
    return deploys
