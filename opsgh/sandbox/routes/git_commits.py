"""Git commit objects: create one from a tree and parents (`POST /git/commits`), read one back.

What `opsgh hotfix start` needs: an empty commit on top of the production branch, so that the new
hotfix branch differs from it and a (draft) pull request can be opened at once. The answers follow
GitHub's: 422 "Tree SHA does not exist" / "Tree SHA is not a tree object" for a bad tree, "Parent SHA
does not exist or is not a commit object" for a bad parent; the author defaults to the authenticated
user at the current time, the committer to the author.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from opsgh.sandbox import render
from opsgh.sandbox.gitstore import CommitInfo, Signature
from opsgh.sandbox.routing import ApiError, Request, Response, RouteTable, not_found
from opsgh.sandbox.state import RepoState

routes = RouteTable()

_SHA = re.compile(r"^[0-9a-f]{40}$")


def git_commit_json(request: Request, repo: RepoState, info: CommitInfo) -> dict[str, Any]:
    """GitHub's `git-commit` object (the Git database view of a commit, not the REST `commit`)."""
    base = request.api_url(f"/repos/{repo.full_name}")
    return {
        "sha": info.sha,
        "node_id": render.node_id("Commit", info.sha),
        "url": f"{base}/git/commits/{info.sha}",
        "html_url": request.html_url(f"/{repo.full_name}/commit/{info.sha}"),
        "author": render.git_user(info.author),
        "committer": render.git_user(info.committer),
        "tree": {"sha": info.tree, "url": f"{base}/git/trees/{info.tree}"},
        "message": info.message.rstrip("\n"),
        "parents": [{"sha": parent, "url": f"{base}/git/commits/{parent}",
                     "html_url": request.html_url(f"/{repo.full_name}/commit/{parent}")}
                    for parent in info.parents],
        "verification": {"verified": False, "reason": "unsigned", "signature": None, "payload": None,
                         "verified_at": None},
    }


def _signature(value: object, default: Signature, field: str) -> Signature:
    """A `{name, email, date?}` object of the request, or `default`."""
    if value is None:
        return default
    if not isinstance(value, dict):
        raise ApiError(422, f"Invalid request.\n\nFor 'properties/{field}', {value!r} is not an object.")
    name, email, date = value.get("name", default.name), value.get("email", default.email), value.get("date")
    stamp = default.timestamp
    if isinstance(date, str):
        try:
            stamp = int(datetime.fromisoformat(date.replace("Z", "+00:00")).timestamp())
        except ValueError:
            raise ApiError(422, f"Invalid request.\n\n{date!r} is not a valid date-time.") from None
    return Signature(str(name), str(email), stamp)


@routes.post("/repos/{owner}/{repo}/git/commits")
def create_commit(request: Request) -> Response:
    repo = request.repo("write")
    body = request.json_object()
    message, tree = body.get("message"), body.get("tree")
    if not isinstance(message, str):
        raise ApiError(422, 'Invalid request.\n\n"message" wasn\'t supplied.')
    if not isinstance(tree, str):
        raise ApiError(422, 'Invalid request.\n\n"tree" wasn\'t supplied.')
    git = request.app.git_repo(repo)
    tree_type = git.object_type(tree) if _SHA.match(tree) else None
    if tree_type is None:
        raise ApiError(422, "Tree SHA does not exist")
    if tree_type != "tree":
        raise ApiError(422, "Tree SHA is not a tree object")
    parents = body.get("parents") or []
    if not isinstance(parents, list) or not all(isinstance(p, str) for p in parents):
        raise ApiError(422, "Invalid request.\n\nFor 'properties/parents', the value is not an array of strings.")
    for parent in parents:
        if not _SHA.match(parent):
            raise ApiError(422, "Each SHA in the 'parents' parameter must be exactly 40 characters and contain "
                                "only [0-9a-f].")
        if git.object_type(parent) != "commit":
            raise ApiError(422, "Parent SHA does not exist or is not a commit object")
    author = _signature(body.get("author"), request.app.signature(request.auth.login), "author")
    committer = _signature(body.get("committer"), author, "committer")
    text = message if message.endswith("\n") else message + "\n"
    sha = git.commit_tree(tree, parents, text, author, committer)
    data = git_commit_json(request, repo, git.commit_info(sha))
    return Response(201, data, {"location": str(data["url"])})


@routes.get("/repos/{owner}/{repo}/git/commits/{commit_sha}")
def get_commit(request: Request) -> Response:
    repo = request.repo("read")
    sha = request.params["commit_sha"]
    git = request.app.git_repo(repo)
    if not _SHA.match(sha) or git.object_type(sha) != "commit":
        raise not_found()
    return Response(200, git_commit_json(request, repo, git.commit_info(sha)))
