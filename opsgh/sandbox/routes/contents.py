"""Repository contents: GET /repos/{owner}/{repo}/contents/{path}?ref= (JSON and raw media types)."""

from __future__ import annotations

import base64
from typing import Any

from opsgh.sandbox import render
from opsgh.sandbox.gitstore import TreeEntry
from opsgh.sandbox.routing import ApiError, Request, Response, RouteTable, not_found
from opsgh.sandbox.state import RepoState

routes = RouteTable()

# GitHub leaves `content` empty (encoding "none") for files over 1 MB unless the raw media type is used.
MAX_INLINE_BYTES = 1024 * 1024
RAW_TYPES = ("application/vnd.github.raw", "application/vnd.github.v3.raw")


def _raw_type(request: Request) -> str | None:
    """The raw media type the client asked for (GitHub answers with the same type), or None."""
    for item in request.headers.get("accept", "").lower().split(","):
        kind = item.split(";", 1)[0].strip()
        if kind.startswith(RAW_TYPES):
            return kind
    return None


def _entry_json(request: Request, repo: RepoState, ref: str, entry: TreeEntry) -> dict[str, Any]:
    kind = {"tree": "dir", "commit": "submodule"}.get(entry.type, "symlink" if entry.mode == "120000" else "file")
    path = render.q(entry.path)
    self_url = request.api_url(f"/repos/{repo.full_name}/contents/{path}?ref={render.q(ref)}")
    git_url = request.api_url(f"/repos/{repo.full_name}/git/{'trees' if kind == 'dir' else 'blobs'}/{entry.sha}")
    html_url = request.html_url(f"/{repo.full_name}/{'tree' if kind == 'dir' else 'blob'}/{render.q(ref)}/{path}")
    return {
        "type": kind,
        "size": entry.size or 0,
        "name": entry.path.rsplit("/", 1)[-1],
        "path": entry.path,
        "sha": entry.sha,
        "url": self_url,
        "git_url": git_url,
        "html_url": html_url,
        "download_url": request.html_url(f"/{repo.full_name}/raw/{render.q(ref)}/{path}") if kind == "file" else None,
        "_links": {"self": self_url, "git": git_url, "html": html_url},
    }


@routes.get("/repos/{owner}/{repo}/contents/{path:path}")
def get_content(request: Request) -> Response:
    repo = request.repo("read")
    git = request.app.git_repo(repo)
    ref = request.arg("ref") or repo.default_branch
    if git.resolve(ref) is None:
        raise ApiError(404, f"No commit found for the ref {ref}")
    path = request.params["path"].strip("/")
    entry = git.entry(ref, path)
    if entry is None:
        raise not_found()
    if entry.type == "tree":
        return Response(200, [_entry_json(request, repo, ref, item) for item in git.list_tree(ref, path)])
    data = git.read_file(ref, path) or b""
    raw_type = _raw_type(request)
    if raw_type is not None:
        return Response(200, data, {"x-github-media-type": "github.v3; param=raw"},
                        content_type=f"{raw_type}; charset=utf-8")
    body = _entry_json(request, repo, ref, entry)
    if len(data) > MAX_INLINE_BYTES:
        body.update({"content": "", "encoding": "none"})
    else:
        encoded = base64.b64encode(data).decode()
        body.update({"content": "\n".join(encoded[i:i + 60] for i in range(0, len(encoded), 60)) + "\n",
                     "encoding": "base64"})
    return Response(200, body)
