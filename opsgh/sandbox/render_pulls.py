"""GitHub's JSON for pull requests, reviews and review requests (and a pull request seen as an issue).

Like render.py: each function takes the `Request` for absolute URLs and returns plain data that the
contract tests validate against the official OpenAPI description (`pull-request`,
`pull-request-simple`, `pull-request-review`, `team-simple`). GET /issues/{n} of a pull request is
rendered by the issues routes.
"""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING, Any

from opsgh.sandbox import render
from opsgh.sandbox.render import iso, node_id
from opsgh.sandbox.routing import Request
from opsgh.sandbox.state import RepoState

if TYPE_CHECKING:
    from opsgh.sandbox.routes.pulls import PullRequest, PullView, Review


def author_association(repo: RepoState, login: str | None) -> str:
    """OWNER, COLLABORATOR or NONE (the sandbox has no organization membership or contribution history)."""
    if login is None:
        return "NONE"
    if login.lower() == repo.owner.lower():
        return "OWNER"
    return "COLLABORATOR" if repo.role_of(login) is not None else "NONE"


def issue_side(request: Request, repo: RepoState, number: int) -> tuple[list[Any], list[str], int]:
    """(labels, assignee logins, comment count) of pull request `number`: the issue side, which
    routes/issues.py owns (empty when that module is absent)."""
    try:
        from opsgh.sandbox.routes import issues
    except ImportError:  # pragma: no cover - the issues routes ship with the sandbox
        return [], [], 0
    return (issues.issue_labels(request, repo, number), issues.issue_assignees(request, repo, number),
            issues.comment_count(repo, number))


def label(request: Request, repo: RepoState, item: Any) -> dict[str, Any]:
    """A label object from a repository label (routes/issues.py `Label`: id, name, color, description, default)."""
    name = str(getattr(item, "name", ""))
    label_id = int(getattr(item, "id", 0))
    return {
        "id": label_id,
        "node_id": node_id("Label", label_id),
        "url": request.api_url(f"/repos/{repo.full_name}/labels/{render.q(name)}"),
        "name": name,
        "description": getattr(item, "description", None),
        "color": str(getattr(item, "color", None) or "ededed"),
        "default": bool(getattr(item, "default", False)),
    }


def team_simple(request: Request, repo: RepoState, slug: str) -> dict[str, Any]:
    team_id = zlib.crc32(f"{repo.owner.lower()}/{slug}".encode())
    base = request.api_url(f"/organizations/{repo.owner}/team/{team_id}")
    return {
        "id": team_id,
        "node_id": node_id("Team", team_id),
        "url": base,
        "members_url": f"{base}/members{{/member}}",
        "name": slug,
        "description": None,
        "permission": "pull",
        "privacy": "closed",
        "notification_setting": "notifications_enabled",
        "html_url": request.html_url(f"/orgs/{repo.owner}/teams/{slug}"),
        "repositories_url": f"{base}/repos",
        "slug": slug,
        "type": "team",
    }


def _urls(request: Request, repo: RepoState, pr: PullRequest) -> dict[str, str]:
    base = request.api_url(f"/repos/{repo.full_name}")
    html = request.html_url(f"/{repo.full_name}/pull/{pr.number}")
    return {
        "url": f"{base}/pulls/{pr.number}",
        "html_url": html,
        "diff_url": f"{html}.diff",
        "patch_url": f"{html}.patch",
        "issue_url": f"{base}/issues/{pr.number}",
        "commits_url": f"{base}/pulls/{pr.number}/commits",
        "review_comments_url": f"{base}/pulls/{pr.number}/comments",
        "review_comment_url": f"{base}/pulls/comments{{/number}}",
        "comments_url": f"{base}/issues/{pr.number}/comments",
        "statuses_url": f"{base}/statuses/{pr.head_sha}",
    }


def _side(request: Request, repo: RepoState, ref: str, sha: str) -> dict[str, Any]:
    return {
        "label": f"{repo.owner}:{ref}",
        "ref": ref,
        "sha": sha,
        "user": render.user_by_login(request, repo.owner),
        "repo": render.repository(request, repo),
    }


def _user_or_none(request: Request, login: str | None) -> dict[str, Any] | None:
    return render.user_by_login(request, login) if login else None


def pull_request_simple(request: Request, repo: RepoState, pr: PullRequest) -> dict[str, Any]:
    """The `pull-request-simple` object (lists)."""
    urls = _urls(request, repo, pr)
    labels, logins, _ = issue_side(request, repo, pr.number)
    assignees = [render.user_by_login(request, login) for login in logins]
    return {
        **urls,
        "id": pr.id,
        "node_id": node_id("PullRequest", pr.id),
        "number": pr.number,
        "state": pr.state,
        "locked": pr.locked,
        "title": pr.title,
        "user": render.user_by_login(request, pr.user),
        "body": pr.body,
        "labels": [label(request, repo, item) for item in labels],
        "milestone": None,
        "active_lock_reason": None,
        "created_at": iso(pr.created_at),
        "updated_at": iso(pr.updated_at),
        "closed_at": iso(pr.closed_at) if pr.closed_at is not None else None,
        "merged_at": iso(pr.merged_at) if pr.merged_at is not None else None,
        "merge_commit_sha": pr.merge_commit_sha,
        "assignee": assignees[0] if assignees else None,
        "assignees": assignees,
        "requested_reviewers": [render.user_by_login(request, login) for login in pr.requested_reviewers],
        "requested_teams": [team_simple(request, repo, slug) for slug in pr.requested_teams],
        "head": _side(request, repo, pr.head_ref, pr.head_sha),
        "base": _side(request, repo, pr.base_ref, pr.base_sha),
        "_links": {
            "self": {"href": urls["url"]},
            "html": {"href": urls["html_url"]},
            "issue": {"href": urls["issue_url"]},
            "comments": {"href": urls["comments_url"]},
            "review_comments": {"href": urls["review_comments_url"]},
            "review_comment": {"href": urls["review_comment_url"]},
            "commits": {"href": urls["commits_url"]},
            "statuses": {"href": urls["statuses_url"]},
        },
        "author_association": author_association(repo, pr.user),
        "auto_merge": None,
        "draft": pr.draft,
    }


def pull_request(request: Request, repo: RepoState, pr: PullRequest, view: PullView) -> dict[str, Any]:
    """The full `pull-request` object (get, create, update)."""
    data = pull_request_simple(request, repo, pr)
    data.update({
        "merged": pr.merged,
        "mergeable": view.mergeable,
        "rebaseable": view.mergeable,
        "mergeable_state": view.mergeable_state,
        "merged_by": _user_or_none(request, pr.merged_by),
        "comments": issue_side(request, repo, pr.number)[2],
        "review_comments": 0,
        "maintainer_can_modify": pr.maintainer_can_modify,
        "commits": view.commits,
        "additions": view.additions,
        "deletions": view.deletions,
        "changed_files": view.changed_files,
    })
    return data


def review(request: Request, repo: RepoState, pr: PullRequest, item: Review) -> dict[str, Any]:
    """The `pull-request-review` object."""
    pull_url = request.api_url(f"/repos/{repo.full_name}/pulls/{pr.number}")
    html = request.html_url(f"/{repo.full_name}/pull/{pr.number}#pullrequestreview-{item.id}")
    data: dict[str, Any] = {
        "id": item.id,
        "node_id": node_id("PullRequestReview", item.id),
        "user": render.user_by_login(request, item.user),
        "body": item.body,
        "state": item.state,
        "html_url": html,
        "pull_request_url": pull_url,
        "author_association": author_association(repo, item.user),
        "_links": {"html": {"href": html}, "pull_request": {"href": pull_url}},
        "commit_id": item.commit_id,
    }
    if item.submitted_at is not None:
        data["submitted_at"] = iso(item.submitted_at)
    return data
