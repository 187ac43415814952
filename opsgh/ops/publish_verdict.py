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
- The check is written before the comment, so an unchanged comment proves the last publish finished;
  given the head's checks as the gate read them (`head_checks`, with our check run's id and our
  status's description), an unchanged comment and our check already in the verdict's state cost one
  request (the comments) and no write; a changed verdict updates our run by its id, and a head without
  our check (a new push) creates one: no lookup in either case.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from opsgh.errors import Forbidden
from opsgh.gate.verdict import Verdict, VerdictState
from opsgh.ops.gate import GATE_CHECK_NAME
from opsgh.ops.writes import write_once
from opsgh.ports import CheckContextState, CommentRef, VerdictPort
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


def same_body(found: CommentRef, body: str) -> bool:
    return found.body.replace("\r\n", "\n").rstrip() == body.rstrip()


def publish_comment(port: VerdictPort, repo: str, number: int, body: str, found: CommentRef | None) -> tuple[
        CommentRef, str]:
    if found is None:
        # After an ambiguous failure (it may have landed), the comment is looked for before another is made.
        created = write_once(lambda: port.create_issue_comment(repo, number, body),
                             lambda: find_comment(port, repo, number, None))
        return created, "created"
    if same_body(found, body):
        return found, "unchanged"
    return port.update_issue_comment(repo, found.id, body), "updated"


def check_shown(verdict: Verdict, head_checks: Sequence[CheckContextState], check_runs: bool) -> bool:
    """Whether the head's checks (as the gate read them) already show our check in the verdict's state."""
    if check_runs:
        wanted = {VerdictState.GO: "completed/success", VerdictState.NO_GO: "completed/failure",
                  VerdictState.PENDING: "in_progress"}[verdict.state]
    else:
        wanted = STATUS_STATES[verdict.state]
    ours = [c.detail for c in head_checks if c.name == CHECK_NAME]
    return ours == [wanted]


def publish_check(port: VerdictPort, repo: str, verdict: Verdict, summary: str,
                  head_checks: Sequence[CheckContextState] | None = None) -> tuple[str, str, int | None]:
    """(kind, action, run id): the check run, or the commit status when check runs are not allowed.

    `head_checks`, the head's checks as the gate just read them, spare the lookups: none of ours means
    nothing to find; our check run's id (or our status's state and description) is already there.
    """
    conclusion = CONCLUSIONS[verdict.state]
    status = "completed" if conclusion is not None else "in_progress"
    title = check_title(verdict)
    ours = None if head_checks is None else [c for c in head_checks if c.name == CHECK_NAME]
    if port.check_runs_allowed():
        try:
            known_id = next((c.run_id for c in ours or () if c.run_id is not None), None)
            if known_id is not None:
                # Called because the verdict's text changed (publish_verdict skips the unchanged case).
                run = port.update_check_run(repo, known_id, status=status, conclusion=conclusion, title=title,
                                            summary=summary)
                return "check-run", "updated", run.id
            existing = None if ours == [] else port.find_check_run(repo, verdict.sha, CHECK_NAME)
            if existing is None:
                run = write_once(lambda: port.create_check_run(repo, name=CHECK_NAME, head_sha=verdict.sha,
                                                               status=status, conclusion=conclusion, title=title,
                                                               summary=summary),
                                 lambda: port.find_check_run(repo, verdict.sha, CHECK_NAME))
                return "check-run", "created", run.id
            if (existing.status, existing.conclusion, existing.title, existing.summary) == (
                    status, conclusion, title, summary):
                return "check-run", "unchanged", existing.id
            run = port.update_check_run(repo, existing.id, status=status, conclusion=conclusion, title=title,
                                        summary=summary)
            return "check-run", "updated", run.id
        except Forbidden:
            pass  # an App without `checks: write`, or a token GitHub would not let create runs: a status
    return "status", publish_status(port, repo, verdict, ours), None


def publish_status(port: VerdictPort, repo: str, verdict: Verdict,
                   ours: Sequence[CheckContextState] | None = None) -> str:
    """The commit status; `ours`: our statuses among the head's checks as read (None: look them up)."""
    state, description = STATUS_STATES[verdict.state], status_description(verdict)
    current: tuple[str, str] | None
    if ours is not None:
        # The rollup holds the newest status per context, already in GitHub's lower-case state names.
        current = next(((c.detail, c.description or "") for c in ours if c.run_id is None), None)
    else:
        # GitHub lists a commit's statuses newest first; the first with our context is the current one.
        found = next((s for s in port.list_commit_statuses(repo, verdict.sha) if s.context == CHECK_NAME), None)
        current = None if found is None else (found.state, found.description or "")
    if current == (state, description):
        return "unchanged"
    port.create_commit_status(repo, verdict.sha, state, CHECK_NAME, description)
    return "created" if current is None else "updated"


def publish_verdict(port: VerdictPort, repo: str, number: int, verdict: Verdict, *,
                    renderer: Renderer | None = None, author: str | None = None,
                    head_checks: Sequence[CheckContextState] | None = None) -> PublishResult:
    """Publish `verdict` (bound to its head SHA) on PR `number`: the check run (or commit status), then
    the sticky comment. Writes only what changed.

    The check goes first so that an unchanged comment proves the previous publish finished: with
    `head_checks` (the head's checks as the gate read them), an unchanged comment and our check already
    in the verdict's state cost no more request than reading the comments.
    """
    renderer = renderer or Renderer()
    body = comment_body(verdict, number, renderer)
    found = find_comment(port, repo, number, author)
    check_runs = port.check_runs_allowed()
    if (found is not None and same_body(found, body) and head_checks is not None
            and check_shown(verdict, head_checks, check_runs)):
        return PublishResult(found.url, "unchanged", "check-run" if check_runs else "status", "unchanged")
    kind, action, run_id = publish_check(port, repo, verdict, summary_text(verdict, number, renderer),
                                         head_checks)
    comment, comment_action = publish_comment(port, repo, number, body, found)
    return PublishResult(comment.url, comment_action, kind, action, run_id)
