"""The shape every go/no-go criterion returns, and how results combine into one verdict.

A criterion (one module each under `opsgh/gate/`) turns what it was given into a
`CriterionResult`. `Verdict.combine` applies the one rule: a blocking failure is NO-GO; else a
blocking criterion still waiting (a running check, a mergeability not yet computed) is PENDING,
never NO-GO; else GO. Advisory results are reported but never change the verdict.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    PASS = "pass"  # noqa: S105 - an outcome, not a password
    FAIL = "fail"
    PENDING = "pending"  # not decided yet: a running check, mergeability still computing
    SKIP = "skip"  # not configured, or nothing to check (e.g. no migration changed)


class VerdictState(StrEnum):
    GO = "GO"
    NO_GO = "NO-GO"
    PENDING = "PENDING"


@dataclass(frozen=True, slots=True)
class CriterionResult:
    """One criterion's answer. `key` is the criterion's config key (e.g. `checks`, `windows`)."""

    key: str
    title: str  # short, for the table: "Required checks"
    outcome: Outcome
    summary: str  # one line: "2 of 3 required checks passed; `e2e` failed"
    details: tuple[str, ...] = ()  # folded in the comment: one line per check, probe sample, ...
    blocking: bool = True  # advisory when False (config `gate.advisory`)

    def as_advisory(self) -> CriterionResult:
        return replace(self, blocking=False)

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "title": self.title, "outcome": str(self.outcome), "summary": self.summary,
                "details": list(self.details), "blocking": self.blocking}


@dataclass(frozen=True, slots=True)
class Verdict:
    state: VerdictState
    sha: str  # the head SHA the verdict is bound to
    results: tuple[CriterionResult, ...] = field(default_factory=tuple)

    @classmethod
    def combine(cls, sha: str, results: Iterable[CriterionResult]) -> Verdict:
        found = tuple(results)
        blocking = [r for r in found if r.blocking]
        if any(r.outcome is Outcome.FAIL for r in blocking):
            state = VerdictState.NO_GO
        elif any(r.outcome is Outcome.PENDING for r in blocking):
            state = VerdictState.PENDING
        else:
            state = VerdictState.GO
        return cls(state, sha, found)

    @property
    def reasons(self) -> tuple[str, ...]:
        """Why it is not GO: the blocking failures, then the blocking criteria still pending."""
        failing = [f"{r.title}: {r.summary}" for r in self.results if r.blocking and r.outcome is Outcome.FAIL]
        waiting = [f"{r.title}: {r.summary}" for r in self.results if r.blocking and r.outcome is Outcome.PENDING]
        return tuple(failing + waiting)

    @property
    def warnings(self) -> tuple[str, ...]:
        """Advisory criteria that did not pass."""
        return tuple(f"{r.title}: {r.summary}" for r in self.results
                     if not r.blocking and r.outcome in (Outcome.FAIL, Outcome.PENDING))

    def as_dict(self) -> dict[str, Any]:
        return {"verdict": str(self.state), "sha": self.sha, "reasons": list(self.reasons),
                "warnings": list(self.warnings), "criteria": [r.as_dict() for r in self.results]}
