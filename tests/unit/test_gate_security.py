"""The security-alerts criterion: severity thresholds per source, a disabled feature is SKIP."""

from __future__ import annotations

from opsgh.config import SecurityConfig
from opsgh.gate.security import Alert, AlertsRead, evaluate_security
from opsgh.gate.verdict import Outcome


def test_alerts_at_or_above_the_threshold_fail() -> None:
    reads = [AlertsRead("dependabot", (Alert("dependabot", 1, "medium", "lodash"),
                                       Alert("dependabot", 2, "critical", "log4j"))),
             AlertsRead("code_scanning", (Alert("code_scanning", 5, "high", "sql injection"),))]
    result = evaluate_security(SecurityConfig(dependabot="high", code_scanning="critical"), reads)
    assert result.outcome is Outcome.FAIL
    assert result.summary == "open alerts: 1 dependabot (>= high)"
    assert result.details == ("dependabot #2 critical: log4j",)


def test_below_threshold_passes_and_off_skips() -> None:
    reads = [AlertsRead("dependabot", (Alert("dependabot", 1, "low", "x"),))]
    assert evaluate_security(SecurityConfig(dependabot="medium"), reads).outcome is Outcome.PASS
    assert evaluate_security(SecurityConfig(), reads).outcome is Outcome.SKIP


def test_a_disabled_feature_is_skip_with_the_reason_not_a_failure() -> None:
    reads = [AlertsRead("dependabot", unavailable="Dependabot alerts are disabled for this repository (403)")]
    result = evaluate_security(SecurityConfig(dependabot="high"), reads)
    assert result.outcome is Outcome.SKIP
    assert "disabled" in result.summary
    mixed = evaluate_security(SecurityConfig(dependabot="high", code_scanning="high"),
                              [*reads, AlertsRead("code_scanning")])
    assert mixed.outcome is Outcome.PASS
    assert "not read: dependabot" in mixed.summary
