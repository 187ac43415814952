"""GitHub's JSON objects, built from sandbox state (shared by every route module).

Each function takes the `Request` (for absolute URLs on the host and prefix the client used) and
returns plain data shaped like GitHub's: the contract tests validate every one against the official
OpenAPI description, so add a field here rather than in one route.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from opsgh.sandbox.gitstore import CommitInfo, FileChange, Signature
from opsgh.sandbox.routing import Request
from opsgh.sandbox.state import RepoState, User, role_at_least

GITHUB_ACTIONS_BOT_ID = 41898282


def iso(timestamp: float) -> str:
    """Epoch seconds -> GitHub's `2026-01-06T15:00:00Z`."""
    return datetime.fromtimestamp(int(timestamp), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def node_id(kind: str, number: int | str) -> str:
    """An opaque, stable GraphQL node id for (kind, id), in the style of GitHub's legacy ids."""
    return base64.b64encode(f"0{len(kind)}:{kind}{number}".encode()).decode().rstrip("=")


def q(segment: str) -> str:
    return quote(segment, safe="/")


# ---------------------------------------------------------------------------------------------------
# Users


def simple_user(request: Request, user: User) -> dict[str, Any]:
    url = request.api_url(f"/users/{user.login}")
    return {
        "login": user.login,
        "id": user.id,
        "node_id": node_id(user.type, user.id),
        "avatar_url": f"https://avatars.example.invalid/u/{user.id}?v=4",
        "gravatar_id": "",
        "url": url,
        "html_url": request.html_url(f"/{user.login}"),
        "followers_url": f"{url}/followers",
        "following_url": f"{url}/following{{/other_user}}",
        "gists_url": f"{url}/gists{{/gist_id}}",
        "starred_url": f"{url}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{url}/subscriptions",
        "organizations_url": f"{url}/orgs",
        "repos_url": f"{url}/repos",
        "events_url": f"{url}/events{{/privacy}}",
        "received_events_url": f"{url}/received_events",
        "type": user.type,
        "user_view_type": "public",
        "site_admin": user.site_admin,
    }


def user_by_login(request: Request, login: str) -> dict[str, Any]:
    """The simple-user of `login` (a placeholder user when the sandbox does not know it)."""
    user = request.app.state.user(login) or User(login, 0)
    return simple_user(request, user)


def private_user(request: Request, user: User) -> dict[str, Any]:
    """GET /user: the authenticated user's own view."""
    state = request.app.state
    owned = [r for r in state.repos.values() if r.owner.lower() == user.login.lower()]
    data = simple_user(request, user)
    data.update({
        "user_view_type": "private",
        "name": user.name,
        "company": None,
        "blog": "",
        "location": None,
        "email": user.email,
        "hireable": None,
        "bio": None,
        "twitter_username": None,
        "notification_email": user.email,
        "public_repos": sum(1 for r in owned if not r.private),
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "created_at": iso(user.created_at),
        "updated_at": iso(user.created_at),
        "private_gists": 0,
        "total_private_repos": sum(1 for r in owned if r.private),
        "owned_private_repos": sum(1 for r in owned if r.private),
        "disk_usage": 0,
        "collaborators": 0,
        "two_factor_authentication": True,
    })
    return data


def git_user(signature: Signature) -> dict[str, Any]:
    return {"name": signature.name, "email": signature.email, "date": iso(signature.timestamp)}


def user_for_email(request: Request, email: str) -> dict[str, Any] | None:
    """The GitHub account of a commit author (by email), or None like GitHub for unknown emails."""
    for user in request.app.state.users.values():
        if user.email and user.email.lower() == email.lower():
            return simple_user(request, user)
    login = email.split("@", 1)[0].split("+", 1)[-1]
    if email.endswith("@users.noreply.github.com"):
        found = request.app.state.user(login)
        if found is not None:
            return simple_user(request, found)
    return None


# ---------------------------------------------------------------------------------------------------
# Repositories


def permissions(role: str | None) -> dict[str, bool]:
    return {
        "admin": role_at_least(role, "admin"),
        "maintain": role_at_least(role, "maintain"),
        "push": role_at_least(role, "write"),
        "triage": role_at_least(role, "triage"),
        "pull": role_at_least(role, "read") or role is None,
    }


def repo_urls(request: Request, repo: RepoState) -> dict[str, str]:
    base = request.api_url(f"/repos/{repo.full_name}")
    return {
        "url": base,
        "html_url": request.html_url(f"/{repo.full_name}"),
        "archive_url": f"{base}/{{archive_format}}{{/ref}}",
        "assignees_url": f"{base}/assignees{{/user}}",
        "blobs_url": f"{base}/git/blobs{{/sha}}",
        "branches_url": f"{base}/branches{{/branch}}",
        "collaborators_url": f"{base}/collaborators{{/collaborator}}",
        "comments_url": f"{base}/comments{{/number}}",
        "commits_url": f"{base}/commits{{/sha}}",
        "compare_url": f"{base}/compare/{{base}}...{{head}}",
        "contents_url": f"{base}/contents/{{+path}}",
        "contributors_url": f"{base}/contributors",
        "deployments_url": f"{base}/deployments",
        "downloads_url": f"{base}/downloads",
        "events_url": f"{base}/events",
        "forks_url": f"{base}/forks",
        "git_commits_url": f"{base}/git/commits{{/sha}}",
        "git_refs_url": f"{base}/git/refs{{/sha}}",
        "git_tags_url": f"{base}/git/tags{{/sha}}",
        "hooks_url": f"{base}/hooks",
        "issue_comment_url": f"{base}/issues/comments{{/number}}",
        "issue_events_url": f"{base}/issues/events{{/number}}",
        "issues_url": f"{base}/issues{{/number}}",
        "keys_url": f"{base}/keys{{/key_id}}",
        "labels_url": f"{base}/labels{{/name}}",
        "languages_url": f"{base}/languages",
        "merges_url": f"{base}/merges",
        "milestones_url": f"{base}/milestones{{/number}}",
        "notifications_url": f"{base}/notifications{{?since,all,participating}}",
        "pulls_url": f"{base}/pulls{{/number}}",
        "releases_url": f"{base}/releases{{/id}}",
        "stargazers_url": f"{base}/stargazers",
        "statuses_url": f"{base}/statuses/{{sha}}",
        "subscribers_url": f"{base}/subscribers",
        "subscription_url": f"{base}/subscription",
        "tags_url": f"{base}/tags",
        "teams_url": f"{base}/teams",
        "trees_url": f"{base}/git/trees{{/sha}}",
    }


def repository(request: Request, repo: RepoState) -> dict[str, Any]:
    """The `repository` object (as nested in pulls, events, installation tokens)."""
    owner = request.app.state.user(repo.owner) or User(repo.owner, 0, "Organization")
    data: dict[str, Any] = {
        "id": repo.id,
        "node_id": node_id("Repository", repo.id),
        "name": repo.name,
        "full_name": repo.full_name,
        "owner": simple_user(request, owner),
        "private": repo.private,
        "description": repo.description,
        "fork": repo.fork,
        **repo_urls(request, repo),
        "git_url": f"git://sandbox.invalid/{repo.full_name}.git",
        "ssh_url": f"git@sandbox.invalid:{repo.full_name}.git",
        "clone_url": request.html_url(f"/{repo.full_name}.git"),
        "svn_url": request.html_url(f"/{repo.full_name}"),
        "mirror_url": None,
        "homepage": repo.homepage,
        "language": None,
        "forks_count": 0,
        "forks": 0,
        "stargazers_count": 0,
        "watchers_count": 0,
        "watchers": 0,
        "size": 0,
        "default_branch": repo.default_branch,
        "open_issues_count": 0,
        "open_issues": 0,
        "is_template": repo.settings.is_template,
        "topics": list(repo.topics),
        "has_issues": repo.settings.has_issues,
        "has_projects": repo.settings.has_projects,
        "has_wiki": repo.settings.has_wiki,
        "has_pages": False,
        "has_downloads": True,
        "has_discussions": repo.settings.has_discussions,
        "archived": repo.archived,
        "disabled": repo.disabled,
        "visibility": repo.visibility,
        "pushed_at": iso(repo.pushed_at or repo.created_at),
        "created_at": iso(repo.created_at),
        "updated_at": iso(repo.updated_at or repo.created_at),
        "allow_forking": True,
        "web_commit_signoff_required": repo.settings.web_commit_signoff_required,
        "license": None,
    }
    if request.auth.token is not None:
        data["permissions"] = permissions(request.role(repo))
    return data


def full_repository(request: Request, repo: RepoState) -> dict[str, Any]:
    """GET /repos/{owner}/{repo}. Merge settings are only shown to callers with push access, as GitHub."""
    data = repository(request, repo)
    data.update({"network_count": 0, "subscribers_count": 0, "temp_clone_token": None})
    owner = request.app.state.user(repo.owner)
    if owner is not None and owner.type == "Organization":
        data["organization"] = simple_user(request, owner)
    if role_at_least(request.role(repo), "write"):
        settings = repo.settings
        data.update({
            "allow_merge_commit": settings.allow_merge_commit,
            "allow_squash_merge": settings.allow_squash_merge,
            "allow_rebase_merge": settings.allow_rebase_merge,
            "allow_auto_merge": settings.allow_auto_merge,
            "delete_branch_on_merge": settings.delete_branch_on_merge,
            "allow_update_branch": settings.allow_update_branch,
            "use_squash_pr_title_as_default": settings.squash_merge_commit_title == "PR_TITLE",
            "squash_merge_commit_title": settings.squash_merge_commit_title,
            "squash_merge_commit_message": settings.squash_merge_commit_message,
            "merge_commit_title": settings.merge_commit_title,
            "merge_commit_message": settings.merge_commit_message,
        })
    return data


# ---------------------------------------------------------------------------------------------------
# Git objects


def commit_url(request: Request, repo: RepoState, sha: str) -> str:
    return request.api_url(f"/repos/{repo.full_name}/commits/{sha}")


def commit(request: Request, repo: RepoState, info: CommitInfo,
           files: list[FileChange] | None = None) -> dict[str, Any]:
    """The `commit` object (GET /commits, /compare); with `files`, also `files` and `stats`."""
    base = request.api_url(f"/repos/{repo.full_name}")
    data: dict[str, Any] = {
        "sha": info.sha,
        "node_id": node_id("Commit", info.sha),
        "commit": {
            "author": git_user(info.author),
            "committer": git_user(info.committer),
            "message": info.message.rstrip("\n"),
            "tree": {"sha": info.tree, "url": f"{base}/git/trees/{info.tree}"},
            "url": f"{base}/git/commits/{info.sha}",
            "comment_count": 0,
            "verification": {"verified": False, "reason": "unsigned", "signature": None, "payload": None,
                             "verified_at": None},
        },
        "url": commit_url(request, repo, info.sha),
        "html_url": request.html_url(f"/{repo.full_name}/commit/{info.sha}"),
        "comments_url": f"{base}/commits/{info.sha}/comments",
        "author": user_for_email(request, info.author.email),
        "committer": user_for_email(request, info.committer.email),
        "parents": [
            {"sha": parent, "url": commit_url(request, repo, parent),
             "html_url": request.html_url(f"/{repo.full_name}/commit/{parent}")}
            for parent in info.parents
        ],
    }
    if files is not None:
        additions = sum(f.additions for f in files)
        deletions = sum(f.deletions for f in files)
        data["stats"] = {"total": additions + deletions, "additions": additions, "deletions": deletions}
        data["files"] = [diff_entry(request, repo, info.sha, f) for f in files]
    return data


def diff_entry(request: Request, repo: RepoState, ref: str, change: FileChange) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "sha": change.sha,
        "filename": change.filename,
        "status": change.status,
        "additions": change.additions,
        "deletions": change.deletions,
        "changes": change.changes,
        "blob_url": request.html_url(f"/{repo.full_name}/blob/{ref}/{q(change.filename)}"),
        "raw_url": request.html_url(f"/{repo.full_name}/raw/{ref}/{q(change.filename)}"),
        "contents_url": request.api_url(f"/repos/{repo.full_name}/contents/{q(change.filename)}?ref={ref}"),
    }
    if change.patch is not None:
        entry["patch"] = change.patch
    if change.previous_filename is not None:
        entry["previous_filename"] = change.previous_filename
    return entry


def git_ref(request: Request, repo: RepoState, ref: str, sha: str, object_type: str = "commit") -> dict[str, Any]:
    kind = "tags" if object_type == "tag" else "commits"
    return {
        "ref": ref,
        "node_id": node_id("Ref", f"{repo.id}:{ref}"),
        "url": request.api_url(f"/repos/{repo.full_name}/git/{q(ref)}"),
        "object": {"sha": sha, "type": object_type,
                   "url": request.api_url(f"/repos/{repo.full_name}/git/{kind}/{sha}")},
    }


def short_branch(request: Request, repo: RepoState, name: str, sha: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": name,
        "commit": {"sha": sha, "url": commit_url(request, repo, sha)},
        "protected": name in repo.protection,
    }
    if name in repo.protection or role_at_least(request.role(repo), "admin"):
        data["protection"] = protection_summary(repo, name)
        data["protection_url"] = request.api_url(f"/repos/{repo.full_name}/branches/{q(name)}/protection")
    return data


def protection_summary(repo: RepoState, branch: str) -> dict[str, Any]:
    """The short `protection` object in branch listings (enabled + required status checks)."""
    rule = repo.protection.get(branch)
    checks = (rule.required_status_checks or {}) if rule is not None else {}
    contexts = list(checks.get("contexts") or [])
    return {
        "enabled": rule is not None,
        "required_status_checks": {
            "enforcement_level": "everyone" if rule is not None and checks else "off",
            "contexts": contexts,
            "checks": [{"context": c, "app_id": None} for c in contexts],
        },
    }


def blob_sha_of(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()
