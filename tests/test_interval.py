"""ladder.engine.interval: --every parsed, refused where cron can't repeat it exactly, and placed on the clock."""

from __future__ import annotations

from datetime import datetime

import pytest

from ladder.core.errors import ScheduleError
from ladder.engine.interval import CRON_EVERY, Cadence, Every, cadence, parse_every, spread

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "text, every",
    [("15m", Every("15m", 900)), ("1h", Every("1h", 3600)), ("6h", Every("6h", 21600)), ("1d", Every("1d", 86400))],
)
def test_an_interval_is_a_number_and_a_unit(text, every):
    assert parse_every(text) == every


def test_spaces_case_and_leading_zeros_do_not_matter():
    assert parse_every(" 06H ") == Every("6h", 21600)


@pytest.mark.parametrize("text", ["", "h", "1", "1x", "0m", "-1h", "1.5h", "1h30m", "every hour"])
def test_anything_else_is_refused_naming_the_flag_and_the_form(text):
    with pytest.raises(ScheduleError) as err:
        parse_every(text)
    assert err.value.option == "--every" and "15m, 1h, 6h, 1d" in str(err.value) and repr(text) in str(err.value)


@pytest.mark.parametrize("text", CRON_EVERY + ("60m", "120s", "24h", "1w"))
def test_cron_repeats_every_interval_that_divides_an_hour_or_a_day_or_is_a_day_or_a_week(text):
    c = cadence(parse_every(text), "1-separate-dev-and-prod")
    assert c.period == parse_every(text).seconds and 0 <= c.phase < c.period and c.phase % 60 == 0


@pytest.mark.parametrize(
    "text, why",
    [
        ("45m", "45m does not divide an hour"),
        ("90m", "past an hour, cron steps in whole hours"),
        ("5h", "5h does not divide a day"),
        ("2d", "months have uneven lengths"),
        ("90s", "whole minutes"),
    ],
)
def test_an_interval_cron_cant_repeat_exactly_is_refused_with_the_ones_it_can(text, why):
    with pytest.raises(ScheduleError) as err:
        cadence(parse_every(text), "x")
    message = str(err.value)
    assert message.startswith(f"--every: cron can't run every {text} exactly") and why in message
    assert "15m, 20m, 30m, 1h" in message and message.endswith("12h, 1d, 7d")


def test_the_phase_is_stable_per_runbook_and_spreads_runbooks_over_the_hour():
    assert cadence(parse_every("1h"), "a") == cadence(parse_every("1h"), "a")
    assert spread("a", 60) == spread("a", 60)
    assert len({spread(f"runbook-{i}", 60) for i in range(40)}) > 10  # not all at :00


@pytest.mark.parametrize(
    "period, phase, cron, calendar",
    [
        (60, 0, "* * * * *", "*-*-* *:*:00"),
        (900, 0, "*/15 * * * *", "*-*-* *:00/15:00"),
        (900, 7 * 60, "7-59/15 * * * *", "*-*-* *:07/15:00"),
        (3600, 25 * 60, "25 * * * *", "*-*-* *:25:00"),
        (6 * 3600, 0, "0 */6 * * *", "*-*-* 00/6:00:00"),
        (6 * 3600, 5 * 3600 + 8 * 60, "8 5-23/6 * * *", "*-*-* 05/6:08:00"),
        (86400, 5 * 3600 + 8 * 60, "8 5 * * *", "*-*-* 05:08:00"),
        (7 * 86400, 86400 + 2 * 3600, "0 2 * * 1", "Mon *-*-* 02:00:00"),
    ],
)
def test_a_cadence_reads_the_same_in_cron_and_in_systemd(period, phase, cron, calendar):
    c = Cadence(period, phase)
    assert c.cron() == cron and c.calendar() == calendar


@pytest.mark.parametrize(
    "period, phase, now, expected",
    [
        (900, 7 * 60, datetime(2025, 1, 1, 12, 0), datetime(2025, 1, 1, 12, 7)),
        (900, 7 * 60, datetime(2025, 1, 1, 12, 7), datetime(2025, 1, 1, 12, 22)),  # strictly after
        (6 * 3600, 5 * 3600 + 8 * 60, datetime(2025, 1, 1, 23, 30), datetime(2025, 1, 2, 5, 8)),
        (86400, 5 * 3600, datetime(2025, 1, 1, 4, 0), datetime(2025, 1, 1, 5, 0)),
        # 2025-01-01 is a Wednesday; Monday 02:00 comes next on the 6th.
        (7 * 86400, 86400 + 2 * 3600, datetime(2025, 1, 1, 12, 0), datetime(2025, 1, 6, 2, 0)),
        (7 * 86400, 86400 + 2 * 3600, datetime(2025, 1, 5, 12, 0), datetime(2025, 1, 6, 2, 0)),  # from a Sunday
    ],
)
def test_the_next_run_is_the_first_instant_of_the_cadence_after_now(period, phase, now, expected):
    assert Cadence(period, phase).next_after(now) == expected
