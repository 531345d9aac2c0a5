"""What every rung's steps share: the loaded config, a call on each host of an environment, a table, the run folder.

A rung module (rung1.py, rung2.py, ...) has one function per runbook step. Each takes the config
(`config_of`), does its work with `on_hosts`, records the step, and returns something the notebook
shows (a `table`, or an object with `_repr_html_`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar, cast

import pandas as pd

from ..core.config import Config, load_config
from ..core.fleet import run_all
from ..core.hosts import Host, environment_hosts
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


def run_folder(config: Config | str | Path, run_dir: str = "", run_id: str = "") -> Path:
    """Where this run keeps its files: run_dir from the runner, else the run's own folder under the runs home."""
    if run_dir:
        return Path(run_dir)
    cfg = config_of(config)
    return Path(cfg.runs_dir) / run_id if run_id else session.folder(cfg.runs_dir)


def declare(runbook: str, config: Config) -> None:
    """Name the runbook this run executes: run outside `ladder run`, it is journaled from its kernel (see session)."""
    session.declare(resolve(runbook).path, config.runs_dir)
