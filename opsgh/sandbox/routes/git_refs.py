"""Git references: /git/ref, /git/matching-refs, /git/refs (create, update, delete)."""

from __future__ import annotations

import re

from opsgh.sandbox import render
from opsgh.sandbox.gitstore import GitRepo
from opsgh.sandbox.routing import ApiError, Request, Response, RouteTable, not_found, paginate, validation_failed
from opsgh.sandbox.state import RepoState

routes = RouteTable()

_SHA = re.compile(r"^[0-9a-f]{40}$")


def nonempty_git(request: Request, repo: RepoState) -> GitRepo:
    """The repository's git, or GitHub's 409 for a repository without any branch yet."""
    git = request.app.git_repo(repo)
    if not git.refs("refs/heads/"):
        raise ApiError(409, "Git Repository is empty.")
    return git


def _full(ref: str) -> str:
    return ref if ref.startswith("refs/") else f"refs/{ref}"


def _ref_json(request: Request, repo: RepoState, git: GitRepo, ref: str, sha: str) -> dict[str, object]:
    return render.git_ref(request, repo, ref, sha, git.object_type(sha) or "commit")


def _valid_ref_name(git: GitRepo, ref: str) -> bool:
    code, _ = git.run_bytes("check-ref-format", ref, ok=(0, 1))
    return code == 0 and ref.startswith("refs/") and ref.count("/") >= 2


@routes.get("/repos/{owner}/{repo}/git/ref/{ref:path}")
def get_ref(request: Request) -> Response:
    repo = request.repo("read")
    git = nonempty_git(request, repo)
    ref = _full(request.params["ref"])
    sha = git.ref(ref)
    if sha is None:
        raise not_found()
    return Response(200, _ref_json(request, repo, git, ref, sha))


@routes.get("/repos/{owner}/{repo}/git/matching-refs/{ref:path}")
def list_matching_refs(request: Request) -> Response:
    repo = request.repo("read")
    git = nonempty_git(request, repo)
    prefix = _full(request.params["ref"])
    matching = [(name, sha) for name, sha in git.refs().items() if name.startswith(prefix)]
    page = paginate(request, matching, default_per_page=100, max_per_page=100)
    return page.response(lambda item: _ref_json(request, repo, git, item[0], item[1]))


@routes.post("/repos/{owner}/{repo}/git/refs")
def create_ref(request: Request) -> Response:
    repo = request.repo("write")
    body = request.json_object()
    ref, sha = body.get("ref"), body.get("sha")
    if not isinstance(ref, str) or not ref:
        raise ApiError(422, 'Invalid request.\n\n"ref" wasn\'t supplied.')
    if not isinstance(sha, str) or not sha:
        raise ApiError(422, 'Invalid request.\n\n"sha" wasn\'t supplied.')
    git = request.app.git_repo(repo)
    if not _valid_ref_name(git, ref):
        raise ApiError(422, f"{ref} is not a valid ref name.")
    if not _SHA.match(sha) or git.object_type(sha) is None:
        raise ApiError(422, "Object does not exist")
    if git.ref(ref) is not None:
        raise ApiError(422, "Reference already exists")
    request.app.check_push(request, repo, ref, None, sha)
    request.app.move_ref(repo, ref, sha, None, request.auth.login)
    data = _ref_json(request, repo, git, ref, sha)
    return Response(201, data, {"location": str(data["url"])})


@routes.patch("/repos/{owner}/{repo}/git/refs/{ref:path}")
def update_ref(request: Request) -> Response:
    repo = request.repo("write")
    body = request.json_object()
    sha, force = body.get("sha"), bool(body.get("force", False))
    if not isinstance(sha, str) or not sha:
        raise ApiError(422, 'Invalid request.\n\n"sha" wasn\'t supplied.')
    git = nonempty_git(request, repo)
    ref = _full(request.params["ref"])
    old = git.ref(ref)
    if old is None:
        raise validation_failed("Reference", "ref", "invalid", "Reference does not exist",
                                summary="Reference does not exist")
    if not _SHA.match(sha) or git.object_type(sha) is None:
        raise ApiError(422, "Object does not exist")
    if not force and old != sha and not git.is_ancestor(old, sha):
        raise ApiError(422, "Update is not a fast forward")
    request.app.check_push(request, repo, ref, old, sha)
    request.app.move_ref(repo, ref, sha, old, request.auth.login)
    return Response(200, _ref_json(request, repo, git, ref, sha))


@routes.delete("/repos/{owner}/{repo}/git/refs/{ref:path}")
def delete_ref(request: Request) -> Response:
    repo = request.repo("write")
    git = nonempty_git(request, repo)
    ref = _full(request.params["ref"])
    old = git.ref(ref)
    if old is None:
        raise ApiError(422, "Reference does not exist")
    if ref == f"refs/heads/{repo.default_branch}":
        raise ApiError(422, "Cannot delete the default branch")
    request.app.check_push(request, repo, ref, old, None)
    request.app.move_ref(repo, ref, None, old, request.auth.login)
    return Response(204)
