"""How criterion results combine: failing is NO-GO, waiting is PENDING (never NO-GO), advisory never blocks."""

from __future__ import annotations

from opsgh.gate.verdict import CriterionResult, Outcome, Verdict, VerdictState

SHA = "a" * 40


def result(key: str, outcome: Outcome, *, blocking: bool = True) -> CriterionResult:
    return CriterionResult(key, key.title(), outcome, f"{key} is {outcome}", blocking=blocking)


def test_all_pass_or_skip_is_go() -> None:
    verdict = Verdict.combine(SHA, [result("checks", Outcome.PASS), result("windows", Outcome.SKIP)])
    assert verdict.state is VerdictState.GO
    assert verdict.reasons == ()


def test_a_running_check_is_pending_not_no_go() -> None:
    verdict = Verdict.combine(SHA, [result("checks", Outcome.PENDING), result("reviews", Outcome.PASS)])
    assert verdict.state is VerdictState.PENDING
    assert verdict.reasons == ("Checks: checks is pending",)


def test_a_failure_wins_over_pending_and_is_listed_first() -> None:
    verdict = Verdict.combine(SHA, [result("checks", Outcome.PENDING), result("reviews", Outcome.FAIL)])
    assert verdict.state is VerdictState.NO_GO
    assert verdict.reasons == ("Reviews: reviews is fail", "Checks: checks is pending")


def test_advisory_failures_warn_but_never_block() -> None:
    verdict = Verdict.combine(SHA, [result("security", Outcome.FAIL).as_advisory(), result("checks", Outcome.PASS)])
    assert verdict.state is VerdictState.GO
    assert verdict.warnings == ("Security: security is fail",)
    assert verdict.as_dict()["verdict"] == "GO"
    assert verdict.as_dict()["criteria"][0]["blocking"] is False
