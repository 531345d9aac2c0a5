"""The evidence per check as a table: one row per check in ladder order, its evidence as one short line."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .result import as_dict
from .views import styled

EVIDENCE_CHARS = 160


def _compact(value: Any) -> str:
    """A JSON value as short text: lists joined, dicts as key value pairs, empty parts left out."""
    if isinstance(value, dict):
        parts = [f"{k} {_compact(v)}" for k, v in value.items() if v not in (None, "", [], {})]
        return "(" + ", ".join(parts) + ")" if parts else ""
    if isinstance(value, list):
        shown = "; ".join(_compact(v) for v in value[:3])
        return shown + (f" and {len(value) - 3} more" if len(value) > 3 else "") if value else "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def evidence_text(evidence: Mapping[str, Any], limit: int = EVIDENCE_CHARS) -> str:
    """A check's evidence as one short line (key: value; ...), empty values left out, cut at limit."""
    parts = [f"{key}: {_compact(value)}" for key, value in evidence.items() if value not in (None, "", {})]
    text = "; ".join(parts)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def evidence_frame(assessment: Any) -> Any:
    """One row per check, in ladder order: rung, practice, check, source, score, label, reason, evidence."""
    import pandas as pd

    doc = as_dict(assessment)
    owner: dict[str, tuple[int, str, str]] = {}
    for i, p in enumerate(doc["practices"]):
        for cid in p["checks"]:
            owner.setdefault(cid, (i, p["rung"], p["title"]))
    rows = []
    for c in doc["checks"]:
        order, rung, title = owner.get(c["id"], (len(doc["practices"]), "", "(feeds no practice)"))
        rows.append(
            {
                "rung": rung,
                "practice": title,
                "check": c["id"],
                "source": c["source"],
                "score": c["score"],
                "label": c["label"],
                "reason": c["reason"],
                "evidence": evidence_text(c["evidence"]),
                "_order": order,
            }
        )
    columns = ["rung", "practice", "check", "source", "score", "label", "reason", "evidence", "_order"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values(["_order", "check"], kind="stable").drop(columns="_order").reset_index(drop=True)


def evidence_table(assessment: Any) -> Any:
    """The evidence per check, styled: score coloured against the pass mark, label coloured."""
    return styled(
        evidence_frame(assessment),
        ["score"],
        ["label"],
        {"practice": "11em", "check": "9em", "reason": "18em", "evidence": "22em"},
    )
