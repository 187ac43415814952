"""The gate's PR comment and job summary against golden files, and the cuts to GitHub's limits.

Regenerate the golden files after a deliberate template change:
    UPDATE_GOLDEN=1 .venv/bin/pytest tests/unit/test_gate_render.py
then review the diff of tests/unit/golden/ like any other change.
"""

from __future__ import annotations

from golden_files import check_golden

from opsgh.gate.verdict import CriterionResult, Outcome, Verdict, VerdictState
from opsgh.ops.publish_verdict import (
    COMMENT_LIMIT,
    MARKER,
    SUMMARY_LIMIT,
    comment_body,
    status_description,
    summary_text,
)
from opsgh.render.engine import Renderer

SHA = "3f1c2d4e5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d"

NO_GO = Verdict.combine(SHA, [
    CriterionResult("checks", "Required checks", Outcome.FAIL, "1 of 2 required checks passed; 'e2e' failed",
                    ("ci: completed/success", "e2e: completed/failure")),
    CriterionResult("approvals", "Approvals", Outcome.FAIL, "0 of 1 approvals"),
    CriterionResult("mergeability", "Mergeability", Outcome.PASS, "mergeable (CLEAN)"),
    CriterionResult("windows", "Deploy windows", Outcome.SKIP, "no window configured"),
    CriterionResult("checklist", "Checklist", Outcome.FAIL, "1 box unchecked: a | b <script>", blocking=False),
])




def test_comment_golden_verdict_first_then_table_then_folded_details() -> None:
    body = comment_body(NO_GO, 42, Renderer())
    check_golden("gate_comment.md", body)
    lines = body.splitlines()
    assert lines[0] == MARKER
    assert lines[2] == "### Go/no-go: **NO-GO** at `3f1c2d4`"
    assert body.index("Why not GO:") < body.index("| Outcome |") < body.index("<details>")
    assert "a \\| b &lt;script&gt;" in body  # a pipe cannot break the table, no raw HTML


def test_summary_golden() -> None:
    go = Verdict(VerdictState.GO, SHA, tuple(r for r in NO_GO.results if r.outcome is not Outcome.FAIL))
    check_golden("gate_summary.md", summary_text(go, 42, Renderer(), "https://github.com/acme/shop/pull/42#c1"))


def test_huge_verdicts_are_cut_at_a_line_and_say_so() -> None:
    many = Verdict.combine(SHA, [CriterionResult("checks", "Required checks", Outcome.FAIL, "4000 failed",
                                                 tuple(f"check-{i:05}: completed/failure" for i in range(4000)))])
    summary = summary_text(many, 42, Renderer())
    assert len(summary) <= SUMMARY_LIMIT
    body = comment_body(many, 42, Renderer())
    assert len(body) <= COMMENT_LIMIT
    assert body.rstrip().endswith("_(cut: the comment reached GitHub's size limit)_")
    assert body.startswith(MARKER)
    description = status_description(NO_GO)
    assert len(description) <= 140
    assert description.startswith("NO-GO at 3f1c2d4: 2 reasons")
