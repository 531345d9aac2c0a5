"""Runbook execution: find, check, run with papermill, then leave what every run leaves (see outcome)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.config import Config, default_runs_dir, load_config
from ..core.errors import ConfigError, ParameterError
from ..core.paths import inside
from ..core.private import private_dir
from . import journal, kernel, requirements, runlock
from .kernel import in_memory
from .outcome import NOTEBOOK, REPORT, CellFailure, ReportHeader, RunOutcome, failure_of, summarize, write
from .parameters import check
from .redact import HANDOFF_FILE, HANDOFF_VAR, redact_value, secret_values, take_registered
from .runbooks import RunbookInfo, resolve

# Parameters the runner fills in when a runbook declares them.
INJECTED = ("config", "dry_run", "prod_confirmed", "run_id", "run_dir")


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
    """Check everything a run needs (runbook, parameters, config, its requirements) without executing or writing.

    config="" runs without a ladder.yml: the notebook's `config` is set to "" and runs go to
    out_dir, else ./runs. notebook_name and report_name name the executed notebook and the report;
    report_header (see report.render) replaces the report's standard header.
    """
    rb = resolve(runbook, root)
    values = check(rb.path, params or {}, declared_params=rb.parameters, source="parameters")
    values.update(check(rb.path, text_params or {}, strings=True, declared_params=rb.parameters, source="-p"))
    defaults = {name: p.default_value for name, p in rb.parameters.items()}
    requirements.check_parameters(rb.requires, {**defaults, **values})
    cfg = load_config(_config_reference(rb, config)) if config != "" else None
    requirements.check_config(rb.requires, rb.name, cfg)
    requirements.check_branches(rb.requires, {**defaults, **values}, cfg)
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


def runs_home(plan: RunPlan) -> Path:
    """The plan's runs home, made when missing; a folder that cannot be one is bad input (nothing else is written)."""
    try:
        private_dir(plan.runs_dir)
    except OSError as exc:
        path = plan.config.path if plan.config is not None else None
        raise ConfigError(
            f"{plan.runs_dir} cannot be the runs home ({exc.strerror}); name a folder you can write to "
            "(runs: in ladder.yml, $LADDER_RUNS or --out)",
            path=path,
            key="runs",
        ) from None
    return plan.runs_dir


def execute(plan: RunPlan, *, timeout: float | None = None, trigger: str | None = None) -> RunOutcome:
    """Run a prepared plan with papermill and write its artifacts and journal row (trigger: what started it)."""
    run_id = journal.new_run_id()
    run_dir = inside(runs_home(plan), run_id, what="run id")
    private_dir(run_dir, exist_ok=False)
    rb = plan.runbook
    jpath = journal.journal_path(plan.runs_dir)
    journal.reap(jpath)  # runs killed since the last one end as abandoned, not running forever
    started = journal.now()
    journal.start(
        jpath, run_id=run_id, runbook=rb.name, rung=rb.rung, params=plan.parameters, started=started, trigger=trigger
    )
    handoff = run_dir / HANDOFF_FILE  # where the kernel's redact.register() hands values to this process
    km = None
    try:
        # The kernel boots (about a second) while papermill and the report renderer load in this process.
        km = kernel.start({HANDOFF_VAR: str(handoff)}, str(rb.path.parent))
        return _execute(plan, km, run_id, run_dir, jpath, started, handoff, timeout, trigger)
    except BaseException as exc:
        # Interrupted, or artifacts could not be written: the journal still says how it ended.
        to_redact = secret_values() | take_registered(handoff)
        error = redact_value(f"{type(exc).__name__}: {exc}".rstrip(": "), to_redact)
        journal.finish(jpath, run_id, status="failed", error=error, params=redact_value(plan.parameters, to_redact))
        raise
    finally:
        if km is not None:
            kernel.stop(km)


def _execute(
    plan: RunPlan,
    km: Any,
    run_id: str,
    run_dir: Path,
    jpath: Path,
    started: str,
    handoff: Path,
    timeout: float | None,
    trigger: str | None,
) -> RunOutcome:
    """Run the notebook in the started kernel, then write what the run leaves."""
    import papermill

    from . import report

    rb = plan.runbook
    params = dict(plan.parameters)
    if "run_id" in rb.parameters:
        params["run_id"] = run_id
    if "run_dir" in rb.parameters:
        params["run_dir"] = str(run_dir)
    # Load the report renderer on another thread while the kernel (another process) runs the cells.
    warming = threading.Thread(target=_quietly, args=(report.warm_up,), daemon=True, name="ladder-report-warm-up")
    warming.start()
    clock = time.monotonic()
    failure: CellFailure | None = None
    nb = None
    with in_memory(run_id) as memory:
        url = f"{memory.scheme}{plan.notebook_name}"
        try:
            nb = papermill.execute_notebook(
                str(rb.path),
                url,
                parameters=params,
                kernel_name=km.kernel_name,
                km=km,
                progress_bar=False,
                execution_timeout=timeout,
                # The notebook is only in memory until the run ends: saving it after every cell (papermill's
                # default, for a run that dies) serialized and validated it ~50 times for nothing.
                request_save_on_cell_execute=False,
            )
        except Exception as exc:  # a failed cell, a dead kernel or a timeout: all end as a failed run
            nb = memory.take(url)  # as papermill last wrote it, with its error markers
            failure = failure_of(nb, exc)
    to_redact = secret_values() | take_registered(handoff)
    warming.join()
    summary, failure = summarize(nb, rb, plan.parameters, run_id, started, time.monotonic() - clock, failure)
    summary["trigger"] = trigger
    return write(
        nb,
        summary,
        failure,
        runbook=rb,
        run_dir=run_dir,
        journal_file=jpath,
        secrets=to_redact,
        notebook_name=plan.notebook_name,
        report_name=plan.report_name,
        report_header=plan.report_header,
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
    scheduled: bool = False,
    wait: bool = False,
) -> RunOutcome:
    """Check then run a runbook headless; bad input raises before anything executes or is written.

    params are typed values (Python or params.yml); text_params are `-p NAME VALUE`
    strings, coerced to each declared type. A failing run returns an outcome with
    status 'failed' and the failing cell in outcome.error. A scheduled run is journaled
    as such, and raises RunLocked (no run folder, no journal row) while the previous one of its runbook runs.
    An apply (dry_run False) holds the lock of every environment of its config, here and on their hosts
    (see runlock.environments): another apply waits for it (wait) or raises EnvironmentLocked. Dry runs never lock.
    Environments the runbook declares as delegates (metadata.ladder.requires.delegates) are left to the actor it
    drives, which locks them itself.
    """
    plan = prepare(runbook, params, text_params=text_params, config=config, apply=apply, out_dir=out_dir, root=root)
    with contextlib.ExitStack() as locks:
        if scheduled:
            locks.enter_context(runlock.held(runs_home(plan), plan.runbook.name))
        if plan.config is not None and plan.parameters.get("dry_run") is False:
            held = set(plan.config.environments) - set(plan.runbook.requires.delegates)
            locks.enter_context(runlock.environments(plan.config, runs_home(plan), held, wait=wait))
        return execute(plan, timeout=timeout, trigger=journal.SCHEDULE if scheduled else None)


def runs_dir_for(config: str | Path | None = None) -> Path:
    """The runs folder of a config: the one given, else the one every command finds (see config.resolve_path)."""
    try:
        return Path(load_config(config).runs_dir)
    except ConfigError:
        if config is not None:
            raise
        return default_runs_dir()
