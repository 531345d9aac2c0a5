"""How often a schedule runs: '--every 1h' parsed, placed on the clock, and said as cron and systemd say it."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..core.errors import ScheduleError

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_EVERY = re.compile(r"^(?P<count>\d+)\s*(?P<unit>[smhdw])$")
MINUTE, HOUR, DAY, WEEK = 60, 3600, 86400, 604800
# Every interval cron repeats exactly: the steps that divide an hour or a day, a day and a week.
CRON_EVERY = (
    *("1m", "2m", "3m", "4m", "5m", "6m", "10m", "12m", "15m", "20m", "30m"),
    *("1h", "2h", "3h", "4h", "6h", "8h", "12h", "1d", "7d"),
)
DAYS = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")  # cron's day 0 is Sunday


@dataclass(frozen=True)
class Every:
    """An interval as given (`text`, e.g. '6h') and in seconds."""

    text: str
    seconds: int


def parse_every(text: str) -> Every:
    """'15m', '1h', '6h', '1d', '7d' (units s, m, h, d, w) -> Every; ScheduleError naming --every otherwise."""
    m = _EVERY.match(text.strip().lower())
    if not m or int(m.group("count")) == 0:
        raise ScheduleError(
            f"{text!r} is not an interval; give a whole number and a unit: 15m, 1h, 6h, 1d (units s, m, h, d, w)",
            option="--every",
        )
    return Every(f"{int(m.group('count'))}{m.group('unit')}", int(m.group("count")) * UNITS[m.group("unit")])


def spread(key: str, slots: int) -> int:
    """A stable slot in range(slots) for a key: Jenkins' 'H', so schedules don't all start at :00."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") % slots


@dataclass(frozen=True)
class Cadence:
    """Runs at `phase` seconds past the start of each period, periods counted from midnight (Sunday for a week)."""

    period: int
    phase: int

    def cron(self) -> str:
        """The five fields of a crontab line."""
        minute, hour, day = self.phase // MINUTE % 60, self.phase // HOUR % 24, self.phase // DAY
        if self.period < HOUR:
            step = self.period // MINUTE
            first = "*" if step == 1 else (f"*/{step}" if minute == 0 else f"{minute}-59/{step}")
            return f"{first} * * * *"
        if self.period < DAY:
            step = self.period // HOUR
            hours = "*" if step == 1 else (f"*/{step}" if hour == 0 else f"{hour}-23/{step}")
            return f"{minute} {hours} * * *"
        return f"{minute} {hour} * * " + ("*" if self.period == DAY else str(day))

    def calendar(self) -> str:
        """The same instants as a systemd OnCalendar= expression."""
        minute, hour, day = self.phase // MINUTE % 60, self.phase // HOUR % 24, self.phase // DAY
        if self.period < HOUR:
            step = self.period // MINUTE
            return "*-*-* *:*:00" if step == 1 else f"*-*-* *:{minute:02d}/{step}:00"
        if self.period < DAY:
            step = self.period // HOUR
            hours = "*" if step == 1 else f"{hour:02d}/{step}"
            return f"*-*-* {hours}:{minute:02d}:00"
        weekday = f"{DAYS[day]} " if self.period == WEEK else ""
        return f"{weekday}*-*-* {hour:02d}:{minute:02d}:00"

    def next_after(self, moment: datetime) -> datetime:
        """The first run strictly after a (local, naive) moment."""
        midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        # cron's weekday: Sunday is 0; Python's Monday is 0.
        start = midnight - timedelta(days=(moment.weekday() + 1) % 7) if self.period == WEEK else midnight
        first = start + timedelta(seconds=self.phase)
        periods = (moment - first).total_seconds() // self.period + 1
        return first + timedelta(seconds=periods * self.period)


def cadence(every: Every, key: str) -> Cadence:
    """Where on the clock `every` runs for a key; ScheduleError when cron cannot repeat it exactly."""
    s = every.seconds
    fits = s % MINUTE == 0 and (
        (s < HOUR and HOUR % s == 0) or (HOUR <= s < DAY and s % HOUR == 0 and DAY % s == 0) or s in (DAY, WEEK)
    )
    if not fits:
        if s % MINUTE:
            why = "cron counts whole minutes"
        elif s < HOUR:
            why = f"{every.text} does not divide an hour, so the gap across the hour would differ"
        elif s < DAY and s % HOUR:
            why = "past an hour, cron steps in whole hours"
        elif s < DAY:
            why = f"{every.text} does not divide a day, so the gap across midnight would differ"
        else:
            why = "cron repeats by the day or the week; months have uneven lengths"
        raise ScheduleError(
            f"cron can't run every {every.text} exactly ({why}); use one of {', '.join(CRON_EVERY)}",
            option="--every",
        )
    return Cadence(s, spread(key, s // MINUTE) * MINUTE)
