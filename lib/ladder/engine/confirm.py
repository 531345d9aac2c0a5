"""Confirmation before a runbook changes prod: --apply headless, a button in JupyterLab."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core.config import ENVIRONMENTS, PROD
from ..core.errors import ConfigError, ConfirmationRequired
from . import state
from .record import install_error_hook

# JupyterLab's command behind Run > Run Selected Cell and All Below.
RUN_BELOW = "notebook:run-all-below"


@dataclass(frozen=True)
class Confirmation:
    """Why a runbook may go on (always truthy), shown to the reader of the notebook or report."""

    environment: str
    reason: str

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        return f"may go on with {self.environment}: {self.reason}"


def is_prod(environment: str) -> bool:
    """True for prod, the environment whose changes need confirmation; ConfigError for a name config does not allow."""
    if environment not in ENVIRONMENTS:
        raise ConfigError(
            f"unknown environment {environment!r}; use one of {', '.join(ENVIRONMENTS)}", key="environment"
        )
    return environment == PROD


def needed(environment: str, dry_run: bool, prod_confirmed: bool = False) -> bool:
    """True when a run must be confirmed before it changes this environment."""
    return is_prod(environment) and not dry_run and not prod_confirmed


def button(environment: str):  # -> ipywidgets.Widget
    """The 'Apply to prod' button; a click confirms this run's next apply to this environment."""
    import ipywidgets as widgets

    run = state.current()  # a click on a button left from an ended run confirms nothing
    btn = widgets.Button(description=f"Apply to {environment}", button_style="danger", icon="check")
    note = widgets.HTML(
        f"<b>dry_run is False</b>: the cells below change <b>{environment}</b>. "
        "Nothing has changed there yet. Click to confirm; this cell and the ones below then run."
    )
    # Made now, so its link to JupyterLab is open by the time of the click.
    lab = _frontend()

    def on_click(_: object) -> None:
        run.confirmed.add(environment)
        btn.disabled = True
        btn.description = "Confirmed"
        note.value = f"Confirmed: applying to <b>{environment}</b>."
        if lab is not None:
            # The clicked cell is JupyterLab's active cell: run it (it passes now) and every cell below.
            lab.commands.execute(RUN_BELOW)
        else:
            note.value += " Run this cell and the ones below again (Run > Run Selected Cell and All Below)."

    btn.on_click(on_click)
    return widgets.VBox([note, btn])


def _frontend() -> Any:
    """ipylab's link to JupyterLab, to run its commands; None without ipylab."""
    try:
        from ipylab import JupyterFrontEnd
    except ImportError:
        return None
    return JupyterFrontEnd()


def confirm(environment: str, dry_run: bool, prod_confirmed: bool = False) -> Confirmation:
    """Say why the runbook may go on; otherwise show the button and stop the run.

    A kernel cannot wait for a click while a cell runs (ipykernel 7 handles the click only
    after the cell ends), so an unconfirmed apply shows the button and raises
    ConfirmationRequired, which stops Run All with one calm line instead of a traceback.
    The click runs this cell, which passes once in this run, and the ones below.
    """
    install_error_hook()
    run = state.current()
    prod = is_prod(environment)
    if dry_run:
        return Confirmation(environment, "dry run, nothing will change")
    if not prod:
        return Confirmation(environment, "not a prod environment, no confirmation needed")
    if prod_confirmed:
        return Confirmation(environment, "confirmed by --apply")
    if environment in run.confirmed:
        run.confirmed.discard(environment)
        return Confirmation(environment, "confirmed by the button")
    from IPython.display import display

    display(button(environment))
    raise ConfirmationRequired(environment)
