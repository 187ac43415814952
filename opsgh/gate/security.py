"""Security: open Dependabot and code-scanning alerts at or above a configured severity. A feature
that is disabled or not readable with this token (GitHub's 403/404) is SKIP with the reason."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from opsgh.config import SecurityConfig
from opsgh.gate.verdict import CriterionResult, Outcome

KEY = "security"
TITLE = "Security alerts"
RANKS = {"none": 0, "note": 1, "warning": 2, "low": 1, "medium": 2, "moderate": 2, "error": 3, "high": 3,
         "critical": 4}


@dataclass(frozen=True, slots=True)
class Alert:
    """One open alert; `severity` is GitHub's (dependabot: low..critical; code scanning: the
    security severity, or the rule severity note/warning/error)."""

    source: str  # dependabot, code_scanning
    number: int
    severity: str
    summary: str


@dataclass(frozen=True, slots=True)
class AlertsRead:
    """What reading one source gave: the open alerts, or why they could not be read."""

    source: str
    alerts: tuple[Alert, ...] = ()
    unavailable: str | None = None  # "Dependabot alerts are disabled", "403: ..."


def at_or_above(severity: str, threshold: str) -> bool:
    return RANKS.get(severity.lower(), 0) >= RANKS[threshold] > 0


def evaluate_security(config: SecurityConfig, reads: Sequence[AlertsRead], *,
                      advisory: bool = False) -> CriterionResult:
    thresholds = {"dependabot": config.dependabot, "code_scanning": config.code_scanning}
    active = {source: level for source, level in thresholds.items() if level != "none"}
    if not active:
        return CriterionResult(KEY, TITLE, Outcome.SKIP, "off", blocking=not advisory)
    found: list[Alert] = []
    skipped: list[str] = []
    for read in reads:
        if read.source not in active:
            continue
        if read.unavailable is not None:
            skipped.append(f"{read.source}: {read.unavailable}")
            continue
        found += [a for a in read.alerts if at_or_above(a.severity, active[read.source])]
    details = tuple(f"{a.source} #{a.number} {a.severity}: {a.summary}" for a in found) + tuple(skipped)
    if found:
        per = ", ".join(f"{sum(a.source == s for a in found)} {s} (>= {active[s]})"
                        for s in active if any(a.source == s for a in found))
        return CriterionResult(KEY, TITLE, Outcome.FAIL, f"open alerts: {per}", details, blocking=not advisory)
    read_sources = [s for s in active if any(r.source == s and r.unavailable is None for r in reads)]
    if not read_sources:
        return CriterionResult(KEY, TITLE, Outcome.SKIP, "; ".join(skipped) or "alerts could not be read",
                               details, blocking=not advisory)
    summary = "no open alert at or above " + ", ".join(f"{s} {active[s]}" for s in read_sources)
    if skipped:
        summary += f" (not read: {'; '.join(skipped)})"
    return CriterionResult(KEY, TITLE, Outcome.PASS, summary, details, blocking=not advisory)
