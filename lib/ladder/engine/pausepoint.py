"""Pause points for fault tests: a run whose $LADDER_PAUSE_AT names a step stops there until it is let go.

The run writes the step's name into the FIFO $LADDER_PAUSE_FIFO (its open waits for a reader), then waits
to read the FIFO again: a test kills it in between, so the kill lands at that step, triggered by the event.
"""

from __future__ import annotations

import os

AT = "LADDER_PAUSE_AT"
FIFO = "LADDER_PAUSE_FIFO"


def point(name: str) -> None:
    """Stop at the step name when $LADDER_PAUSE_AT names it; do nothing otherwise."""
    if os.environ.get(AT) != name or not os.environ.get(FIFO):
        return
    with open(os.environ[FIFO], "w") as fifo:
        fifo.write(name + "\n")
    with open(os.environ[FIFO]) as fifo:  # let go when the test opens and closes it for writing
        fifo.read()
