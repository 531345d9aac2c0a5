"""The benefit of fixing a practice: points gained, weighted by the DORA metrics it moves and the rungs on it."""

from __future__ import annotations

from .model import DORA_METRICS, Model


def rungs_above(model: Model, rung_id: str) -> int:
    """Ladder rungs that stand on this one: itself and every rung requiring it, directly or through others."""
    on = {rung_id}
    for rung in model.rungs:  # rungs list what they require before them, so one pass in order is enough
        if any(req in on for req in rung.requires):
            on.add(rung.id)
    return sum(r.ladder for r in model.rungs if r.id in on)


def benefit(score: float, moves: int, above: int, ladder: int) -> float:
    """A failing practice's benefit, 0-10: the points it gains, weighted by DORA metrics moved and rungs above.

    gain = 10 - score (a practice climbed is done, not just passed); the DORA weight is (1 + metrics moved)
    / 5, so a practice that moves none still counts for a fifth; the rung weight is 0.5 + 0.5 * the share of
    ladder rungs standing on its rung: rung 1, under every rung, weighs 1; the top rung weighs just over 0.5.
    """
    gain = min(max(10.0 - score, 0.0), 10.0)
    dora = (1 + min(moves, len(DORA_METRICS))) / (1 + len(DORA_METRICS))
    reach = 0.5 + 0.5 * (above / ladder if ladder else 0.0)
    return round(gain * dora * reach, 2)
