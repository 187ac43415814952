"""The approvals criterion: reviewDecision, minimum approvals (latest per user), named approvers."""

from __future__ import annotations

from opsgh.config import Approvals
from opsgh.gate.reviews import Review, evaluate_reviews, latest_by_author
from opsgh.gate.verdict import Outcome


def test_latest_review_per_user_counts_and_a_comment_does_not_withdraw() -> None:
    reviews = [Review("bob", "APPROVED"), Review("carol", "APPROVED"), Review("carol", "CHANGES_REQUESTED"),
               Review("Bob", "COMMENTED")]
    assert latest_by_author(reviews) == {"bob": "APPROVED", "carol": "CHANGES_REQUESTED"}
    result = evaluate_reviews(Approvals(min=1), None, reviews)
    assert result.outcome is Outcome.FAIL
    assert result.summary == "changes requested by @carol"


def test_minimum_approvals() -> None:
    two = Approvals(min=2)
    assert evaluate_reviews(two, "APPROVED", [Review("bob", "APPROVED")]).summary == "1 of 2 approvals"
    ok = evaluate_reviews(two, "APPROVED", [Review("bob", "APPROVED"), Review("dan", "APPROVED")])
    assert ok.outcome is Outcome.PASS
    assert ok.summary == "approved by @bob, @dan"


def test_a_dismissed_approval_does_not_count() -> None:
    result = evaluate_reviews(Approvals(min=1), None, [Review("bob", "APPROVED"), Review("bob", "DISMISSED")])
    assert result.outcome is Outcome.FAIL


def test_review_required_by_protection() -> None:
    result = evaluate_reviews(Approvals(min=0), "REVIEW_REQUIRED", [])
    assert result.outcome is Outcome.FAIL
    assert "required by branch protection" in result.summary


def test_named_users_and_teams() -> None:
    config = Approvals(min=1, users=("PO-Anna",), teams=("devops",))
    reviews = [Review("po-anna", "APPROVED")]
    missing_team = evaluate_reviews(config, "APPROVED", reviews, {"devops": ("erin",)})
    assert missing_team.outcome is Outcome.FAIL
    assert missing_team.summary == "no approval from a member of devops"
    both = evaluate_reviews(config, "APPROVED", [*reviews, Review("erin", "APPROVED")], {"devops": ("Erin",)})
    assert both.outcome is Outcome.PASS
    unknown = evaluate_reviews(config, "APPROVED", reviews, None)
    assert unknown.outcome is Outcome.PENDING
    assert "could not be read" in unknown.summary
    no_user = evaluate_reviews(Approvals(min=0, users=("anna",)), None, [])
    assert no_user.summary == "no approval from @anna"
