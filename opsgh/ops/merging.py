"""Merging a pull request opsgh opened itself (the revert of a rollback, the re-apply after it): only
when GitHub's own rules allow it, pinned to the head that was read.

GitHub lets a repository admin merge past branch protection when `enforce_admins` is off (the
"bypass" box). opsgh never does: a merge state of BLOCKED, BEHIND or DRAFT is reported with what
blocks it (required checks, reviews), even when the token could push it through.
"""

from __future__ import annotations

from opsgh.errors import AmbiguousWrite
from opsgh.gate.checks import evaluate_checks
from opsgh.gate.mergeability import evaluate_mergeability
from opsgh.gate.verdict import Outcome
from opsgh.ports import PullShipState, ShipPort

# mergeStateStatus values that let a pull request merge without bypassing anything (UNSTABLE: only
# checks that are not required fail; HAS_HOOKS: GitHub Enterprise pre-receive hooks will run).
MERGEABLE_STATES = frozenset({"CLEAN", "UNSTABLE", "HAS_HOOKS"})


def merge_blockers(port: ShipPort, repo: str, pull: PullShipState) -> list[str]:
    """Why `pull` (read after `mergeable` was computed) may not merge now; [] when it may. Reads the base
    branch's required checks only when GitHub reports the merge blocked."""
    if pull.mergeable == "MERGEABLE" and pull.merge_state_status in MERGEABLE_STATES and not pull.is_draft:
        return []
    reasons: list[str] = []
    if pull.merge_state_status == "BLOCKED":
        branch = port.branch_checks(repo, pull.base_ref)
        checks = evaluate_checks("required", branch.required_contexts, pull.checks, pull.head_sha)
        if checks.outcome is not Outcome.PASS:
            reasons.append(checks.summary)
        if pull.review_decision == "REVIEW_REQUIRED":
            reasons.append(f"{pull.base_ref} requires an approving review")
        elif pull.review_decision == "CHANGES_REQUESTED":
            reasons.append("a reviewer requested changes")
    state = evaluate_mergeability(pull.mergeable, pull.merge_state_status, is_draft=pull.is_draft,
                                  head_ref=pull.head_ref, base_ref=pull.base_ref, blocked_explained=bool(reasons))
    if state.outcome is not Outcome.PASS:
        reasons.append(state.summary)
    return reasons


def merge_at_head(port: ShipPort, repo: str, pull: PullShipState, method: str, *, commit_title: str | None = None,
                  commit_message: str | None = None) -> None:
    """Merge `pull` pinned with `sha=` to the head that was read; after an ambiguous failure read back
    and try again only if it is not merged (the pin keeps a second try safe). GitHub's refusals
    (NotAllowed 405, Conflict 409: the head moved) are raised as they are."""

    def attempt() -> None:
        port.merge_pull(repo, pull.number, sha=pull.head_sha, merge_method=method, commit_title=commit_title,
                        commit_message=commit_message)

    try:
        attempt()
    except AmbiguousWrite:
        if port.pull_ship_state(repo, pull.number).state != "MERGED":
            attempt()
