"""Issue comments (on issues and pull requests alike) and their reactions.

Collections (per repository): `issue_comments` (`IssueComment` by id) and `issue_comment_reactions`
(`Reaction` by id). The author is whoever the token belongs to (a bot for App and Actions tokens,
with `performed_via_github_app`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from opsgh.sandbox import render_issues
from opsgh.sandbox.routes.issues import (
    BODY_LIMIT,
    IssueView,
    find_issue,
    get_issue_or_404,
    issue_permission,
    require_participant,
    update_pull,
)
from opsgh.sandbox.routing import ApiError, Request, Response, RouteTable, not_found, paginate, validation_failed
from opsgh.sandbox.state import Collection, RepoState, role_at_least

routes = RouteTable()


@dataclass
class IssueComment:
    id: int
    issue_number: int
    user: str | None
    body: str
    created_at: float
    updated_at: float
    app_id: int | None = None


@dataclass
class Reaction:
    id: int
    comment_id: int
    user: str | None
    content: str
    created_at: float


COMMENTS: Collection[int, IssueComment] = Collection("issue_comments", IssueComment, key=int)
REACTIONS: Collection[int, Reaction] = Collection("issue_comment_reactions", Reaction, key=int)


def _comment_body(request: Request) -> str:
    data = request.json_object()
    if "body" not in data:
        raise ApiError(422, 'Invalid request.\n\n"body" wasn\'t supplied.')
    body = data["body"]
    if not isinstance(body, str):
        raise ApiError(422, 'Invalid request.\n\nFor \'properties/body\', ' + repr(body) + ' is not a string.')
    if not body.strip():
        raise validation_failed("IssueComment", "data", "unprocessable", "Body cannot be blank")
    if len(body) > BODY_LIMIT:
        raise validation_failed("IssueComment", "data", "unprocessable",
                                f"Body is too long (maximum is {BODY_LIMIT} characters)")
    return body


def _since(request: Request) -> float | None:
    raw = request.arg("since")
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise validation_failed("IssueComment", "since", "invalid") from None


def _counts(repo: RepoState, comment_id: int) -> dict[str, int]:
    return dict(Counter(r.content for r in repo.items(REACTIONS).values() if r.comment_id == comment_id))


def _render(request: Request, repo: RepoState, comment: IssueComment) -> dict[str, Any]:
    return render_issues.comment(request, repo, comment, _counts(repo, comment.id))


def _comment_or_404(request: Request, repo: RepoState) -> IssueComment:
    try:
        comment = repo.items(COMMENTS).get(int(request.params["comment_id"]))
    except ValueError:
        comment = None
    if comment is None:
        raise not_found()
    return comment


def _view_of(request: Request, repo: RepoState, comment: IssueComment) -> IssueView | None:
    return find_issue(request, repo, comment.issue_number)


def _require_editor(request: Request, repo: RepoState, comment: IssueComment) -> None:
    """Authors edit and delete their own comments; others need push access."""
    permission = issue_permission(_view_of(request, repo, comment))
    login = request.auth.login
    if login is not None and comment.user is not None and login.lower() == comment.user.lower():
        require_participant(request, repo, permission)
    else:
        request.require(repo, "write", permission=permission)


def _touch_issue(request: Request, repo: RepoState, view: IssueView) -> None:
    view.record.updated_at = request.app.now()
    if view.pull is not None:
        update_pull(repo, view.number, updated_at=view.record.updated_at)


@routes.get("/repos/{owner}/{repo}/issues/{issue_number}/comments")
def list_issue_comments(request: Request) -> Response:
    repo = request.repo("read", permission="issues")
    view = get_issue_or_404(request, repo)
    since = _since(request)
    comments = sorted((c for c in repo.items(COMMENTS).values()
                       if c.issue_number == view.number and (since is None or c.updated_at >= since)),
                      key=lambda c: c.id)
    return paginate(request, comments).response(lambda c: _render(request, repo, c))


@routes.post("/repos/{owner}/{repo}/issues/{issue_number}/comments")
def create_issue_comment(request: Request) -> Response:
    repo = request.repo("read", permission="issues")
    view = get_issue_or_404(request, repo)
    require_participant(request, repo, issue_permission(view))
    if view.record.locked and not role_at_least(request.role(repo), "write"):
        raise ApiError(403, "Unable to create comment because issue is locked.")
    body = _comment_body(request)
    now = request.app.now()
    comment = IssueComment(request.app.state.next_id("issue_comment"), view.number, request.auth.login, body,
                           now, now, render_issues.acting_app_id(request))
    repo.items(COMMENTS)[comment.id] = comment
    _touch_issue(request, repo, view)
    data = _render(request, repo, comment)
    return Response(201, data, {"location": str(data["url"])})


@routes.get("/repos/{owner}/{repo}/issues/comments")
def list_repo_comments(request: Request) -> Response:
    repo = request.repo("read", permission="issues")
    since = _since(request)
    sort = request.arg("sort", "created")
    descending = request.arg("direction", "asc") == "desc"
    comments = [c for c in repo.items(COMMENTS).values() if since is None or c.updated_at >= since]
    comments.sort(key=lambda c: (c.updated_at if sort == "updated" else c.created_at, c.id), reverse=descending)
    return paginate(request, comments).response(lambda c: _render(request, repo, c))


@routes.get("/repos/{owner}/{repo}/issues/comments/{comment_id}")
def get_comment(request: Request) -> Response:
    repo = request.repo("read", permission="issues")
    return Response(200, _render(request, repo, _comment_or_404(request, repo)))


@routes.patch("/repos/{owner}/{repo}/issues/comments/{comment_id}")
def update_comment(request: Request) -> Response:
    repo = request.repo("read", permission="issues")
    comment = _comment_or_404(request, repo)
    _require_editor(request, repo, comment)
    comment.body = _comment_body(request)
    comment.updated_at = request.app.now()
    return Response(200, _render(request, repo, comment))


@routes.delete("/repos/{owner}/{repo}/issues/comments/{comment_id}")
def delete_comment(request: Request) -> Response:
    repo = request.repo("read", permission="issues")
    comment = _comment_or_404(request, repo)
    _require_editor(request, repo, comment)
    del repo.items(COMMENTS)[comment.id]
    reactions = repo.items(REACTIONS)
    for reaction_id in [r.id for r in reactions.values() if r.comment_id == comment.id]:
        del reactions[reaction_id]
    return Response(204)


# ---------------------------------------------------------------------------------------------------
# Reactions


@routes.get("/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions")
def list_reactions(request: Request) -> Response:
    repo = request.repo("read", permission="issues")
    comment = _comment_or_404(request, repo)
    content = request.arg("content")
    reactions = sorted((r for r in repo.items(REACTIONS).values()
                        if r.comment_id == comment.id and content in (None, "", r.content)), key=lambda r: r.id)
    return paginate(request, reactions).response(lambda r: render_issues.reaction(request, r))


@routes.post("/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions")
def create_reaction(request: Request) -> Response:
    repo = request.repo("read", permission="issues")
    comment = _comment_or_404(request, repo)
    require_participant(request, repo, issue_permission(_view_of(request, repo, comment)))
    content = request.json_object().get("content")
    if content not in render_issues.REACTION_CONTENTS:
        raise validation_failed("Reaction", "content", "invalid")
    reactions = repo.items(REACTIONS)
    login = request.auth.login
    for existing in reactions.values():
        if existing.comment_id == comment.id and existing.content == content and existing.user == login:
            return Response(200, render_issues.reaction(request, existing))
    reaction = Reaction(request.app.state.next_id("reaction"), comment.id, login, str(content), request.app.now())
    reactions[reaction.id] = reaction
    return Response(201, render_issues.reaction(request, reaction))


@routes.delete("/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions/{reaction_id}")
def delete_reaction(request: Request) -> Response:
    repo = request.repo("read", permission="issues")
    comment = _comment_or_404(request, repo)
    reactions = repo.items(REACTIONS)
    try:
        reaction = reactions.get(int(request.params["reaction_id"]))
    except ValueError:
        reaction = None
    if reaction is None or reaction.comment_id != comment.id:
        raise not_found()
    login = request.auth.login
    if login is not None and reaction.user is not None and login.lower() == reaction.user.lower():
        require_participant(request, repo, issue_permission(_view_of(request, repo, comment)))
    else:
        request.require(repo, "write", permission="issues")
    del reactions[reaction.id]
    return Response(204)
