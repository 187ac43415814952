"""The runbook's rollback decision criteria, as a pure function of the probe samples of a deploy.

release-runbook-rur2.md, "Rollback Decision Criteria": immediate (P0, error rate > 5 %, a complete
outage), urgent (P1, error rate 2-5 %, p95 > 3x baseline), evaluate (P2, error rate 1-2 %, p95 2-3x
baseline), monitor (P3, below). `opsgh verify` samples the environment every interval, and after each
round asks `assess` which tier the samples so far reach. The thresholds come from `verify.tiers`;
"for > N minutes" in the runbook is how long `opsgh verify` watches (`verify.duration`), except for an
outage, which is judged on its own clock (`verify.outage_after`) and stops the watch at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from opsgh.config import VerifyTier, VerifyTiers
from opsgh.gate.probes import p95


class Tier(StrEnum):
    IMMEDIATE = "immediate"
    URGENT = "urgent"
    EVALUATE = "evaluate"
    MONITOR = "monitor"

    @property
    def rank(self) -> int:
        """0 for the worst (immediate) to 3 for monitor."""
        return TIERS_WORST_FIRST.index(self)

    @property
    def priority(self) -> str:
        return f"P{self.rank}"

    def at_least(self, other: Tier) -> bool:
        """As bad as `other` or worse."""
        return self.rank <= other.rank


TIERS_WORST_FIRST = (Tier.IMMEDIATE, Tier.URGENT, Tier.EVALUATE, Tier.MONITOR)
ACTIONS = {Tier.IMMEDIATE: "roll back now", Tier.URGENT: "roll back within 15 minutes",
           Tier.EVALUATE: "assess a rollback within 30 minutes", Tier.MONITOR: "no action: keep monitoring"}


@dataclass(frozen=True, slots=True)
class Sample:
    """One probe request after the deploy. `at`: seconds since the watch began (its round's start)."""

    at: float
    probe: str
    ok: bool
    elapsed_ms: float | None  # None when no answer came (timeout, refused)
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class WindowStats:
    samples: int
    failed: int
    p95_ms: float | None  # over the samples that got an answer
    observed_s: float  # from the first round to the last
    outage_s: float | None  # how long every sample has been failing, up to the last round; None: not failing

    @property
    def error_rate(self) -> float:
        """Percent of failed samples."""
        return 100.0 * self.failed / self.samples if self.samples else 0.0


def window_stats(samples: Sequence[Sample]) -> WindowStats:
    if not samples:
        return WindowStats(0, 0, None, 0.0, None)
    ordered = sorted(samples, key=lambda s: s.at)
    answered = [s.elapsed_ms for s in ordered if s.elapsed_ms is not None]
    last_round = ordered[-1].at
    outage: float | None = None
    if not any(s.ok for s in ordered if s.at == last_round):
        # The trailing run of rounds in which nothing succeeded.
        ok_rounds = [s.at for s in ordered if s.ok]
        began = min((s.at for s in ordered if not ok_rounds or s.at > ok_rounds[-1]), default=last_round)
        outage = last_round - began
    return WindowStats(len(ordered), sum(1 for s in ordered if not s.ok), p95(answered) if answered else None,
                       last_round - ordered[0].at, outage)


@dataclass(frozen=True, slots=True)
class Assessment:
    tier: Tier
    reasons: tuple[str, ...]  # why this tier (empty for monitor)
    outage: bool = False  # a complete outage: stop watching

    @property
    def action(self) -> str:
        return ACTIONS[self.tier]


def _minutes(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60}m {whole % 60:02d}s" if whole >= 60 else f"{whole}s"


def _breaches(name: Tier, tier: VerifyTier, stats: WindowStats, baseline_p95_ms: float | None) -> list[str]:
    found = []
    if tier.error_rate is not None and stats.error_rate > tier.error_rate:
        found.append(f"error rate {stats.error_rate:.1f}% over {tier.error_rate:g}% ({name})")
    if tier.p95_factor is not None and baseline_p95_ms and stats.p95_ms is not None \
            and stats.p95_ms > tier.p95_factor * baseline_p95_ms:
        found.append(f"p95 {stats.p95_ms:.0f} ms is {stats.p95_ms / baseline_p95_ms:.1f}x the {baseline_p95_ms:g} ms "
                     f"baseline, over {tier.p95_factor:g}x ({name})")
    return found


def assess(stats: WindowStats, tiers: VerifyTiers, baseline_p95_ms: float | None,
           outage_after_s: float) -> Assessment:
    """The worst tier the samples reach, and why."""
    if stats.outage_s is not None and stats.outage_s >= outage_after_s and stats.samples:
        return Assessment(Tier.IMMEDIATE, (f"complete outage: every sample failed for {_minutes(stats.outage_s)} "
                                           f"(limit {_minutes(outage_after_s)})",), outage=True)
    for name in TIERS_WORST_FIRST[:-1]:
        reasons = _breaches(name, getattr(tiers, name.value), stats, baseline_p95_ms)
        if reasons:
            return Assessment(name, tuple(reasons))
    return Assessment(Tier.MONITOR, ())
