"""GitHub Apps: the App itself, its installations and installation access tokens (App JWT auth)."""

from __future__ import annotations

from typing import Any

from opsgh.sandbox import render
from opsgh.sandbox.auth import new_token_value
from opsgh.sandbox.routing import ApiError, Request, Response, RouteTable, not_found, paginate
from opsgh.sandbox.state import App, Installation, RepoState, Token, User

routes = RouteTable()

INSTALLATION_TOKEN_LIFETIME = 3600.0


def bot_login(app: App) -> str:
    return f"{app.slug}[bot]"


def _account(request: Request, login: str) -> dict[str, Any]:
    user = request.app.state.user(login) or User(login, 0, "Organization")
    return render.simple_user(request, user)


def integration(request: Request, app: App) -> dict[str, Any]:
    return {
        "id": app.id,
        "slug": app.slug,
        "node_id": render.node_id("Integration", app.id),
        "client_id": app.client_id or f"Iv1.{app.id:016x}",
        "owner": _account(request, app.owner),
        "name": app.name,
        "description": None,
        "external_url": request.html_url(f"/apps/{app.slug}"),
        "html_url": request.html_url(f"/apps/{app.slug}"),
        "created_at": render.iso(app.created_at),
        "updated_at": render.iso(app.created_at),
        "permissions": dict(app.permissions),
        "events": list(app.events),
        "installations_count": sum(1 for i in request.app.state.installations.values() if i.app_id == app.id),
    }


def installation_json(request: Request, installation: Installation) -> dict[str, Any]:
    app = request.app.state.apps[installation.app_id]
    account = request.app.state.user(installation.account) or User(installation.account, 0, "Organization")
    return {
        "id": installation.id,
        "account": render.simple_user(request, account),
        "repository_selection": installation.repository_selection,
        "access_tokens_url": request.api_url(f"/app/installations/{installation.id}/access_tokens"),
        "repositories_url": request.api_url("/installation/repositories"),
        "html_url": request.html_url(f"/settings/installations/{installation.id}"),
        "app_id": app.id,
        "app_slug": app.slug,
        "client_id": app.client_id or f"Iv1.{app.id:016x}",
        "target_id": account.id,
        "target_type": account.type if account.type in ("User", "Organization") else "User",
        "permissions": dict(installation.permissions),
        "events": list(installation.events),
        "created_at": render.iso(installation.created_at),
        "updated_at": render.iso(installation.created_at),
        "single_file_name": None,
        "has_multiple_single_files": False,
        "single_file_paths": [],
        "suspended_by": None,
        "suspended_at": None,
    }


def installation_covers(installation: Installation, repo: RepoState) -> bool:
    if installation.account.lower() != repo.owner.lower():
        return False
    return installation.repository_selection == "all" or repo.key in [r.lower() for r in installation.repositories]


def _own_installation(request: Request) -> Installation:
    app = request.auth.app
    assert app is not None  # auth="app" routes only run with an App JWT
    try:
        installation = request.app.state.installations.get(int(request.params["installation_id"]))
    except ValueError:
        installation = None
    if installation is None or installation.app_id != app.id:
        raise not_found()
    return installation


@routes.get("/app", auth="app")
def get_app(request: Request) -> Response:
    assert request.auth.app is not None
    return Response(200, integration(request, request.auth.app))


@routes.get("/app/installations", auth="app")
def list_installations(request: Request) -> Response:
    app = request.auth.app
    assert app is not None
    installations = sorted((i for i in request.app.state.installations.values() if i.app_id == app.id),
                           key=lambda i: i.id)
    return paginate(request, installations).response(lambda i: installation_json(request, i))


@routes.get("/app/installations/{installation_id}", auth="app")
def get_installation(request: Request) -> Response:
    return Response(200, installation_json(request, _own_installation(request)))


@routes.get("/repos/{owner}/{repo}/installation", auth="app")
def get_repo_installation(request: Request) -> Response:
    app = request.auth.app
    assert app is not None
    repo = request.app.state.repo(request.params["owner"], request.params["repo"])
    if repo is not None:
        for installation in request.app.state.installations.values():
            if installation.app_id == app.id and installation_covers(installation, repo):
                return Response(200, installation_json(request, installation))
    raise not_found()


@routes.post("/app/installations/{installation_id}/access_tokens", auth="app", creates_content=False)
def create_installation_token(request: Request) -> Response:
    installation = _own_installation(request)
    app = request.app.state.apps[installation.app_id]
    body = request.json_object()
    state = request.app.state
    permissions = dict(installation.permissions)
    wanted = body.get("permissions")
    if isinstance(wanted, dict):
        for name, level in wanted.items():
            granted = installation.permissions.get(name)
            if granted is None or (level == "write" and granted != "write"):
                raise ApiError(422, "The permissions requested are not granted to this installation.")
        permissions = {str(k): str(v) for k, v in wanted.items()}
    covered = [r for r in state.repos.values() if installation_covers(installation, r)]
    selected: list[RepoState] | None = None
    if body.get("repositories") or body.get("repository_ids"):
        names = {str(n).lower() for n in body.get("repositories") or []}
        ids = {int(i) for i in body.get("repository_ids") or []}
        selected = [r for r in covered if r.name.lower() in names or r.id in ids]
        if len(selected) != len(names) + len(ids):
            raise ApiError(422, "There is at least one repository that does not exist or is not accessible to "
                                "the parent installation.")
    token = Token(new_token_value("app-installation"), bot_login(app), "app-installation",
                  permissions=permissions, installation_id=installation.id,
                  repositories=[r.key for r in selected] if selected is not None else None,
                  expires_at=request.app.now() + INSTALLATION_TOKEN_LIFETIME, created_at=request.app.now())
    state.tokens[token.value] = token
    data: dict[str, Any] = {
        "token": token.value,
        "expires_at": render.iso(token.expires_at or 0),
        "permissions": permissions,
        "repository_selection": "selected" if selected is not None else installation.repository_selection,
    }
    if selected is not None:
        data["repositories"] = [render.repository(request, r) for r in selected]
    return Response(201, data)
