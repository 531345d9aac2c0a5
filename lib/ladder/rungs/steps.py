"""What every rung's steps share: the loaded config, a call on each host of an environment, a table, the run folder,
and a choice a person makes from a menu.

A rung module (rung1.py, rung2.py, ...) has one function per runbook step. Each takes the config
(`config_of`), does its work with `on_hosts`, records the step, and returns something the notebook
shows (a `table`, or an object with `_repr_html_`).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

import pandas as pd

from ..core.config import Config, load_config
from ..core.fleet import run_all
from ..core.hosts import Host, environment_hosts
from ..core.markup import styler
from ..core.paths import inside
from ..engine import session
from ..engine.runbooks import resolve

T = TypeVar("T")


def config_of(config: Config | str | Path | None) -> Config:
    """A loaded Config from a Config, a path, 'sandbox' or None ($LADDER_CONFIG, ./ladder.yml, the sandbox)."""
    return config if isinstance(config, Config) else load_config(config)


def on_hosts(cfg: Config, environment: str, fn: Callable[[Host], T], deadline: float) -> dict[str, T]:
    """fn on every host of an environment in parallel, by host name; connections are closed afterwards.

    A host that fails or passes the deadline (seconds) raises one FleetError naming every failed host.
    """
    hosts = environment_hosts(cfg, environment)
    try:
        # run_all raises instead of returning an error value, so every value here is fn's.
        return cast(dict[str, T], run_all(hosts, fn, deadline=deadline))
    finally:
        for host in hosts:
            host.close()


def table(rows: Sequence[dict], columns: Sequence[str], index: str | None = None) -> pd.DataFrame:
    """Rows as a DataFrame with exactly these columns in this order, even when there are no rows.

    index names the column that labels the rows (e.g. "host"), so a table shows no bare 0, 1, 2 column.
    """
    frame = pd.DataFrame(list(rows), columns=list(columns))
    return frame.set_index(index) if index is not None else frame


def left_table(frame: pd.DataFrame) -> str:
    """A table as HTML without its index, values escaped, every header and cell left-aligned (notebook CSS right-aligns)."""
    styles = [{"selector": "th, td", "props": "text-align: left; vertical-align: top"}]
    return styler(frame).hide(axis="index").set_table_styles(styles).to_html()


def pairs(rows: Mapping[str, str]) -> str:
    """Labels and values as a two-column HTML table, escaped and left-aligned."""
    body = "".join(
        f"<tr><th style='text-align:left'>{html.escape(k)}</th><td style='text-align:left'>{html.escape(str(v))}</td></tr>"
        for k, v in rows.items()
    )
    return f"<table>{body}</table>"


def run_folder(config: Config | str | Path, run_dir: str = "", run_id: str = "") -> Path:
    """Where this run keeps its files: run_dir from the runner, else the run's own folder under the runs home."""
    if run_dir:
        return Path(run_dir)
    cfg = config_of(config)
    return inside(cfg.runs_dir, run_id, what="run id") if run_id else session.folder(cfg.runs_dir)


def declare(runbook: str, config: Config) -> None:
    """Name the runbook this run executes: run outside `ladder run`, it is journaled from its kernel (see session)."""
    session.declare(resolve(runbook).path, config.runs_dir)


@dataclass
class Choice:
    """A choice a person makes from a menu in JupyterLab; headless there is no menu and the parameter decides."""

    label: str
    options: dict[str, str]  # value -> what the menu shows
    default: str
    parameter: str  # the notebook parameter that sets the default
    widget: Any = field(default=None, repr=False)

    @property
    def value(self) -> str:
        """The menu's current value, else the parameter's."""
        return str(self.widget.value) if self.widget is not None else self.default

    def __repr__(self) -> str:
        return f"{self.label}: {self.options[self.value]} (parameter {self.parameter})"

    def _ipython_display_(self) -> None:
        from IPython.display import HTML, display

        if self.widget is None:
            shown = html.escape(self.options[self.value])
            display(HTML(f"<p><b>{html.escape(self.label)}</b>: {shown} (parameter <code>{self.parameter}</code>)</p>"))
            return
        display(self.widget)
        display(
            HTML(
                "<p>Choose, then run the cells below again "
                "(<i>Run &gt; Run Selected Cell and All Below</i> from the next cell).</p>"
            )
        )


def choice(label: str, options: Mapping[str, str], default: str, parameter: str, *, interactive: bool) -> Choice:
    """A menu of options (value -> text) set to default, shown when interactive (JupyterLab, not the runner)."""
    if default not in options:
        raise ValueError(f"{parameter}={default!r} is not one of {', '.join(options)}")
    widget = None
    if interactive:
        import ipywidgets as widgets

        widget = widgets.Dropdown(
            options=[(text, value) for value, text in options.items()],
            value=default,
            description=label,
            style={"description_width": "initial"},
            layout=widgets.Layout(width="max-content"),
        )
    return Choice(label, dict(options), default, parameter, widget)
