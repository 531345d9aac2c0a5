"""A small commit on the team's trunk, as a runbook step: the files it lands, planned in a dry run, recorded."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..app import trunk
from ..core import ops
from ..core.config import Config
from ..engine.record import record_step
from .rung1 import REPO

Make = Callable[[Mapping[str, str], Path], dict[str, str]]


@dataclass(frozen=True)
class Landing:
    """One small commit on trunk: the files it adds or changes, and its id once made (empty on a dry run)."""

    step: str
    message: str
    files: tuple[str, ...]
    where: str
    commit: str = ""

    def summary(self) -> str:
        """One line: what landed (or would), where."""
        if not self.files:
            return f"{self.step}: already on trunk, nothing to commit"
        done = f"committed {self.commit[:12]}" if self.commit else "would commit"
        return f"{self.step}: {done} on {self.where}: {self.message} ({', '.join(self.files)})"

    def __repr__(self) -> str:
        return self.summary()


def land(cfg: Config, step: str, message: str, make: Make, *, dry_run: bool = True) -> Landing:
    """Commit make(files at trunk's head, work tree) as one commit on trunk, pushed (never forced); record it."""
    where, texts, made = trunk.commit_made(cfg.app.repo, make, message, dry_run=dry_run)
    names = tuple(sorted(texts))
    change = ops.Change(
        REPO,
        step,
        where,
        (f"git commit -m {message!r}",) if names else (),
        bool(names),
        bool(made),
        reason=", ".join(names) if names else "already on trunk",
    )
    record_step(step, [change])
    return Landing(step, message, names, where, made)
