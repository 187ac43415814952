"""Commit statuses: create, list for a ref (newest first), and the combined status of a ref.

Collection `statuses` (per repository, `CommitStatus` by id), read by routes/pulls.py for
mergeability and `statusCheckRollup`. Each item:

- `id`, `sha` (full sha), `context` (default "default")
- `state`: error | failure | pending | success
- `description` (at most 140 characters) and `target_url`, None when not given
- `creator`: login of the token's user (a bot for App and Actions tokens)
- `created_at`, `updated_at`: epoch seconds

`latest_statuses(repo, sha)` is the newest status per context and `combined_state(...)` GitHub's
rule for the combined state: failure if any is error or failure, pending if any is pending or there
is none, success otherwise.

Any caller with push access may post statuses (classic PATs with `repo` or `repo:status`, Apps and
Actions tokens with `statuses: write`); `ref` may be a sha, a branch or a tag.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from opsgh.sandbox import render, render_checks
from opsgh.sandbox.routing import ApiError, Request, Response, RouteTable, paginate, validation_failed
from opsgh.sandbox.state import Collection, RepoState

routes = RouteTable()

STATES = ("error", "failure", "pending", "success")
DESCRIPTION_LIMIT = 140
MAX_PER_CONTEXT = 1000  # GitHub: at most 1000 statuses per sha and context
_HEX = re.compile(r"^[0-9a-fA-F]{4,40}$")


@dataclass
class CommitStatus:
    id: int
    sha: str
    context: str
    state: str
    description: str | None = None
    target_url: str | None = None
    creator: str | None = None
    created_at: float = 0.0
    updated_at: float = 0.0


STATUSES: Collection[int, CommitStatus] = Collection("statuses", CommitStatus, key=int)


def statuses_for(repo: RepoState, sha: str) -> list[CommitStatus]:
    """Every status of commit `sha`, newest first."""
    return sorted((s for s in repo.items(STATUSES).values() if s.sha == sha), key=lambda s: s.id, reverse=True)


def latest_statuses(repo: RepoState, sha: str) -> list[CommitStatus]:
    """The newest status of each context on `sha`, newest first."""
    latest: dict[str, CommitStatus] = {}
    for status in statuses_for(repo, sha):
        latest.setdefault(status.context, status)
    return list(latest.values())


def combined_state(states: Iterable[str]) -> str:
    """GitHub's combined state: failure if any error/failure, pending if any pending or none, else success."""
    seen = list(states)
    if any(state in ("error", "failure") for state in seen):
        return "failure"
    if not seen or any(state == "pending" for state in seen):
        return "pending"
    return "success"


def _resolve(request: Request, repo: RepoState, ref: str) -> str:
    sha = request.app.git_repo(repo).resolve(ref)
    if sha is None:
        raise ApiError(422, f"No commit found for SHA: {ref}")
    return sha


@routes.post("/repos/{owner}/{repo}/statuses/{sha}")
def create_status(request: Request) -> Response:
    repo = request.repo("write", permission="statuses")
    raw_sha = request.params["sha"]
    git = request.app.git_repo(repo)
    sha = git.resolve(raw_sha) if _HEX.match(raw_sha) else None
    if sha is None or not sha.startswith(raw_sha.lower()):
        raise ApiError(422, f"No commit found for SHA: {raw_sha}")
    body = request.json_object()
    state = body.get("state")
    if state is None:
        raise ApiError(422, 'Invalid request.\n\n"state" wasn\'t supplied.')
    if state not in STATES:
        raise validation_failed("Status", "state", "custom", "state is not included in the list")
    context = body.get("context") if body.get("context") is not None else "default"
    if not isinstance(context, str) or not context.strip():
        raise validation_failed("Status", "context", "custom", "context can't be blank")
    description, target_url = body.get("description"), body.get("target_url")
    if description is not None and not isinstance(description, str):
        raise validation_failed("Status", "description", "invalid")
    if description is not None and len(description) > DESCRIPTION_LIMIT:
        raise validation_failed("Status", "description", "custom",
                                f"description is too long (maximum is {DESCRIPTION_LIMIT} characters)")
    if target_url is not None and not isinstance(target_url, str):
        raise validation_failed("Status", "target_url", "invalid")
    if sum(1 for s in repo.items(STATUSES).values() if s.sha == sha and s.context == context) >= MAX_PER_CONTEXT:
        raise ApiError(422, "This SHA and context has reached the maximum number of statuses.")
    now = request.app.now()
    status = CommitStatus(request.app.state.next_id("status"), sha, context, state, description or None,
                          target_url or None, request.auth.login, now, now)
    repo.items(STATUSES)[status.id] = status
    data = render_checks.commit_status(request, repo, status)
    return Response(201, data, {"location": str(data["url"])})


@routes.get("/repos/{owner}/{repo}/commits/{ref:path}/statuses")
def list_statuses(request: Request) -> Response:
    repo = request.repo("read", permission="statuses")
    sha = _resolve(request, repo, request.params["ref"])
    page = paginate(request, statuses_for(repo, sha))
    return page.response(lambda status: render_checks.commit_status(request, repo, status))


@routes.get("/repos/{owner}/{repo}/commits/{ref:path}/status")
def combined_status(request: Request) -> Response:
    repo = request.repo("read", permission="statuses")
    sha = _resolve(request, repo, request.params["ref"])
    latest = latest_statuses(repo, sha)
    page = paginate(request, latest, default_per_page=100)
    base = request.api_url(f"/repos/{repo.full_name}")
    body: dict[str, Any] = {
        "state": combined_state(status.state for status in latest),
        "statuses": [render_checks.commit_status(request, repo, status, simple=True) for status in page.items],
        "sha": sha,
        "total_count": len(latest),
        "repository": render.repository(request, repo),
        "commit_url": f"{base}/commits/{sha}",
        "url": f"{base}/commits/{sha}/status",
    }
    return Response(200, body, page.headers)
