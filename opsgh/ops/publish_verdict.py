"""Publish a go/no-go verdict on its pull request: one sticky comment and one check run per head SHA.

- The comment carries the hidden marker `<!-- opsgh:gate -->` (and the SHA in a second marker). It is
  found by walking the PR's comments a page (100) at a time, edited in place when its rendered body
  differs, left alone when it is the same (no write at all), created when there is none.
- The check run `opsgh / go-no-go` on the head SHA: GO is `completed/success`, NO-GO is
  `completed/failure`, PENDING is `in_progress` without a conclusion. Not `neutral`: GitHub counts
  neutral as passing, so a required `opsgh / go-no-go` would let a PR merge while the gate is still
  waiting; `in_progress` keeps it blocked until a later run decides. An existing run on the SHA
  (GET .../check-runs?check_name=) is updated, never duplicated, and not touched when unchanged.
- Tokens that may not create check runs (classic and fine-grained PATs, OAuth: GitHub answers 403
  "You must authenticate via a GitHub App.") get a commit status with the same context instead
  (success / failure / pending, description <= 140 characters).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from opsgh.errors import Forbidden
from opsgh.gate.verdict import Verdict, VerdictState
from opsgh.ops.gate import GATE_CHECK_NAME
from opsgh.ports import CommentRef, VerdictPort
from opsgh.render.engine import Renderer

MARKER = "<!-- opsgh:gate -->"
CHECK_NAME = GATE_CHECK_NAME
SUMMARY_LIMIT = 65_535  # GitHub's limit on a check run's output.summary
COMMENT_LIMIT = 65_536  # GitHub's limit on a comment body
DESCRIPTION_LIMIT = 140  # GitHub's limit on a commit status description

CONCLUSIONS: Mapping[VerdictState, str | None] = {
    VerdictState.GO: "success", VerdictState.NO_GO: "failure", VerdictState.PENDING: None}
STATUS_STATES: Mapping[VerdictState, str] = {
    VerdictState.GO: "success", VerdictState.NO_GO: "failure", VerdictState.PENDING: "pending"}


@dataclass(frozen=True, slots=True)
class PublishResult:
    comment_url: str
    comment: str  # created, updated, unchanged
    check_kind: str  # check-run, status
    check: str  # created, updated, unchanged
    check_run_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"comment_url": self.comment_url, "comment": self.comment, "check_kind": self.check_kind,
                "check": self.check, "check_run_id": self.check_run_id}


def cut(text: str, limit: int, note: str) -> str:
    """`text` within `limit` characters: cut at a line end and say so (never mid-line, never silently)."""
    if len(text) <= limit:
        return text
    tail = f"\n\n{note}\n"
    kept = text[: limit - len(tail)]
    if "\n" in kept:
        kept = kept[: kept.rindex("\n")]
    return kept + tail


def template_context(verdict: Verdict, number: int | None, comment_url: str | None = None) -> dict[str, Any]:
    return {"state": str(verdict.state), "sha": verdict.sha, "short_sha": verdict.sha[:7], "number": number,
            "reasons": list(verdict.reasons), "warnings": list(verdict.warnings),
            "results": [r.as_dict() for r in verdict.results], "comment_url": comment_url}


def comment_body(verdict: Verdict, number: int, renderer: Renderer) -> str:
    """The sticky comment: the markers (not from the template, so an override cannot lose them), then
    the rendered verdict."""
    head = f"{MARKER}\n<!-- opsgh:gate sha={verdict.sha} -->\n"
    text = renderer.render("gate_comment.md.j2", template_context(verdict, number))
    return head + cut(text, COMMENT_LIMIT - len(head), "_(cut: the comment reached GitHub's size limit)_")


def summary_text(verdict: Verdict, number: int | None, renderer: Renderer, comment_url: str | None = None) -> str:
    """The job summary and the check run's output.summary (cut to GitHub's 65,535 characters)."""
    text = renderer.render("gate_summary.md.j2", template_context(verdict, number, comment_url))
    return cut(text, SUMMARY_LIMIT, "_(cut: the summary reached GitHub's size limit; the PR comment has it all)_")


def check_title(verdict: Verdict) -> str:
    if verdict.state is VerdictState.GO:
        return f"GO at {verdict.sha[:7]}"
    count = len(verdict.reasons)
    return f"{verdict.state} at {verdict.sha[:7]}: {count} reason{'s' if count != 1 else ''}"


def status_description(verdict: Verdict) -> str:
    text = check_title(verdict)
    if verdict.reasons:
        text += f" ({verdict.reasons[0]})"
    text = " ".join(text.split())
    return text if len(text) <= DESCRIPTION_LIMIT else text[: DESCRIPTION_LIMIT - 1] + "…"


def find_comment(port: VerdictPort, repo: str, number: int, author: str | None) -> CommentRef | None:
    """Our comment: the first one with the marker (by `author` when known), through every page."""
    for comment in port.iter_issue_comments(repo, number):
        if MARKER in comment.body and (author is None or comment.author == author):
            return comment
    return None


def publish_comment(port: VerdictPort, repo: str, number: int, body: str,
                    author: str | None = None) -> tuple[CommentRef, str]:
    found = find_comment(port, repo, number, author)
    if found is None:
        return port.create_issue_comment(repo, number, body), "created"
    if found.body.replace("\r\n", "\n").rstrip() == body.rstrip():
        return found, "unchanged"
    return port.update_issue_comment(repo, found.id, body), "updated"


def publish_check(port: VerdictPort, repo: str, verdict: Verdict, summary: str,
                  details_url: str | None = None) -> tuple[str, str, int | None]:
    """(kind, action, run id): the check run, or the commit status when check runs are not allowed."""
    conclusion = CONCLUSIONS[verdict.state]
    status = "completed" if conclusion is not None else "in_progress"
    title = check_title(verdict)
    if port.check_runs_allowed():
        try:
            existing = port.find_check_run(repo, verdict.sha, CHECK_NAME)
            if existing is None:
                run = port.create_check_run(repo, name=CHECK_NAME, head_sha=verdict.sha, status=status,
                                            conclusion=conclusion, title=title, summary=summary,
                                            details_url=details_url)
                return "check-run", "created", run.id
            if (existing.status, existing.conclusion, existing.title, existing.summary) == (
                    status, conclusion, title, summary):
                return "check-run", "unchanged", existing.id
            run = port.update_check_run(repo, existing.id, status=status, conclusion=conclusion, title=title,
                                        summary=summary)
            return "check-run", "updated", run.id
        except Forbidden:
            pass  # an App without `checks: write`, or a token GitHub would not let create runs: a status
    return "status", publish_status(port, repo, verdict, details_url), None


def publish_status(port: VerdictPort, repo: str, verdict: Verdict, target_url: str | None) -> str:
    state, description = STATUS_STATES[verdict.state], status_description(verdict)
    # GitHub lists a commit's statuses newest first; the first with our context is the current one.
    current = next((s for s in port.list_commit_statuses(repo, verdict.sha) if s.context == CHECK_NAME), None)
    if current is not None and (current.state, current.description or "") == (state, description):
        return "unchanged"
    port.create_commit_status(repo, verdict.sha, state, CHECK_NAME, description, target_url)
    return "created" if current is None else "updated"


def publish_verdict(port: VerdictPort, repo: str, number: int, verdict: Verdict, *,
                    renderer: Renderer | None = None, author: str | None = None) -> PublishResult:
    """Publish `verdict` (bound to its head SHA) on PR `number`: the sticky comment, then the check run
    (or commit status) linking to it. Writes only what changed."""
    renderer = renderer or Renderer()
    comment, comment_action = publish_comment(port, repo, number, comment_body(verdict, number, renderer), author)
    summary = summary_text(verdict, number, renderer, comment.url)
    kind, action, run_id = publish_check(port, repo, verdict, summary, comment.url)
    return PublishResult(comment.url, comment_action, kind, action, run_id)
