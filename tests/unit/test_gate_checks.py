"""The required-checks criterion: failing vs running vs missing, lists, `all`, many contexts."""

from __future__ import annotations

from opsgh.gate.checks import evaluate_checks
from opsgh.gate.verdict import Outcome
from opsgh.ports import CheckContextState

HEAD = "abcdef1234567890"


def check(name: str, outcome: str = "success", required: bool = False) -> CheckContextState:
    return CheckContextState(name, outcome, {"success": "completed/success", "failure": "completed/failure",
                                             "pending": "in_progress"}[outcome], required)


def test_failing_beats_running_and_missing() -> None:
    result = evaluate_checks("required", ("ci", "e2e", "lint"), [check("ci", "failure"), check("e2e", "pending")],
                             HEAD)
    assert result.outcome is Outcome.FAIL
    assert result.summary == "required check 'ci' failed on abcdef1 (completed/failure)"
    assert result.details[0] == "0 of 3 required checks passed on abcdef1"
    assert "lint: has not reported on abcdef1" in result.details


def test_running_and_missing_are_pending_and_told_apart() -> None:
    result = evaluate_checks("required", ("ci", "e2e"), [check("e2e", "pending")], HEAD)
    assert result.outcome is Outcome.PENDING
    assert result.summary == ("required check 'e2e' is still running on abcdef1 (in_progress); "
                              "required check 'ci' has not reported on abcdef1 yet")


def test_a_rerun_that_failed_fails_even_if_another_run_passed() -> None:
    result = evaluate_checks("required", ("ci",), [check("ci"), check("ci", "failure")], HEAD)
    assert result.outcome is Outcome.FAIL


def test_is_required_from_github_counts_and_unrequired_failures_are_only_details() -> None:
    result = evaluate_checks("required", (), [check("rules", required=True), check("flaky", "failure")], HEAD)
    assert result.outcome is Outcome.PASS
    assert result.summary == "all 1 required checks passed on abcdef1"
    assert "flaky: failed (not required)" in result.details


def test_all_and_a_configured_list() -> None:
    found = [check("ci"), check("flaky", "failure")]
    assert evaluate_checks("all", (), found, HEAD).outcome is Outcome.FAIL
    assert evaluate_checks(("deploy-preview",), (), found, HEAD).outcome is Outcome.PENDING
    assert evaluate_checks("required", (), [], HEAD).summary == "no check is required"


def test_130_contexts_all_counted() -> None:
    names = tuple(f"job-{i:03}" for i in range(130))
    found = [check(name) for name in names[:-1]] + [check(names[-1], "failure")]
    result = evaluate_checks("required", names, found, HEAD)
    assert result.outcome is Outcome.FAIL
    assert result.summary == "required check 'job-129' failed on abcdef1 (completed/failure)"
    assert result.details[0] == "129 of 130 required checks passed on abcdef1"
    assert len(result.details) == 131


def test_advisory_is_not_blocking() -> None:
    assert not evaluate_checks("required", ("ci",), [], HEAD, advisory=True).blocking
