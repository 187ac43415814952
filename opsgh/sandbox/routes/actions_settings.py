"""GitHub Actions settings of a repository: /actions/permissions and /actions/permissions/workflow.

Both need admin rights (users without them: 404; Apps and fine-grained tokens: `administration`
read to look, write to change, else 403). New repositories start as GitHub creates them today: Actions
enabled for all actions, a read-only GITHUB_TOKEN by default, and workflows not allowed to approve
pull requests. `set_actions_settings(sandbox, owner, name, ...)` seeds other values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from opsgh.sandbox.routes.protection import SchemaProblem, check_bool, invalid, require_admin, ruby
from opsgh.sandbox.routing import Request, Response, RouteTable
from opsgh.sandbox.state import Collection, RepoState

if TYPE_CHECKING:
    from opsgh.sandbox.api import Sandbox

routes = RouteTable()

DOCS = "https://docs.github.com/rest/actions/permissions"
WORKFLOW_PERMISSIONS = ("read", "write")
ALLOWED_ACTIONS = ("all", "local_only", "selected")


@dataclass
class ActionsSettings:
    enabled: bool = True
    allowed_actions: str = "all"  # all | local_only | selected
    default_workflow_permissions: str = "read"  # read | write
    can_approve_pull_request_reviews: bool = False


SETTINGS: Collection[str, ActionsSettings] = Collection("actions_settings", ActionsSettings, key=str)


def actions_settings(repo: RepoState) -> ActionsSettings:
    return repo.items(SETTINGS).setdefault("repo", ActionsSettings())


def set_actions_settings(sandbox: Sandbox, owner: str, name: str, *, enabled: bool | None = None,
                         allowed_actions: str | None = None, default_workflow_permissions: str | None = None,
                         can_approve_pull_request_reviews: bool | None = None) -> ActionsSettings:
    """Seed the Actions settings of owner/name (only the values given change)."""
    if allowed_actions is not None and allowed_actions not in ALLOWED_ACTIONS:
        raise ValueError(f"allowed_actions must be one of {ALLOWED_ACTIONS}")
    if default_workflow_permissions is not None and default_workflow_permissions not in WORKFLOW_PERMISSIONS:
        raise ValueError(f"default_workflow_permissions must be one of {WORKFLOW_PERMISSIONS}")
    with sandbox.app.lock:
        settings = actions_settings(sandbox.repo(owner, name))
        if enabled is not None:
            settings.enabled = enabled
        if allowed_actions is not None:
            settings.allowed_actions = allowed_actions
        if default_workflow_permissions is not None:
            settings.default_workflow_permissions = default_workflow_permissions
        if can_approve_pull_request_reviews is not None:
            settings.can_approve_pull_request_reviews = can_approve_pull_request_reviews
        sandbox.app.persist()
        return settings


@routes.get("/repos/{owner}/{repo}/actions/permissions")
def get_actions_permissions(request: Request) -> Response:
    repo = require_admin(request, write=False)
    settings = actions_settings(repo)
    data: dict[str, object] = {"enabled": settings.enabled}
    if settings.enabled:
        data["allowed_actions"] = settings.allowed_actions
        if settings.allowed_actions == "selected":
            data["selected_actions_url"] = request.api_url(
                f"/repos/{repo.full_name}/actions/permissions/selected-actions")
    return Response(200, data)


@routes.get("/repos/{owner}/{repo}/actions/permissions/workflow")
def get_workflow_permissions(request: Request) -> Response:
    repo = require_admin(request, write=False)
    settings = actions_settings(repo)
    return Response(200, {"default_workflow_permissions": settings.default_workflow_permissions,
                          "can_approve_pull_request_reviews": settings.can_approve_pull_request_reviews})


@routes.put("/repos/{owner}/{repo}/actions/permissions/workflow")
def set_workflow_permissions(request: Request) -> Response:
    repo = require_admin(request, write=True)
    body = request.json_object()
    documentation = f"{DOCS}#set-default-workflow-permissions-for-a-repository"
    try:
        chosen = body.get("default_workflow_permissions")
        if "default_workflow_permissions" in body and chosen not in WORKFLOW_PERMISSIONS:
            raise SchemaProblem(f"For 'properties/default_workflow_permissions', {ruby(chosen)} is not a member of "
                                f"{ruby(list(WORKFLOW_PERMISSIONS))}.")
        approve = check_bool(body, "can_approve_pull_request_reviews")
    except SchemaProblem as problem:
        raise invalid(str(problem), documentation) from None
    settings = actions_settings(repo)
    if isinstance(chosen, str):
        settings.default_workflow_permissions = chosen
    if approve is not None:
        settings.can_approve_pull_request_reviews = approve
    return Response(204)
