"""Blocking issues: open issues carrying a configured label (P0, P1...)."""

from __future__ import annotations

from collections.abc import Sequence

from opsgh.gate.verdict import CriterionResult, Outcome
from opsgh.ports import IssueInfo

KEY = "blocking_issue_labels"
TITLE = "Blocking issues"


def evaluate_issues(labels: Sequence[str], open_issues: Sequence[IssueInfo], *,
                    advisory: bool = False) -> CriterionResult:
    """`open_issues`: open issues having any of `labels` (pull requests are ignored); labels compare
    case-insensitively as on GitHub."""
    if not labels:
        return CriterionResult(KEY, TITLE, Outcome.SKIP, "no blocking labels configured", blocking=not advisory)
    wanted = {label.lower() for label in labels}
    blocking = sorted({i.number: i for i in open_issues if not i.is_pull_request and i.state == "open"
                       and wanted & {label.lower() for label in i.labels}}.values(), key=lambda i: i.number)
    details = tuple(f"#{i.number} {i.title} ({', '.join(i.labels)})" for i in blocking)
    if blocking:
        numbers = ", ".join(f"#{i.number}" for i in blocking)
        return CriterionResult(KEY, TITLE, Outcome.FAIL, f"{len(blocking)} open: {numbers}", details,
                               blocking=not advisory)
    return CriterionResult(KEY, TITLE, Outcome.PASS, f"no open issue labelled {', '.join(labels)}",
                           blocking=not advisory)
