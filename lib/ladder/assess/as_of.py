"""The instant an assessment's time windows end at ("as of"): now, a given day, or the repository's last commit."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ..app.git import GitRepo
from ..core.errors import OptionError

LAST_COMMIT = "last-commit"
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
FORMS = f"give YYYY-MM-DD (a day up to today; windows end at its end, UTC) or {LAST_COMMIT} (the newest commit)"
DAY = 86400


@dataclass(frozen=True)
class LastActivity:
    """The newest commit on any branch: its committer time and the branch that holds it."""

    time: int
    ref: str


@dataclass(frozen=True)
class AsOf:
    """Where the windows end (unix time), the option that set it ("" for now), and the last activity."""

    time: float
    option: str = ""
    last: LastActivity | None = None

    def to_dict(self, window_days: int) -> dict[str, Any]:
        """Plain-JSON form, as written into assessment.json."""
        last = {"date": iso(self.last.time), "ref": self.last.ref} if self.last else None
        return {"date": iso(self.time), "option": self.option, "window_days": window_days, "last_activity": last}


def iso(when: float) -> str:
    """A unix time as ISO 8601, UTC, to the second."""
    return datetime.fromtimestamp(when, UTC).isoformat(timespec="seconds")


def last_activity(repo: GitRepo) -> LastActivity | None:
    """The newest commit on any branch (local or remote-tracking), else HEAD's; None without commits."""
    trunk = repo.trunk.name if repo.trunk else ""
    # Newest first; on a tie the trunk, then the shorter name (a local branch before its remote copy).
    branches = sorted(repo.branches, key=lambda b: (-b.time, b.name != trunk, len(b.name), b.name))
    if branches:
        return LastActivity(branches[0].time, branches[0].short)
    if repo.head is None:
        return None
    return LastActivity(next(repo.commit_times(repo.head)), "HEAD")


def resolve_as_of(value: str, repo: GitRepo, now: float, *, option: str = "--as-of") -> AsOf:
    """The as-of instant for "" (now), YYYY-MM-DD (that day's end, UTC) or last-commit; OptionError otherwise.

    A day after today, or one that ends before the first commit, is refused the same way.
    """
    value = (value or "").strip()
    last = last_activity(repo)
    if not value:
        return AsOf(now, "", last)
    if value != LAST_COMMIT and not DATE.match(value):
        raise OptionError(option, value, FORMS)
    if last is None:
        raise OptionError(option, value, "the repository has no commits, so there is nothing to measure up to")
    if value == LAST_COMMIT:
        return AsOf(float(last.time), value, last)
    try:
        day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise OptionError(option, value, f"not a calendar day; {FORMS}") from None
    end = (day + timedelta(days=1)).timestamp() - 1
    if day.date() > datetime.fromtimestamp(now, UTC).date():
        raise OptionError(option, value, f"is in the future; {FORMS}")
    first = next(repo.commit_times(repo.root), None) if repo.root else None
    if first is not None and end < first:
        raise OptionError(option, value, f"is before the first commit ({iso(first)[:10]}); {FORMS}")
    return AsOf(end, value, last)


# ---- what the report's header says (pure, from assessment.json's "as_of") ------------------------------


def header_facts(as_of: Mapping[str, Any] | None, generated: str) -> dict[str, str]:
    """Rows for the header: the last activity, and the as-of day when it is not the day of the run."""
    if not as_of:
        return {}
    rows = {}
    last = as_of.get("last_activity")
    if last:
        rows["last activity"] = f"{last['date'][:10]} (newest commit, on {last['ref']})"
    if as_of["date"][:10] != generated[:10]:
        given = f"--as-of {as_of['option']}" if as_of.get("option") else "as_of"
        rows["as of"] = f"{as_of['date'][:10]} ({given}): every time window ends there"
    return rows


def stale_warning(as_of: Mapping[str, Any] | None) -> str | None:
    """When no as-of was given and the last commit is older than the window: say so, and what to run instead."""
    if not as_of or as_of.get("option") or not as_of.get("last_activity"):
        return None
    last = as_of["last_activity"]
    age = (datetime.fromisoformat(as_of["date"]) - datetime.fromisoformat(last["date"])).total_seconds() / DAY
    if age <= as_of["window_days"]:
        return None
    return (
        f"The last commit ({last['date'][:10]}, on {last['ref']}) is {age:.0f} days old, older than the "
        f"{as_of['window_days']}-day window: activity and DORA figures over it are empty. "
        f"Run `ladder assess --as-of {LAST_COMMIT}` to end the windows at the last commit."
    )
