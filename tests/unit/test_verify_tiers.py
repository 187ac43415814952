"""The rollback tiers of release-runbook-rur2.md as `opsgh verify` applies them to probe samples."""

from __future__ import annotations

import pytest

from opsgh.config import VerifyTier, VerifyTiers
from opsgh.gate.tiers import Sample, Tier, assess, window_stats

TIERS = VerifyTiers()  # immediate > 5 %, urgent > 2 % or p95 > 3x, evaluate > 1 % or p95 > 2x


def samples(rounds: int, per_round: int, *, failed_in: dict[int, int] | None = None, latency_ms: float = 100.0,
            every_s: float = 30.0) -> list[Sample]:
    """`rounds` rounds of `per_round` samples; `failed_in[r]` of round r fail (no answer)."""
    out = []
    for r in range(rounds):
        bad = (failed_in or {}).get(r, 0)
        for i in range(per_round):
            ok = i >= bad
            out.append(Sample(r * every_s, "health", ok, latency_ms if ok else None, None if ok else "timed out"))
    return out


def tier_of(found: list[Sample], baseline: float | None = 100.0, outage_after: float = 120.0) -> Tier:
    return assess(window_stats(found), TIERS, baseline, outage_after).tier


@pytest.mark.parametrize(("failed", "expected"), [
    (0, Tier.MONITOR),
    (1, Tier.MONITOR),  # 1.0 %: not over 1 %
    (2, Tier.EVALUATE),  # 2.0 %: over 1 %, not over 2 %
    (3, Tier.URGENT),
    (5, Tier.URGENT),  # 5.0 %: not over 5 %
    (6, Tier.IMMEDIATE),
])
def test_error_rate_boundaries_are_exclusive_as_in_the_runbook(failed: int, expected: Tier) -> None:
    found = samples(10, 10, failed_in={3: failed})  # 100 samples
    assert window_stats(found).error_rate == pytest.approx(failed)
    assert tier_of(found) is expected


@pytest.mark.parametrize(("latency", "expected"), [(199.0, Tier.MONITOR), (201.0, Tier.EVALUATE),
                                                   (301.0, Tier.URGENT), (5000.0, Tier.URGENT)])
def test_p95_against_the_baseline(latency: float, expected: Tier) -> None:
    """Latency alone never reaches immediate: the runbook's P0 is errors and outages."""
    assert tier_of(samples(4, 5, latency_ms=latency)) is expected


def test_without_a_baseline_latency_is_not_judged() -> None:
    assert tier_of(samples(4, 5, latency_ms=10_000.0), baseline=None) is Tier.MONITOR


def test_p95_is_over_the_answered_samples_only() -> None:
    found = samples(2, 10, failed_in={0: 3})
    stats = window_stats(found)
    assert (stats.samples, stats.failed, stats.p95_ms) == (20, 3, 100.0)


def test_an_outage_needs_outage_after_of_nothing_but_failures() -> None:
    found = samples(3, 5) + [Sample(90.0 + 30 * r, "health", False, None, "refused") for r in range(4)]
    stats = window_stats(found)
    assert stats.outage_s == 90.0  # rounds at 90, 120, 150, 180 s all failed
    not_yet = assess(stats, TIERS, 100.0, 120.0)
    assert not not_yet.outage  # but 4 of 19 failed: 21 % is immediate on the error rate already
    assert not_yet.tier is Tier.IMMEDIATE
    found.append(Sample(210.0, "health", False, None, "refused"))
    outage = assess(window_stats(found), TIERS, 100.0, 120.0)
    assert outage.outage
    assert outage.reasons == ("complete outage: every sample failed for 2m 00s (limit 2m 00s)",)


def test_one_good_sample_in_the_last_round_ends_the_outage() -> None:
    found = [Sample(30.0 * r, "health", False, None, "refused") for r in range(10)]
    found.append(Sample(270.0, "health", True, 50.0))
    assert window_stats(found).outage_s is None


def test_a_first_failing_round_is_not_yet_an_outage() -> None:
    stats = window_stats([Sample(0.0, "health", False, None, "refused")])
    assert stats.outage_s == 0.0
    assert not assess(stats, TIERS, None, 120.0).outage


def test_configured_thresholds_and_null_tiers() -> None:
    strict = VerifyTiers(immediate=VerifyTier(error_rate=None), urgent=VerifyTier(error_rate=0.5),
                         evaluate=VerifyTier())
    found = samples(10, 10, failed_in={0: 1})
    assert assess(window_stats(found), strict, None, 120.0).tier is Tier.URGENT
    assert assess(window_stats([]), strict, None, 120.0).tier is Tier.MONITOR


def test_tier_order() -> None:
    assert Tier.IMMEDIATE.at_least(Tier.URGENT)
    assert Tier.URGENT.at_least(Tier.URGENT)
    assert not Tier.EVALUATE.at_least(Tier.URGENT)
    assert [t.priority for t in (Tier.IMMEDIATE, Tier.URGENT, Tier.EVALUATE, Tier.MONITOR)] == ["P0", "P1", "P2", "P3"]
