"""A pipeline gate's decision: pass or fail, the figures measured, the baseline they were held to, and why."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Verdict:
    """What a gate decided about one build: ok, the reason in one line, this build's figures and the baseline's."""

    gate: str  # coverage, load
    ok: bool
    reason: str
    figures: Mapping[str, Any] = field(default_factory=dict)
    baseline: Mapping[str, Any] = field(default_factory=dict)  # the figures held against, with their version
    baseline_version: str | None = None

    def line(self) -> str:
        """`coverage gate: passed: ...` or `coverage gate: FAILED: ...`."""
        return f"{self.gate} gate: {'passed' if self.ok else 'FAILED'}: {self.reason}"
