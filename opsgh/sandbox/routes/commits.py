"""Commits and comparisons: GET /commits, /commits/{ref}, /compare/{basehead}."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from opsgh.sandbox import render
from opsgh.sandbox.gitstore import GitRepo
from opsgh.sandbox.routing import ApiError, Request, Response, RouteTable, not_found, paginate
from opsgh.sandbox.state import RepoState

routes = RouteTable()

# GitHub's caps: a comparison lists at most 250 commits per page and 300 files in all; a commit shows at
# most 300 files per page.
COMPARE_MAX_COMMITS = 250
COMPARE_MAX_FILES = 300
COMMIT_FILES_PER_PAGE = 300


def _nonempty(request: Request, repo: RepoState) -> GitRepo:
    git = request.app.git_repo(repo)
    if not git.refs("refs/heads/"):
        raise ApiError(409, "Git Repository is empty.")
    return git


def _timestamp(value: str | None) -> int | None:
    if not value:
        return None
    try:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())
    except ValueError:
        raise ApiError(400, f"Invalid time: {value}") from None


@routes.get("/repos/{owner}/{repo}/commits")
def list_commits(request: Request) -> Response:
    repo = request.repo("read")
    git = _nonempty(request, repo)
    start = request.arg("sha") or repo.default_branch
    sha = git.resolve(start)
    if sha is None:
        raise ApiError(404, f"No commit found for SHA: {start}")
    path = request.arg("path") or None
    since, until = _timestamp(request.arg("since")), _timestamp(request.arg("until"))
    per_page = request.int_arg("per_page", 30, minimum=1, maximum=100)
    page_number = request.int_arg("page", 1, minimum=1)
    if since is None and until is None:
        total = git.count(sha, path)
        shas = git.log(sha, max_count=per_page, skip=(page_number - 1) * per_page, path=path)
        page = paginate(request, shas, total=total, page_offset_items=False)
    else:
        every = git.log(sha, max_count=1_000_000, path=path, since=since, until=until)
        page = paginate(request, every)
    infos = git.commit_infos(page.items)
    return Response(200, [render.commit(request, repo, info) for info in infos], page.headers)


@routes.get("/repos/{owner}/{repo}/commits/{ref:path}")
def get_commit(request: Request) -> Response:
    repo = request.repo("read")
    git = _nonempty(request, repo)
    ref = request.params["ref"]
    sha = git.resolve(ref)
    if sha is None:
        raise ApiError(422, f"No commit found for SHA: {ref}")
    info = git.commit_info(sha)
    files = git.changed_files(info.parents[0] if info.parents else None, sha)
    page = paginate(request, files, default_per_page=COMMIT_FILES_PER_PAGE, max_per_page=COMMIT_FILES_PER_PAGE)
    data = render.commit(request, repo, info, page.items)
    # stats cover the whole commit, not only the files on this page
    additions = sum(f.additions for f in files)
    deletions = sum(f.deletions for f in files)
    data["stats"] = {"total": additions + deletions, "additions": additions, "deletions": deletions}
    return Response(200, data, page.headers)


def _side(request: Request, repo: RepoState, git: GitRepo, spec: str) -> str:
    """One side of base...head: a branch, tag or sha, optionally "owner:branch" (same owner only)."""
    if ":" in spec:
        owner, _, spec = spec.partition(":")
        if owner.lower() != repo.owner.lower():
            raise not_found()
    sha = git.resolve(spec)
    if sha is None:
        raise not_found()
    return sha


@routes.get("/repos/{owner}/{repo}/compare/{basehead:path}")
def compare(request: Request) -> Response:
    repo = request.repo("read")
    git = _nonempty(request, repo)
    basehead = request.params["basehead"]
    separator = "..." if "..." in basehead else ".."
    if separator not in basehead:
        raise not_found()
    base_spec, _, head_spec = basehead.partition(separator)
    base, head = _side(request, repo, git, base_spec), _side(request, repo, git, head_spec)
    comparison = git.compare(base, head)
    if comparison.merge_base is None:
        raise ApiError(404, f"No common ancestor between {base_spec} and {head_spec}.")
    paged = request.arg("page") is not None or request.arg("per_page") is not None
    page = paginate(request, comparison.commits, default_per_page=30 if paged else COMPARE_MAX_COMMITS,
                    max_per_page=COMPARE_MAX_COMMITS)
    infos = {info.sha: info for info in git.commit_infos([base, comparison.merge_base, *page.items])}
    base_url = request.api_url(f"/repos/{repo.full_name}/compare/{render.q(basehead)}")
    html = request.html_url(f"/{repo.full_name}/compare/{render.q(basehead)}")
    data: dict[str, Any] = {
        "url": base_url,
        "html_url": html,
        "permalink_url": request.html_url(f"/{repo.full_name}/compare/{repo.owner}:{base[:7]}...{repo.owner}:"
                                          f"{head[:7]}"),
        "diff_url": f"{html}.diff",
        "patch_url": f"{html}.patch",
        "base_commit": render.commit(request, repo, infos[base]),
        "merge_base_commit": render.commit(request, repo, infos[comparison.merge_base]),
        "status": comparison.status,
        "ahead_by": comparison.ahead_by,
        "behind_by": comparison.behind_by,
        "total_commits": comparison.ahead_by,
        "commits": [render.commit(request, repo, infos[sha]) for sha in page.items],
    }
    if page.page == 1:
        # three-dot: what head changes since the merge base; at most 300 files for the whole comparison
        files = git.changed_files(comparison.merge_base, head)[:COMPARE_MAX_FILES]
        data["files"] = [render.diff_entry(request, repo, head, f) for f in files]
    return Response(200, data, page.headers)
