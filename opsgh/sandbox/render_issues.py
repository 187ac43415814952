"""GitHub's JSON for issues, labels, issue comments, reactions and the Apps that act through tokens.

Shared by routes/issues.py, labels.py, comments.py, search.py and the check-run, deployment and release
routes (`integration_json`, `acting_app_id`). The state types are only imported for type checking:
the route modules that own them import this module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opsgh.sandbox import render
from opsgh.sandbox.routing import Request
from opsgh.sandbox.state import App, RepoState, User

if TYPE_CHECKING:
    from opsgh.sandbox.routes.comments import IssueComment, Reaction
    from opsgh.sandbox.routes.issues import IssueView, Label

# The GitHub Actions App: what check runs, deployments and comments made with a workflow's
# GITHUB_TOKEN name as their `app` / `performed_via_github_app`.
ACTIONS_APP_ID = 15368
ACTIONS_APP_SLUG = "github-actions"
GITHUB_ORG_ID = 9919
REACTION_CONTENTS = ("+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes")


def acting_app_id(request: Request) -> int | None:
    """The App behind the caller's token: the installation's App, GitHub Actions, or None for users."""
    token = request.auth.token
    if token is None:
        return None
    if token.kind == "actions":
        return ACTIONS_APP_ID
    if token.installation_id is not None:
        installation = request.app.state.installations.get(token.installation_id)
        return installation.app_id if installation is not None else None
    return None


def app_slug(request: Request, app_id: int) -> str:
    if app_id == ACTIONS_APP_ID:
        return ACTIONS_APP_SLUG
    app = request.app.state.apps.get(app_id)
    return app.slug if app is not None else f"app-{app_id}"


def integration_json(request: Request, app_id: int | None) -> dict[str, Any] | None:
    """The `integration` object of an App by id (GitHub Actions included), or None."""
    if app_id is None:
        return None
    from opsgh.sandbox.routes.apps import integration

    app = request.app.state.apps.get(app_id)
    if app is not None:
        return integration(request, app)
    github = request.app.state.user("github") or User("github", GITHUB_ORG_ID, "Organization")
    actions = App(ACTIONS_APP_ID, ACTIONS_APP_SLUG, "GitHub Actions", github.login, "",
                  {"actions": "write", "checks": "write", "contents": "write", "deployments": "write",
                   "issues": "write", "metadata": "read", "pull_requests": "write", "statuses": "write"},
                  ["check_run", "check_suite", "deployment", "deployment_status", "issue_comment", "issues",
                   "pull_request", "push", "release", "status", "workflow_dispatch"])
    data = integration(request, actions)
    data["owner"] = render.simple_user(request, github)
    data["description"] = "Automate your workflow from idea to production"
    data["external_url"] = "https://help.github.com/en/actions"
    data.pop("installations_count", None)
    return data


def author_association(repo: RepoState, login: str | None) -> str:
    if login is None:
        return "NONE"
    if login.lower() == repo.owner.lower():
        return "OWNER"
    if repo.role_of(login) is not None:
        return "COLLABORATOR"
    return "NONE"


def user_or_none(request: Request, login: str | None) -> dict[str, Any] | None:
    return render.user_by_login(request, login) if login else None


def reaction_rollup(url: str, counts: dict[str, int] | None = None) -> dict[str, Any]:
    counts = counts or {}
    data: dict[str, Any] = {"url": url, "total_count": sum(counts.values())}
    data.update({content: counts.get(content, 0) for content in REACTION_CONTENTS})
    return data


# ---------------------------------------------------------------------------------------------------
# Labels


def label(request: Request, repo: RepoState, item: Label) -> dict[str, Any]:
    return {
        "id": item.id,
        "node_id": render.node_id("Label", item.id),
        "url": request.api_url(f"/repos/{repo.full_name}/labels/{render.q(item.name).replace('/', '%2F')}"),
        "name": item.name,
        "color": item.color,
        "default": item.default,
        "description": item.description,
    }


# ---------------------------------------------------------------------------------------------------
# Issues


def issue(request: Request, repo: RepoState, view: IssueView, labels: list[Label], comments: int, *,
          search_score: float | None = None) -> dict[str, Any]:
    """The `issue` object (a pull request's issue side carries `pull_request`); with `search_score`,
    the `issue-search-result-item` of GET /search/issues."""
    record = view.record
    base = request.api_url(f"/repos/{repo.full_name}")
    url = f"{base}/issues/{view.number}"
    html_kind = "pull" if view.pull is not None else "issues"
    html_url = request.html_url(f"/{repo.full_name}/{html_kind}/{view.number}")
    assignees = [render.user_by_login(request, login) for login in record.assignees]
    data: dict[str, Any] = {
        "id": record.id,
        "node_id": render.node_id("Issue" if view.pull is None else "PullRequest", record.id),
        "url": url,
        "repository_url": base,
        "labels_url": f"{url}/labels{{/name}}",
        "comments_url": f"{url}/comments",
        "events_url": f"{url}/events",
        "html_url": html_url,
        "number": view.number,
        "state": view.state,
        "state_reason": record.state_reason if view.pull is None else None,
        "title": view.title,
        "body": view.body,
        "user": user_or_none(request, view.user),
        "labels": [label(request, repo, item) for item in labels],
        "assignee": assignees[0] if assignees else None,
        "assignees": assignees,
        "milestone": None,
        "locked": record.locked,
        "active_lock_reason": None,
        "comments": comments,
        "closed_at": render.iso(view.closed_at) if view.closed_at is not None else None,
        "created_at": render.iso(view.created_at),
        "updated_at": render.iso(view.updated_at),
        "author_association": author_association(repo, view.user),
        "reactions": reaction_rollup(f"{url}/reactions"),
        "timeline_url": f"{url}/timeline",
        "performed_via_github_app": integration_json(request, record.app_id),
    }
    if view.pull is not None:
        pull_url = f"{base}/pulls/{view.number}"
        data["draft"] = view.pull.draft
        data["pull_request"] = {
            "url": pull_url,
            "html_url": html_url,
            "diff_url": f"{html_url}.diff",
            "patch_url": f"{html_url}.patch",
            "merged_at": render.iso(view.pull.merged_at) if view.pull.merged_at is not None else None,
        }
    if search_score is not None:
        data["score"] = search_score
        if data["body"] is None:
            data.pop("body")  # the search item's body is not nullable: GitHub leaves it out
    else:
        data["closed_by"] = user_or_none(request, record.closed_by) if view.state == "closed" else None
    return data


# ---------------------------------------------------------------------------------------------------
# Comments and reactions


def comment(request: Request, repo: RepoState, item: IssueComment, reactions: dict[str, int] | None = None
            ) -> dict[str, Any]:
    base = request.api_url(f"/repos/{repo.full_name}")
    url = f"{base}/issues/comments/{item.id}"
    return {
        "id": item.id,
        "node_id": render.node_id("IssueComment", item.id),
        "url": url,
        "html_url": request.html_url(f"/{repo.full_name}/issues/{item.issue_number}#issuecomment-{item.id}"),
        "body": item.body,
        "user": user_or_none(request, item.user),
        "created_at": render.iso(item.created_at),
        "updated_at": render.iso(item.updated_at),
        "issue_url": f"{base}/issues/{item.issue_number}",
        "author_association": author_association(repo, item.user),
        "performed_via_github_app": integration_json(request, item.app_id),
        "reactions": reaction_rollup(f"{url}/reactions", reactions),
    }


def reaction(request: Request, item: Reaction) -> dict[str, Any]:
    return {
        "id": item.id,
        "node_id": render.node_id("Reaction", item.id),
        "user": user_or_none(request, item.user),
        "content": item.content,
        "created_at": render.iso(item.created_at),
    }
