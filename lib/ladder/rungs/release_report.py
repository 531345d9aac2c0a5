"""Rung 3a's report: the releases each prod host keeps, which one is current, and how long each switch took."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..app import release
from ..app.artifact import Built
from ..app.layout import layout_of
from ..app.parity import Chart
from ..app.switch import Switched
from ..core.config import PROD
from ..core.hosts import Host
from ..core.markup import styler
from . import steps
from .rung3a import CHECK_DEADLINE, HostSwitch, Plan

COLUMNS = ["host", "current", "releases kept", "previous", "switch", "how", "seconds", "users during a restart"]
METHOD_COLOURS = {"restart": "#ffb74d", "stop+start": "#ffb74d", "": "#9e9e9e"}  # a reload is green


@dataclass(frozen=True)
class ReleaseReport:
    """Each prod host's releases after the deploy, and its switch: from what, how, how long."""

    version: str
    releases: dict[str, release.Releases]
    switched: dict[str, Switched]
    keep_releases: int

    def table(self) -> pd.DataFrame:
        """One row per prod host."""
        rows = []
        for host, found in sorted(self.releases.items()):
            s = self.switched.get(host)
            rows.append(
                {
                    "host": host,
                    "current": found.current or "(none: a checkout)",
                    "releases kept": ", ".join(found.complete),
                    "previous": (s.previous or "checkout") if s else "",
                    "switch": s.change.outcome if s else "",
                    "how": s.method if s else "",
                    "seconds": round(s.seconds, 2) if s else 0.0,
                    "users during a restart": s.drained if isinstance(s, HostSwitch) else "",
                }
            )
        return steps.table(rows, COLUMNS)

    def summary(self) -> str:
        """One line: how many hosts serve the version, and the releases kept for rollback."""
        on = sum(1 for r in self.releases.values() if r.current == self.version)
        return (
            f"{on} of {len(self.releases)} prod host(s) on {self.version}; "
            f"up to {self.keep_releases} release(s) kept on each for rollback"
        )

    def chart(self) -> Chart:
        """Each host's switch time (symlink + reload or restart + health reports the version), by method."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        frame = self.table()
        fig = Figure(figsize=(7, 0.9 + 0.45 * max(1, len(frame))))
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        colours = [METHOD_COLOURS.get(m, "#4caf50") for m in frame["how"]]
        bars = ax.barh(frame["host"], frame["seconds"], color=colours)
        ax.bar_label(bars, labels=[f"{s:.2f} s {m}".strip() for s, m in zip(frame["seconds"], frame["how"])])
        ax.invert_yaxis()
        ax.set_xlabel("seconds from the new symlink to health reporting the version")
        ax.set_title(f"Switch to {self.version} per prod host (grey: nothing to switch)")
        ax.margins(x=0.35)
        fig.tight_layout()
        return Chart(fig)

    def __repr__(self) -> str:
        return self.summary() + "\n" + self.table().to_string(index=False)

    def _repr_html_(self) -> str:
        def mark(value: object) -> str:
            return "background-color: #c8e6c9; font-weight: bold" if value == self.version else ""

        styles = [{"selector": "th, td", "props": "text-align: left; vertical-align: top"}]
        shown = styler(self.table()).hide(axis="index").set_table_styles(styles).map(mark, subset=["current"])
        shown = shown.format("{:.2f}", subset=["seconds"])
        return f"<p>{html.escape(self.summary())}</p>" + shown.to_html()


def releases_report(plan: Plan, switched: dict[str, Switched]) -> ReleaseReport:
    """Read each prod host's releases (after the deploy, or as they are in a dry run) into the report."""

    def one(host: Host) -> release.Releases:
        return release.get_releases(host, layout_of(host))

    version = plan.artifact.version if plan.artifact else "(not built yet)"
    found = steps.on_hosts(plan.cfg, PROD, one, CHECK_DEADLINE)
    return ReleaseReport(version, found, switched, plan.keep_releases)


def figures(built: Built, report: ReleaseReport) -> dict[str, Any]:
    """The run's key figures for ladder.record."""
    seconds = [s.seconds for s in report.switched.values() if s.seconds]
    return {
        "version": built.source.version,
        "artifact": "reused" if built.reused else "built" if built.manifest else "planned",
        "artifact files": len(built.manifest.files) if built.manifest else 0,
        "prod hosts on version": sum(1 for r in report.releases.values() if r.current == report.version),
        "slowest switch (s)": round(max(seconds), 2) if seconds else 0.0,
        "releases kept (most)": max((len(r.complete) for r in report.releases.values()), default=0),
    }
