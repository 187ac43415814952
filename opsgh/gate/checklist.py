"""Checklist: every task-list box in the release PR body ticked."""

from __future__ import annotations

from opsgh.gate.verdict import CriterionResult, Outcome
from opsgh.render.tasklist import task_items

KEY = "checklist"
TITLE = "Checklist"


def evaluate_checklist(mode: str, body: str | None, *, advisory: bool = False) -> CriterionResult:
    """`mode`: required, advisory or off (config `gate.checklist`)."""
    blocking = not advisory and mode != "advisory"
    if mode == "off":
        return CriterionResult(KEY, TITLE, Outcome.SKIP, "off", blocking=blocking)
    items = task_items(body)
    if not items:
        return CriterionResult(KEY, TITLE, Outcome.SKIP, "no checklist in the PR body", blocking=blocking)
    open_items = [item for item in items if not item.checked]
    details = tuple(f"[{'x' if item.checked else ' '}] {item.text}" for item in items)
    if open_items:
        names = "; ".join(item.text for item in open_items)
        return CriterionResult(KEY, TITLE, Outcome.FAIL, f"{len(open_items)} of {len(items)} unticked: {names}",
                               details, blocking=blocking)
    return CriterionResult(KEY, TITLE, Outcome.PASS, f"all {len(items)} ticked", details, blocking=blocking)
