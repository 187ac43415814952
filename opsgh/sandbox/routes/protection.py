"""Classic branch protection: /branches/{branch}/protection and its sub-resources.

What GitHub does and the sandbox mirrors:
- Reading or changing protection needs admin rights. A user without them gets 404 "Not Found" (also
  for PUT: a push collaborator reads it as a missing branch), an App or fine-grained token without
  `administration` 403 "Resource not accessible by integration" / "... by personal access token".
- GET on an unprotected branch: 404 "Branch not protected"; a missing branch: 404 "Branch not found".
- PUT needs all four of required_status_checks, enforce_admins, required_pull_request_reviews and
  restrictions (each may be null): 422 "Invalid request.\\n\\n\"enforce_admins\" wasn't supplied.";
  schema problems answer GitHub's JSON-schema wording ("For 'properties/...', ... is not a boolean.").
- `required_status_checks` takes `contexts` (deprecated) or `checks`, not both and not neither (422,
  wording as recorded by go-github#2976); the answer carries both, in the order given. A check without
  `app_id` (or a bare context) is tied to the App that most recently reported it, if any; -1 means any
  source and reads back as null.
- `required_approving_review_count` 0-6 (omitted: 1); `restrictions` and user/team
  `dismissal_restrictions` only on organization repositories (422 "Only organization repositories can
  have users and team restrictions").
- The answer leaves out disabled sections (`required_status_checks` etc.) and gives the toggles as
  `{"enabled": bool}` objects.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from opsgh.sandbox import render_protection
from opsgh.sandbox.routing import ApiError, Request, Response, RouteTable, not_found
from opsgh.sandbox.state import INTEGRATION_KINDS, BranchProtection, Collection, RepoState, role_at_least

routes = RouteTable()

DOCS = "https://docs.github.com/rest/branches/branch-protection"
PROTECTION = "/repos/{owner}/{repo}/branches/{branch:path}/protection"
PUT_REQUIRED = ("required_status_checks", "enforce_admins", "required_pull_request_reviews", "restrictions")
TOGGLES = ("required_linear_history", "allow_deletions", "block_creations", "required_conversation_resolution",
           "lock_branch", "allow_fork_syncing")
MAX_APPROVING_REVIEWS = 6
ORG_ONLY = "Only organization repositories can have users and team restrictions"


# ---------------------------------------------------------------------------------------------------
# Shared with the other admin-only route modules (rulesets, Actions settings)


def require_admin(request: Request, *, write: bool, permission: str = "administration") -> RepoState:
    """The repository of the path, if the caller has admin rights on it, refused the way GitHub refuses
    admin-only endpoints: 404 for users without admin rights (and anonymous readers), 401 for anonymous
    writes, 403 for integrations and fine-grained tokens without `permission` (read or write)."""
    repo = request.app.state.repo(request.params.get("owner", ""), request.params.get("repo", ""))
    if repo is None or not request.can_read(repo):
        raise not_found()
    token = request.auth.token
    if token is None:
        if write:
            raise ApiError(401, "Requires authentication")
        raise not_found()
    role = request.role(repo)
    if role is None:
        raise not_found()
    needed = "write" if write else "read"
    if token.kind in INTEGRATION_KINDS or token.kind == "fine-grained":
        granted = token.permissions.get(permission)
        if granted is None or (write and granted != "write"):
            message = ("Resource not accessible by integration" if token.is_integration
                       else "Resource not accessible by personal access token")
            raise ApiError(403, message, headers={"x-accepted-github-permissions": f"{permission}={needed}"})
    elif token.kind == "classic-pat":
        scopes = {"repo"} if repo.private else {"repo", "public_repo"}
        if not scopes & set(token.scopes):
            raise ApiError(404, "Not Found", headers={"x-accepted-oauth-scopes": "repo"})
    if not token.is_integration and not role_at_least(role, "admin"):
        raise not_found()
    if write and repo.archived:
        raise ApiError(403, "Repository was archived so is read-only.")
    return repo


def ruby(value: Any) -> str:
    """A JSON value as Ruby's `inspect` shows it (GitHub quotes request values that way in 422s)."""
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{ruby(k)}=>{ruby(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(ruby(v) for v in value) + "]"
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    return str(value)


def invalid(detail: str, documentation_url: str) -> ApiError:
    """GitHub's 422 for a request its JSON schema refuses ("Invalid request.\\n\\n...")."""
    return ApiError(422, f"Invalid request.\n\n{detail}", documentation_url=documentation_url)


def not_supplied(names: list[str]) -> str:
    quoted = ", ".join(f'"{name}"' for name in names)
    return f"{quoted} wasn't supplied." if len(names) == 1 else f"{quoted} weren't supplied."


class SchemaProblem(Exception):
    """One JSON-schema complaint, worded like GitHub's validator."""


def _type_problem(name: str, value: Any, kind: str) -> SchemaProblem:
    article = "an" if kind[0] in "aeiou" else "a"
    return SchemaProblem(f"For 'properties/{name}', {ruby(value)} is not {article} {kind}.")


def check_bool(body: Mapping[str, Any], name: str, *, nullable: bool = False) -> bool | None:
    value = body.get(name)
    if value is None and (nullable or name not in body):
        return None
    if not isinstance(value, bool):
        raise _type_problem(name, value, "boolean")
    return value


def check_strings(body: Mapping[str, Any], name: str) -> list[str] | None:
    value = body.get(name)
    if name not in body:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _type_problem(name, value, "array")
    return list(dict.fromkeys(value))


def _object(body: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise _type_problem(name, value, "object")
    return value


def _nullable_object(name: str, value: Any, check: Any) -> Any:
    """Validate a nullable object member: GitHub words an inner problem through its anyOf."""
    if value is None:
        return None
    try:
        if not isinstance(value, Mapping):
            raise _type_problem(name, value, "object")
        return check(value)
    except SchemaProblem as problem:
        raise SchemaProblem(f'No subschema in "anyOf" matched.\nFor \'anyOf/1\', {ruby(value)} is not a null.\n'
                            f"{problem}") from None


# ---------------------------------------------------------------------------------------------------
# Reading the request into stored form


def _recent_check_app(repo: RepoState, context: str) -> int | None:
    """The App that most recently reported a check run named `context` (GitHub ties an unqualified
    required check to it), read from the checks routes' collection when that module is loaded."""
    collection = Collection.registry.get("check_runs")
    if collection is None:
        return None
    runs = [run for run in repo.items(collection).values() if getattr(run, "name", None) == context]
    latest = max(runs, key=lambda run: getattr(run, "id", 0), default=None)
    app_id = getattr(latest, "app_id", None)
    return app_id if isinstance(app_id, int) else None


def parse_status_checks(repo: RepoState, value: Mapping[str, Any], *, partial: bool = False,
                        current: dict[str, Any] | None = None) -> dict[str, Any]:
    """Stored `required_status_checks` from a request object (PUT: whole; PATCH: `partial`)."""
    has_contexts, has_checks = "contexts" in value, "checks" in value
    if (has_contexts and has_checks) or (not partial and not has_contexts and not has_checks):
        matched = "More than one subschema" if has_contexts else "No subschema"
        raise SchemaProblem(f'No subschema in "anyOf" matched.\n{matched} in "oneOf" matched.\n'
                            f'Not all subschemas of "allOf" matched.\nFor \'anyOf/1\', {ruby(value)} is not a null.')
    if "strict" not in value and not partial:
        raise SchemaProblem(not_supplied(["strict"]))
    strict = check_bool(value, "strict")
    if has_checks:
        raw = value["checks"]
        if not isinstance(raw, list) or not all(isinstance(c, Mapping) for c in raw):
            raise _type_problem("checks", raw, "array")
        checks: list[dict[str, Any]] = []
        for item in raw:
            if not isinstance(item.get("context"), str):
                raise SchemaProblem(not_supplied(["context"]) if "context" not in item
                                    else f"For 'properties/context', {ruby(item.get('context'))} is not a string.")
            app_id = item.get("app_id")
            if "app_id" in item and not isinstance(app_id, int):
                raise _type_problem("app_id", app_id, "integer")
            source = None if app_id == -1 else app_id if "app_id" in item else _recent_check_app(repo, item["context"])
            checks.append({"context": item["context"], "app_id": source})
    elif has_contexts:
        contexts = check_strings(value, "contexts") or []
        checks = [{"context": c, "app_id": _recent_check_app(repo, c)} for c in contexts]
    else:
        checks = list((current or {}).get("checks") or ())
    seen: set[str] = set()  # a context named twice is required once (the first mention wins)
    ordered = []
    for check in checks:
        if check["context"] not in seen:
            seen.add(check["context"])
            ordered.append(check)
    if strict is None:
        strict = bool((current or {}).get("strict", False))
    return {"strict": strict, "checks": ordered, "contexts": [c["context"] for c in ordered]}


def _actor_lists(repo_is_org: bool, value: Any, name: str, *, teams_need_org: bool = True,
                 users_need_org: bool = True) -> dict[str, list[str]] | None:
    lists = _object({name: value}, name)
    if lists is None:
        return None
    parsed = {kind: check_strings(lists, kind) or [] for kind in ("users", "teams", "apps")}
    if not repo_is_org and ((users_need_org and parsed["users"]) or (teams_need_org and parsed["teams"])):
        raise ApiError(422, ORG_ONLY, documentation_url=f"{DOCS}#update-branch-protection")
    return parsed


def parse_reviews(value: Mapping[str, Any], *, org: bool, current: dict[str, Any] | None = None) -> dict[str, Any]:
    """Stored `required_pull_request_reviews` from a request object (merged over `current` for PATCH)."""
    base = dict(current or {})
    for name in ("dismiss_stale_reviews", "require_code_owner_reviews", "require_last_push_approval"):
        flag = check_bool(value, name)
        if flag is not None:
            base[name] = flag
    if "required_approving_review_count" in value:
        count = value["required_approving_review_count"]
        if isinstance(count, bool) or not isinstance(count, int):
            raise _type_problem("required_approving_review_count", count, "integer")
        if count > MAX_APPROVING_REVIEWS:
            raise SchemaProblem(f"{count} must be less than or equal to {MAX_APPROVING_REVIEWS}.")
        if count < 0:
            raise SchemaProblem(f"{count} must be greater than or equal to 0.")
        base["required_approving_review_count"] = count
    if "dismissal_restrictions" in value:
        lists = _actor_lists(org, value["dismissal_restrictions"], "dismissal_restrictions")
        # An empty object turns dismissal restrictions off.
        base["dismissal_restrictions"] = lists if lists is not None and any(lists.values()) else None
    if "bypass_pull_request_allowances" in value:
        lists = _actor_lists(org, value["bypass_pull_request_allowances"], "bypass_pull_request_allowances",
                             users_need_org=False)
        base["bypass_pull_request_allowances"] = lists if lists is not None and any(lists.values()) else None
    stored = BranchProtection("", required_pull_request_reviews=base).reviews()
    assert stored is not None
    return stored


def parse_restrictions(value: Mapping[str, Any]) -> dict[str, list[str]]:
    missing = [name for name in ("users", "teams") if name not in value]
    if missing:
        raise SchemaProblem(not_supplied(missing))
    return {kind: check_strings(value, kind) or [] for kind in ("users", "teams", "apps")}


def is_org_repo(request: Request, repo: RepoState) -> bool:
    """Whether an organization owns the repository (user and team restrictions need one)."""
    owner = request.app.state.user(repo.owner)
    return owner is None or owner.type == "Organization"


# ---------------------------------------------------------------------------------------------------
# Lookups


def _branch(request: Request, repo: RepoState) -> str:
    name = request.params["branch"]
    if request.app.git_repo(repo).ref(f"refs/heads/{name}") is None:
        raise ApiError(404, "Branch not found", documentation_url=f"{DOCS}#get-branch-protection")
    return name


def _load(request: Request, *, write: bool) -> tuple[RepoState, str]:
    repo = require_admin(request, write=write)
    return repo, _branch(request, repo)


def _protected(request: Request, *, write: bool, operation: str) -> tuple[RepoState, BranchProtection]:
    repo, branch = _load(request, write=write)
    rule = repo.protection.get(branch)
    if rule is None:
        raise ApiError(404, "Branch not protected", documentation_url=f"{DOCS}#{operation}")
    return repo, rule


# ---------------------------------------------------------------------------------------------------
# The protection


@routes.get(PROTECTION)
def get_protection(request: Request) -> Response:
    repo, rule = _protected(request, write=False, operation="get-branch-protection")
    return Response(200, render_protection.protection(request, repo, rule))


@routes.put(PROTECTION)
def update_protection(request: Request) -> Response:
    repo, branch = _load(request, write=True)
    body = request.json_object()
    documentation = f"{DOCS}#update-branch-protection"
    missing = [name for name in PUT_REQUIRED if name not in body]
    if missing:
        raise invalid(not_supplied(missing), documentation)
    try:
        rule = _parse_protection(repo, branch, body, org=is_org_repo(request, repo))
    except SchemaProblem as problem:
        raise invalid(str(problem), documentation) from None
    if rule.required_linear_history and not (repo.settings.allow_squash_merge or repo.settings.allow_rebase_merge):
        raise ApiError(422, "Your repository must allow squash merging or rebase merging before you can enable "
                       "a linear commit history.", documentation_url=documentation)
    repo.protection[branch] = rule
    return Response(200, render_protection.protection(request, repo, rule))


def _parse_protection(repo: RepoState, branch: str, body: Mapping[str, Any], *, org: bool) -> BranchProtection:
    checks = _nullable_object("required_status_checks", body["required_status_checks"],
                              lambda v: parse_status_checks(repo, v))
    reviews = _nullable_object("required_pull_request_reviews", body["required_pull_request_reviews"],
                               lambda v: parse_reviews(v, org=org))
    restrictions = _nullable_object("restrictions", body["restrictions"], parse_restrictions)
    if restrictions is not None and not org:
        raise ApiError(422, ORG_ONLY, documentation_url=f"{DOCS}#update-branch-protection")
    flags = {name: bool(check_bool(body, name)) for name in TOGGLES}
    return BranchProtection(
        branch,
        required_pull_request_reviews=reviews,
        required_status_checks=checks,
        enforce_admins=bool(check_bool(body, "enforce_admins", nullable=True)),
        allow_force_pushes=bool(check_bool(body, "allow_force_pushes", nullable=True)),
        required_signatures=repo.protection[branch].required_signatures if branch in repo.protection else False,
        restrictions=restrictions,
        **flags,
    )


@routes.delete(PROTECTION)
def delete_protection(request: Request) -> Response:
    repo, rule = _protected(request, write=True, operation="delete-branch-protection")
    del repo.protection[rule.branch]
    return Response(204)


# ---------------------------------------------------------------------------------------------------
# enforce_admins, required_signatures


def _toggle(request: Request, name: str, value: bool | None, operation: str) -> Response:
    repo, rule = _protected(request, write=value is not None, operation=operation)
    if value is None:
        return Response(200, render_protection.enabled(
            getattr(rule, name), f"{render_protection.protection_url(request, repo, rule.branch)}/{name}"))
    setattr(rule, name, value)
    if not value:
        return Response(204)
    return Response(200, render_protection.enabled(
        True, f"{render_protection.protection_url(request, repo, rule.branch)}/{name}"))


@routes.get(PROTECTION + "/enforce_admins")
def get_enforce_admins(request: Request) -> Response:
    return _toggle(request, "enforce_admins", None, "get-admin-branch-protection")


@routes.post(PROTECTION + "/enforce_admins")
def set_enforce_admins(request: Request) -> Response:
    return _toggle(request, "enforce_admins", True, "set-admin-branch-protection")


@routes.delete(PROTECTION + "/enforce_admins")
def delete_enforce_admins(request: Request) -> Response:
    return _toggle(request, "enforce_admins", False, "delete-admin-branch-protection")


@routes.get(PROTECTION + "/required_signatures")
def get_required_signatures(request: Request) -> Response:
    return _toggle(request, "required_signatures", None, "get-commit-signature-protection")


@routes.post(PROTECTION + "/required_signatures")
def create_required_signatures(request: Request) -> Response:
    return _toggle(request, "required_signatures", True, "create-commit-signature-protection")


@routes.delete(PROTECTION + "/required_signatures")
def delete_required_signatures(request: Request) -> Response:
    return _toggle(request, "required_signatures", False, "delete-commit-signature-protection")


# ---------------------------------------------------------------------------------------------------
# required_status_checks


@routes.get(PROTECTION + "/required_status_checks")
def get_status_checks(request: Request) -> Response:
    repo, rule = _protected(request, write=False, operation="get-status-checks-protection")
    data = render_protection.status_checks(request, repo, rule)
    if data is None:
        raise ApiError(404, "Required status checks not enabled",
                       documentation_url=f"{DOCS}#get-status-checks-protection")
    return Response(200, data)


@routes.patch(PROTECTION + "/required_status_checks")
def update_status_checks(request: Request) -> Response:
    repo, rule = _protected(request, write=True, operation="update-status-check-protection")
    current = rule.status_checks()
    if current is None:
        raise ApiError(404, "Required status checks not enabled",
                       documentation_url=f"{DOCS}#update-status-check-protection")
    try:
        rule.required_status_checks = parse_status_checks(repo, request.json_object(), partial=True, current=current)
    except SchemaProblem as problem:
        raise invalid(str(problem), f"{DOCS}#update-status-check-protection") from None
    data = render_protection.status_checks(request, repo, rule)
    return Response(200, data)


@routes.delete(PROTECTION + "/required_status_checks")
def delete_status_checks(request: Request) -> Response:
    _repo, rule = _protected(request, write=True, operation="remove-status-check-protection")
    rule.required_status_checks = None
    return Response(204)


# ---------------------------------------------------------------------------------------------------
# required_pull_request_reviews


@routes.get(PROTECTION + "/required_pull_request_reviews")
def get_reviews(request: Request) -> Response:
    repo, rule = _protected(request, write=False, operation="get-pull-request-review-protection")
    data = render_protection.reviews(request, repo, rule)
    if data is None:
        raise ApiError(404, "Pull request reviews not enabled",
                       documentation_url=f"{DOCS}#get-pull-request-review-protection")
    return Response(200, data)


@routes.patch(PROTECTION + "/required_pull_request_reviews")
def update_reviews(request: Request) -> Response:
    repo, rule = _protected(request, write=True, operation="update-pull-request-review-protection")
    try:
        rule.required_pull_request_reviews = parse_reviews(request.json_object(), org=is_org_repo(request, repo),
                                                           current=rule.reviews())
    except SchemaProblem as problem:
        raise invalid(str(problem), f"{DOCS}#update-pull-request-review-protection") from None
    data = render_protection.reviews(request, repo, rule)
    return Response(200, data)


@routes.delete(PROTECTION + "/required_pull_request_reviews")
def delete_reviews(request: Request) -> Response:
    _repo, rule = _protected(request, write=True, operation="delete-pull-request-review-protection")
    rule.required_pull_request_reviews = None
    return Response(204)


# ---------------------------------------------------------------------------------------------------
# restrictions


@routes.get(PROTECTION + "/restrictions")
def get_restrictions(request: Request) -> Response:
    repo, rule = _protected(request, write=False, operation="get-access-restrictions")
    data = render_protection.restrictions(request, repo, rule)
    if data is None:
        raise ApiError(404, "Push restrictions not enabled", documentation_url=f"{DOCS}#get-access-restrictions")
    return Response(200, data)


@routes.delete(PROTECTION + "/restrictions")
def delete_restrictions(request: Request) -> Response:
    _repo, rule = _protected(request, write=True, operation="delete-access-restrictions")
    rule.restrictions = None
    rule.block_creations = False
    return Response(204)
