"""How an assessment is shown: headline, charts and tables for the notebook, and the report's header."""

from __future__ import annotations

import html
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.markup import escape
from ..core.markup import styler as escaped
from ..engine.notebooks import runbooks_dir
from .as_of import header_facts, stale_warning
from .charts import COLOURS, cost_benefit_chart, practice_bars, rung_radar, trend_chart
from .checks import INCONCLUSIVE
from .model import DORA_METRICS
from .questionnaire import NOT_ANSWERED
from .result import as_dict, changes_since

SCORE_COLOURS = ((7.0, "#d4edda"), (4.0, "#fff3cd"), (0.0, "#f8d7da"))  # at or above the pass mark, halfway, below
BAND_COLOURS = {"elite": "#1a9850", "high": "#91cf60", "medium": "#fee08b", "low": "#fc8d59", "inconclusive": "#dddddd"}
DORA_SOURCES = {
    "journal": "deploys recorded in Ladder's journal",
    "tags": "release tags and their commits",
    "none": "nothing (no journal, no release tags)",
}
# Where the model's runbook paths (runbooks/...) are relative to.


def score_text(value: float | None) -> str:
    """A 0-10 score with one decimal, or 'inconclusive'."""
    return "inconclusive" if value is None else f"{value:.1f}"


def html_table(rows: Mapping[str, str]) -> str:
    """A two-column HTML table of labels and values, escaped."""
    body = "".join(
        f"<tr><th style='text-align:left'>{html.escape(k)}</th><td style='text-align:left'>{html.escape(v)}</td></tr>"
        for k, v in rows.items()
    )
    return f"<table>{body}</table>"


@dataclass
class Message:
    """A short paragraph, for a step whose result is a sentence."""

    text: str

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(self.text)}</p>"

    def __repr__(self) -> str:
        return self.text


# ---- headline ------------------------------------------------------------------------------------


def headline_lines(assessment: Any) -> list[str]:
    """Level, overall score, rungs met and the first next step, as plain sentences."""
    d = as_dict(assessment)
    overall = d["overall"]
    coverage = overall["coverage"]
    scored = (
        "over every practice"
        if coverage >= 1
        else f"over {coverage:.0%} of the practices (the rest could be neither measured nor answered)"
    )
    out = [
        f"Level {d['level']}: {d['level_title']}{unconfirmed_text(d)}.",
        f"Overall score {score_text(overall['score'])} out of 10, {scored}.",
    ]
    met = [r["id"] for r in d["rungs"] if r["met"]]
    out.append(f"Rungs met: {', '.join(met)}." if met else "No rung is met yet.")
    if d.get("kind"):
        out.append(f"Project kind: {kind_text(d['kind'])}; practices that do not fit it are n/a.")
    if d["next_steps"]:
        step = d["next_steps"][0]
        out.append(f"Next step: rung {step['rung']}, {step['title'].lower()}: run {where_to(step)}.")
    else:
        out.append("Next step: none; every scored practice is at or above the pass mark.")
    return out


def unconfirmed_text(d: Mapping[str, Any]) -> str:
    """Lower rungs the level rests on without their being confirmed: "; rung 1 unconfirmed: answer 3 questions"."""
    ids = set(d.get("unconfirmed") or [])
    open_ = [r for r in d["rungs"] if r["id"] in ids]
    if not open_:
        return ""
    n = sum(r.get("unanswered", 0) for r in open_)
    which = ", ".join(r["id"] for r in open_)
    return f"; rung{'s' if len(open_) > 1 else ''} {which} unconfirmed: answer {n} question{'s' if n != 1 else ''}"


def kind_text(kind: Mapping[str, Any]) -> str:
    """The project kind and why, in a line: "library (high confidence: package published on a tag: ...)"."""
    if kind.get("overridden"):
        return f"{kind['kind']} (set by --kind)"
    seen = "; ".join(kind.get("evidence", [])[:3]) or "no sign of any kind"
    return f"{kind['kind']} ({kind['confidence']} confidence: {seen})"


@dataclass
class Headline:
    """Where the team stands, in a few plain lines."""

    lines: list[str]

    def _repr_html_(self) -> str:
        first, *rest = self.lines
        return f"<h3>{html.escape(first)}</h3>" + "".join(f"<p>{html.escape(x)}</p>" for x in rest)

    def __repr__(self) -> str:
        return "\n".join(self.lines)


def headline(assessment: Any) -> Headline:
    """Where the team stands, in plain words."""
    return Headline(headline_lines(assessment))


# ---- charts --------------------------------------------------------------------------------------


@dataclass
class Chart:
    """A matplotlib Figure shown as embedded SVG: crisp in the report, no pyplot or display backend."""

    figure: Any

    def svg(self) -> str:
        """The figure as SVG text."""
        buf = io.StringIO()
        self.figure.savefig(buf, format="svg", bbox_inches="tight")
        return buf.getvalue()

    def _repr_svg_(self) -> str:
        return self.svg()


def radar(assessment: Any) -> Chart:
    """The radar chart of rung scores."""
    return Chart(rung_radar(assessment))


def bars(assessment: Any) -> Chart:
    """Bars per practice, coloured by how each score was obtained."""
    return Chart(practice_bars(assessment))


def cost_benefit(assessment: Any) -> Chart:
    """The failing practices by effort and benefit, quick wins top left."""
    return Chart(cost_benefit_chart(assessment))


def trend(history: Sequence[Any], assessment: Any) -> Chart:
    """Overall and per-rung scores from the first assessment in history to this one."""
    return Chart(trend_chart([*history, as_dict(assessment)]))


# ---- tables --------------------------------------------------------------------------------------


def _score_style(value: Any) -> str:
    if not isinstance(value, (int, float)) or value != value:  # None or NaN: inconclusive
        return f"background-color: {COLOURS[INCONCLUSIVE]}"
    colour = next(c for mark, c in SCORE_COLOURS if value >= mark)
    return f"background-color: {colour}"


def _label_style(value: Any) -> str:
    if value not in COLOURS:
        return ""
    text = "white" if value == "measured" else "black"  # the measured blue is dark
    return f"background-color: {COLOURS[value]}; color: {text}"


def styled(
    frame: Any, scores: Sequence[str] = (), labels: Sequence[str] = (), widths: Mapping[str, str] | None = None
) -> Any:
    """A table for the report: no index, left-aligned, scores coloured against the pass mark, labels coloured."""
    styler = escaped(frame).hide(axis="index")
    if scores:
        styler = styler.format(lambda v: "n/a" if v is None or v != v else f"{v:.1f}", subset=list(scores))
        styler = styler.map(_score_style, subset=list(scores))
    if labels:
        styler = styler.map(_label_style, subset=list(labels))
    styler = styler.set_table_styles(
        [
            {"selector": "td", "props": "text-align: left; vertical-align: top"},
            {"selector": "th", "props": "text-align: left"},
        ]
    )
    if widths:
        styler = styler.set_table_styles(
            {
                col: [{"selector": "", "props": f"min-width: {w}; max-width: {w}; overflow-wrap: anywhere"}]
                for col, w in widths.items()
            },
            overwrite=False,
        )
    return styler


def dora_table(report: Any) -> Any:
    """The DORA metrics, one row each: value, band (coloured), 0-10 score, samples and a note."""
    frame = report.table().reset_index()
    caption = f"Last {report.window_days} days, from {DORA_SOURCES.get(report.source, report.source)}."
    return (
        styled(frame, ["score (0-10)"], widths={"note": "24em"})
        .map(lambda v: f"background-color: {BAND_COLOURS.get(v, '')}", subset=["band"])
        .set_caption(escape(caption))
    )


def answers_table(model: Any, answers: Any) -> Any:
    """One row per practice: rung, practice, question and the answer, or 'not answered'."""
    import pandas as pd

    frame = pd.DataFrame(
        [
            {"rung": p.rung, "practice": p.title, "question": p.question, "answer": answers.get(p.id) or NOT_ANSWERED}
            for p in model.practices
        ]
    )
    return styled(frame).map(lambda v: "color: #888" if v == NOT_ANSWERED else "font-weight: bold", subset=["answer"])


def contradictions(assessment: Any) -> Any:
    """Answers that disagree with the evidence, and which side was kept; a sentence when there are none."""
    import pandas as pd

    doc = as_dict(assessment)
    if not doc["contradictions"]:
        answered = sum(p["answer"] is not None for p in doc["practices"])
        return Message(
            "No answer contradicts the evidence."
            if answered
            else "No questions were answered, so nothing can contradict the evidence."
        )
    titles = {p["id"]: p["title"] for p in doc["practices"]}
    frame = pd.DataFrame(
        [
            {
                "practice": titles.get(c["practice"], c["practice"]),
                "answer": c["answer"],
                "evidence score": c["evidence_score"],
                "evidence": c["evidence_label"],
                "kept": c["kept"],
                "note": c["note"],
            }
            for c in doc["contradictions"]
        ]
    )
    return styled(frame, ["evidence score"], ["evidence"])


def runbook_text(runbook: str) -> str:
    """A runbook's path, marked when this copy of Ladder does not have it yet."""
    return runbook if (runbooks_dir() / Path(runbook).name).is_file() else f"{runbook} (not yet available)"


def where_to(step: Mapping[str, Any], runbook: str | None = None) -> str:
    """Where a next step is climbed: its runbook, and the runbook's step when the model names one."""
    named = step.get("step")
    return (runbook or step["runbook"]) + (f', step "{named}"' if named else "")


def cost_text(step: Mapping[str, Any]) -> str:
    """A next step's cost: '~2 person-days: <why>', or that the model gives no estimate."""
    days = step.get("effort_days")
    if days is None:
        return "not estimated (add effort: to the model)"
    return f"~{days:g} person-day{'' if days == 1 else 's'}: {step.get('effort_why', '')}"


def moves_text(step: Mapping[str, Any]) -> str:
    """The DORA metrics a next step moves, in words."""
    return ", ".join(DORA_METRICS.get(m, m) for m in step.get("moves", [])) or "none"


def next_steps(assessment: Any) -> Any:
    """The ordered next steps, each with its cost, the DORA metrics it moves and its runbook; else a sentence."""
    import pandas as pd

    doc = as_dict(assessment)
    if not doc["next_steps"]:
        return Message("Nothing to fix: every scored practice is at or above the pass mark.")
    frame = pd.DataFrame(
        [
            {
                "#": s["order"],
                "rung": s["rung"],
                "practice": s["title"],
                "score": s["score"],
                "cost": cost_text(s),
                "moves": moves_text(s),
                "runbook": where_to(s, runbook_text(s["runbook"])),
                "why": s["reason"],
            }
            for s in doc["next_steps"]
        ]
    )
    return styled(frame, ["score"], widths={"practice": "14em", "cost": "16em", "moves": "9em", "runbook": "16em"})


def changes(history: Sequence[Any], assessment: Any, where: str = "") -> Any:
    """What changed since the last assessment in history: level, rungs met, practice scores; else a sentence."""
    import pandas as pd

    if not history:
        return Message(
            f"This is the first assessment of this repository{where}; the next one will show what "
            "changed since this one."
        )
    last = as_dict(history[-1])
    found = changes_since(last, assessment)
    when = f"{last['generated']}, level {last['level']}"
    if not found:
        return Message(f"Nothing changed since the last assessment ({when}).")
    frame = pd.DataFrame([{"what": c["kind"], "change": c["note"]} for c in found])
    return styled(frame).set_caption(escape(f"Since the last assessment ({when})."))


# ---- the report's header ---------------------------------------------------------------------------


def summary(assessment: Any, history: Sequence[Any], *, hosts: str, answers: str, saved: str) -> dict[str, Any]:
    """What the report's header shows, kept in the run's record (plain JSON)."""
    d = as_dict(assessment)
    since = [c["note"] for c in changes_since(history[-1], d)] if history else None
    return {
        "headline": headline_lines(d),
        "repo": d["repo"],
        "generated": d["generated"],
        "as_of": d.get("as_of"),
        "hosts": hosts,
        "answers": answers,
        "saved": saved,
        "assessments_before": len(history),
        "last": as_dict(history[-1])["generated"] if history else None,
        "since_last": since,
        "partial_checks": [c["id"] for c in d["checks"] if "missing_objects" in (c.get("evidence") or {})],
    }


def report_header(run: Mapping[str, Any]) -> str | None:
    """The assessment report's header from the run's summary; None (the standard header) unless it succeeded."""
    data = (run.get("result") or {}).get("assessment")
    if run.get("status") != "ok" or not isinstance(data, Mapping):
        return None
    e = html.escape
    first, *rest = data["headline"]
    repo = data.get("repo") or {}
    what = f"{repo.get('path', '?')} ({repo.get('trunk') or 'no main branch'} at {(repo.get('head') or '')[:10]})"
    if data.get("since_last") is None:
        since = "This is the first assessment of this repository in the journal."
    elif data["since_last"]:
        since = f"Since the last assessment ({data['last']}): " + "; ".join(data["since_last"]) + "."
    else:
        since = f"Nothing changed since the last assessment ({data['last']})."
    missing = repo.get("missing_objects") or 0
    partial = data.get("partial_checks") or []
    damage = (
        [
            f"{missing} objects missing from the clone (nothing was fetched); "
            + (f"these checks are partial: {', '.join(partial)}." if partial else "no check needed them.")
        ]
        if missing
        else []
    )
    stale = stale_warning(data.get("as_of"))
    facts = {
        "repository": what,
        **header_facts(data.get("as_of"), data["generated"]),
        "hosts": data["hosts"],
        "answers": data["answers"],
        "assessed": data["generated"],
        "run": str(run.get("run_id", "")),
        "duration": f"{run.get('duration_s', 0):.1f} s",
        "assessment.json": data["saved"],
    }
    return "\n".join(
        [
            f"<h1>{e(str(run.get('title') or 'Assessment'))}</h1>",
            f"<p style='font-size:1.5em;margin:0.3em 0'><b>{e(first)}</b></p>",
            *(f"<p style='margin:0.3em 0'>{e(line)}</p>" for line in rest),
            f"<p style='margin:0.3em 0'><i>{e(since)}</i></p>",
            *(f"<p style='margin:0.3em 0'><b>{e(line)}</b></p>" for line in [*damage, *([stale] if stale else [])]),
            html_table(facts),
        ]
    )
