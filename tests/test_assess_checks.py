"""A check's result and spec: scores clamped to 0-10, honest labels, a crashing check made inconclusive."""

from __future__ import annotations

import pytest

from ladder.assess.checks import HOST, INFERRED, REPO, CheckSpec, inconclusive, result, run_check

pytestmark = pytest.mark.unit


def test_scores_are_clamped_and_rounded():
    assert result("x", REPO, 12, "r").score == 10
    assert result("x", REPO, -3, "r").score == 0
    assert result("x", REPO, 10 / 3, "r", label=INFERRED, files=["a"]).to_dict() == {
        "id": "x",
        "source": "repo",
        "score": 3.33,
        "label": "inferred",
        "reason": "r",
        "evidence": {"files": ["a"]},
    }


def test_an_inconclusive_check_has_no_score_and_says_why():
    res = inconclusive("x", HOST, "no prod hosts")
    assert res.inconclusive and res.to_dict()["label"] == "inconclusive" and res.reason == "no prod hosts"


def test_a_check_names_a_known_source():
    with pytest.raises(ValueError, match="check 'x': unknown source 'git'"):
        CheckSpec("x", "git", lambda facts: result("x", REPO, 1, "r"))


def test_a_crashing_check_is_inconclusive_and_names_the_error():
    def broken(facts):
        """Divides by zero."""
        return 1 / 0

    res = run_check(CheckSpec("broken", REPO, broken), facts=None)
    assert res.inconclusive and res.reason == "check error: ZeroDivisionError: division by zero"
