"""GitHub task lists in PR bodies: what counts as an item, and ticks carried across a re-render."""

from __future__ import annotations

from opsgh.render.tasklist import carry_ticks, task_items


def test_task_items() -> None:
    body = ("Intro\n- [ ] one\n* [x] two\n+ [X]  three  \n1. [ ] four\n- [] not a task\n-[ ] not either\n"
            "```\n- [x] in a code block\n```\n  - [ ] nested\n")
    assert [(i.text, i.checked) for i in task_items(body)] == [
        ("one", False), ("two", True), ("three", True), ("four", False), ("nested", False)]
    assert task_items(None) == []


def test_carry_ticks_by_text_whatever_the_marker_spacing_or_case() -> None:
    previous = "- [x] Changelog  reviewed\r\n- [ ] Rollback plan\r\n* [X] release ANNOUNCEMENT drafted\r\n"
    body = "- [ ] Changelog reviewed\n- [ ] Rollback plan\n- [ ] Release announcement drafted\n- [ ] New item\n"
    carried = carry_ticks(previous, body)
    assert carried == ("- [x] Changelog reviewed\n- [ ] Rollback plan\n- [x] Release announcement drafted\n"
                       "- [ ] New item\n")
    assert len(carried) == len(body)
    assert carry_ticks(None, body) == body
