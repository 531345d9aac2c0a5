"""The benefit of fixing a practice: points gained, weighted by DORA metrics moved and the rungs standing on it."""

from __future__ import annotations

import pytest

from ladder.assess import load_model
from ladder.assess.benefit import benefit, rungs_above

pytestmark = pytest.mark.unit


def test_rungs_above_counts_the_rung_and_every_ladder_rung_requiring_it():
    model = load_model()
    above = {r.id: rungs_above(model, r.id) for r in model.rungs}
    assert above == {"1": 7, "1+": 6, "2": 5, "3a": 3, "3b": 3, "4": 2, "5": 1, "all": 0}


def test_a_practice_at_zero_on_the_first_rung_moving_every_metric_is_worth_ten():
    assert benefit(0, 4, 7, 7) == 10
    assert benefit(10, 4, 7, 7) == 0  # nothing left to gain
    assert benefit(12, 4, 7, 7) == 0 and benefit(-3, 4, 7, 7) == 10  # out-of-scale scores are clamped


def test_more_points_more_metrics_and_lower_rungs_weigh_more():
    assert benefit(2, 1, 7, 7) > benefit(5, 1, 7, 7)
    assert benefit(2, 3, 7, 7) > benefit(2, 1, 7, 7) > benefit(2, 0, 7, 7) > 0  # moving none still counts a fifth
    assert benefit(2, 1, 7, 7) > benefit(2, 1, 1, 7) > benefit(2, 1, 0, 7) > 0
    assert benefit(0, 0, 0, 7) == 1.0  # a fifth for the gain, half for a practice off the ladder
    assert benefit(0, 9, 0, 0) == 5.0  # more metrics than DORA has count as four; no ladder weighs half
