"""Pull request reviews and review requests.

Reviews are kept on the pull request (`PullRequest.reviews`); what they mean for merging
(`reviewDecision`, required approvals from users with write access, the latest review per user) is
in routes/pulls.py (`review_summary`).
"""

from __future__ import annotations

from typing import Any

from opsgh.sandbox import render, render_pulls
from opsgh.sandbox.routes.pulls import (
    REVIEW_EVENTS,
    PullRequest,
    Review,
    actions_may_create_pulls,
    find_pull,
    sync_pull,
)
from opsgh.sandbox.routing import ApiError, Request, Response, RouteTable, not_found, paginate, validation_failed
from opsgh.sandbox.state import RepoState

routes = RouteTable()


def _pull(request: Request, repo: RepoState) -> PullRequest:
    try:
        pr = find_pull(repo, int(request.params["pull_number"]))
    except ValueError:
        pr = None
    if pr is None:
        raise not_found()
    sync_pull(request.app, repo, pr)
    return pr


class _Unprocessable(ApiError):
    """GitHub's review refusals: {"message": "Unprocessable Entity", "errors": ["<text>"]} (strings)."""

    def __init__(self, text: str) -> None:
        super().__init__(422, "Unprocessable Entity")
        self.texts = [text]

    def body(self) -> dict[str, Any]:
        data = super().body()
        data["errors"] = list(self.texts)
        return data


def _unprocessable(message: str) -> ApiError:
    return _Unprocessable(message)


def _require_review_permission(request: Request, repo: RepoState) -> None:
    """Anyone who can read may review (their approval only counts with write access); integrations
    and fine-grained tokens need pull_requests=write."""
    request.require(repo, "read", permission="pull_requests")
    token = request.auth.token
    if token is None:
        raise ApiError(401, "Requires authentication")
    if token.kind != "classic-pat":
        request.require(repo, "write", permission="pull_requests")
    elif repo.private is False and "repo" not in token.scopes and "public_repo" not in token.scopes:
        raise ApiError(404, "Not Found", headers={"x-accepted-oauth-scopes": "repo"})


@routes.get("/repos/{owner}/{repo}/pulls/{pull_number}/reviews")
def list_reviews(request: Request) -> Response:
    repo = request.repo("read", permission="pull_requests")
    pr = _pull(request, repo)
    viewer = (request.auth.login or "").lower()
    visible = [r for r in pr.reviews if r.state != "PENDING" or r.user.lower() == viewer]
    page = paginate(request, visible)
    return page.response(lambda item: render_pulls.review(request, repo, pr, item))


@routes.post("/repos/{owner}/{repo}/pulls/{pull_number}/reviews")
def create_review(request: Request) -> Response:
    repo = request.repo("read", permission="pull_requests")
    _require_review_permission(request, repo)
    pr = _pull(request, repo)
    body = request.json_object()
    event, text, commit_id = body.get("event"), body.get("body"), body.get("commit_id")
    login = request.auth.login or ""
    if event is not None and event not in REVIEW_EVENTS:
        raise validation_failed("PullRequestReview", "event", "invalid")
    if text is not None and not isinstance(text, str):
        raise validation_failed("PullRequestReview", "body", "invalid")
    if event in ("APPROVE", "REQUEST_CHANGES") and login.lower() == pr.user.lower():
        raise _unprocessable("Can not approve your own pull request" if event == "APPROVE"
                             else "Can not request changes on your own pull request")
    token = request.auth.token
    if event == "APPROVE" and token is not None and token.kind == "actions" and not actions_may_create_pulls(repo):
        raise _unprocessable("GitHub Actions is not permitted to approve pull requests.")
    if event in ("REQUEST_CHANGES", "COMMENT") and not text:
        raise _unprocessable(f"Review Can not {'request changes' if event == 'REQUEST_CHANGES' else 'comment'} "
                             "without a body")
    if pr.merged and event in ("APPROVE", "REQUEST_CHANGES"):
        raise _unprocessable("Can not review a merged pull request")
    if commit_id is not None:
        git = request.app.git_repo(repo)
        if not isinstance(commit_id, str) or git.resolve(commit_id) is None:
            raise validation_failed("PullRequestReview", "commit_id", "invalid")
    if event is None and any(r.state == "PENDING" and r.user.lower() == login.lower() for r in pr.reviews):
        raise _unprocessable("User can only have one pending review per pull request")
    now = request.app.now()
    state = REVIEW_EVENTS[event] if event is not None else "PENDING"
    item = Review(request.app.state.next_id("pull_review"), login, state, text or "",
                  str(commit_id) if commit_id else pr.head_sha, None if state == "PENDING" else now, now)
    pr.reviews.append(item)
    if state != "PENDING":
        pr.requested_reviewers = [u for u in pr.requested_reviewers if u.lower() != login.lower()]
        pr.updated_at = now
    return Response(200, render_pulls.review(request, repo, pr, item))


def _requested(request: Request, repo: RepoState, pr: PullRequest) -> dict[str, Any]:
    return {"users": [render.user_by_login(request, u) for u in pr.requested_reviewers],
            "teams": [render_pulls.team_simple(request, repo, t) for t in pr.requested_teams]}


def _logins(body: dict[str, Any], name: str) -> list[str]:
    value = body.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise validation_failed("PullRequest", name, "invalid")
    return list(value)


@routes.get("/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers")
def list_requested_reviewers(request: Request) -> Response:
    repo = request.repo("read", permission="pull_requests")
    return Response(200, _requested(request, repo, _pull(request, repo)))


@routes.post("/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers")
def request_reviewers(request: Request) -> Response:
    repo = request.repo("triage", permission="pull_requests")
    pr = _pull(request, repo)
    body = request.json_object()
    users, teams = _logins(body, "reviewers"), _logins(body, "team_reviewers")
    if any(u.lower() == pr.user.lower() for u in users):
        raise _unprocessable_request("Review cannot be requested from pull request author.")
    owner = request.app.state.user(repo.owner)
    if any(repo.role_of(u) is None for u in users) or (teams and (owner is None or owner.type != "Organization")):
        raise _unprocessable_request(
            "Reviews may only be requested from collaborators. One or more of the users or teams you specified "
            f"is not a collaborator of the {repo.full_name} repository.")
    known = {u.lower() for u in pr.requested_reviewers}
    for login in users:
        user = request.app.state.user(login)
        name = user.login if user is not None else login
        if name.lower() not in known:
            pr.requested_reviewers.append(name)
            known.add(name.lower())
    pr.requested_teams += [t for t in teams if t not in pr.requested_teams]
    pr.updated_at = request.app.now()
    return Response(201, render_pulls.pull_request_simple(request, repo, pr))


def _unprocessable_request(message: str) -> ApiError:
    return ApiError(422, "Validation Failed", [{"resource": "PullRequest", "code": "custom", "message": message}])


@routes.delete("/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers")
def remove_requested_reviewers(request: Request) -> Response:
    repo = request.repo("triage", permission="pull_requests")
    pr = _pull(request, repo)
    body = request.json_object()
    if "reviewers" not in body:
        raise validation_failed("PullRequest", "reviewers", "missing_field")
    users = {u.lower() for u in _logins(body, "reviewers")}
    teams = set(_logins(body, "team_reviewers"))
    pr.requested_reviewers = [u for u in pr.requested_reviewers if u.lower() not in users]
    pr.requested_teams = [t for t in pr.requested_teams if t not in teams]
    pr.updated_at = request.app.now()
    return Response(200, render_pulls.pull_request_simple(request, repo, pr))
