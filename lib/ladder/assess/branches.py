"""Which unmerged branches are not unfinished work (moved to app.branch_kinds, which rung 2's runbook shares)."""

from __future__ import annotations

from ..app.branch_kinds import set_aside_by_name, set_aside_by_work

__all__ = ["set_aside_by_name", "set_aside_by_work"]
