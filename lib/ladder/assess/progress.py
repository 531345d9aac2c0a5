"""A progress bar for long steps: it updates in place in a notebook and does nothing elsewhere."""

from __future__ import annotations

import html
import time
from typing import Any


class Progress:
    """A one-line progress bar that updates in place in a notebook and leaves its last state in the record."""

    def __init__(self, label: str, total: int) -> None:
        self.label, self.total, self.started = label, total, time.monotonic()
        self.handle: Any = None
        try:
            from IPython import get_ipython
            from IPython.display import HTML, display
        except ImportError:
            return
        if get_ipython() is not None:
            self._html = HTML
            self.handle = display(HTML(self.html(0, "starting")), display_id=True)

    def html(self, done: int, note: str) -> str:
        """The bar and its caption."""
        return (
            f"<div><progress value='{done}' max='{self.total}' style='width:20em'></progress> "
            f"{html.escape(self.label)}: {done}/{self.total} {html.escape(note)}</div>"
        )

    def update(self, done: int, note: str) -> None:
        """Show how far the work is."""
        if self.handle is not None:
            self.handle.update(self._html(self.html(done, note)))

    def finish(self) -> None:
        """Show the final state, with the time taken."""
        self.update(self.total, f"done in {time.monotonic() - self.started:.1f} s")
