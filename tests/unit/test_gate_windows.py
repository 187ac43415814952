"""Deployment windows and freezes on the wall clock of their own time zone, across DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from opsgh.config import Freeze, Window
from opsgh.gate.verdict import Outcome
from opsgh.gate.windows import evaluate_freezes, evaluate_windows

NY_WORKDAY = Window(start=time(10), end=time(14), days=("mon", "tue", "wed", "thu", "fri"), tz="America/New_York")
# New York springs forward on Sunday 2027-03-14 at 02:00 and falls back on Sunday 2027-11-07 at 02:00.
NY_NIGHT = Window(start=time(1), end=time(4), days=("sun",), tz="America/New_York")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(("now", "expected"), [
    (utc(2027, 3, 12, 14, 30), Outcome.FAIL),  # Friday 09:30 EST
    (utc(2027, 3, 12, 15, 30), Outcome.PASS),  # Friday 10:30 EST
    (utc(2027, 3, 15, 14, 30), Outcome.PASS),  # Monday 10:30 EDT: the same UTC time is now inside
    (utc(2027, 3, 15, 13, 30), Outcome.FAIL),  # Monday 09:30 EDT
    (utc(2027, 3, 15, 18, 0), Outcome.FAIL),   # Monday 14:00 EDT: end excluded
    (utc(2027, 3, 13, 15, 30), Outcome.FAIL),  # Saturday
])
def test_workday_window_follows_new_york_across_dst(now: datetime, expected: Outcome) -> None:
    assert evaluate_windows([NY_WORKDAY], now).outcome is expected


@pytest.mark.parametrize(("now", "expected"), [
    (utc(2027, 3, 14, 5, 30), Outcome.FAIL),   # 00:30 EST
    (utc(2027, 3, 14, 6, 30), Outcome.PASS),   # 01:30 EST
    (utc(2027, 3, 14, 7, 30), Outcome.PASS),   # 03:30 EDT: 02:xx never happened that night
    (utc(2027, 3, 14, 8, 30), Outcome.FAIL),   # 04:30 EDT
    (utc(2027, 11, 7, 5, 30), Outcome.PASS),   # 01:30 EDT
    (utc(2027, 11, 7, 6, 30), Outcome.PASS),   # 01:30 EST, the second time
    (utc(2027, 11, 7, 8, 30), Outcome.PASS),   # 03:30 EST
    (utc(2027, 11, 7, 9, 30), Outcome.FAIL),   # 04:30 EST
])
def test_dst_change_inside_a_window(now: datetime, expected: Outcome) -> None:
    assert evaluate_windows([NY_NIGHT], now).outcome is expected


def test_any_window_is_enough_and_the_summary_says_local_time() -> None:
    berlin = Window(start=time(9), end=time(11), days=("fri",), tz="Europe/Berlin")
    result = evaluate_windows([NY_WORKDAY, berlin], utc(2027, 3, 12, 8, 30))
    assert result.outcome is Outcome.PASS
    assert "now Fri 09:30 CET" in result.summary
    outside = evaluate_windows([NY_WORKDAY], utc(2027, 3, 12, 8, 30))
    assert "now Fri 03:30 EST" in outside.summary
    assert evaluate_windows([], utc(2027, 3, 12)).outcome is Outcome.SKIP


def test_freezes_include_both_days_in_the_release_zone() -> None:
    holidays = [Freeze(from_=date(2026, 12, 20), to=date(2027, 1, 4), reason="holidays")]
    # 2027-01-05 03:00 UTC is still 2027-01-04 in New York: frozen there, not in UTC.
    late = utc(2027, 1, 5, 3, 0)
    frozen = evaluate_freezes(holidays, late, "America/New_York")
    assert frozen.outcome is Outcome.FAIL
    assert frozen.summary == "change freeze 2026-12-20..2027-01-04 (holidays)"
    assert evaluate_freezes(holidays, late, "UTC").outcome is Outcome.PASS
    assert evaluate_freezes(holidays, utc(2026, 12, 20, 12), "UTC").outcome is Outcome.FAIL
    assert evaluate_freezes([], late).outcome is Outcome.SKIP
