"""A run recorded from inside its kernel: started in JupyterLab, by plain papermill or a scheduler, it leaves
what `ladder run` leaves (run folder, executed notebook, report, result.json, journal row).

A notebook's setup step declares the notebook (declare()). In a kernel the runner did not start, that
attaches a Transcript to ipykernel's output hooks. The run ends with the cell whose ladder.record()
result was emitted, or with a cell that fails (a wait for confirmation in JupyterLab is not a failure).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..core.errors import ConfirmationRequired
from ..core.paths import inside
from ..core.private import private_dir
from . import journal, state
from .outcome import NOTEBOOK, REPORT, ReportHeader, RunOutcome, failure_of, summarize, write
from .record import RESULT_MIME, install_error_hook
from .redact import secret_values
from .runbooks import info
from .transcript import Transcript

# Set by Jupyter Server (ipykernel copies it to __session__) and by VS Code: a person is at the notebook.
FRONTEND_NAMES = ("__session__", "__vsc_ipynb_file__")


@dataclass(frozen=True)
class Notebook:
    """The notebook a run executes and where its record goes."""

    path: Path
    runs_dir: Path
    notebook_name: str = NOTEBOOK
    report_name: str = REPORT
    report_header: ReportHeader | None = None


def _folder_of(run: state.Run, runs_dir: Path) -> Path:
    """Give the run its id and make its folder."""
    run.run_id = journal.new_run_id()
    run.folder = inside(runs_dir.absolute(), run.run_id, what="run id")
    private_dir(run.folder, exist_ok=False)
    return run.folder


def folder(runs_dir: str | Path) -> Path:
    """This run's folder under runs_dir, made on first use; its name is the run's id in the journal."""
    run = state.current()
    return run.folder or _folder_of(run, Path(runs_dir))


def interactive(shell: Any) -> bool:
    """True when a person runs the notebook in a frontend (JupyterLab, Notebook, VS Code), not a headless executor."""
    return bool(os.environ.get("JPY_SESSION_NAME")) or any(n in shell.user_ns for n in FRONTEND_NAMES)


def _shell() -> Any:
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    # Only ipykernel's shell has the output hooks (and only a kernel has a notebook to record).
    return shell if shell is not None and hasattr(shell, "display_pub") and hasattr(shell, "kernel") else None


class Session:
    """One run being recorded from its kernel: the transcript, the notebook it runs, how it ends."""

    def __init__(self, shell: Any, run: state.Run, notebook: Notebook) -> None:
        self.shell, self.run, self.notebook = shell, run, notebook
        self.transcript = Transcript()
        self.outcome: RunOutcome | None = None
        self._cell: Any = None

    # --- hooks --------------------------------------------------------------------------------------
    def attach(self, since: int) -> None:
        """Hook into the shell; cells run since execution `since` are kept by source (they ran before)."""
        shell = self.shell
        history = shell.user_ns.get("In", [])
        now = shell.execution_count
        for source in history[since:now]:
            self.transcript.add_source(source)
        running = getattr(shell.displayhook, "exec_result", None)  # the cell running now, which declared
        if running is not None:
            self._begin(running.info)
        shell.events.register("pre_run_cell", self._begin)
        shell.events.register("post_run_cell", self._end)
        for publisher in (shell.display_pub, shell.displayhook):  # displayhook has hooks since ipykernel 7
            if hasattr(publisher, "register_hook"):
                publisher.register_hook(self.transcript.on_message)
        for stream in (sys.stdout, sys.stderr):
            # Streams are flushed on ipykernel's IOPub thread, and their hooks are per thread.
            if hasattr(stream, "register_hook") and hasattr(stream, "pub_thread"):
                stream.pub_thread.schedule(lambda s=stream: s.register_hook(self.transcript.on_message))

    def detach(self) -> None:
        """Unhook from the shell."""
        shell = self.shell
        for event, fn in (("pre_run_cell", self._begin), ("post_run_cell", self._end)):
            if fn in shell.events.callbacks[event]:
                shell.events.unregister(event, fn)
        for publisher in (shell.display_pub, shell.displayhook):
            if hasattr(publisher, "unregister_hook"):
                publisher.unregister_hook(self.transcript.on_message)
        for stream in (sys.stdout, sys.stderr):
            if hasattr(stream, "unregister_hook") and hasattr(stream, "pub_thread"):
                stream.pub_thread.schedule(lambda s=stream: s.unregister_hook(self.transcript.on_message))

    def _begin(self, info: Any) -> None:
        parent = (getattr(self.shell, "parent_header", None) or {}).get("header", {}).get("msg_id")
        count = self.shell.execution_count if getattr(info, "store_history", True) else None
        self._cell = self.transcript.start_cell(info.raw_cell, getattr(info, "cell_id", None), count, parent)

    def _end(self, result: Any) -> None:
        error = result.error_in_exec
        if error is not None and self._cell is not None:
            self.transcript.fail(self._cell, error)
        if self.transcript.data(RESULT_MIME):
            self.conclude(None)
        elif error is not None and not (isinstance(error, ConfirmationRequired) and interactive(self.shell)):
            self.conclude(error)
            if state.active() is self.run:
                state.end()

    # --- the record ---------------------------------------------------------------------------------
    def conclude(self, error: BaseException | None) -> RunOutcome:
        """End the run: write its folder, notebook, report, result.json and journal row; stop recording."""
        global _attached, _since
        self.detach()
        _attached, _since = None, self.shell.execution_count + 1
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        import nbformat

        path = self._notebook_file()
        runbook = info(path)
        nb = self.transcript.notebook(nbformat.read(path, as_version=4))
        params = {name: self.shell.user_ns[name] for name in runbook.parameters if name in self.shell.user_ns}
        run_dir = self.run.folder or _folder_of(self.run, self.notebook.runs_dir)
        jpath = journal.journal_path(run_dir.parent)
        journal.start(jpath, run_id=self.run.run_id, runbook=runbook.name, rung=runbook.rung, params=params,
                      started=self.run.started)  # fmt: skip
        failure = failure_of(nb, error) if error is not None else None
        seconds = datetime.now(UTC).timestamp() - datetime.fromisoformat(self.run.started).timestamp()
        summary, failure = summarize(nb, runbook, params, self.run.run_id, self.run.started, seconds, failure)
        self.outcome = write(
            nb,
            summary,
            failure,
            runbook=runbook,
            run_dir=run_dir,
            journal_file=jpath,
            secrets=secret_values() | self.run.secrets,
            notebook_name=self.notebook.notebook_name,
            report_name=self.notebook.report_name,
            report_header=self.notebook.report_header,
        )
        _say(self.outcome)
        return self.outcome

    def _notebook_file(self) -> Path:
        """The file a person has open when it is this notebook (an edited copy), else the declared one."""
        for name in FRONTEND_NAMES:
            opened = self.shell.user_ns.get(name)
            if isinstance(opened, str) and Path(opened).stem == self.notebook.path.stem and Path(opened).is_file():
                return Path(opened)
        return self.notebook.path


def _say(outcome: RunOutcome) -> None:
    from IPython.display import display

    text = f"Journaled as run {outcome.run_id} ({outcome.status}); report: {outcome.report}"
    display({"text/plain": text}, raw=True)


_attached: Session | None = None
_since = 1  # the first execution count that belongs to the next run


def declare(
    path: str | Path,
    runs_dir: str | Path,
    *,
    notebook_name: str = NOTEBOOK,
    report_name: str = REPORT,
    report_header: ReportHeader | None = None,
) -> Session | None:
    """Name the notebook this run executes; in a kernel the runner did not start, record the run from here.

    Returns the recording Session, or None where the runner records the run or there is no kernel.
    """
    global _attached
    install_error_hook()
    run = state.current()
    shell = _shell()
    if run.managed or shell is None:
        return None
    notebook = Notebook(Path(path), Path(runs_dir), notebook_name, report_name, report_header)
    if _attached is not None and _attached.run is run:
        _attached.notebook = notebook
        return _attached
    if _attached is not None:  # a run left without a record or a failure (its kernel state was reset)
        _attached.detach()
    _attached = Session(shell, run, notebook)
    _attached.attach(_since)
    return _attached
