"""Repository rulesets: /rulesets (list, create), /rulesets/{id} (get, update, delete) and
/rules/branches/{branch} (the active rules for a branch).

What GitHub does and the sandbox mirrors:
- Anyone with read access lists and reads rulesets; `bypass_actors` only shows to callers who may edit
  them (admins); the list leaves out `conditions`, `rules` and `bypass_actors`. Creating, updating and
  deleting need admin rights (404 otherwise, 403 for integrations without `administration: write`).
- The stored ruleset is GitHub's normalised request: `bypass_mode` defaults to "always",
  `conditions.ref_name` always has `include` and `exclude`, a pull_request rule gets
  `allowed_merge_methods` (all three), a required_status_checks rule `do_not_enforce_on_create: false`.
  Patterns stay as given: `main` never matches (GitHub wants `refs/heads/main`, `~DEFAULT_BRANCH`,
  `~ALL`, fnmatch globs).
- Shape errors answer "Invalid request.\\n\\nInvalid property /rules/0: data matches no possible
  input. See `documentation_url`." (unknown rule types, missing parameters); a bad enumeration
  "Invalid property /enforcement: `x` is not a possible value. Must be one of the following: ...".
  Semantic errors answer "Validation Failed" with *strings* in `errors` ("Name must be unique",
  "Invalid target patterns: ''", "Invalid rule 'required_status_checks': ... Invalid integration ids"),
  which GitHub's own description does not allow (its `errors` items are objects).
- /rules/branches/{branch} lists, per active ruleset whose conditions match (the branch need not
  exist), each rule with `ruleset_source_type`, `ruleset_source` and `ruleset_id`; rulesets in
  `evaluate` or `disabled` enforcement are not listed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from opsgh.sandbox import render_protection
from opsgh.sandbox.routes.protection import not_supplied, require_admin
from opsgh.sandbox.routing import ApiError, Request, Response, RouteTable, not_found, paginate
from opsgh.sandbox.rules import (
    BYPASS_ACTOR_TYPES,
    BYPASS_MODES,
    ENFORCEMENTS,
    RULE_TYPES,
    TARGETS,
    RuleActor,
    Ruleset,
    active_rulesets,
    rulesets,
)
from opsgh.sandbox.state import RepoState, SandboxState, role_at_least

if TYPE_CHECKING:
    from opsgh.sandbox.api import Sandbox

routes = RouteTable()

DOCS = "https://docs.github.com/rest/repos/rules"
GITHUB_ACTIONS_APP_ID = 15368
MERGE_METHODS = ("merge", "squash", "rebase")
# Parameters each rule type requires when it has `parameters` (from GitHub's description); the types
# listed in PARAMETERS_REQUIRED must have them.
REQUIRED_PARAMETERS: dict[str, tuple[str, ...]] = {
    "update": ("update_allows_fetch_and_merge",),
    "merge_queue": ("check_response_timeout_minutes", "grouping_strategy", "max_entries_to_build",
                    "max_entries_to_merge", "merge_method", "min_entries_to_merge",
                    "min_entries_to_merge_wait_minutes"),
    "required_deployments": ("required_deployment_environments",),
    "pull_request": ("dismiss_stale_reviews_on_push", "require_code_owner_review", "require_last_push_approval",
                     "required_approving_review_count", "required_review_thread_resolution"),
    "required_status_checks": ("required_status_checks", "strict_required_status_checks_policy"),
    "commit_message_pattern": ("operator", "pattern"),
    "commit_author_email_pattern": ("operator", "pattern"),
    "committer_email_pattern": ("operator", "pattern"),
    "branch_name_pattern": ("operator", "pattern"),
    "tag_name_pattern": ("operator", "pattern"),
    "workflows": ("workflows",),
    "code_scanning": ("code_scanning_tools",),
    "file_path_restriction": ("restricted_file_paths",),
    "max_file_path_length": ("max_file_path_length",),
    "file_extension_restriction": ("restricted_file_extensions",),
    "max_file_size": ("max_file_size",),
}
PARAMETERS_REQUIRED = frozenset(REQUIRED_PARAMETERS) - {"update"}


# ---------------------------------------------------------------------------------------------------
# Validation


class RulesetError(Exception):
    """A request GitHub refuses; `error()` is its 422."""

    def __init__(self, message: str, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors

    def error(self, operation: str) -> ApiError:
        if self.errors is not None:
            return _StringErrors(self.message, self.errors, f"{DOCS}#{operation}")
        return ApiError(422, self.message, documentation_url=f"{DOCS}#{operation}")


class _StringErrors(ApiError):
    """GitHub's "Validation Failed" for rulesets: `errors` holds plain strings."""

    def __init__(self, message: str, errors: list[str], documentation_url: str) -> None:
        super().__init__(422, message, documentation_url=documentation_url)
        self.string_errors = errors

    def body(self) -> dict[str, Any]:
        return {"message": self.message, "errors": list(self.string_errors),
                "documentation_url": self.documentation_url, "status": str(self.status)}


def _no_input(path: str) -> RulesetError:
    return RulesetError(f"Invalid request.\n\nInvalid property {path}: data matches no possible input. "
                        "See `documentation_url`.")


def _not_possible(path: str, value: Any, allowed: tuple[str, ...]) -> RulesetError:
    return RulesetError(f"Invalid request.\n\nInvalid property {path}: `{value}` is not a possible value. "
                        f"Must be one of the following: {', '.join(allowed)}.")


def _enum(body: Mapping[str, Any], name: str, allowed: tuple[str, ...], path: str) -> str | None:
    if name not in body:
        return None
    value = body[name]
    if not isinstance(value, str) or value not in allowed:
        raise _not_possible(path, value, allowed)
    return value


def _bypass_actors(raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        raise _no_input("/bypass_actors")
    actors = []
    for index, entry in enumerate(raw):
        path = f"/bypass_actors/{index}"
        if not isinstance(entry, Mapping) or "actor_type" not in entry:
            raise _no_input(path)
        kind = _enum(entry, "actor_type", BYPASS_ACTOR_TYPES, f"{path}/actor_type")
        mode = _enum(entry, "bypass_mode", BYPASS_MODES, f"{path}/bypass_mode") or "always"
        actor_id = entry.get("actor_id")
        if actor_id is not None and (isinstance(actor_id, bool) or not isinstance(actor_id, int)):
            raise _no_input(f"{path}/actor_id")
        if kind == "DeployKey":
            actor_id = None
        elif kind == "OrganizationAdmin" and actor_id is None:
            actor_id = 1
        elif actor_id is None:
            raise RulesetError("Validation Failed", [f"Invalid bypass actor: actor_id is required for {kind}"])
        actors.append({"actor_id": actor_id, "actor_type": kind, "bypass_mode": mode})
    return actors


def _conditions(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise _no_input("/conditions")
    ref_name = raw.get("ref_name", {})
    if not isinstance(ref_name, Mapping):
        raise _no_input("/conditions")
    lists: dict[str, list[str]] = {}
    for kind in ("include", "exclude"):
        values = ref_name.get(kind, [])
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise _no_input("/conditions")
        lists[kind] = list(values)
    empty = [v for v in lists["include"] + lists["exclude"] if not v.strip()]
    if empty:
        raise RulesetError("Validation Failed", ["Invalid target patterns: " + ", ".join(f"'{v}'" for v in empty)])
    return {"ref_name": {"exclude": lists["exclude"], "include": lists["include"]}}


def _rules(raw: Any, state: SandboxState) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        raise _no_input("/rules")
    parsed = []
    for index, rule in enumerate(raw):
        path = f"/rules/{index}"
        if not isinstance(rule, Mapping) or rule.get("type") not in RULE_TYPES:
            raise _no_input(path)
        kind = str(rule["type"])
        params = rule.get("parameters")
        if params is not None and not isinstance(params, Mapping):
            raise _no_input(path)
        if params is None and kind in PARAMETERS_REQUIRED:
            raise _no_input(path)
        if params is not None and any(name not in params for name in REQUIRED_PARAMETERS.get(kind, ())):
            raise _no_input(path)
        entry: dict[str, Any] = {"type": kind}
        if params is not None:
            entry["parameters"] = _parameters(kind, dict(params), path, state)
        parsed.append(entry)
    return parsed


def _parameters(kind: str, params: dict[str, Any], path: str, state: SandboxState) -> dict[str, Any]:
    if kind == "pull_request":
        count = params["required_approving_review_count"]
        if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= 10:
            raise _no_input(path)
        methods = params.get("allowed_merge_methods", list(MERGE_METHODS))
        if not isinstance(methods, list) or not methods or any(m not in MERGE_METHODS for m in methods):
            raise _no_input(path)
        params["allowed_merge_methods"] = list(dict.fromkeys(methods))
    elif kind == "required_status_checks":
        checks = params["required_status_checks"]
        if not isinstance(checks, list) or not all(isinstance(c, Mapping) and isinstance(c.get("context"), str)
                                                   for c in checks):
            raise _no_input(path)
        known = {*state.apps, GITHUB_ACTIONS_APP_ID}
        if any("integration_id" in c and c["integration_id"] not in known for c in checks):
            raise RulesetError("Validation Failed", [
                "Invalid rule 'required_status_checks': Invalid parameter required_status_checks: "
                "Invalid integration ids"])
        params["required_status_checks"] = [dict(c) for c in checks]
        params.setdefault("do_not_enforce_on_create", False)
    return params


def parse_ruleset(body: Mapping[str, Any], state: SandboxState, existing: Mapping[int, Ruleset], *,
                  current: Ruleset | None = None) -> dict[str, Any]:
    """The fields of a Ruleset from a create (`current` None) or update request; raises RulesetError."""
    if current is None:
        missing = [name for name in ("name", "enforcement") if name not in body]
        if missing:
            raise RulesetError(f"Invalid request.\n\n{not_supplied(missing)}")
    fields: dict[str, Any] = {}
    if "name" in body:
        name = body["name"]
        if not isinstance(name, str) or not name.strip():
            raise _no_input("/name")
        if any(r.name == name and (current is None or r.id != current.id) for r in existing.values()):
            raise RulesetError("Validation Failed", ["Name must be unique"])
        fields["name"] = name
    enforcement = _enum(body, "enforcement", ENFORCEMENTS, "/enforcement")
    if enforcement is not None:
        fields["enforcement"] = enforcement
    target = _enum(body, "target", TARGETS, "/target")
    if target is not None:
        fields["target"] = target
    if "bypass_actors" in body:
        fields["bypass_actors"] = _bypass_actors(body["bypass_actors"])
    if "conditions" in body:
        fields["conditions"] = _conditions(body["conditions"] if body["conditions"] is not None else {})
    elif current is None:
        fields["conditions"] = {"ref_name": {"exclude": [], "include": []}}
    if "rules" in body:
        fields["rules"] = _rules(body["rules"], state)
    return fields


# ---------------------------------------------------------------------------------------------------
# Helpers


def actor_for(request: Request, repo: RepoState) -> RuleActor | None:
    """The caller as a RuleActor (its role, login, user id, and the App behind an installation token)."""
    token = request.auth.token
    if token is None:
        return None
    app_id = None
    if token.installation_id is not None:
        installation = request.app.state.installations.get(token.installation_id)
        app_id = installation.app_id if installation is not None else None
    user = request.auth.user
    return RuleActor(role=request.role(repo), login=request.auth.login, user_id=user.id if user else None,
                     app_id=app_id)


def _may_edit(request: Request, repo: RepoState) -> bool:
    token = request.auth.token
    if token is None:
        return False
    if token.is_integration or token.kind == "fine-grained":
        return token.permissions.get("administration") == "write" and request.role(repo) is not None
    return role_at_least(repo.role_of(token.login), "admin")


def _ruleset(request: Request, repo: RepoState) -> Ruleset:
    try:
        ruleset_id = int(request.params["ruleset_id"])
    except ValueError:
        raise not_found() from None
    found = rulesets(repo).get(ruleset_id)
    if found is None:
        raise not_found()
    return found


def _render(request: Request, repo: RepoState, found: Ruleset, *, detail: bool = True) -> dict[str, Any]:
    return render_protection.ruleset(request, repo, found, actor=actor_for(request, repo), detail=detail,
                                     show_bypass_actors=_may_edit(request, repo))


# ---------------------------------------------------------------------------------------------------
# Routes


@routes.get("/repos/{owner}/{repo}/rulesets")
def list_rulesets(request: Request) -> Response:
    repo = request.repo("read", permission="metadata")
    targets = {t.strip() for t in (request.arg("targets") or "").split(",") if t.strip()}
    found = [r for _, r in sorted(rulesets(repo).items()) if not targets or r.target in targets]
    page = paginate(request, found)
    return page.response(lambda ruleset: _render(request, repo, ruleset, detail=False))


@routes.post("/repos/{owner}/{repo}/rulesets")
def create_ruleset(request: Request) -> Response:
    repo = require_admin(request, write=True)
    try:
        fields = parse_ruleset(request.json_object(), request.app.state, rulesets(repo))
    except RulesetError as error:
        raise error.error("create-a-repository-ruleset") from None
    now = request.app.now()
    ruleset = Ruleset(request.app.state.next_id("ruleset"), created_at=now, updated_at=now, **fields)
    rulesets(repo)[ruleset.id] = ruleset
    return Response(201, _render(request, repo, ruleset))


@routes.get("/repos/{owner}/{repo}/rulesets/{ruleset_id}")
def get_ruleset(request: Request) -> Response:
    repo = request.repo("read", permission="metadata")
    return Response(200, _render(request, repo, _ruleset(request, repo)))


@routes.put("/repos/{owner}/{repo}/rulesets/{ruleset_id}")
def update_ruleset(request: Request) -> Response:
    repo = require_admin(request, write=True)
    found = _ruleset(request, repo)
    try:
        fields = parse_ruleset(request.json_object(), request.app.state, rulesets(repo), current=found)
    except RulesetError as error:
        raise error.error("update-a-repository-ruleset") from None
    for name, value in fields.items():
        setattr(found, name, value)
    found.updated_at = request.app.now()
    return Response(200, _render(request, repo, found))


@routes.delete("/repos/{owner}/{repo}/rulesets/{ruleset_id}")
def delete_ruleset(request: Request) -> Response:
    repo = require_admin(request, write=True)
    found = _ruleset(request, repo)
    del rulesets(repo)[found.id]
    return Response(204)


@routes.get("/repos/{owner}/{repo}/rules/branches/{branch:path}")
def get_branch_rules(request: Request) -> Response:
    repo = request.repo("read", permission="metadata")
    ref = f"refs/heads/{request.params['branch']}"
    found = [(ruleset, rule) for ruleset in active_rulesets(repo, ref) for rule in ruleset.rules]
    page = paginate(request, found)
    return page.response(lambda item: render_protection.branch_rule(repo, item[0], item[1]))


# ---------------------------------------------------------------------------------------------------
# Seeding (Python API)


def add_ruleset(sandbox: Sandbox, owner: str, name: str, ruleset: Mapping[str, Any]) -> int:
    """Create a ruleset on owner/name from a request body (as POST /rulesets takes it); returns its id.
    Raises ValueError with GitHub's message when GitHub would refuse the body."""
    with sandbox.app.lock:
        repo = sandbox.repo(owner, name)
        try:
            fields = parse_ruleset(ruleset, sandbox.state, rulesets(repo))
        except RulesetError as error:
            raise ValueError(error.message + (f" {error.errors}" if error.errors else "")) from None
        now = sandbox.app.now()
        created = Ruleset(sandbox.state.next_id("ruleset"), created_at=now, updated_at=now, **fields)
        rulesets(repo)[created.id] = created
        sandbox.app.persist()
        return created.id

