"""The mergeability criterion: mergeStateStatus, an unknown state is PENDING, never NO-GO."""

from __future__ import annotations

import pytest

from opsgh.gate.mergeability import evaluate_mergeability
from opsgh.gate.verdict import Outcome


def judge(mergeable: str | None, state: str | None, draft: bool = False) -> Outcome:
    return evaluate_mergeability(mergeable, state, is_draft=draft, head_ref="main", base_ref="prod").outcome


@pytest.mark.parametrize(("mergeable", "state", "expected"), [
    ("MERGEABLE", "CLEAN", Outcome.PASS),
    ("MERGEABLE", "HAS_HOOKS", Outcome.PASS),
    ("MERGEABLE", "UNSTABLE", Outcome.PASS),
    ("MERGEABLE", "BLOCKED", Outcome.PASS),
    ("MERGEABLE", "BEHIND", Outcome.FAIL),
    ("CONFLICTING", "DIRTY", Outcome.FAIL),
    ("CONFLICTING", "UNKNOWN", Outcome.FAIL),
    ("UNKNOWN", "UNKNOWN", Outcome.PENDING),
    (None, None, Outcome.PENDING),
    ("MERGEABLE", "DRAFT", Outcome.FAIL),
])
def test_states(mergeable: str | None, state: str | None, expected: Outcome) -> None:
    assert judge(mergeable, state) is expected


def test_draft_and_messages() -> None:
    assert judge("MERGEABLE", "CLEAN", draft=True) is Outcome.FAIL
    behind = evaluate_mergeability("MERGEABLE", "BEHIND", is_draft=False, head_ref="main", base_ref="prod")
    assert behind.summary == "main is behind prod, which requires up-to-date branches"


def test_blocked_fails_only_when_nothing_else_explains_it() -> None:
    unexplained = evaluate_mergeability("MERGEABLE", "BLOCKED", is_draft=False, head_ref="main", base_ref="prod",
                                        blocked_explained=False)
    assert unexplained.outcome is Outcome.FAIL
    assert "blocked by branch protection or rulesets" in unexplained.summary


@pytest.mark.parametrize("state", ["BLOCKED", "UNSTABLE"])
def test_our_own_earlier_verdict_is_not_a_reason(state: str) -> None:
    """A published NO-GO makes GitHub say BLOCKED (gate required) or UNSTABLE (not required)."""
    result = evaluate_mergeability("MERGEABLE", state, is_draft=False, head_ref="main", base_ref="prod",
                                   blocked_explained=True, own_check_only=True)
    assert result.outcome is Outcome.PASS
    assert "earlier go/no-go verdict" in result.summary
    # conflicts still fail, whatever our check says
    dirty = evaluate_mergeability("CONFLICTING", "DIRTY", is_draft=False, head_ref="main", base_ref="prod",
                                  blocked_explained=True, own_check_only=True)
    assert dirty.outcome is Outcome.FAIL
