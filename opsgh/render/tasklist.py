"""GitHub task lists (`- [ ] item`, `- [x] item`) in PR bodies: read them, keep ticks across updates.

Items are matched by their text (whitespace collapsed, case ignored), so a tick survives when opsgh
re-renders the body, even when other items appear or disappear around it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["TaskItem", "carry_ticks", "task_items"]

# GitHub's task list syntax: a list marker (-, *, + or a number), then [ ], [x] or [X], then text.
_TASK = re.compile(r"^(?P<lead>\s*(?:[-*+]|\d{1,9}[.)])\s+)\[(?P<mark>[ xX])\](?P<gap>\s+)(?P<text>\S.*?)\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


@dataclass(frozen=True, slots=True)
class TaskItem:
    text: str
    checked: bool
    line: int  # 0-based line in the body


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def task_items(body: str | None) -> list[TaskItem]:
    """The task-list items of a body, in order (items inside fenced code blocks are not tasks)."""
    items: list[TaskItem] = []
    fenced = False
    for number, line in enumerate((body or "").splitlines()):
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if fenced:
            continue
        found = _TASK.match(line)
        if found is not None:
            items.append(TaskItem(found.group("text"), found.group("mark") != " ", number))
    return items


def carry_ticks(previous: str | None, body: str) -> str:
    """`body` with every item ticked that was ticked in `previous` (same text). Length is unchanged."""
    ticked = {_key(item.text) for item in task_items(previous) if item.checked}
    if not ticked:
        return body
    lines = body.split("\n")
    fenced = False
    for number, line in enumerate(lines):
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if fenced:
            continue
        found = _TASK.match(line)
        if found is not None and found.group("mark") == " " and _key(found.group("text")) in ticked:
            start = found.start("mark")
            lines[number] = line[:start] + "x" + line[start + 1:]
    return "\n".join(lines)
