"""Charts for the reports: a radar of rungs, bars per practice, the trend over past assessments, levels over time."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
from matplotlib.figure import Figure  # a bare Figure draws with Agg: no pyplot, no display needed

from .result import as_dict

# Labels in blue, purple and orange: green, yellow and red mean a score against the pass mark (views.SCORE_COLOURS).
COLOURS = {
    "measured": "#2b83ba",
    "inferred": "#9e9ac8",
    "self-reported": "#fdae61",
    "inconclusive": "#d9d9d9",
    "n/a": "#f2f2f2",  # the practice does not fit the kind of project
}


def rung_radar(assessment: Any) -> Figure:
    """A radar chart of ladder rung scores (0-10), inconclusive rungs drawn at 0 and marked '?'."""
    data = as_dict(assessment)
    rungs = [r for r in data["rungs"] if r["id"] != "all"]
    labels = [r["id"] + ("" if r["score"] is not None else " n/a" if r.get("status") == "n/a" else " ?") for r in rungs]
    values = [r["score"] or 0.0 for r in rungs]
    angles = [2 * math.pi * i / len(rungs) for i in range(len(rungs))]
    fig = Figure(figsize=(5, 5))
    ax = fig.add_subplot(projection="polar")
    ax.plot(angles + angles[:1], values + values[:1], color="#2b83ba", linewidth=2)
    ax.fill(angles + angles[:1], values + values[:1], color="#2b83ba", alpha=0.25)
    pass_mark = data.get("pass_mark", 7)
    ax.plot(
        angles + angles[:1],
        [pass_mark] * (len(angles) + 1),
        color="#d7191c",
        linestyle="--",
        linewidth=1,
        label=f"pass mark {pass_mark:g}",
    )
    ax.set_xticks(angles)
    ax.set_xticklabels(labels)
    ax.set_ylim(0, 10)
    ax.set_yticks([2, 4, 6, 8, 10])
    ax.set_title(f"Rungs (level {data['level']})")
    ax.legend(loc="lower right", fontsize="small", bbox_to_anchor=(1.1, -0.1))
    fig.tight_layout()
    return fig


def practice_bars(assessment: Any) -> Figure:
    """Horizontal bars, one per practice, coloured by how the score was obtained."""
    data = as_dict(assessment)
    practices = data["practices"]
    fig = Figure(figsize=(8, 0.32 * len(practices) + 1.2))
    ax = fig.add_subplot()
    names = [f"{p['rung']} · {p['title']}" for p in practices][::-1]
    values = [p["score"] if p["score"] is not None else 0.0 for p in practices][::-1]
    colours = [COLOURS.get(p["label"], "#999999") for p in practices][::-1]
    bars = ax.barh(range(len(practices)), values, color=colours)
    for bar, p in zip(bars, practices[::-1]):
        y = bar.get_y() + bar.get_height() / 2
        if p["score"] is None:
            ax.text(0.1, y, "n/a" if p["label"] == "n/a" else "inconclusive", va="center", fontsize=7, color="#555555")
        else:  # the number, so a score of 0 reads as 0 and not as a missing bar
            ax.text(p["score"] + 0.1, y, f"{p['score']:.1f}", va="center", fontsize=7)
    ax.set_yticks(range(len(practices)))
    ax.set_yticklabels(names, fontsize=7)
    ax.set_xlim(0, 10.8)
    ax.set_xticks(range(0, 11, 2))
    ax.axvline(data.get("pass_mark", 7), color="#d7191c", linestyle="--", linewidth=1)
    handles = [ax.bar(0, 0, color=c, label=label) for label, c in COLOURS.items()]
    ax.legend(handles=handles, loc="lower right", fontsize="x-small")
    ax.set_xlabel("score (0-10)")
    ax.set_title("Practices")
    fig.tight_layout()
    return fig


def trend_chart(history: Sequence[Any]) -> Figure:
    """Overall score and each rung's score across assessments, oldest first."""
    docs = sorted((as_dict(h) for h in history), key=lambda d: d["generated"])
    fig = Figure(figsize=(8, 4))
    ax = fig.add_subplot()
    if not docs:
        ax.text(0.5, 0.5, "no assessments yet", ha="center", va="center", transform=ax.transAxes)
        return fig
    when = [datetime.fromisoformat(d["generated"]) for d in docs]
    xs = list(range(len(docs)))
    overall = [d["overall"]["score"] for d in docs]
    ax.plot(
        xs, [math.nan if v is None else v for v in overall], marker="o", linewidth=2.5, color="black", label="overall"
    )
    rung_ids = [r["id"] for r in docs[-1]["rungs"] if r["id"] != "all"]
    for rid in rung_ids:
        ys = []
        for d in docs:
            r = next((r for r in d["rungs"] if r["id"] == rid), None)
            ys.append(math.nan if r is None or r["score"] is None else r["score"])
        ax.plot(xs, ys, marker=".", linewidth=1, alpha=0.8, label=f"rung {rid}")
    ax.set_xticks(xs)
    ax.set_xticklabels([f"{w:%Y-%m-%d %H:%M}\nlevel {d['level']}" for w, d in zip(when, docs)], fontsize=7)
    ax.set_ylim(0, 10)
    ax.set_ylabel("score (0-10)")
    ax.set_title("Since the first assessment")
    ax.legend(fontsize="x-small", ncol=2, loc="upper left")
    fig.tight_layout()
    return fig


def _literal(text: str) -> str:
    """Text matplotlib draws as written: a '$' in a name would otherwise start mathtext."""
    return text.replace("$", r"\$")


def level_chart(series: Mapping[str, Sequence[Any]], levels: Sequence[str]) -> Figure:
    """Each repository's level at each of its assessments, by date, on the ladder's levels from 0 up.

    series maps a repository's label to its assessments; a level not in levels is drawn above them.
    """
    docs = {
        label: sorted((as_dict(h) for h in history), key=lambda d: d["generated"]) for label, history in series.items()
    }
    unknown = sorted({d["level"] for history in docs.values() for d in history} - set(levels))
    order = [*levels, *unknown]
    fig = Figure(figsize=(8, 3.2))
    ax = fig.add_subplot()
    if not any(docs.values()):
        ax.text(0.5, 0.5, "no assessments yet", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    for label, history in docs.items():
        when = date2num([datetime.fromisoformat(d["generated"]) for d in history])
        ax.step(when, [order.index(d["level"]) for d in history], where="post", marker="o", label=_literal(label))
    locator = AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    # matplotlib's concise formats, but seconds as a time of day rather than a bare "20" after the minute.
    formats = ["%Y", "%b", "%d", "%H:%M", "%H:%M", "%H:%M:%S"]
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator, formats=formats))
    ax.set_yticks(range(len(order)), [_literal(level) for level in order])
    ax.set_ylim(-0.5, len(order) - 0.5)
    ax.set_ylabel("level")
    ax.grid(axis="y", alpha=0.3)
    ax.set_title("Level at each assessment")
    ax.legend(fontsize="small", loc="upper left")
    fig.tight_layout()
    return fig


QUICK_DAYS = 2.0  # the quadrant lines: at most this many person-days is cheap ...
HIGH_BENEFIT = 5.0  # ... and at least this benefit (0-10) is worth it
QUADRANTS = (("quick wins", 0, 1), ("big bets", 1, 1), ("fill-ins", 0, 0), ("thankless tasks", 1, 0))
# Where a label may go, in points from its point (with its alignment): beside, above, below, then further out.
LABEL_SPOTS = [
    (dx * r, dy * r, ha, va)
    for r in (1, 2, 3, 4, 5, 6)
    for dx, dy, ha, va in (
        (7, 0, "left", "center"),
        (-7, 0, "right", "center"),
        (0, 7, "center", "bottom"),
        (0, -7, "center", "top"),
        (6, 6, "left", "bottom"),
        (-6, 6, "right", "bottom"),
        (6, -6, "left", "top"),
        (-6, -6, "right", "top"),
    )
]


def _overlap(a: Any, b: Any) -> float:
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return w * h if w > 0 and h > 0 else 0.0


def _place_labels(ax: Any, xs: Sequence[float], ys: Sequence[float], labels: Sequence[str]) -> list[Any]:
    """Label each point at the nearest spot covering no other label, point, text or the axes' edge."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.transforms import Bbox

    renderer = FigureCanvasAgg(ax.figure).get_renderer()
    frame = ax.get_window_extent(renderer)
    centres = [ax.transData.transform((x, y)) for x, y in zip(xs, ys)]
    dots = [Bbox.from_bounds(cx - 5, cy - 5, 10, 10) for cx, cy in centres]
    taken = [t.get_window_extent(renderer) for t in ax.texts]  # the quadrant names
    placed = []
    for i, (x, y, label) in enumerate(zip(xs, ys, labels)):
        best: tuple[float, Any] | None = None
        for ox, oy, ha, va in LABEL_SPOTS:
            text = ax.annotate(
                label,
                (x, y),
                xytext=(ox, oy),
                textcoords="offset points",
                ha=ha,
                va=va,
                fontsize=8,
                arrowprops={"arrowstyle": "-", "color": "#888888", "lw": 0.6} if abs(ox) + abs(oy) > 12 else None,
            )
            box = text.get_window_extent(renderer).expanded(1.05, 1.2)
            inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
            cost = sum(_overlap(box, o) for o in [*taken, *dots[:i], *dots[i + 1 :]]) + (0.0 if inside else 1e6)
            if best is None or cost < best[0]:
                if best is not None:
                    best[1].remove()
                best = (cost, text)
            else:
                text.remove()
            if cost == 0:
                break
        assert best is not None
        taken.append(best[1].get_window_extent(renderer))
        placed.append(best[1])
    return placed


def cost_benefit_chart(assessment: Any) -> Figure:
    """The failing practices by effort (person-days, x) and benefit (0-10, y), with the quick wins top left.

    Each point is a next step, labelled with its order and practice id; steps the model gives no
    estimate for are left out and counted in the title.
    """
    data = as_dict(assessment)
    steps = [s for s in data["next_steps"] if s.get("effort_days") is not None]
    unestimated = len(data["next_steps"]) - len(steps)
    fig = Figure(figsize=(8, 5.5 if len(steps) <= 12 else 7.5))  # taller when crowded, so labels fit
    ax = fig.add_subplot()
    if not data["next_steps"]:
        ax.text(0.5, 0.5, "nothing to fix", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    xs = [s["effort_days"] for s in steps]
    ys = [s["benefit"] for s in steps]
    ax.scatter(xs, ys, s=36, color="#2b83ba", zorder=3)
    right = max([QUICK_DAYS * 2, *xs]) * 1.15
    ax.set_xlim(0, right)
    ax.set_ylim(0, 10.5)
    ax.axvline(QUICK_DAYS, color="#999999", linestyle="--", linewidth=1)
    ax.axhline(HIGH_BENEFIT, color="#999999", linestyle="--", linewidth=1)
    for name, col, row in QUADRANTS:
        ax.text(
            0.01 if col == 0 else 0.99,
            0.98 if row else 0.02,
            name,
            transform=ax.transAxes,
            ha="right" if col else "left",
            va="top" if row else "bottom",
            fontsize=9,
            color="#777777",
            style="italic",
        )
    ax.set_xlabel("effort (person-days, the model's estimate)")
    ax.set_ylabel("benefit (0-10)")
    left_out = f"; {unestimated} without an estimate not shown" if unestimated else ""
    ax.set_title(f"Next steps by cost and benefit{left_out}")
    fig.tight_layout()
    spots: dict[tuple[float, float], list[str]] = {}  # steps at the same spot share one label, a line each
    for s in steps:
        spots.setdefault((s["effort_days"], s["benefit"]), []).append(_literal(f"{s['order']} {s['practice']}"))
    _place_labels(ax, [x for x, _ in spots], [y for _, y in spots], ["\n".join(names) for names in spots.values()])
    return fig
