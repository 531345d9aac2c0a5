"""ladder.app.canary_analysis: a canary's settings, its HAProxy weights per step and each check's verdict."""

from __future__ import annotations

import pytest

from ladder.app import canary_analysis as ca
from ladder.app.balancer import MAX_WEIGHT
from ladder.core.errors import ParameterError


@pytest.mark.unit
@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"steps": []}, "steps"),
        ({"steps": "10,25"}, "steps"),
        ({"steps": [25, 10]}, "steps"),
        ({"steps": [10, 100]}, "steps"),
        ({"steps": [0, 10]}, "steps"),
        ({"interval": 0.5}, "interval"),
        ({"interval": "5"}, "interval"),
        ({"min_success": 1.5}, "min_success"),
        ({"min_success": 0}, "min_success"),
        ({"max_p99_ms": -1}, "max_p99_ms"),
        ({"max_failed_checks": 0}, "max_failed_checks"),
        ({"max_failed_checks": True}, "max_failed_checks"),
    ],
)
def test_bad_settings_are_refused_naming_the_parameter(kwargs: dict, field: str) -> None:
    with pytest.raises(ParameterError, match=f"'{field}'"):
        ca.settings(**kwargs)


@pytest.mark.unit
def test_default_settings_are_flaggers() -> None:
    s = ca.settings()
    assert s.steps == (10, 25, 50) and s.min_success == 0.99 and s.max_p99_ms is None and s.max_failed_checks == 1


@pytest.mark.unit
@pytest.mark.parametrize("stable_hosts", [1, 2, 3, 9])
@pytest.mark.parametrize("steps", [(10, 25, 50), (5, 50, 90), (1, 2, 3)])
def test_weights_give_the_canary_each_steps_share_within_HAProxys_range(stable_hosts: int, steps: tuple) -> None:
    shares = []
    for step in steps:
        w = ca.weights(step, stable_hosts)
        assert 1 <= w.canary <= MAX_WEIGHT and 1 <= w.stable <= ca.STABLE_WEIGHT_CAP
        assert w.share == pytest.approx(100 * w.canary / (w.canary + stable_hosts * w.stable))
        assert abs(w.share - step) <= 0.5, (step, w)
        shares.append(w.share)
    assert shares == sorted(shares), "the canary's share only grows from step to step"


def _share(canary: int, stable: list[int]) -> float:
    return 100 * canary / (canary + sum(stable))


@pytest.mark.unit
@pytest.mark.parametrize(("first", "then"), [(10, 25), (25, 50), (5, 90), (1, 2), (50, 90)])
def test_shifting_in_that_order_never_gives_the_canary_more_than_the_next_step(first: float, then: float) -> None:
    n = 3
    before, after = ca.weights(first, n), ca.weights(then, n)
    canary, stable = before.canary, [before.stable] * n
    seen = []
    for part in ca.shift_order(before, after):
        if part == "canary":
            canary = after.canary
            seen.append(_share(canary, stable))
        else:
            for i in range(n):  # one server at a time, as the runtime API sets them
                stable[i] = after.stable
                seen.append(_share(canary, stable))
    assert max(seen) <= after.share + 1e-9 and seen[-1] == pytest.approx(after.share)


@pytest.mark.unit
def test_a_share_haproxy_cannot_weigh_is_refused() -> None:
    with pytest.raises(ParameterError, match="'steps'"):
        ca.weights(99.9, 9)
    with pytest.raises(ParameterError, match="two prod hosts"):
        ca.weights(50, 0)


@pytest.mark.unit
def test_a_check_fails_on_low_success_slow_p99_or_no_traffic() -> None:
    s = ca.settings(max_p99_ms=200)
    w = ca.weights(10, 1)
    good = ca.judge(s, w, 10, 1.0, 12.0, 1.0, 10.0)
    assert good.passed and good.p99_limit_ms == 200
    errors = ca.judge(s, w, 10, 0.5, 12.0)
    assert not errors.passed and "success 50.00% < 99.00%" in errors.reasons[0]
    slow = ca.judge(s, w, 10, 1.0, 510.0)
    assert not slow.passed and "p99 510 ms > 200 ms" in slow.reasons[0]
    silent = ca.judge(s, w, 10, None, None)
    assert not silent.passed and "no user request" in silent.reasons[0]
    assert errors.to_dict()["verdict"] == "fail" and errors.to_dict()["success"] == 0.5


@pytest.mark.unit
def test_without_max_p99_the_limit_is_one_and_a_half_times_stable() -> None:
    s = ca.settings()
    w = ca.weights(25, 2)
    assert ca.judge(s, w, 25, 1.0, 14.0, 1.0, 10.0).passed
    slow = ca.judge(s, w, 25, 1.0, 16.0, 1.0, 10.0)
    assert not slow.passed and slow.p99_limit_ms == 15.0
    assert ca.judge(s, w, 25, 1.0, 16.0).passed, "no stable p99 to compare: only success decides"


@pytest.mark.unit
def test_the_load_tester_rate_is_checked_and_recorded():
    assert ca.settings(load_rps=20).to_dict()["load_rps"] == 20.0
    assert ca.settings().load_rps == 0.0  # real users only, by default
    for bad in (-1, "fast", 10_000):
        with pytest.raises(ParameterError, match="parameter 'load_rps'"):
            ca.settings(load_rps=bad)
