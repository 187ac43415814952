"""Repositories, branches and collaborator permissions."""

from __future__ import annotations

from typing import Any

from opsgh.sandbox import render
from opsgh.sandbox.routing import ApiError, Request, Response, RouteTable, not_found, paginate
from opsgh.sandbox.state import RepoState

routes = RouteTable()


def branch_sha(request: Request, repo: RepoState, branch: str) -> str:
    """The tip of `branch`, or GitHub's 404 "Branch not found"."""
    sha = request.app.git_repo(repo).ref(f"refs/heads/{branch}")
    if sha is None:
        raise ApiError(404, "Branch not found")
    return sha


@routes.get("/repos/{owner}/{repo}")
def get_repository(request: Request) -> Response:
    repo = request.repo("read", permission="metadata")
    return Response(200, render.full_repository(request, repo))


@routes.get("/repos/{owner}/{repo}/branches")
def list_branches(request: Request) -> Response:
    repo = request.repo("read", permission="metadata")
    branches = sorted(request.app.git_repo(repo).branches().items())
    protected = request.bool_arg("protected")
    if protected is not None:
        branches = [(name, sha) for name, sha in branches if (name in repo.protection) == protected]
    page = paginate(request, branches)
    return page.response(lambda item: render.short_branch(request, repo, item[0], item[1]))


@routes.get("/repos/{owner}/{repo}/branches/{branch:path}")
def get_branch(request: Request) -> Response:
    repo = request.repo("read", permission="metadata")
    name = request.params["branch"]
    sha = branch_sha(request, repo, name)
    info = request.app.git_repo(repo).commit_info(sha)
    base = request.api_url(f"/repos/{repo.full_name}/branches/{render.q(name)}")
    data: dict[str, Any] = {
        "name": name,
        "commit": render.commit(request, repo, info),
        "_links": {"self": base, "html": request.html_url(f"/{repo.full_name}/tree/{render.q(name)}")},
        "protected": name in repo.protection,
        "protection": render.protection_summary(repo, name),
        "protection_url": f"{base}/protection",
    }
    return Response(200, data)


@routes.get("/repos/{owner}/{repo}/collaborators/{username}/permission")
def get_collaborator_permission(request: Request) -> Response:
    repo = request.repo("read", permission="metadata")
    user = request.app.state.user(request.params["username"])
    if user is None:
        raise not_found()
    role = repo.role_of(user.login)
    if role is None and not repo.private:
        role = "read"
    # `permission` is the legacy level (maintain reads as write, triage as read); `role_name` is the role.
    legacy = {"admin": "admin", "maintain": "write", "write": "write", "triage": "read", "read": "read"}
    collaborator = render.simple_user(request, user)
    collaborator["permissions"] = render.permissions(role) if role else {
        "admin": False, "maintain": False, "push": False, "triage": False, "pull": False}
    collaborator["role_name"] = role or "none"
    return Response(200, {"permission": legacy.get(role or "", "none"), "role_name": role or "none",
                          "user": collaborator})
