"""Reviews: GitHub's `reviewDecision`, a minimum of approvals (latest review per user counts), and
approvals required from named users and teams (the runbooks' product owner / lead sign-off)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from opsgh.config import Approvals
from opsgh.gate.verdict import CriterionResult, Outcome

KEY = "approvals"
TITLE = "Approvals"


@dataclass(frozen=True, slots=True)
class Review:
    """One submitted review, in submission order."""

    author: str
    state: str  # APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED


def latest_by_author(reviews: Sequence[Review]) -> dict[str, str]:
    """The state that counts per reviewer: their latest APPROVED/CHANGES_REQUESTED/DISMISSED
    (a later plain comment does not withdraw an approval)."""
    latest: dict[str, str] = {}
    for review in reviews:
        if review.state in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED"):
            latest[review.author.lower()] = review.state
    return latest


def evaluate_reviews(approvals: Approvals, review_decision: str | None, reviews: Sequence[Review],
                     team_members: Mapping[str, Sequence[str]] | None = None, *,
                     advisory: bool = False) -> CriterionResult:
    """`team_members`: team slug -> member logins; a configured team missing from it cannot be
    checked and keeps the verdict PENDING with the reason."""
    latest = latest_by_author(reviews)
    approvers = sorted(user for user, state in latest.items() if state == "APPROVED")
    blockers = sorted(user for user, state in latest.items() if state == "CHANGES_REQUESTED")
    problems: list[str] = []
    unknown: list[str] = []
    if review_decision == "CHANGES_REQUESTED" or blockers:
        who = ", ".join(f"@{u}" for u in blockers)
        problems.append("changes requested" + (f" by {who}" if who else ""))
    elif review_decision == "REVIEW_REQUIRED":
        problems.append("an approving review is required by branch protection")
    if len(approvers) < approvals.min:
        problems.append(f"{len(approvers)} of {approvals.min} approvals")
    for user in approvals.users:
        if user.lower() not in approvers:
            problems.append(f"no approval from @{user}")
    members = team_members or {}
    for team in approvals.teams:
        if team not in members:
            unknown.append(f"team {team}'s members could not be read")
        elif not {m.lower() for m in members[team]} & set(approvers):
            problems.append(f"no approval from a member of {team}")
    details = tuple(f"@{user}: {state.lower().replace('_', ' ')}" for user, state in sorted(latest.items()))
    if problems:
        return CriterionResult(KEY, TITLE, Outcome.FAIL, "; ".join(problems + unknown), details,
                               blocking=not advisory)
    if unknown:
        return CriterionResult(KEY, TITLE, Outcome.PENDING, "; ".join(unknown), details, blocking=not advisory)
    who = ", ".join(f"@{u}" for u in approvers) or "nobody (none required)"
    return CriterionResult(KEY, TITLE, Outcome.PASS, f"approved by {who}", details, blocking=not advisory)
