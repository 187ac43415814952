"""Deployment windows and change freezes, in each window's own time zone (DST included)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from opsgh.config import WEEKDAYS, Freeze, Window
from opsgh.gate.verdict import CriterionResult, Outcome

WINDOWS_KEY = "windows"
FREEZES_KEY = "freezes"


def _describe(window: Window) -> str:
    return f"{','.join(window.days)} {window.start:%H:%M}-{window.end:%H:%M} {window.tz}"


def inside(window: Window, now: datetime) -> bool:
    """`now` (aware) is on one of the window's days, between start (included) and end (excluded),
    on the wall clock of the window's zone."""
    local = now.astimezone(ZoneInfo(window.tz))
    return WEEKDAYS[local.weekday()] in window.days and window.start <= local.time().replace(tzinfo=None) < window.end


def evaluate_windows(windows: Sequence[Window], now: datetime, *, advisory: bool = False) -> CriterionResult:
    """PASS inside any window; FAIL outside all of them; SKIP with none configured."""
    title = "Deployment window"
    if not windows:
        return CriterionResult(WINDOWS_KEY, title, Outcome.SKIP, "no window configured", blocking=not advisory)
    now = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    details = tuple(_describe(w) for w in windows)
    for window in windows:
        if inside(window, now):
            local = now.astimezone(ZoneInfo(window.tz))
            return CriterionResult(WINDOWS_KEY, title, Outcome.PASS,
                                   f"inside {_describe(window)} (now {local:%a %H:%M %Z})", details,
                                   blocking=not advisory)
    first = windows[0]
    local = now.astimezone(ZoneInfo(first.tz))
    return CriterionResult(WINDOWS_KEY, title, Outcome.FAIL,
                           f"outside every deployment window (now {local:%a %H:%M %Z}; windows: "
                           f"{'; '.join(details)})", details, blocking=not advisory)


def evaluate_freezes(freezes: Sequence[Freeze], now: datetime, zone: str = "UTC", *,
                     advisory: bool = False) -> CriterionResult:
    """FAIL while today (in `zone`, the release time zone) is inside a freeze, both days included."""
    title = "Change freeze"
    if not freezes:
        return CriterionResult(FREEZES_KEY, title, Outcome.SKIP, "no freeze configured", blocking=not advisory)
    now = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    today = now.astimezone(ZoneInfo(zone)).date()
    details = tuple(f"{f.from_}..{f.to}" + (f" ({f.reason})" if f.reason else "") for f in freezes)
    for freeze in freezes:
        if freeze.from_ <= today <= freeze.to:
            why = f" ({freeze.reason})" if freeze.reason else ""
            return CriterionResult(FREEZES_KEY, title, Outcome.FAIL,
                                   f"change freeze {freeze.from_}..{freeze.to}{why}", details, blocking=not advisory)
    return CriterionResult(FREEZES_KEY, title, Outcome.PASS, f"{today} is outside every freeze", details,
                           blocking=not advisory)
