"""GitHub's JSON for classic branch protection, its sub-resources and repository rulesets.

Shapes follow real answers (tests/replay/cassettes/branch-protection.yaml and later ones): the
`{"enabled": bool}` objects, `url`s on the objects that have their own endpoint, `contexts` and
`checks` kept in sync, objects for users/teams/apps in restrictions, and sections left out entirely
when a setting is off (a PUT with `required_status_checks: null` answers without the key).
"""

from __future__ import annotations

import hashlib
from typing import Any

from opsgh.sandbox import render
from opsgh.sandbox.routing import Request
from opsgh.sandbox.rules import RuleActor, Ruleset, current_user_can_bypass
from opsgh.sandbox.state import BranchProtection, RepoState

# The fields of a ruleset that GET /rulesets (the list) leaves out; GET /rulesets/{id} has them all.
RULESET_DETAIL_FIELDS = ("bypass_actors", "conditions", "rules", "current_user_can_bypass")


def protection_url(request: Request, repo: RepoState, branch: str) -> str:
    return request.api_url(f"/repos/{repo.full_name}/branches/{render.q(branch)}/protection")


def enabled(flag: bool, url: str | None = None) -> dict[str, Any]:
    return {"url": url, "enabled": flag} if url is not None else {"enabled": flag}


def team(request: Request, org: str, slug: str) -> dict[str, Any]:
    """A `team` object for a slug (the sandbox keeps no teams: the id is derived from the name)."""
    team_id = int(hashlib.sha1(f"{org}/{slug}".lower().encode(), usedforsecurity=False).hexdigest()[:7], 16)
    owner = request.app.state.user(org)
    org_id = owner.id if owner is not None else 0
    base = request.api_url(f"/organizations/{org_id}/team/{team_id}")
    return {
        "name": slug,
        "id": team_id,
        "node_id": render.node_id("Team", team_id),
        "slug": slug,
        "description": None,
        "privacy": "closed",
        "notification_setting": "notifications_enabled",
        "url": base,
        "html_url": request.html_url(f"/orgs/{org}/teams/{slug}"),
        "members_url": f"{base}/members{{/member}}",
        "repositories_url": f"{base}/repos",
        "permission": "pull",
        "parent": None,
        "type": "organization",
        "organization_id": org_id,
    }


def app_by_slug(request: Request, slug: str) -> dict[str, Any] | None:
    from opsgh.sandbox.routes.apps import integration  # route module helpers, loaded with the routes

    found = next((a for a in request.app.state.apps.values() if a.slug.lower() == slug.lower()), None)
    return integration(request, found) if found is not None else None


def actor_objects(request: Request, repo: RepoState, lists: dict[str, list[str]]) -> dict[str, list[Any]]:
    """{users, teams, apps} as GitHub's objects (users unknown to the sandbox get placeholder accounts)."""
    apps = [app_by_slug(request, slug) for slug in lists["apps"]]
    return {
        "users": [render.user_by_login(request, login) for login in lists["users"]],
        "teams": [team(request, repo.owner, slug) for slug in lists["teams"]],
        "apps": [a for a in apps if a is not None],
    }


def status_checks(request: Request, repo: RepoState, rule: BranchProtection) -> dict[str, Any] | None:
    """`status-check-policy` (None: status checks not required)."""
    checks = rule.status_checks()
    if checks is None:
        return None
    url = f"{protection_url(request, repo, rule.branch)}/required_status_checks"
    return {
        "url": url,
        "strict": checks["strict"],
        "contexts": list(checks["contexts"]),
        "contexts_url": f"{url}/contexts",
        "checks": [{"context": c["context"], "app_id": c["app_id"]} for c in checks["checks"]],
    }


def reviews(request: Request, repo: RepoState, rule: BranchProtection) -> dict[str, Any] | None:
    """`protected-branch-pull-request-review` (None: reviews not required)."""
    settings = rule.reviews()
    if settings is None:
        return None
    url = f"{protection_url(request, repo, rule.branch)}/required_pull_request_reviews"
    data: dict[str, Any] = {"url": url}
    dismissal = settings["dismissal_restrictions"]
    if dismissal is not None:
        base = f"{protection_url(request, repo, rule.branch)}/dismissal_restrictions"
        data["dismissal_restrictions"] = {"url": base, "users_url": f"{base}/users", "teams_url": f"{base}/teams",
                                          **actor_objects(request, repo, dismissal)}
    data.update({
        "dismiss_stale_reviews": settings["dismiss_stale_reviews"],
        "require_code_owner_reviews": settings["require_code_owner_reviews"],
        "required_approving_review_count": settings["required_approving_review_count"],
        "require_last_push_approval": settings["require_last_push_approval"],
    })
    allowances = settings["bypass_pull_request_allowances"]
    if allowances is not None:
        data["bypass_pull_request_allowances"] = actor_objects(request, repo, allowances)
    return data


def restrictions(request: Request, repo: RepoState, rule: BranchProtection) -> dict[str, Any] | None:
    """`branch-restriction-policy` (None: anyone with write access may push)."""
    lists = rule.push_restrictions()
    if lists is None:
        return None
    url = f"{protection_url(request, repo, rule.branch)}/restrictions"
    return {"url": url, "users_url": f"{url}/users", "teams_url": f"{url}/teams", "apps_url": f"{url}/apps",
            **actor_objects(request, repo, lists)}


def protection(request: Request, repo: RepoState, rule: BranchProtection) -> dict[str, Any]:
    """`branch-protection` (GET) / `protected-branch` (PUT): the same object on GitHub."""
    url = protection_url(request, repo, rule.branch)
    data: dict[str, Any] = {"url": url}
    for name, section in (("required_status_checks", status_checks(request, repo, rule)),
                          ("restrictions", restrictions(request, repo, rule)),
                          ("required_pull_request_reviews", reviews(request, repo, rule))):
        if section is not None:
            data[name] = section
    data.update({
        "required_signatures": enabled(rule.required_signatures, f"{url}/required_signatures"),
        "enforce_admins": enabled(rule.enforce_admins, f"{url}/enforce_admins"),
        "required_linear_history": enabled(rule.required_linear_history),
        "allow_force_pushes": enabled(rule.allow_force_pushes),
        "allow_deletions": enabled(rule.allow_deletions),
        "block_creations": enabled(rule.block_creations),
        "required_conversation_resolution": enabled(rule.required_conversation_resolution),
        "lock_branch": enabled(rule.lock_branch),
        "allow_fork_syncing": enabled(rule.allow_fork_syncing),
    })
    return data


# ---------------------------------------------------------------------------------------------------
# Rulesets


def ruleset(request: Request, repo: RepoState, found: Ruleset, *, actor: RuleActor | None,
            detail: bool = True, show_bypass_actors: bool = True) -> dict[str, Any]:
    """`repository-ruleset`. The list leaves out the details; callers who may not edit rulesets do not
    see `bypass_actors`."""
    data: dict[str, Any] = {
        "id": found.id,
        "name": found.name,
        "target": found.target,
        "source_type": "Repository",
        "source": repo.full_name,
        "enforcement": found.enforcement,
    }
    if detail:
        if show_bypass_actors:
            data["bypass_actors"] = [dict(b) for b in found.bypass_actors]
        data["current_user_can_bypass"] = current_user_can_bypass(found, actor)
        data["conditions"] = _conditions(found)
        data["rules"] = [_rule(r) for r in found.rules]
    data.update({
        "node_id": render.node_id("RepositoryRuleset", found.id),
        "_links": {"self": {"href": request.api_url(f"/repos/{repo.full_name}/rulesets/{found.id}")},
                   "html": {"href": request.html_url(f"/{repo.full_name}/rules/{found.id}")}},
        "created_at": render.iso(found.created_at),
        "updated_at": render.iso(found.updated_at),
    })
    return data


def _conditions(found: Ruleset) -> dict[str, Any]:
    ref_name = dict((found.conditions or {}).get("ref_name") or {})
    return {"ref_name": {"exclude": list(ref_name.get("exclude") or ()),
                         "include": list(ref_name.get("include") or ())}}


def _rule(rule: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {"type": rule["type"]}
    if rule.get("parameters") is not None:
        data["parameters"] = dict(rule["parameters"])
    return data


def branch_rule(repo: RepoState, found: Ruleset, rule: dict[str, Any]) -> dict[str, Any]:
    """`repository-rule-detailed`: one rule of one ruleset, with where it comes from."""
    return {**_rule(rule), "ruleset_source_type": "Repository", "ruleset_source": repo.full_name,
            "ruleset_id": found.id}
