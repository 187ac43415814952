"""Which operation a GitHub Actions event asks for: a pure function of the event and the configuration.

| event | when | operation |
|---|---|---|
| push | to the staging branch | release |
| pull_request | into production, opened / synchronize / reopened / ready_for_review / edited | gate |
| pull_request | into production, closed and merged, from a branch other than staging | backport |
| pull_request_review | submitted or dismissed, on a PR into production | gate |
| check_suite, check_run | completed, for PRs into production (not opsgh's own checks) | gate |
| status | set on the head of the open Release PR (not opsgh's own) | gate |
| issue_comment | created, on a pull request | slash command |
| workflow_dispatch | always | the `command` input |
| schedule | always | protection drift check |

Anything else is skipped with a notice, and exit 0: a workflow that triggers on more than opsgh
needs must not fail because of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from opsgh.config import Config
from opsgh.ops.commands import CommentEvent

GATE_ACTIONS = frozenset({"opened", "synchronize", "reopened", "ready_for_review", "edited"})
OWN_CHECK_PREFIX = "opsgh /"  # our check runs and statuses: reacting to them would loop


@dataclass(frozen=True, slots=True)
class Plan:
    operation: str  # release, gate, gate-release-pr, backport, command, dispatch, protect-check, skip
    reason: str  # why (shown as a notice)
    pr_number: int | None = None
    head_sha: str | None = None  # gate-release-pr: only the open Release PR whose head is this commit
    comment: CommentEvent | None = None


def _get(data: Any, *path: str) -> Any:
    for key in path:
        data = data.get(key) if isinstance(data, Mapping) else None
    return data


def _number(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def skip(reason: str) -> Plan:
    return Plan("skip", reason)


def route(event_name: str, payload: Mapping[str, Any] | None, config: Config, repo: str) -> Plan:
    staging, production = config.branches.staging, config.branches.production
    payload = payload or {}
    action = _get(payload, "action")
    if event_name == "push":
        ref = _get(payload, "ref")
        if _get(payload, "deleted") is True:
            return skip(f"push deleted {ref}")
        if ref == f"refs/heads/{staging}":
            return Plan("release", f"push to {staging}")
        return skip(f"push to {ref}, not to the staging branch {staging}")
    if event_name in ("pull_request", "pull_request_target"):
        pull = _get(payload, "pull_request")
        number, base, head = _number(_get(pull, "number")), _get(pull, "base", "ref"), _get(pull, "head", "ref")
        if number is None or base != production:
            return skip(f"pull request into {base}, not into {production}")
        if action == "closed":
            if _get(pull, "merged") is not True:
                return skip(f"#{number} was closed without merging")
            if head == staging or _get(pull, "head", "repo", "full_name") not in (repo, None):
                return skip(f"#{number} is a release (or comes from a fork): nothing to back-port")
            return Plan("backport", f"#{number} ({head}) was merged into {production}", number)
        if action in GATE_ACTIONS:
            return Plan("gate", f"pull request #{number} {action}", number)
        return skip(f"pull request #{number} {action}")
    if event_name == "pull_request_review":
        number = _number(_get(payload, "pull_request", "number"))
        if number is None or _get(payload, "pull_request", "base", "ref") != production:
            return skip("a review on a pull request that is not into production")
        if action in ("submitted", "dismissed"):
            return Plan("gate", f"review {action} on #{number}", number)
        return skip(f"review {action}")
    if event_name in ("check_suite", "check_run"):
        item = _get(payload, event_name)
        name = str(_get(item, "name") or _get(item, "app", "name") or "")
        if action != "completed":
            return skip(f"{event_name} {action}")
        if event_name == "check_run" and name.startswith(OWN_CHECK_PREFIX):
            return skip(f"opsgh's own check run {name!r}")
        for pull in _get(item, "pull_requests") or ():
            number = _number(_get(pull, "number"))
            if number is not None and _get(pull, "base", "ref") == production:
                return Plan("gate", f"{event_name} completed on #{number}", number)
        return skip(f"{event_name} completed on no pull request into {production}")
    if event_name == "status":
        context = str(_get(payload, "context") or "")
        if context.startswith(OWN_CHECK_PREFIX):
            return skip(f"opsgh's own status {context!r}")
        sha = _get(payload, "sha")
        if not isinstance(sha, str):
            return skip("a status without a commit")
        return Plan("gate-release-pr", f"status {context!r} set on {sha[:7]}", head_sha=sha)
    if event_name == "issue_comment":
        issue, comment = _get(payload, "issue"), _get(payload, "comment")
        number, comment_id = _number(_get(issue, "number")), _number(_get(comment, "id"))
        if number is None or comment_id is None:
            return skip("a comment event without an issue or a comment")
        event = CommentEvent(
            repo=repo, action=str(action or ""), number=number,
            is_pull_request=isinstance(_get(issue, "pull_request"), Mapping), comment_id=comment_id,
            body=str(_get(comment, "body") or ""), author=str(_get(comment, "user", "login") or ""),
            author_type=str(_get(comment, "user", "type") or ""), created_at=str(_get(comment, "created_at") or ""),
            url=str(_get(comment, "html_url") or ""))
        return Plan("command", f"comment {action} on #{number}", number, comment=event)
    if event_name == "workflow_dispatch":
        return Plan("dispatch", "workflow_dispatch")
    if event_name == "schedule":
        return Plan("protect-check", "schedule")
    return skip(f"event `{event_name}` is not one opsgh acts on")
