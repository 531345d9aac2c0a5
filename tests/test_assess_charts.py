"""Charts: a radar of rungs, bars per practice, the trend and levels over time, drawn headless with Agg."""

from __future__ import annotations

import colorsys
from datetime import UTC, datetime, timedelta

import pytest
from matplotlib.dates import num2date
from matplotlib.figure import Figure

from ladder.assess import load_model, practice_bars, rung_radar, score, trend_chart, views
from ladder.assess.catalogue import CHECKS
from ladder.assess.charts import COLOURS, cost_benefit_chart, level_chart
from ladder.assess.checks import result
from ladder.assess.score import levels

pytestmark = pytest.mark.local

PNG = b"\x89PNG"


def assessment(good: set[str], when: datetime):
    model = load_model()
    checks = [
        result(c, CHECKS[c].source, 9 if p.rung in good else 2, "t")
        for p in model.practices
        for c in p.checks
        if c not in ("canary", "canary-runs")
    ]
    a = score(model, {c.id: c for c in checks}.values())
    a.generated = when.timestamp()
    return a


def test_radar_and_bars_render(tmp_path):
    a = assessment({"1"}, datetime.now(UTC))
    radar = rung_radar(a)
    assert isinstance(radar, Figure)
    labels = [t.get_text() for t in radar.axes[0].get_xticklabels()]
    assert labels == ["1", "1+", "2", "3a", "3b", "4", "5"]
    bars = practice_bars(a.to_dict())
    texts = [t.get_text() for t in bars.axes[0].texts]
    assert texts.count("inconclusive") == 1  # canary has no evidence and no answer
    assert texts.count("n/a") == 2  # a service's release practices do not fit it
    assert "9.0" in texts and "2.0" in texts  # every scored bar shows its number, so 0 is not a missing bar
    for fig, name in ((radar, "radar.png"), (bars, "bars.png")):
        fig.savefig(tmp_path / name)
        assert (tmp_path / name).read_bytes()[:4] == PNG


def test_trend_over_history(tmp_path):
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    history = [
        assessment(set(), t0),
        assessment({"1"}, t0 + timedelta(days=7)).to_dict(),
        assessment({"1", "1+"}, t0 + timedelta(days=14)),
    ]
    fig = trend_chart(list(reversed(history)))
    ax = fig.axes[0]
    overall = ax.lines[0]
    assert overall.get_label() == "overall"
    ys = list(overall.get_ydata())
    assert ys == sorted(ys) and len(ys) == 3  # oldest first, improving
    fig.savefig(tmp_path / "trend.png")
    assert (tmp_path / "trend.png").read_bytes()[:4] == PNG
    empty = trend_chart([])
    assert empty.axes[0].texts[0].get_text() == "no assessments yet"


def test_levels_over_time_one_line_per_repository_on_the_ladder(tmp_path):
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    shop = [
        assessment(set(), t0),
        assessment({"1"}, t0 + timedelta(days=7)),
        assessment({"1", "1+"}, t0 + timedelta(days=9)),
    ]
    tool = [assessment({"1"}, t0 + timedelta(days=3)).to_dict() | {"level": "9z"}]  # a level this model does not know
    ladder = levels(load_model())
    fig = level_chart({"shop": list(reversed(shop)), "$tool$ <b>": tool}, ladder)
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.lines] == ["shop", r"\$tool\$ <b>"]  # a '$' is drawn, not mathtext
    shop_line = ax.lines[0]
    assert list(shop_line.get_ydata()) == [0, 1, 2]  # oldest first: levels 0, 1, 1+
    assert [num2date(x).date().isoformat() for x in shop_line.get_xdata()] == ["2025-01-01", "2025-01-08", "2025-01-10"]
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks == [*ladder, "9z"] and list(ax.lines[1].get_ydata()) == [len(ladder)]
    fig.savefig(tmp_path / "levels.svg")
    assert "<b>" not in (tmp_path / "levels.svg").read_text()  # the label is text in the drawing, escaped
    empty = level_chart({}, ladder)
    assert empty.axes[0].texts[0].get_text() == "no assessments yet"


def test_no_label_colour_reads_as_the_pass_mark_green():
    def hue(colour: str) -> float:
        r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
        return colorsys.rgb_to_hsv(r, g, b)[0] * 360

    passed = hue(views.SCORE_COLOURS[0][1])  # green: at or above the pass mark
    for label, colour in COLOURS.items():
        apart = abs(hue(colour) - passed) % 360
        assert label == "inconclusive" or min(apart, 360 - apart) > 40, f"{label} {colour} reads as 'passed'"


def _labels(fig: Figure) -> list[str]:
    return [
        t.get_text()
        for t in fig.axes[0].texts
        if t.get_text() not in ("quick wins", "big bets", "fill-ins", "thankless tasks")
    ]


def test_cost_benefit_has_one_point_per_failing_practice_each_labelled(tmp_path):
    a = assessment({"3a", "3b", "4", "5", "all"}, datetime.now(UTC))  # rungs 1, 1+ and 2 fail: 13 steps
    fig = cost_benefit_chart(a)
    points = fig.axes[0].collections[0].get_offsets()
    assert len(points) == len(a.next_steps) == 13
    shown = "\n".join(_labels(fig)).split("\n")
    assert sorted(shown) == sorted(f"{s.order} {s.practice}" for s in a.next_steps)
    dev = next(s for s in a.next_steps if s.practice == "dev-setup")
    assert [dev.effort_days, dev.benefit] in points.tolist()
    fig.savefig(tmp_path / "cost.png")
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in fig.axes[0].texts]
    frame = fig.axes[0].get_window_extent(renderer)
    for i, box in enumerate(boxes):  # legible: no label covers another, and each stays inside the plot
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
        assert not any(box.overlaps(other) for other in boxes[i + 1 :]), fig.axes[0].texts[i].get_text()


def test_cost_benefit_says_what_it_cannot_place():
    a = assessment({"1+", "2", "3a", "3b", "4", "5", "all"}, datetime.now(UTC)).to_dict()
    a["next_steps"][0]["effort_days"] = None  # a team's model that gives no estimate for it
    fig = cost_benefit_chart(a)
    assert len(fig.axes[0].collections[0].get_offsets()) == len(a["next_steps"]) - 1
    assert "1 without an estimate not shown" in fig.axes[0].get_title()
    done = assessment({"1", "1+", "2", "3a", "3b", "4", "5", "all"}, datetime.now(UTC))
    done.next_steps = []
    assert [t.get_text() for t in cost_benefit_chart(done).axes[0].texts] == ["nothing to fix"]
