"""DORA metrics from Ladder's journal and release tags, banded against the DORA 2024 clusters."""

from __future__ import annotations

import dataclasses
import math
import statistics
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..app.git import GitRepo, open_repo
from ..core.markup import styler
from .deploys import Deploy, JournalRun, deploys_from_journal, deploys_from_tags, read_journal

HOUR = 3600.0
DAY = 86400.0
WEEK = 7 * DAY
MONTH = 30 * DAY
HALF_YEAR = 182 * DAY

# The DORA 2024 clusters, as given in the issue: a typical change fail rate per cluster.
CFR_CLUSTERS = (("elite", 0.05), ("medium", 0.10), ("high", 0.20), ("low", 0.40))
MIN_DEPLOYS = 2
MIN_OBSERVED_DAYS = 7  # a record younger than a week is read as a week: a day's deploys are no daily habit yet
MIN_LEAD_DEPLOYS = 2
MIN_CFR_DEPLOYS = 5


# ---- bands and the 0-10 scale (pure) ------------------------------------------------------------


def band_deploy_frequency(per_day: float) -> str:
    """elite: daily or more (on demand); high: daily to weekly; medium: weekly to monthly; low: rarer."""
    if per_day >= 1:
        return "elite"
    if per_day >= 1 / 7:
        return "high"
    if per_day >= 1 / 30:
        return "medium"
    return "low"


def _band_under(value: float, *, elite: float, high: float, medium: float) -> str:
    """The first band whose limit the value is under, or low."""
    for band, limit in (("elite", elite), ("high", high), ("medium", medium)):
        if value < limit:
            return band
    return "low"


def band_lead_time(seconds: float) -> str:
    """elite: under a day; high: a day to a week; medium: a week to a month; low: longer."""
    return _band_under(seconds, elite=DAY, high=WEEK, medium=MONTH)


def band_change_fail_rate(rate: float) -> str:
    """The cluster whose typical rate is nearest (elite 5%, medium 10%, high 20%, low 40%).

    DORA's clusters are not ordered by this metric, so a rate is placed by distance; a rate exactly
    halfway between two typical rates goes to the cluster with the lower rate.
    """
    ordered = sorted(CFR_CLUSTERS, key=lambda c: c[1])
    for (name, value), (_, nxt) in zip(ordered, ordered[1:]):
        if rate <= (value + nxt) / 2:
            return name
    return ordered[-1][0]


def band_recovery(seconds: float) -> str:
    """elite: under an hour; high: under a day; medium: under a week; low: a week or more."""
    return _band_under(seconds, elite=HOUR, high=DAY, medium=WEEK)


def _log_scale(value: float, anchors: Sequence[tuple[float, float]]) -> float:
    """Interpolate a score on a log scale between (value, score) anchors sorted by value."""
    if value <= anchors[0][0]:
        return anchors[0][1]
    if value >= anchors[-1][0]:
        return anchors[-1][1]
    for (x0, s0), (x1, s1) in zip(anchors, anchors[1:]):
        if x0 <= value <= x1:
            t = (math.log(value) - math.log(x0)) / (math.log(x1) - math.log(x0))
            return s0 + t * (s1 - s0)
    return anchors[-1][1]


def scale_deploy_frequency(per_day: float) -> float:
    """0-10: 10 at daily or more, 7.5 weekly, 5 monthly, 2.5 half-yearly, 0 never."""
    if per_day <= 0:
        return 0.0
    if per_day < 1 / 182:
        return 2.5 * per_day * 182
    return _log_scale(per_day, [(1 / 182, 2.5), (1 / 30, 5.0), (1 / 7, 7.5), (1.0, 10.0)])


def scale_lead_time(seconds: float) -> float:
    """0-10: 10 within an hour, 7.5 a day, 5 a week, 2.5 a month, 0 at half a year."""
    return _log_scale(max(seconds, 1.0), [(HOUR, 10.0), (DAY, 7.5), (WEEK, 5.0), (MONTH, 2.5), (HALF_YEAR, 0.0)])


def scale_change_fail_rate(rate: float) -> float:
    """0-10: 10 at no failures, falling linearly to 0 at half of all deploys failing."""
    return max(0.0, 10 * (1 - rate / 0.5))


def scale_recovery(seconds: float) -> float:
    """0-10: 10 within ten minutes, 7.5 an hour, 5 a day, 2.5 a week, 0 at a month."""
    return _log_scale(max(seconds, 1.0), [(600, 10.0), (HOUR, 7.5), (DAY, 5.0), (WEEK, 2.5), (MONTH, 0.0)])


def human_duration(seconds: float) -> str:
    """A duration as minutes, hours or days."""
    if seconds < HOUR:
        return f"{seconds / 60:.0f} min"
    if seconds < DAY:
        return f"{seconds / HOUR:.1f} h"
    return f"{seconds / DAY:.1f} days"


# ---- metrics -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Metric:
    """One DORA metric: value, band, 0-10 score; band and score are None when there is too little data."""

    key: str
    name: str
    value: float | None
    display: str
    band: str | None
    score: float | None
    samples: int
    note: str

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "key": self.key,
            "name": self.name,
            "value": self.value,
            "display": self.display,
            "band": self.band,
            "score": None if self.score is None else round(self.score, 2),
            "samples": self.samples,
            "note": self.note,
        }


@dataclass
class DoraReport:
    """The four DORA metrics over a window, with the deploys they came from."""

    metrics: list[Metric]
    source: str
    window_days: int
    deploys: list[Deploy] = field(default_factory=list)
    journal_found: bool = False
    journal_deploys: int = 0
    canaries: list[JournalRun] = field(default_factory=list)  # the journal's canary rows in the window, oldest first
    rollouts: list[JournalRun] = field(default_factory=list)  # its deploy rows in the window (every environment)

    def metric(self, key: str) -> Metric:
        """The metric with this key (deploy_frequency, lead_time, change_fail_rate, recovery_time)."""
        return next(m for m in self.metrics if m.key == key)

    def table(self):
        """A pandas DataFrame, one row per metric, ready to style."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "metric": m.name,
                    "value": m.display,
                    "band": m.band or "inconclusive",
                    "score (0-10)": None if m.score is None else round(m.score, 1),
                    "samples": m.samples,
                    "note": m.note,
                }
                for m in self.metrics
            ]
        ).set_index("metric")

    def styled(self):
        """The table with bands coloured, for notebooks and HTML."""
        colours = {
            "elite": "#1a9850",
            "high": "#91cf60",
            "medium": "#fee08b",
            "low": "#fc8d59",
            "inconclusive": "#dddddd",
        }
        return styler(self.table()).map(lambda v: f"background-color: {colours.get(v, '')}", subset=["band"])

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form, as written into assessment.json."""
        return {
            "source": self.source,
            "window_days": self.window_days,
            "deploys": len(self.deploys),
            "metrics": [m.to_dict() for m in self.metrics],
        }


def observed_days(window_days: int, now: float, since: float | None) -> float:
    """The days a frequency is counted over: the window, or less when the record began inside it (a week at least)."""
    if since is None:
        return float(window_days)
    return max(float(MIN_OBSERVED_DAYS), min(float(window_days), (now - since) / DAY))


def compute(
    deploys: Iterable[Deploy], *, now: float, window_days: int = 90, source: str = "", since: float | None = None
) -> DoraReport:
    """The four metrics over the deploys inside the window, each banded and scaled, or marked too-few.

    since: when the record began (the journal's first run); the frequency is counted over the days it covers.
    """
    all_deploys = sorted((d for d in deploys if d.time <= now), key=lambda d: d.time)  # none after the as-of
    start = now - window_days * DAY
    window = [d for d in all_deploys if start <= d.time <= now]
    metrics = []

    if len(all_deploys) < MIN_DEPLOYS:
        metrics.append(
            Metric(
                "deploy_frequency",
                "deployment frequency",
                None,
                "n/a",
                None,
                None,
                len(all_deploys),
                f"too few deploys ({len(all_deploys)}) in the journal or release tags; need {MIN_DEPLOYS}",
            )
        )
    else:
        days = observed_days(window_days, now, since)
        per_day = len(window) / days
        metrics.append(
            Metric(
                "deploy_frequency",
                "deployment frequency",
                per_day,
                f"{per_day * 7:.2f} per week",
                band_deploy_frequency(per_day),
                scale_deploy_frequency(per_day),
                len(window),
                f"{len(window)} deploys in the last {window_days} days"
                if days >= window_days
                else f"{len(window)} deploys since the {source or 'record'} began, counted over {days:.0f} days",
            )
        )

    with_leads = [d for d in window if d.lead_times]
    leads = [t for d in with_leads for t in d.lead_times]
    if len(with_leads) < MIN_LEAD_DEPLOYS:
        metrics.append(
            Metric(
                "lead_time",
                "lead time for changes",
                None,
                "n/a",
                None,
                None,
                len(leads),
                f"too few deploys with known commits ({len(with_leads)}); need {MIN_LEAD_DEPLOYS}",
            )
        )
    else:
        lead = statistics.median(leads)
        metrics.append(
            Metric(
                "lead_time",
                "lead time for changes",
                lead,
                human_duration(lead),
                band_lead_time(lead),
                scale_lead_time(lead),
                len(leads),
                f"median over {len(leads)} changes in {len(with_leads)} deploys",
            )
        )

    failed = [d for d in window if d.failed]
    if len(window) < MIN_CFR_DEPLOYS:
        metrics.append(
            Metric(
                "change_fail_rate",
                "change fail rate",
                None,
                "n/a",
                None,
                None,
                len(window),
                f"too few deploys ({len(window)}) to judge a failure rate; need {MIN_CFR_DEPLOYS}",
            )
        )
    else:
        rate = len(failed) / len(window)
        metrics.append(
            Metric(
                "change_fail_rate",
                "change fail rate",
                rate,
                f"{rate:.0%}",
                band_change_fail_rate(rate),
                scale_change_fail_rate(rate),
                len(window),
                f"{len(failed)} of {len(window)} deploys failed, or followed by a revert, hotfix or rollback",
            )
        )

    recoveries = [d.recovery for d in failed if d.recovery is not None]
    if not recoveries:
        why = "no failed deploys to recover from" if window else "no deploys in the window"
        metrics.append(Metric("recovery_time", "failed deployment recovery time", None, "n/a", None, None, 0, why))
    else:
        rec = statistics.median(recoveries)
        metrics.append(
            Metric(
                "recovery_time",
                "failed deployment recovery time",
                rec,
                human_duration(rec),
                band_recovery(rec),
                scale_recovery(rec),
                len(recoveries),
                f"median over {len(recoveries)} failed deploys",
            )
        )
    return DoraReport(metrics, source, window_days, all_deploys)


def dora_metrics(
    repo: str | Path | GitRepo | None = None,
    journal_path: str | Path | None = None,
    *,
    now: float | None = None,
    window_days: int = 90,
) -> DoraReport:
    """DORA metrics from the journal's deploys (when it has any), else from release tags."""
    now = time.time() if now is None else now
    git = repo if isinstance(repo, GitRepo) or repo is None else open_repo(repo)
    runs = read_journal(journal_path)
    journal = deploys_from_journal(runs, git) if runs else []
    began = min((r.started for r in runs or [] if r.started is not None), default=None)
    if journal:
        deploys, source = journal, "journal"
        if git is not None and sum(bool(d.lead_times) for d in journal) < MIN_LEAD_DEPLOYS:
            tag_leads = [d for d in deploys_from_tags(git) if d.lead_times]
            # Lead times can come from tags when journal runs do not name commits.
            report = compute(deploys, now=now, window_days=window_days, source=source, since=began)
            lead = compute(tag_leads, now=now, window_days=window_days).metric("lead_time")
            lead = dataclasses.replace(lead, note=lead.note + " (from release tags)")
            report.metrics = [lead if m.key == "lead_time" and lead.value is not None else m for m in report.metrics]
            report.journal_found, report.journal_deploys = True, len(journal)
            report.canaries = of_kind(runs or [], "canary", now, window_days)
            report.rollouts = of_kind(runs or [], "deploy", now, window_days)
            return report
    elif git is not None and git.head is not None:
        deploys, source = deploys_from_tags(git), "tags"
    else:
        deploys, source = [], "none"
    report = compute(deploys, now=now, window_days=window_days, source=source, since=began if journal else None)
    report.journal_found, report.journal_deploys = runs is not None, len(journal)
    report.canaries = of_kind(runs or [], "canary", now, window_days)
    report.rollouts = of_kind(runs or [], "deploy", now, window_days)
    return report


def of_kind(runs: list[JournalRun], kind: str, now: float, window_days: int) -> list[JournalRun]:
    """The journal's rows of a kind (canary: rung 5a's; deploy: every rollout's) that ended within the window."""
    start = now - window_days * DAY
    return [r for r in runs if r.kind == kind and start <= (r.ended or r.started or 0) <= now]
