"""The runs home's index page: every run and assessment newest first, the level over time, the latest DORA figures."""

from __future__ import annotations

import html
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..app.git import GitRepo, open_repo
from ..core.config import Config, default_runs_dir, load_config
from ..core.errors import ConfigError, LadderError, PathOutside
from ..core.paths import inside
from ..core.private import write_private
from ..engine import journal
from ..engine.outcome import REPORT as RUN_REPORT
from ..engine.redact import redact_text
from ..engine.report import STATUS_COLOURS, duration_text
from .charts import level_chart
from .dora import dora_metrics
from .inputs import REPORT as ASSESSMENT_REPORT
from .model import load_model
from .result import SCHEMA
from .score import levels
from .steps import same_repository
from .views import BAND_COLOURS, DORA_SOURCES, Chart, score_text, where_to

INDEX = "index.html"
# Inline styles and the chart's inline SVG only: no script, no request for anything, no form, no frame.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
ERROR_LINES, ERROR_CHARS = 2, 300  # of a failed run's error: where and what; the report has the rest

STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 75em; padding: 0 1em; color: #222; }
h1 { margin-bottom: 0.2em; }
.meta { color: #555; margin-top: 0; overflow-wrap: anywhere; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ddd; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
td { overflow-wrap: break-word; }
td.num { text-align: right; }
table.runs { font-size: 0.92em; }
td.num, td.when, td.kind, td.state, td.level { white-space: nowrap; }
td.runbook, td.details, details td { overflow-wrap: anywhere; }
details th { overflow-wrap: normal; }
td.runbook, td.details { min-width: 8em; }
.status { display: inline-block; padding: 0.05em 0.5em; border-radius: 4px; font-weight: bold; }
.missing { color: #777; font-style: italic; }
.standing p { margin: 0.2em 0; }
.standing .level { font-size: 1.4em; font-weight: bold; }
details summary { cursor: pointer; color: #555; }
details table { margin: 0.3em 0; font-size: 0.9em; }
.error { white-space: pre-wrap; color: #8a1f1f; }
svg { max-width: 100%; height: auto; }
caption { caption-side: bottom; text-align: left; color: #555; padding-top: 0.3em; }
"""


@dataclass(frozen=True)
class Entry:
    """One line of the index: a run, or an assessment folded into the run that made it."""

    id: str
    kind: str  # "runbook" or "assessment"
    runbook: str
    rung: str
    status: str
    started: str
    ended: str | None
    changes: int | None
    hosts: Mapping[str, Any] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None
    assessment: Mapping[str, Any] | None = None  # the assessment.json document
    report: Path | None = None  # the run's HTML report, when it exists

    @property
    def seconds(self) -> float | None:
        """How long the run took; None while it runs or when its times cannot be read."""
        start, end = _time(self.started), _time(self.ended)
        return None if start is None or end is None else end - start


@dataclass(frozen=True)
class Index:
    """What the index shows, read from a runs home: its entries and the latest DORA figures."""

    runs_dir: Path
    entries: list[Entry]
    dora: Mapping[str, Any] | None  # DoraReport.to_dict() form
    dora_from: str  # where the DORA figures come from, in words
    written: str


def _time(stamp: str | None) -> float | None:
    try:
        return datetime.fromisoformat(str(stamp)).timestamp() if stamp else None
    except ValueError:
        return None


def _document(row: Mapping[str, Any]) -> Mapping[str, Any] | None:
    summary = row.get("summary")
    return summary if isinstance(summary, Mapping) and summary.get("schema") == SCHEMA else None


def find_report(runs_dir: Path, run_id: str) -> Path | None:
    """The HTML report in a run's folder (a runbook's report.html or an assessment's), if it is there."""
    if not run_id or Path(run_id).name != run_id:
        return None  # not a folder name (a journal row holds anything): no report, no path out of the runs home
    for name in (RUN_REPORT, ASSESSMENT_REPORT):
        try:
            path = inside(runs_dir, run_id, name, what="run id")
        except PathOutside:
            return None
        if path.is_file():
            return path
    return None


def entries(rows: Sequence[Mapping[str, Any]], runs_dir: Path) -> list[Entry]:
    """Journal rows as index entries, newest first; an assessment's own row folds into the run that made it."""
    out = []
    for r, own in reversed(journal.runs(rows)):  # the journal lists oldest first
        alone = r["kind"] == journal.ASSESSMENT
        out.append(
            Entry(
                id=str(r["id"]),
                kind=journal.ASSESSMENT if own is not None else str(r["kind"]),
                runbook=str(r["runbook"] or ""),
                rung=str(r["rung"] or ""),
                status=str(r["status"]),
                started=str(r["started"]),
                ended=None if alone else r["ended"],  # one kept alone is a moment, not a run
                changes=r["changes"],
                hosts=r["hosts"] or {},
                params=r["params"] or {},
                error=r["error"],
                assessment=_document(own) if own is not None else None,
                report=find_report(runs_dir, str(r["id"])),
            )
        )
    return out


def assessments(found: Sequence[Entry]) -> list[Mapping[str, Any]]:
    """The assessment documents among entries, oldest first."""
    return sorted((e.assessment for e in found if e.assessment is not None), key=lambda d: d["generated"])


def by_repository(docs: Sequence[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    """Assessments grouped by the repository they looked at (see steps.same_repository), labelled by its folder."""
    groups: list[list[Mapping[str, Any]]] = []
    for doc in docs:
        group = next((g for g in groups if same_repository(g[0].get("repo"), doc.get("repo"))), None)
        if group is None:
            groups.append([doc])
        else:
            group.append(doc)
    out: dict[str, list[Mapping[str, Any]]] = {}
    for group in groups:
        repo = group[0].get("repo") or {}
        label = str(repo.get("path") or "repository")
        if label in out:  # another repository in a folder of the same name
            label += f" ({str(repo.get('root') or '')[:8] or len(out) + 1})"
        out[label] = group
    return out


def _repo(config: Config | None) -> GitRepo | None:
    """The config's app repository, when it is a clone on this machine."""
    path = config.app.repo if config is not None else ""
    if not path or "://" in path or not Path(path).is_absolute():
        return None
    try:
        return open_repo(path)
    except LadderError:
        return None


def latest_dora(
    journal_file: Path, config: Config | None, docs: Sequence[Mapping[str, Any]], now: float
) -> tuple[Mapping[str, Any] | None, str]:
    """DORA figures as the assessment computes them, now; else the newest assessment's; and where they come from."""
    report = dora_metrics(_repo(config), journal_file, now=now)
    if report.source != "none":
        what = DORA_SOURCES.get(report.source, report.source)
        return report.to_dict(), f"Measured now from {what}, over the last {report.window_days} days."
    if docs and docs[-1].get("dora"):
        return docs[-1]["dora"], f"As measured by the assessment of {_when(docs[-1]['generated'])}."
    return None, (
        "No DORA figures yet: the journal records no deploy and no repository was given "
        "(pass --config with the app's repository, or run `ladder assess`)."
    )


def read(runs_dir: str | Path, config: Config | None = None, *, now: float | None = None) -> Index:
    """Everything the index shows, from a runs home's journal and run folders."""
    runs_dir = Path(runs_dir).absolute()
    now = time.time() if now is None else now
    path = journal.journal_path(runs_dir)
    found = entries(journal.history(path), runs_dir)
    dora, dora_from = latest_dora(path, config, assessments(found), now)
    return Index(runs_dir, found, dora, dora_from, datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds"))


# ---- the page --------------------------------------------------------------------------------------


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _when(stamp: str | None, fmt: str = "%Y-%m-%d %H:%M UTC") -> str:
    moment = _time(stamp)
    return "" if moment is None else datetime.fromtimestamp(moment, UTC).strftime(fmt)


def _link(target: Path, page_dir: Path) -> str:
    """A relative URL from the page's folder to a file."""
    return quote(Path(os.path.relpath(target, page_dir)).as_posix())


def _mode(params: Mapping[str, Any]) -> str:
    dry = params.get("dry_run")
    return "dry run" if dry is True else "apply" if dry is False else ""


def _details(entry: Entry) -> str:
    parts = []
    if entry.hosts:
        parts.append(", ".join(f"{_e(h)}: {_e(o)}" for h, o in entry.hosts.items()))
    if entry.error:
        text = "\n".join(entry.error.splitlines()[:ERROR_LINES])
        text = text if len(text) <= ERROR_CHARS else text[: ERROR_CHARS - 3] + "..."
        parts.append(f"<div class='error'>{_e(text)}</div>")
    if entry.params:
        rows = "".join(f"<tr><th>{_e(k)}</th><td><code>{_e(v)}</code></td></tr>" for k, v in entry.params.items())
        parts.append(f"<details><summary>parameters</summary><table>{rows}</table></details>")
    return "".join(f"<div>{p}</div>" for p in parts)


def _row(entry: Entry, page_dir: Path) -> str:
    doc = entry.assessment or {}
    colour = STATUS_COLOURS.get(entry.status, "#eee")
    how = ", ".join(x for x in (f"rung {entry.rung}" if entry.rung else "", _mode(entry.params)) if x)
    what = _e(entry.runbook) + (f"<br><span class='missing'>{_e(how)}</span>" if how else "")
    level = f"{_e(doc['level'])}<br>{_e(score_text(doc['overall']['score']))} / 10" if doc else ""
    if entry.report is not None:
        report = f"<a href='{_e(_link(entry.report, page_dir))}'>report</a>"
    else:
        report = "<span class='missing'>no report" + (" yet" if entry.status == "running" else "") + "</span>"
    seconds = entry.seconds
    day, hour = _when(entry.started, "%Y-%m-%d") or entry.started, _when(entry.started, "%H:%M")
    cells = [
        f"<td class='when'>{_e(day)}<br>{_e(hour)}</td>",
        f"<td class='kind'>{_e(entry.kind)}</td>",
        f"<td class='runbook'>{what}</td>",
        f"<td class='state'><span class='status' style='background:{colour}'>{_e(entry.status)}</span></td>",
        f"<td class='level'>{level}</td>",
        f"<td class='num'>{'' if entry.changes is None else _e(entry.changes)}</td>",
        f"<td class='num'>{'' if seconds is None else _e(duration_text(seconds))}</td>",
        f"<td class='report'>{report}</td>",
        f"<td class='details'>{_details(entry)}</td>",
    ]
    return f"<tr id='run-{_e(entry.id)}'>" + "".join(cells) + "</tr>"


RUN_COLUMNS = ("date (UTC)", "kind", "runbook", "status", "level, score", "changes", "duration", "report", "details")


def runs_table(index: Index, page_dir: Path) -> str:
    """Every run and assessment, newest first, each linked to its report."""
    if not index.entries:
        return "<p class='missing'>No runs yet: `ladder run` and `ladder assess` record theirs here.</p>"
    head = "".join(f"<th>{c}</th>" for c in RUN_COLUMNS)
    body = "".join(_row(e, page_dir) for e in index.entries)
    return f"<table class='runs'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def standing(index: Index) -> str:
    """Each repository's latest level, score and next step, and the level at every assessment as a chart."""
    groups = by_repository(assessments(index.entries))
    if not groups:
        return "<p class='missing'>No assessment yet: run `ladder assess` to see where the team stands.</p>"
    parts = []
    for label, docs in groups.items():
        d = docs[-1]
        step = d["next_steps"][0] if d.get("next_steps") else None
        nxt = f"rung {step['rung']}, {step['title']} ({where_to(step)})" if step else "none"
        parts.append(
            "<div class='standing'>"
            f"<p class='level'>{_e(label)}: level {_e(d['level'])} ({_e(d.get('level_title', ''))})</p>"
            f"<p>Overall score {_e(score_text(d['overall']['score']))} / 10, assessed {_e(_when(d['generated']))}"
            f" ({len(docs)} assessment{'s' if len(docs) != 1 else ''}). Next step: {_e(nxt)}.</p></div>"
        )
    svg = Chart(level_chart(groups, levels(load_model()))).svg()
    parts.append(f"<figure class='chart'>{svg[svg.index('<svg') :]}</figure>")
    return "\n".join(parts)


def dora_section(index: Index) -> str:
    """The latest DORA figures, banded, with where they come from."""
    if index.dora is None:
        return f"<p class='missing'>{_e(index.dora_from)}</p>"
    rows = []
    for m in index.dora.get("metrics") or []:
        band = m.get("band") or "inconclusive"
        rows.append(
            f"<tr><td>{_e(m.get('name', ''))}</td><td>{_e(m.get('display', ''))}</td>"
            f"<td style='background:{BAND_COLOURS.get(band, '#dddddd')}'>{_e(band)}</td>"
            f"<td class='num'>{'n/a' if m.get('score') is None else _e(score_text(m['score']))}</td>"
            f"<td>{_e(m.get('note', ''))}</td></tr>"
        )
    head = "".join(f"<th>{c}</th>" for c in ("metric", "value", "band", "score (0&#8209;10)", "note"))
    return f"<table><caption>{_e(index.dora_from)}</caption><tr>{head}</tr>{''.join(rows)}</table>"


def render(index: Index, page_dir: Path) -> str:
    """The standalone page; links are relative to page_dir, where it will be written."""
    runs = sum(1 for e in index.entries if e.kind != journal.ASSESSMENT)
    assessments = len(index.entries) - runs
    return "\n".join(
        [
            "<!DOCTYPE html>",
            "<html lang='en'><head><meta charset='utf-8'>",
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
            "<meta name='viewport' content='width=device-width, initial-scale=1'>",
            "<meta name='referrer' content='no-referrer'>",
            f"<title>Ladder: runs and assessments</title><style>{STYLE}</style></head><body>",
            "<h1>Ladder: runs and assessments</h1>",
            f"<p class='meta'>Runs home <code>{_e(index.runs_dir)}</code>: {runs} run{'s' if runs != 1 else ''} and "
            f"{assessments} assessment{'s' if assessments != 1 else ''}. Written {_e(_when(index.written))}.</p>",
            "<h2>Where the team stands</h2>",
            standing(index),
            "<h2>Delivery performance (DORA)</h2>",
            dora_section(index),
            "<h2>Runs, newest first</h2>",
            runs_table(index, page_dir),
            "</body></html>",
        ]
    )


def write_index(config: str | Path | None = None, out: str | Path | None = None, *, now: float | None = None) -> Path:
    """Write index.html over a config's runs home (to out when given); return its path.

    config is found as every command finds it; without one, the runs home is $LADDER_HOME/runs.
    """
    try:
        cfg: Config | None = load_config(config)
    except ConfigError:
        if config is not None:
            raise
        cfg = None
    runs_dir = cfg.runs_dir if cfg is not None else default_runs_dir()
    page = Path(out) if out is not None else runs_dir / INDEX
    if page.is_dir():
        page = page / INDEX
    page = page.absolute()
    index = read(runs_dir, cfg, now=now)
    write_private(page, redact_text(render(index, page.parent)))
    return page
