"""GitHub's JSON for check runs, check annotations and commit statuses (state types: type checking only)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opsgh.sandbox import render
from opsgh.sandbox.render_issues import integration_json, user_or_none
from opsgh.sandbox.routing import Request
from opsgh.sandbox.state import RepoState

if TYPE_CHECKING:
    from opsgh.sandbox.gitstore import CommitInfo
    from opsgh.sandbox.routes.checks import CheckRun
    from opsgh.sandbox.routes.issues import PullView
    from opsgh.sandbox.routes.statuses import CommitStatus


def _optional_iso(timestamp: float | None) -> str | None:
    return render.iso(timestamp) if timestamp is not None else None


def pull_request_minimal(request: Request, repo: RepoState, pull: PullView, base_sha: str) -> dict[str, Any]:
    repo_ref = {"id": repo.id, "url": request.api_url(f"/repos/{repo.full_name}"), "name": repo.name}
    return {
        "id": pull.id,
        "number": pull.number,
        "url": request.api_url(f"/repos/{repo.full_name}/pulls/{pull.number}"),
        "head": {"ref": pull.head_ref or "", "sha": pull.head_sha or "", "repo": repo_ref},
        "base": {"ref": pull.base_ref or "", "sha": base_sha, "repo": repo_ref},
    }


def check_run(request: Request, repo: RepoState, run: CheckRun, pulls: list[dict[str, Any]]) -> dict[str, Any]:
    url = request.api_url(f"/repos/{repo.full_name}/check-runs/{run.id}")
    html_url = request.html_url(f"/{repo.full_name}/runs/{run.id}")
    return {
        "id": run.id,
        "head_sha": run.head_sha,
        "node_id": render.node_id("CheckRun", run.id),
        "external_id": run.external_id if run.external_id is not None else "",
        "url": url,
        "html_url": html_url,
        "details_url": run.details_url if run.details_url is not None else html_url,
        "status": run.status,
        "conclusion": run.conclusion,
        "started_at": _optional_iso(run.started_at),
        "completed_at": _optional_iso(run.completed_at),
        "output": {
            "title": run.output.title,
            "summary": run.output.summary,
            "text": run.output.text,
            "annotations_count": len(run.annotations),
            "annotations_url": f"{url}/annotations",
        },
        "name": run.name,
        "check_suite": {"id": run.check_suite_id},
        "app": integration_json(request, run.app_id),
        "pull_requests": pulls,
    }


def annotation(request: Request, repo: RepoState, run: CheckRun, item: dict[str, Any]) -> dict[str, Any]:
    path = str(item.get("path", ""))
    return {
        "path": path,
        "blob_href": request.html_url(f"/{repo.full_name}/blob/{run.head_sha}/{render.q(path)}"),
        "start_line": item.get("start_line", 0),
        "end_line": item.get("end_line", 0),
        "start_column": item.get("start_column"),
        "end_column": item.get("end_column"),
        "annotation_level": item.get("annotation_level"),
        "title": item.get("title"),
        "message": item.get("message"),
        "raw_details": item.get("raw_details"),
    }


def commit_status(request: Request, repo: RepoState, status: CommitStatus, *, simple: bool = False
                  ) -> dict[str, Any]:
    """A `status` (with `creator`), or with `simple` the `simple-commit-status` of the combined status."""
    creator = user_or_none(request, status.creator)
    data: dict[str, Any] = {
        "url": request.api_url(f"/repos/{repo.full_name}/statuses/{status.sha}"),
        "avatar_url": creator["avatar_url"] if creator is not None else None,
        "id": status.id,
        "node_id": render.node_id("StatusContext", status.id),
        "state": status.state,
        "description": status.description,
        "target_url": status.target_url,
        "context": status.context,
        "created_at": render.iso(status.created_at),
        "updated_at": render.iso(status.updated_at),
    }
    if not simple:
        data["creator"] = creator
    return data


def check_suite(request: Request, repo: RepoState, suite_id: int, runs: list[CheckRun], info: CommitInfo,
                branch: str | None, outcome: tuple[str, str | None]) -> dict[str, Any]:
    """A check suite of one App on one commit (`runs`: its newest run of each name)."""
    url = request.api_url(f"/repos/{repo.full_name}/check-suites/{suite_id}")
    first = min(run.created_at for run in runs)
    last = max(max(run.created_at, run.completed_at or 0.0) for run in runs)
    return {
        "id": suite_id,
        "node_id": render.node_id("CheckSuite", suite_id),
        "head_branch": branch,
        "head_sha": info.sha,
        "status": outcome[0],
        "conclusion": outcome[1],
        "url": url,
        "before": info.parents[0] if info.parents else None,
        "after": info.sha,
        "pull_requests": [],
        "app": integration_json(request, runs[0].app_id),
        "repository": render.repository(request, repo),
        "created_at": render.iso(first),
        "updated_at": render.iso(last),
        "head_commit": {
            "id": info.sha,
            "tree_id": info.tree,
            "message": info.message.rstrip("\n"),
            "timestamp": render.iso(info.committer.timestamp),
            "author": {"name": info.author.name, "email": info.author.email},
            "committer": {"name": info.committer.name, "email": info.committer.email},
        },
        "latest_check_runs_count": len(runs),
        "check_runs_url": f"{url}/check-runs",
        "rerequestable": True,
        "runs_rerequestable": True,
    }
