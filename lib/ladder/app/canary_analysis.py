"""A canary's analysis, as Flagger does it: its settings, HAProxy weights for a traffic share, and each check's verdict.

Pure: no host, no Prometheus. canary.py drives the hosts, the balancer and the queries around it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..core.errors import ParameterError
from .balancer import MAX_WEIGHT
from .load import MAX_RATE

DEFAULT_STEPS = (10, 25, 50)  # percent of the traffic the canary gets, step after step (Flagger's stepWeights)
DEFAULT_INTERVAL = 60.0  # seconds at each step before its check (Flagger's interval)
DEFAULT_MIN_SUCCESS = 0.99
P99_FACTOR = 1.5  # without max_p99_ms, the canary's p99 may be this many times the stable hosts'
STABLE_WEIGHT_CAP = 100  # the largest stable weight tried: fine enough for a share to 0.1%
MIN_INTERVAL = 2.0  # seconds: Prometheus needs two scrapes in a window for rate()


@dataclass(frozen=True)
class Settings:
    """How a canary advances and what it must meet at each step."""

    steps: tuple[float, ...] = DEFAULT_STEPS
    interval: float = DEFAULT_INTERVAL
    min_success: float = DEFAULT_MIN_SUCCESS
    max_p99_ms: float | None = None  # None: at most P99_FACTOR times the stable hosts' p99
    max_failed_checks: int = 1
    load_rps: float = 0.0  # Flagger's load tester: requests/s sent through the balancer during the canary (0: none)

    def to_dict(self) -> dict[str, Any]:
        """A plain dict for the journal and the report."""
        return {
            "steps": list(self.steps),
            "interval": self.interval,
            "min_success": self.min_success,
            "max_p99_ms": self.max_p99_ms,
            "max_failed_checks": self.max_failed_checks,
            "load_rps": self.load_rps,
        }


def _number(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise ParameterError(f"parameter {name!r} must be a number, not {value!r}")
    return float(value)


def settings(
    steps: Sequence[float] = DEFAULT_STEPS,
    interval: float = DEFAULT_INTERVAL,
    min_success: float = DEFAULT_MIN_SUCCESS,
    max_p99_ms: float | None = None,
    max_failed_checks: int = 1,
    load_rps: float = 0.0,
) -> Settings:
    """Checked settings; ParameterError naming the parameter and what it must be."""
    if isinstance(steps, str | bytes) or not isinstance(steps, Sequence) or not steps:
        raise ParameterError(f"parameter 'steps' must be a list of percentages like [10, 25, 50], not {steps!r}")
    shares = tuple(_number(s, "steps") for s in steps)
    if any(not 0 < s < 100 for s in shares) or list(shares) != sorted(set(shares)):
        raise ParameterError(f"parameter 'steps' must rise strictly, each above 0 and below 100 (percent): {steps!r}")
    if _number(interval, "interval") < MIN_INTERVAL:
        raise ParameterError(
            f"parameter 'interval' must be at least {MIN_INTERVAL:g} s (two Prometheus scrapes), not {interval!r}"
        )
    if not 0 < _number(min_success, "min_success") <= 1:
        raise ParameterError(f"parameter 'min_success' is a share between 0 and 1 (0.99 = 99%), not {min_success!r}")
    if max_p99_ms is not None and _number(max_p99_ms, "max_p99_ms") <= 0:
        raise ParameterError(f"parameter 'max_p99_ms' must be above 0 (or None: 1.5x stable), not {max_p99_ms!r}")
    if isinstance(max_failed_checks, bool) or not isinstance(max_failed_checks, int) or max_failed_checks < 1:
        raise ParameterError(f"parameter 'max_failed_checks' must be a whole number >= 1, not {max_failed_checks!r}")
    if not 0 <= _number(load_rps, "load_rps") <= MAX_RATE:
        raise ParameterError(
            f"parameter 'load_rps' is requests per second from 0 (no load tester) to {MAX_RATE:g}, not {load_rps!r}"
        )
    p99 = None if max_p99_ms is None else float(max_p99_ms)
    return Settings(shares, float(interval), float(min_success), p99, max_failed_checks, float(load_rps))


# --- weights ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Weights:
    """HAProxy weights giving the canary a share of the traffic: the canary's, each stable host's, and the share."""

    canary: int
    stable: int
    share: float  # percent the canary gets with these weights (roundrobin)


def weights(percent: float, stable_hosts: int) -> Weights:
    """The weights closest to giving the canary percent of the traffic, each within HAProxy's 1-256.

    The larger stable weight wins a tie (finer steps after it); ParameterError when no weights reach percent.
    """
    if stable_hosts < 1:
        raise ParameterError("a canary needs at least one stable host besides the canary; list two prod hosts or more")
    best: Weights | None = None
    for stable in range(STABLE_WEIGHT_CAP, 0, -1):
        canary = round(percent * stable_hosts * stable / (100 - percent))
        if not 1 <= canary <= MAX_WEIGHT:
            continue
        found = Weights(canary, stable, 100 * canary / (canary + stable_hosts * stable))
        if best is None or abs(found.share - percent) < abs(best.share - percent):
            best = found
    if best is None:
        raise ParameterError(
            f"parameter 'steps': {percent:g}% for the canary against {stable_hosts} stable host(s) needs a weight "
            f"above HAProxy's {MAX_WEIGHT}; lower the step"
        )
    return best


def shift_order(before: Weights, after: Weights) -> tuple[str, str]:
    """Which weights to set first, canary or stable, so the canary's share never passes after's on the way."""
    return ("stable", "canary") if after.stable >= before.stable else ("canary", "stable")


# --- checks ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Check:
    """One check at one step: the share, the canary's and the stable hosts' numbers, the limits and the verdict."""

    step: float  # the step's percent
    share: float  # the canary's share with the weights set
    success: float | None  # the canary's share of user requests not answered 5xx; None: no request in the window
    stable_success: float | None
    p99_ms: float | None
    stable_p99_ms: float | None
    p99_limit_ms: float | None
    verdict: str  # pass or fail
    reasons: tuple[str, ...] = ()
    at: float = 0.0  # seconds since the canary's deploy began

    @property
    def passed(self) -> bool:
        """True when every threshold was met."""
        return self.verdict == "pass"

    def to_dict(self) -> dict[str, Any]:
        """A plain dict for tables, charts, the report and the journal."""

        def r(v: float | None, n: int = 4) -> float | None:
            return None if v is None else round(v, n)

        return {
            "step": self.step,
            "share": round(self.share, 2),
            "success": r(self.success),
            "stable_success": r(self.stable_success),
            "p99_ms": r(self.p99_ms, 1),
            "stable_p99_ms": r(self.stable_p99_ms, 1),
            "p99_limit_ms": r(self.p99_limit_ms, 1),
            "verdict": self.verdict,
            "reasons": "; ".join(self.reasons),
            "at_s": round(self.at, 1),
        }


def p99_limit(s: Settings, stable_p99_ms: float | None) -> float | None:
    """The canary's p99 limit in ms: max_p99_ms, else P99_FACTOR times the stable hosts' (None when unknown)."""
    if s.max_p99_ms is not None:
        return s.max_p99_ms
    return None if stable_p99_ms is None else P99_FACTOR * stable_p99_ms


def judge(
    s: Settings,
    w: Weights,
    step: float,
    success: float | None,
    p99_ms: float | None,
    stable_success: float | None = None,
    stable_p99_ms: float | None = None,
    at: float = 0.0,
) -> Check:
    """A check's verdict: fail when the canary had no request, its success is below min_success or p99 over the limit."""
    limit = p99_limit(s, stable_p99_ms)
    reasons = []
    if success is None:
        reasons.append("no user request reached the canary in the window (no metrics: Flagger fails the check too)")
    elif success < s.min_success:
        reasons.append(f"success {success:.2%} < {s.min_success:.2%}")
    if p99_ms is not None and limit is not None and p99_ms > limit:
        reasons.append(f"p99 {p99_ms:.0f} ms > {limit:.0f} ms")
    verdict = "fail" if reasons else "pass"
    return Check(step, w.share, success, stable_success, p99_ms, stable_p99_ms, limit, verdict, tuple(reasons), at)
