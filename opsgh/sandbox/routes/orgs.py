"""Organisations: GET /orgs/{org}/repos.

What GitHub does and the sandbox mirrors:
- 404 for an unknown login and for a user account (its repositories are under /users/{user}/repos).
- The list holds the organisation's repositories the caller may see: public ones for anyone, private ones
  for collaborators and for installation tokens that reach them (a fine-grained token or an App
  installed on selected repositories sees only those).
- `type`: all (default), public, private, forks, sources (not forks), member (the caller is a collaborator).
- `sort`: created (default), updated, pushed, full_name; `direction` defaults to asc for full_name, else desc.
- Items are `minimal-repository` objects with `topics`, `archived`, `fork` and, for an authenticated
  caller, `permissions`; pages of 30 by default, 100 at most, with GitHub's `Link` header.
"""

from __future__ import annotations

from opsgh.sandbox import render
from opsgh.sandbox.routing import Request, Response, RouteTable, not_found, paginate
from opsgh.sandbox.state import RepoState

routes = RouteTable()

SORT_KEYS = {
    "created": lambda repo: (repo.created_at, repo.id),
    "updated": lambda repo: (repo.updated_at or repo.created_at, repo.id),
    "pushed": lambda repo: (repo.pushed_at or repo.created_at, repo.id),
    "full_name": lambda repo: (repo.full_name.lower(), repo.id),
}


def _kept(request: Request, repo: RepoState, kind: str) -> bool:
    if kind == "public":
        return not repo.private
    if kind == "private":
        return repo.private
    if kind == "forks":
        return repo.fork
    if kind == "sources":
        return not repo.fork
    if kind == "member":
        return repo.role_of(request.auth.login) is not None
    return True


@routes.get("/orgs/{org}/repos")
def list_org_repos(request: Request) -> Response:
    owner = request.app.state.user(request.params["org"])
    if owner is None or owner.type != "Organization":
        raise not_found()
    kind = request.arg("type") or "all"
    sort = request.arg("sort") or "created"
    if sort not in SORT_KEYS:
        sort = "created"
    direction = request.arg("direction") or ("asc" if sort == "full_name" else "desc")
    found = [repo for repo in request.app.state.repos.values()
             if repo.owner.lower() == owner.login.lower() and request.can_read(repo) and _kept(request, repo, kind)]
    found.sort(key=SORT_KEYS[sort], reverse=direction == "desc")
    return paginate(request, found).response(lambda repo: render.repository(request, repo))
