"""Mergeability: GitHub's `mergeStateStatus`. Still unknown after the bounded polling of the data
gathering is PENDING, never a failure."""

from __future__ import annotations

from opsgh.gate.verdict import CriterionResult, Outcome

KEY = "mergeability"
TITLE = "Mergeability"


def evaluate_mergeability(mergeable: str | None, merge_state_status: str | None, *, is_draft: bool,
                          head_ref: str, base_ref: str, blocked_explained: bool = True,
                          own_check_only: bool = False, advisory: bool = False) -> CriterionResult:
    """BLOCKED passes when another criterion already explains it (`blocked_explained`: a failing or
    pending check, a missing approval, opsgh's own earlier verdict); otherwise something opsgh does not
    see blocks the merge. `own_check_only`: the only check not passing is opsgh's own earlier verdict."""
    state = (merge_state_status or "UNKNOWN").upper()

    def result(outcome: Outcome, summary: str) -> CriterionResult:
        return CriterionResult(KEY, TITLE, outcome, summary, (f"mergeStateStatus {state}, mergeable "
                                                            f"{mergeable or 'null'}",), blocking=not advisory)

    if is_draft or state == "DRAFT":
        return result(Outcome.FAIL, "the pull request is a draft")
    if mergeable == "CONFLICTING" or state == "DIRTY":
        return result(Outcome.FAIL, f"{head_ref} conflicts with {base_ref}: resolve the conflicts on {head_ref}")
    if state == "BEHIND":
        return result(Outcome.FAIL, f"{head_ref} is behind {base_ref}, which requires up-to-date branches")
    if mergeable in (None, "UNKNOWN") or state == "UNKNOWN":
        return result(Outcome.PENDING, "GitHub has not finished computing whether it can be merged")
    if state == "BLOCKED" and not blocked_explained:
        return result(Outcome.FAIL, f"GitHub reports the merge into {base_ref} as blocked by branch protection or "
                                    "rulesets (not by the checks or approvals opsgh reads)")
    if state in ("BLOCKED", "UNSTABLE") and own_check_only and blocked_explained:
        return result(Outcome.PASS, "no conflicts (the earlier go/no-go verdict on this head is what GitHub "
                                    "waits for)")
    if state == "BLOCKED":
        return result(Outcome.PASS, "no conflicts (GitHub reports it blocked: see checks and approvals)")
    if state == "UNSTABLE":
        return result(Outcome.PASS, "no conflicts (some checks that are not required fail)")
    return result(Outcome.PASS, f"mergeable ({state.lower()})")
