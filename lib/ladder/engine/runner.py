"""Runbook execution: find, check, run with papermill, then write notebook, report, result and journal."""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..core.config import Config, default_runs_dir, load_config
from ..core.errors import ConfigError, ParameterError
from ..core.ops import worst
from . import journal
from .kernel import in_memory, kernel_manager_class, kernel_name
from .parameters import check
from .record import ERROR_MIME, RESULT_MIME, STEP_MIME, matrix
from .redact import HANDOFF_FILE, HANDOFF_VAR, redact_notebook, redact_value, secret_values, take_registered
from .runbooks import RunbookInfo, resolve

# Parameters the runner fills in when a runbook declares them.
INJECTED = ("config", "dry_run", "prod_confirmed", "run_id", "run_dir")
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


def new_run_id() -> str:
    """A sortable, unique run id: UTC time to the millisecond plus a random suffix."""
    t = datetime.now(UTC)
    return t.strftime("%Y%m%dT%H%M%S") + f"{t.microsecond // 1000:03d}Z-{secrets.token_hex(3)}"


def _quietly(fn: Any) -> None:
    """Call fn, ignoring errors: warming up is an optimisation, and rendering reports its own errors."""
    try:
        fn()
    except Exception:
        pass


def _config_reference(rb: RunbookInfo, config: str | Path | None) -> str | Path | None:
    """The config a run uses: --config, else the runbook's default (relative to the runbook)."""
    if config is not None:
        return Path(config).absolute() if str(config) != "sandbox" else "sandbox"
    param = rb.parameters.get("config")
    default = param.default_value if param else None
    if not isinstance(default, str):
        return None
    if default == "sandbox" or Path(default).expanduser().is_absolute():
        return default
    return (rb.path.parent / default).absolute()


@dataclass(frozen=True)
class RunPlan:
    """A checked run, ready to execute: the runbook, its parameters and where its artifacts go."""

    runbook: RunbookInfo
    parameters: dict[str, Any]
    runs_dir: Path
    config: Config | None  # None for a run without a ladder.yml (config="")
    notebook_name: str = NOTEBOOK
    report_name: str = REPORT
    report_header: ReportHeader | None = None  # None: the report's standard header


def prepare(
    runbook: str | Path,
    params: Mapping[str, Any] | None = None,
    *,
    text_params: Mapping[str, str] | None = None,
    config: str | Path | None = None,
    apply: bool = False,
    out_dir: str | Path | None = None,
    root: str | Path | None = None,
    notebook_name: str = NOTEBOOK,
    report_name: str = REPORT,
    report_header: ReportHeader | None = None,
) -> RunPlan:
    """Check everything a run needs (runbook, parameters, config) without executing or writing anything.

    config="" runs without a ladder.yml: the notebook's `config` is set to "" and runs go to
    out_dir, else ./runs. notebook_name and report_name name the executed notebook and the report;
    report_header (see report.render) replaces the report's standard header.
    """
    rb = resolve(runbook, root)
    values = check(rb.path, params or {}, declared_params=rb.parameters, source="parameters")
    values.update(check(rb.path, text_params or {}, strings=True, declared_params=rb.parameters, source="-p"))
    cfg = load_config(_config_reference(rb, config)) if config != "" else None
    injected = {
        "config": (str(cfg.path) if cfg.path else None) if cfg is not None else "",
        "dry_run": values.get("dry_run", not apply),
        "prod_confirmed": apply,
    }
    values.update({k: v for k, v in injected.items() if k in rb.parameters and k not in values})
    if "prod_confirmed" in rb.parameters and values.get("dry_run") is False and not values["prod_confirmed"]:
        # Headless, nobody can click the button the runbook would stop at: refuse before anything runs.
        raise ParameterError(
            f"{rb.name}: dry_run=False changes prod, which a headless run confirms with --apply; "
            "pass --apply to make the changes, or leave dry_run True to see the plan"
        )
    runs_dir = Path(out_dir) if out_dir is not None else (cfg.runs_dir if cfg is not None else default_runs_dir())
    return RunPlan(rb, values, runs_dir.absolute(), cfg, notebook_name, report_name, report_header)


def _outputs(nb: Any, mime: str) -> list[tuple[int, Any]]:
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


def _failure(nb: Any, exc: Exception) -> CellFailure:
    """Where the run failed: the failing cell (numbered as in the runbook file), its step and hosts."""
    from papermill.exceptions import PapermillExecutionError

    index = _failing_cell(nb) if nb is not None else None
    if index is None:
        return CellFailure(None, None, type(exc).__name__, str(exc).strip())
    cell = nb.cells[index]
    hosts: dict[str, str] = {}
    for out in cell.outputs:
        hosts.update(out.get("data", {}).get(ERROR_MIME, {}).get("hosts", {}))
    error = next(o for o in cell.outputs if o.get("output_type") == "error")
    position = 1 + sum(1 for c in nb.cells[:index] if not _is_papermill_cell(c))
    ename = exc.ename if isinstance(exc, PapermillExecutionError) else error.get("ename", type(exc).__name__)
    evalue = exc.evalue if isinstance(exc, PapermillExecutionError) else error.get("evalue", str(exc))
    return CellFailure(position, _step_of(nb, index), ename, evalue, cell.source, hosts)


def summarize(
    nb: Any, plan: RunPlan, run_id: str, started: str, duration: float, failure: CellFailure | None
) -> tuple[dict[str, Any], CellFailure | None]:
    """The run's result.json and its failure: what the runbook recorded, merged with how the run ended."""
    recorded = _outputs(nb, RESULT_MIME) if nb is not None else []
    result = dict(recorded[-1][1]) if recorded else {}
    if result:
        changes, cells, steps = result.get("changes", []), result.get("matrix", {}), result.get("steps", [])
    else:  # no final record (the run failed first): rebuild from the steps recorded so far
        by_step: dict[str, list] = {}
        for _, data in _outputs(nb, STEP_MIME) if nb is not None else []:
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
        "runbook": plan.runbook.name,
        "rung": plan.runbook.rung,
        "title": plan.runbook.title,
        "params": {k: v for k, v in plan.parameters.items() if k not in ("run_id", "run_dir")},
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


def execute(plan: RunPlan, *, timeout: float | None = None) -> RunOutcome:
    """Run a prepared plan with papermill and write its artifacts and journal row."""
    import nbformat
    import papermill

    from . import report

    run_id = new_run_id()
    run_dir = plan.runs_dir / run_id
    run_dir.mkdir(parents=True)
    params = dict(plan.parameters)
    rb = plan.runbook
    if "run_id" in rb.parameters:
        params["run_id"] = run_id
    if "run_dir" in rb.parameters:
        params["run_dir"] = str(run_dir)
    jpath = journal.journal_path(plan.runs_dir)
    started = journal.now()
    journal.start(jpath, run_id=run_id, runbook=rb.name, rung=rb.rung, params=plan.parameters, started=started)

    # Load the report renderer on another thread while the kernel (another process) runs the cells.
    warming = threading.Thread(target=_quietly, args=(report.warm_up,), daemon=True, name="ladder-report-warm-up")
    warming.start()
    handoff = run_dir / HANDOFF_FILE  # where the kernel's redact.register() hands values to this process
    to_redact = secret_values()
    clock = time.monotonic()
    failure: CellFailure | None = None
    nb = None
    try:
        with in_memory(run_id) as memory:
            url = f"{memory.scheme}{plan.notebook_name}"
            try:
                nb = papermill.execute_notebook(
                    str(rb.path),
                    url,
                    parameters=params,
                    kernel_name=kernel_name(),
                    progress_bar=False,
                    cwd=str(rb.path.parent),
                    kernel_manager_class=kernel_manager_class({HANDOFF_VAR: str(handoff)}),
                    execution_timeout=timeout,
                    # The kernel is thrown away after the run: kill it rather than wait for a clean exit.
                    shutdown_kernel="immediate",
                )
            except Exception as exc:  # a failed cell, a dead kernel or a timeout: all end as a failed run
                nb = memory.take(url)  # as papermill last wrote it, with its error markers
                failure = _failure(nb, exc)
        to_redact |= take_registered(handoff)
        warming.join()
        summary, failure = summarize(nb, plan, run_id, started, time.monotonic() - clock, failure)
        summary = redact_value(summary, to_redact)
        if failure is not None:  # it is printed and journaled: keep secrets out of it too
            failure = CellFailure(**redact_value(asdict(failure), to_redact))
        clean = redact_notebook(nb, to_redact) if nb is not None else None
        if clean is not None:
            nbformat.write(clean, run_dir / plan.notebook_name)
            report.write(clean, summary, run_dir / plan.report_name, plan.report_header, to_redact)
        (run_dir / RESULT).write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")
    except BaseException as exc:
        # Interrupted, or artifacts could not be written: the journal still says how it ended.
        to_redact |= take_registered(handoff)
        error = redact_value(f"{type(exc).__name__}: {exc}".rstrip(": "), to_redact)
        journal.finish(jpath, run_id, status="failed", error=error, params=redact_value(plan.parameters, to_redact))
        raise
    journal.finish(
        jpath,
        run_id,
        status=summary["status"],
        changes=summary["changes"],
        hosts=summary["hosts"],
        error=failure.describe() if failure else None,
        ended=summary["ended"],
        params=summary["params"],
    )
    return RunOutcome(
        run_id,
        rb,
        summary["status"],
        run_dir,
        run_dir / plan.notebook_name,
        run_dir / plan.report_name,
        run_dir / RESULT,
        summary,
        failure,
    )


def run(
    runbook: str | Path,
    params: Mapping[str, Any] | None = None,
    *,
    text_params: Mapping[str, str] | None = None,
    config: str | Path | None = None,
    apply: bool = False,
    out_dir: str | Path | None = None,
    root: str | Path | None = None,
    timeout: float | None = None,
) -> RunOutcome:
    """Check then run a runbook headless; bad input raises before anything executes or is written.

    params are typed values (Python or params.yml); text_params are `-p NAME VALUE`
    strings, coerced to each declared type. A failing run returns an outcome with
    status 'failed' and the failing cell in outcome.error.
    """
    plan = prepare(runbook, params, text_params=text_params, config=config, apply=apply, out_dir=out_dir, root=root)
    return execute(plan, timeout=timeout)


def runs_dir_for(config: str | Path | None = None) -> Path:
    """The runs folder of a config: the one given, else the one every command finds (see config.resolve_path)."""
    try:
        return Path(load_config(config).runs_dir)
    except ConfigError:
        if config is not None:
            raise
        return default_runs_dir()
