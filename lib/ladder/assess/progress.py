"""Progress of a long step, from one source: a tqdm widget in JupyterLab, a text bar on the terminal of `ladder assess`.

A headless run's kernel cannot write to the terminal through stdout or stderr: ipykernel records both in the
notebook, where a bar redrawn a hundred times is noise in the report. The runner names its terminal instead
(PROGRESS_TTY_VAR, set only when its stderr is a terminal, as pip and git show progress), the bar is drawn
there, and the notebook records the final state once.
"""

from __future__ import annotations

import html
import os
import sys
import time
from typing import IO, Any

from ..engine.kernel import PROGRESS_TTY_VAR
from ..engine.session import interactive


def _kernel_shell() -> Any:
    """The IPython shell when this runs in a kernel, else None."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell if shell is not None and hasattr(shell, "kernel") else None


class Progress:
    """A one-line progress bar: updated in place where someone watches, its last state kept in the notebook's record."""

    def __init__(self, label: str, total: int) -> None:
        self.label, self.total, self.started = label, total, time.monotonic()
        self.shell = _kernel_shell()
        self.terminal: IO[str] | None = None
        if self.shell is not None and interactive(self.shell):
            from tqdm.auto import tqdm  # a widget in JupyterLab

            self.bar = tqdm(total=total, desc=label)
            return
        from tqdm import tqdm as text_bar

        if self.shell is not None:
            tty = os.environ.get(PROGRESS_TTY_VAR)
            self.terminal = open(tty, "w") if tty else None  # noqa: SIM115 - closed in finish()
            self.bar = text_bar(total=total, desc=label, file=self.terminal, disable=self.terminal is None)
        else:  # plain Python: stderr, when it is a terminal (disable=None)
            self.bar = text_bar(total=total, desc=label, file=sys.stderr, disable=None)

    def html(self, done: int, note: str) -> str:
        """The bar and its caption, as the notebook's record keeps it."""
        return (
            f"<div><progress value='{done}' max='{self.total}' style='width:20em'></progress> "
            f"{html.escape(self.label)}: {done}/{self.total} {html.escape(note)}</div>"
        )

    def update(self, done: int, note: str) -> None:
        """Show how far the work is, and what it does now."""
        self.bar.set_postfix_str(note, refresh=False)
        self.bar.update(done - self.bar.n)

    def finish(self) -> None:
        """Show the final state with the time taken; a headless run's notebook records it once."""
        note = f"done in {time.monotonic() - self.started:.1f} s"
        self.update(self.total, note)
        self.bar.close()
        if self.terminal is not None:
            self.terminal.close()
        if self.shell is not None and not interactive(self.shell):
            from IPython.display import HTML, display

            display(HTML(self.html(self.total, note)))
