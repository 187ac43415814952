"""Deployments and deployment statuses.

Collections (per repository): `deployments` (`Deployment` by id) and `deployment_statuses`
(`DeploymentStatus` by id).

What GitHub does, and the sandbox with it:

- `ref` (branch, tag or sha) is resolved to a sha; an unknown ref is 422 "No ref found for: REF".
- `auto_merge` (default true) would merge the default branch into `ref` first. The sandbox does not
  merge: when `ref` is a branch behind the default branch it answers 409 "Conflict merging main into
  REF." (on GitHub, a 202 merge or a 409 conflict: either way not the deployment the client asked for,
  which is why clients send `auto_merge: false`).
- `required_contexts` (default: every context on the commit) must all be successful, counting the
  newest commit status per context and the newest check run per name (success, neutral and skipped
  pass); otherwise 409 "Conflict: Commit status checks failed for REF." with each context's state.
  `[]` skips the check.
- A `success` status with `auto_inactive` (default true) adds an `inactive` status to the other
  deployments of the same environment whose newest status is `success`.
- DELETE only for an inactive deployment, or the only one of its environment (422 otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from opsgh.sandbox import render_deployments
from opsgh.sandbox.render_issues import acting_app_id
from opsgh.sandbox.routes.checks import latest_check_runs
from opsgh.sandbox.routes.statuses import latest_statuses
from opsgh.sandbox.routing import ApiError, Request, Response, RouteTable, not_found, paginate, validation_failed
from opsgh.sandbox.state import Collection, RepoState

routes = RouteTable()

DEPLOYMENTS_DOCS = "https://docs.github.com/rest/deployments/deployments"
STATES = ("error", "failure", "inactive", "in_progress", "queued", "pending", "success")
PASSING_CONCLUSIONS = ("success", "neutral", "skipped")
DESCRIPTION_LIMIT = 140


@dataclass
class Deployment:
    id: int
    sha: str
    ref: str
    task: str = "deploy"
    environment: str = "production"
    original_environment: str = "production"
    payload: Any = None
    description: str | None = None
    creator: str | None = None
    created_at: float = 0.0
    updated_at: float = 0.0
    transient_environment: bool = False
    production_environment: bool = False
    app_id: int | None = None


@dataclass
class DeploymentStatus:
    id: int
    deployment_id: int
    state: str
    creator: str | None = None
    description: str = ""
    environment: str = ""
    log_url: str = ""
    environment_url: str = ""
    created_at: float = 0.0
    updated_at: float = 0.0
    app_id: int | None = None


DEPLOYMENTS: Collection[int, Deployment] = Collection("deployments", Deployment, key=int)
DEPLOYMENT_STATUSES: Collection[int, DeploymentStatus] = Collection("deployment_statuses", DeploymentStatus,
                                                                    key=int)


def statuses_of(repo: RepoState, deployment_id: int) -> list[DeploymentStatus]:
    """The statuses of one deployment, newest first."""
    return sorted((s for s in repo.items(DEPLOYMENT_STATUSES).values() if s.deployment_id == deployment_id),
                  key=lambda s: s.id, reverse=True)


def latest_state(repo: RepoState, deployment_id: int) -> str | None:
    statuses = statuses_of(repo, deployment_id)
    return statuses[0].state if statuses else None


def context_states(repo: RepoState, sha: str) -> dict[str, str]:
    """Every context on commit `sha` and its state: newest commit status per context, newest check run
    per name (pending until completed; success, neutral and skipped count as success)."""
    states = {status.context: status.state for status in latest_statuses(repo, sha)}
    for run in latest_check_runs(repo, sha):
        if run.status != "completed":
            state = "pending"
        else:
            state = "success" if run.conclusion in PASSING_CONCLUSIONS else "failure"
        states.setdefault(run.name, state)
    return states


# ---------------------------------------------------------------------------------------------------
# Input


def _string(body: dict[str, Any], name: str, default: str) -> str:
    value = body.get(name, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ApiError(422, f"Invalid request.\n\nFor 'properties/{name}', {value!r} is not a string.",
                       documentation_url=DEPLOYMENTS_DOCS)
    return value


def _flag(body: dict[str, Any], name: str, default: bool) -> bool:
    value = body.get(name, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ApiError(422, f"Invalid request.\n\nFor 'properties/{name}', {value!r} is not a boolean.",
                       documentation_url=DEPLOYMENTS_DOCS)
    return value


def _payload(raw: Any) -> Any:
    if raw is None or raw == "":
        return {}
    if isinstance(raw, dict | str):
        return raw
    raise ApiError(422, f"Invalid request.\n\nFor 'properties/payload', {raw!r} is not an object or a string.",
                   documentation_url=DEPLOYMENTS_DOCS)


def _required_contexts(body: dict[str, Any]) -> list[str] | None:
    raw = body.get("required_contexts")
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise ApiError(422, "Invalid request.\n\nFor 'properties/required_contexts', "
                            f"{raw!r} is not an array of strings.", documentation_url=DEPLOYMENTS_DOCS)
    return list(raw)


def _check_auto_merge(request: Request, repo: RepoState, ref: str) -> None:
    git = request.app.git_repo(repo)
    branch = ref.removeprefix("refs/heads/")
    head = git.ref(f"refs/heads/{branch}")
    default = git.ref(f"refs/heads/{repo.default_branch}")
    if head is None or default is None or branch == repo.default_branch:
        return
    if not git.is_ancestor(default, head):
        raise ApiError(409, f"Conflict merging {repo.default_branch} into {branch}.",
                       documentation_url=DEPLOYMENTS_DOCS)


def _check_contexts(repo: RepoState, ref: str, sha: str, required: list[str] | None) -> None:
    states = context_states(repo, sha)
    wanted = list(states) if required is None else required
    checked = [{"context": context, "state": states.get(context, "pending")} for context in wanted]
    if any(item["state"] != "success" for item in checked):
        raise ApiError(409, f"Conflict: Commit status checks failed for {ref}.",
                       [{"contexts": checked, "resource": "Deployment", "field": "required_contexts",
                         "code": "invalid"}], documentation_url=DEPLOYMENTS_DOCS)


def _deployment_or_404(request: Request, repo: RepoState) -> Deployment:
    try:
        deployment = repo.items(DEPLOYMENTS).get(int(request.params["deployment_id"]))
    except ValueError:
        deployment = None
    if deployment is None:
        raise not_found()
    return deployment


# ---------------------------------------------------------------------------------------------------
# Deployments


@routes.get("/repos/{owner}/{repo}/deployments")
def list_deployments(request: Request) -> Response:
    repo = request.repo("read", permission="deployments")
    filters = {name: request.arg(name) for name in ("sha", "ref", "task", "environment")}
    chosen = [d for d in repo.items(DEPLOYMENTS).values()
              if all(value in (None, "") or getattr(d, name) == value for name, value in filters.items())]
    chosen.sort(key=lambda d: d.id, reverse=True)
    return paginate(request, chosen).response(lambda d: render_deployments.deployment(request, repo, d))


@routes.post("/repos/{owner}/{repo}/deployments")
def create_deployment(request: Request) -> Response:
    repo = request.repo("write", permission="deployments")
    body = request.json_object()
    ref = body.get("ref")
    if not isinstance(ref, str) or not ref:
        raise ApiError(422, 'Invalid request.\n\n"ref" wasn\'t supplied.', documentation_url=DEPLOYMENTS_DOCS)
    sha = request.app.git_repo(repo).resolve(ref)
    if sha is None:
        raise ApiError(422, f"No ref found for: {ref}", documentation_url=DEPLOYMENTS_DOCS)
    environment = _string(body, "environment", "production")
    if not environment.strip():
        raise validation_failed("Deployment", "environment", "invalid")
    task = _string(body, "task", "deploy")
    description = _string(body, "description", "")
    payload = _payload(body.get("payload"))
    transient = _flag(body, "transient_environment", False)
    production = _flag(body, "production_environment", environment == "production")
    required = _required_contexts(body)
    if _flag(body, "auto_merge", True):
        _check_auto_merge(request, repo, ref)
    if required != []:
        _check_contexts(repo, ref, sha, required)
    now = request.app.now()
    deployment = Deployment(request.app.state.next_id("deployment"), sha, ref, task, environment, environment,
                            payload, description, request.auth.login, now, now, transient, production,
                            acting_app_id(request))
    repo.items(DEPLOYMENTS)[deployment.id] = deployment
    data = render_deployments.deployment(request, repo, deployment)
    return Response(201, data, {"location": str(data["url"])})


@routes.get("/repos/{owner}/{repo}/deployments/{deployment_id}")
def get_deployment(request: Request) -> Response:
    repo = request.repo("read", permission="deployments")
    return Response(200, render_deployments.deployment(request, repo, _deployment_or_404(request, repo)))


@routes.delete("/repos/{owner}/{repo}/deployments/{deployment_id}")
def delete_deployment(request: Request) -> Response:
    repo = request.repo("write", permission="deployments")
    deployment = _deployment_or_404(request, repo)
    deployments = repo.items(DEPLOYMENTS)
    alone = all(d.id == deployment.id or d.environment != deployment.environment for d in deployments.values())
    if latest_state(repo, deployment.id) != "inactive" and not alone:
        raise ApiError(422, "We cannot delete an active deployment unless it is the only deployment in a given "
                            "environment.", documentation_url=DEPLOYMENTS_DOCS)
    del deployments[deployment.id]
    statuses = repo.items(DEPLOYMENT_STATUSES)
    for status_id in [s.id for s in statuses.values() if s.deployment_id == deployment.id]:
        del statuses[status_id]
    return Response(204)


# ---------------------------------------------------------------------------------------------------
# Deployment statuses


def _add_status(request: Request, repo: RepoState, deployment: Deployment, state: str, *, description: str = "",
                log_url: str = "", environment_url: str = "") -> DeploymentStatus:
    now = request.app.now()
    status = DeploymentStatus(request.app.state.next_id("deployment_status"), deployment.id, state,
                              request.auth.login, description, deployment.environment, log_url,
                              environment_url, now, now, acting_app_id(request))
    repo.items(DEPLOYMENT_STATUSES)[status.id] = status
    deployment.updated_at = now
    return status


@routes.get("/repos/{owner}/{repo}/deployments/{deployment_id}/statuses")
def list_deployment_statuses(request: Request) -> Response:
    repo = request.repo("read", permission="deployments")
    deployment = _deployment_or_404(request, repo)
    page = paginate(request, statuses_of(repo, deployment.id))
    return page.response(lambda s: render_deployments.deployment_status(request, repo, deployment, s))


@routes.post("/repos/{owner}/{repo}/deployments/{deployment_id}/statuses")
def create_deployment_status(request: Request) -> Response:
    repo = request.repo("write", permission="deployments")
    deployment = _deployment_or_404(request, repo)
    body = request.json_object()
    state = body.get("state")
    if state is None:
        raise ApiError(422, 'Invalid request.\n\n"state" wasn\'t supplied.', documentation_url=DEPLOYMENTS_DOCS)
    if state not in STATES:
        raise validation_failed("DeploymentStatus", "state", "invalid")
    description = _string(body, "description", "")
    if len(description) > DESCRIPTION_LIMIT:
        raise validation_failed("DeploymentStatus", "description", "custom",
                                f"description is too long (maximum is {DESCRIPTION_LIMIT} characters)")
    log_url = _string(body, "log_url", "") or _string(body, "target_url", "")
    environment_url = _string(body, "environment_url", "")
    environment = _string(body, "environment", "")
    if environment:
        deployment.environment = environment
    status = _add_status(request, repo, deployment, str(state), description=description, log_url=log_url,
                         environment_url=environment_url)
    if state == "success" and _flag(body, "auto_inactive", True):
        for other in repo.items(DEPLOYMENTS).values():
            if (other.id != deployment.id and other.environment == deployment.environment
                    and latest_state(repo, other.id) == "success"):
                _add_status(request, repo, other, "inactive")
    data = render_deployments.deployment_status(request, repo, deployment, status)
    return Response(201, data, {"location": str(data["url"])})


@routes.get("/repos/{owner}/{repo}/deployments/{deployment_id}/statuses/{status_id}")
def get_deployment_status(request: Request) -> Response:
    repo = request.repo("read", permission="deployments")
    deployment = _deployment_or_404(request, repo)
    try:
        status = repo.items(DEPLOYMENT_STATUSES).get(int(request.params["status_id"]))
    except ValueError:
        status = None
    if status is None or status.deployment_id != deployment.id:
        raise not_found()
    return Response(200, render_deployments.deployment_status(request, repo, deployment, status))
