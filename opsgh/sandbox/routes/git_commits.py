"""Git commit objects: GET /git/commits/{sha} and POST /git/commits (the Git database API).

Like GitHub: a commit is made from an existing tree and existing parent commits (none: a root
commit); `author` defaults to the caller at the current time and `committer` to the author. Creating
a commit moves no branch: point a ref at it with POST/PATCH /git/refs. The same tree, parents,
message and signatures give the same sha, so creating a commit twice leaves one object.
"""

from __future__ import annotations

import re
from typing import Any

from opsgh.sandbox import render
from opsgh.sandbox.gitstore import CommitInfo
from opsgh.sandbox.routes.git_refs import nonempty_git
from opsgh.sandbox.routes.releases import git_signature
from opsgh.sandbox.routing import ApiError, Request, Response, RouteTable, not_found
from opsgh.sandbox.state import RepoState

routes = RouteTable()

_SHA = re.compile(r"^[0-9a-f]{40}$")


def git_commit(request: Request, repo: RepoState, info: CommitInfo) -> dict[str, Any]:
    """GitHub's `git-commit` object."""
    base = request.api_url(f"/repos/{repo.full_name}/git")
    return {
        "sha": info.sha,
        "node_id": render.node_id("Commit", info.sha),
        "url": f"{base}/commits/{info.sha}",
        "html_url": request.html_url(f"/{repo.full_name}/commit/{info.sha}"),
        "author": render.git_user(info.author),
        "committer": render.git_user(info.committer),
        "tree": {"sha": info.tree, "url": f"{base}/trees/{info.tree}"},
        "message": info.message,
        "parents": [{"sha": parent, "url": f"{base}/commits/{parent}",
                     "html_url": request.html_url(f"/{repo.full_name}/commit/{parent}")}
                    for parent in info.parents],
        "verification": {"verified": False, "reason": "unsigned", "signature": None, "payload": None,
                         "verified_at": None},
    }


@routes.get("/repos/{owner}/{repo}/git/commits/{commit_sha}")
def get_commit(request: Request) -> Response:
    repo = request.repo("read", permission="contents")
    git = nonempty_git(request, repo)
    sha = request.params["commit_sha"].lower()
    if not _SHA.match(sha) or git.object_type(sha) != "commit":
        raise not_found()
    return Response(200, git_commit(request, repo, git.commit_info(sha)))


@routes.post("/repos/{owner}/{repo}/git/commits")
def create_commit(request: Request) -> Response:
    repo = request.repo("write", permission="contents")
    body = request.json_object()
    git = nonempty_git(request, repo)
    tree, message = str(body["tree"]).lower(), str(body["message"])
    if not _SHA.match(tree) or git.object_type(tree) != "tree":
        raise ApiError(422, "Tree SHA does not exist")
    parents = [str(parent).lower() for parent in body.get("parents") or ()]
    if any(not _SHA.match(parent) or git.object_type(parent) != "commit" for parent in parents):
        raise ApiError(422, "Parent SHA does not exist or is not a commit object")
    author = git_signature(request, body.get("author"))
    committer = git_signature(request, body.get("committer"), default=author)
    sha = git.commit_tree(tree, parents, message, author, committer)
    data = git_commit(request, repo, git.commit_info(sha))
    return Response(201, data, {"location": str(data["url"])})
