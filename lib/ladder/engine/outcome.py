"""What a run leaves behind, however it was started: its summary, failure, notebook, report, result and journal row."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..core.ops import worst
from ..core.private import write_private
from . import journal
from .record import ERROR_MIME, RESULT_MIME, STEP_MIME, matrix
from .redact import redact_notebook, redact_value
from .runbooks import RunbookInfo

NOTEBOOK = "runbook.ipynb"
REPORT = "report.html"
RESULT = "result.json"
# summary -> inner HTML of a report's header, or None for the standard one (see report.render).
ReportHeader = Callable[[Mapping[str, Any]], str | None]


@dataclass(frozen=True)
class CellFailure:
    """Where and how a run failed: the cell (1-based, as in the runbook file), its step, error and hosts."""

    cell: int | None
    step: str | None
    ename: str
    evalue: str
    source: str = ""
    hosts: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        """One readable block: step, error and host outcomes."""
        where = f"step {self.step!r}" if self.step else "the run"
        if self.cell is not None:
            where += f" (cell {self.cell})"
        lines = [f"failed in {where}", f"  {self.ename}: {self.evalue}".replace("\n", "\n  ")]
        if self.hosts:
            lines.append("  hosts: " + ", ".join(f"{h} {o}" for h, o in self.hosts.items()))
        if self.source:
            code = "\n".join(f"    | {line}" for line in self.source.strip().splitlines()[-6:])
            lines.append("  code:\n" + code)
        return "\n".join(lines)


@dataclass(frozen=True)
class RunOutcome:
    """What a run left behind: status, paths of its artifacts and its summary."""

    run_id: str
    runbook: RunbookInfo
    status: str
    run_dir: Path
    notebook: Path
    report: Path
    result: Path
    summary: dict = field(repr=False)
    error: CellFailure | None = None

    @property
    def ok(self) -> bool:
        """True when the run succeeded."""
        return self.status == "ok"


def outputs(nb: Any, mime: str) -> list[tuple[int, Any]]:
    """(cell index, data) of every output of this MIME type, in order."""
    found = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if mime in out.get("data", {}):
                found.append((i, out["data"][mime]))
    return found


PAPERMILL_TAGS = {"papermill-error-cell-tag", "injected-parameters"}


def _is_papermill_cell(cell: Any) -> bool:
    return bool(PAPERMILL_TAGS & set(cell.get("metadata", {}).get("tags", [])))


def _step_of(nb: Any, index: int) -> str:
    """The step a cell belongs to: the first line of the nearest markdown cell above it."""
    for cell in reversed(nb.cells[:index]):
        if cell.cell_type == "markdown" and not _is_papermill_cell(cell):
            for line in cell.source.splitlines():
                if line.strip():
                    return line.lstrip("#").strip()
    return "start"


def _failing_cell(nb: Any) -> int | None:
    for i, cell in enumerate(nb.cells):
        if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            return i
    return None


def failure_of(nb: Any, exc: BaseException) -> CellFailure:
    """Where the run failed: the failing cell (numbered as in the runbook file), its step and hosts."""
    index = _failing_cell(nb) if nb is not None else None
    if index is None:
        return CellFailure(None, None, type(exc).__name__, str(exc).strip())
    cell = nb.cells[index]
    hosts: dict[str, str] = {}
    for out in cell.outputs:
        hosts.update(out.get("data", {}).get(ERROR_MIME, {}).get("hosts", {}))
    error = next(o for o in cell.outputs if o.get("output_type") == "error")
    position = 1 + sum(1 for c in nb.cells[:index] if not _is_papermill_cell(c))
    # papermill's PapermillExecutionError carries the cell's ename and evalue; other errors are read from the cell.
    ename = getattr(exc, "ename", None) or error.get("ename", type(exc).__name__)
    evalue = getattr(exc, "evalue", None) or error.get("evalue", str(exc))
    return CellFailure(position, _step_of(nb, index), ename, evalue, cell.source, hosts)


def summarize(
    nb: Any,
    runbook: RunbookInfo,
    parameters: Mapping[str, Any],
    run_id: str,
    started: str,
    duration: float,
    failure: CellFailure | None,
) -> tuple[dict[str, Any], CellFailure | None]:
    """The run's result.json and its failure: what the runbook recorded, merged with how the run ended."""
    recorded = outputs(nb, RESULT_MIME) if nb is not None else []
    result = dict(recorded[-1][1]) if recorded else {}
    if result:
        changes, cells, steps = result.get("changes", []), result.get("matrix", {}), result.get("steps", [])
    else:  # no final record (the run failed first): rebuild from the steps recorded so far
        by_step: dict[str, list] = {}
        for _, data in outputs(nb, STEP_MIME) if nb is not None else []:
            by_step[data["step"]] = data["changes"]
        changes = [c for rows in by_step.values() for c in rows]
        cells, steps = matrix(changes), list(by_step)
    cells = {h: dict(s) for h, s in cells.items()}
    if failure is not None and failure.hosts:
        step = failure.step or "run"
        steps = steps + [step] if step not in steps else steps
        for host, outcome in failure.hosts.items():
            cells.setdefault(host, {})[step] = outcome
    if failure is None and not recorded:
        failure = CellFailure(
            None,
            None,
            "RunbookError",
            "the runbook ended without ladder.record(...); its last cell must record the result",
        )
    status = "failed" if failure is not None or result.get("status") == "failed" else "ok"
    return {
        "run_id": run_id,
        "runbook": runbook.name,
        "rung": runbook.rung,
        "title": runbook.title,
        "params": {k: v for k, v in parameters.items() if k not in ("run_id", "run_dir")},
        "status": status,
        "recorded_status": result.get("status"),
        "started": started,
        "ended": journal.now(),
        "duration_s": round(duration, 3),
        "changes": sum(1 for c in changes if c.get("outcome") in ("changed", "planned")),
        "hosts": {h: worst(s.values()) for h, s in cells.items()},
        "steps": steps,
        "matrix": cells,
        "figures": result.get("figures", {}),
        "notices": list(result.get("notices", [])),
        "result": result,
        "error": asdict(failure) if failure is not None else None,
    }, failure


def write(
    nb: Any,
    summary: dict[str, Any],
    failure: CellFailure | None,
    *,
    runbook: RunbookInfo,
    run_dir: Path,
    journal_file: Path,
    secrets: Iterable[str],
    notebook_name: str = NOTEBOOK,
    report_name: str = REPORT,
    report_header: ReportHeader | None = None,
) -> RunOutcome:
    """Write the run's notebook, report and result.json with secrets removed, then close its journal row."""
    import nbformat

    from . import report

    secrets = set(secrets)
    summary = redact_value(summary, secrets)
    if failure is not None:  # it is printed and journaled: keep secrets out of it too
        failure = CellFailure(**redact_value(asdict(failure), secrets))
    clean = redact_notebook(nb, secrets) if nb is not None else None
    if clean is not None:
        write_private(run_dir / notebook_name, nbformat.writes(clean) + "\n")  # as nbformat.write ends it
        report.write(clean, summary, run_dir / report_name, report_header, secrets)
    write_private(run_dir / RESULT, json.dumps(summary, indent=2, default=str) + "\n")
    journal.finish(
        journal_file,
        summary["run_id"],
        status=summary["status"],
        changes=summary["changes"],
        hosts=summary["hosts"],
        error=failure.describe() if failure else None,
        ended=summary["ended"],
        params=summary["params"],
    )
    return RunOutcome(
        summary["run_id"],
        runbook,
        summary["status"],
        run_dir,
        run_dir / notebook_name,
        run_dir / report_name,
        run_dir / RESULT,
        summary,
        failure,
    )
