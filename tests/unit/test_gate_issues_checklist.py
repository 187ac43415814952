"""Blocking issues and the checklist criteria."""

from __future__ import annotations

from opsgh.gate.checklist import evaluate_checklist
from opsgh.gate.issues import evaluate_issues
from opsgh.gate.verdict import Outcome
from opsgh.ports import IssueInfo


def issue(number: int, *labels: str, pull: bool = False, state: str = "open") -> IssueInfo:
    return IssueInfo(number, f"issue {number}", labels, state, pull)


def test_open_issues_with_a_blocking_label_fail_pull_requests_do_not() -> None:
    result = evaluate_issues(("P0", "P1"), [issue(7, "p1"), issue(3, "P0", "bug"), issue(9, "P0", pull=True),
                                            issue(4, "P2"), issue(5, "P0", state="closed"), issue(7, "p1")])
    assert result.outcome is Outcome.FAIL
    assert result.summary == "2 open: #3, #7"
    assert evaluate_issues(("P0",), []).outcome is Outcome.PASS
    assert evaluate_issues((), [issue(1, "P0")]).outcome is Outcome.SKIP


BODY = """\
## Checklist
- [x] Backup taken
- [ ] Rollback plan confirmed
* [X] Smoke tests green

```
- [ ] not a task: inside a code block
```
"""


def test_checklist_unticked_boxes_fail_and_name_the_items() -> None:
    result = evaluate_checklist("required", BODY)
    assert result.outcome is Outcome.FAIL
    assert result.summary == "1 of 3 unticked: Rollback plan confirmed"
    assert result.blocking
    ticked = evaluate_checklist("required", BODY.replace("- [ ] Rollback", "- [x] Rollback"))
    assert ticked.outcome is Outcome.PASS


def test_checklist_modes() -> None:
    assert not evaluate_checklist("advisory", BODY).blocking
    assert evaluate_checklist("off", BODY).outcome is Outcome.SKIP
    assert evaluate_checklist("required", "no boxes here").outcome is Outcome.SKIP
    assert evaluate_checklist("required", None).outcome is Outcome.SKIP
