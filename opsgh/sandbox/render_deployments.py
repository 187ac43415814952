"""GitHub's JSON for deployments, deployment statuses, releases and annotated tags."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opsgh.sandbox import render
from opsgh.sandbox.render_issues import integration_json, reaction_rollup, user_or_none
from opsgh.sandbox.routing import Request
from opsgh.sandbox.state import RepoState, User

if TYPE_CHECKING:
    from opsgh.sandbox.gitstore import Signature
    from opsgh.sandbox.routes.deployments import Deployment, DeploymentStatus
    from opsgh.sandbox.routes.releases import Release


def deployment(request: Request, repo: RepoState, item: Deployment) -> dict[str, Any]:
    base = request.api_url(f"/repos/{repo.full_name}")
    url = f"{base}/deployments/{item.id}"
    return {
        "url": url,
        "id": item.id,
        "node_id": render.node_id("Deployment", item.id),
        "sha": item.sha,
        "ref": item.ref,
        "task": item.task,
        "payload": item.payload if item.payload is not None else {},
        "original_environment": item.original_environment,
        "environment": item.environment,
        "description": item.description,
        "creator": user_or_none(request, item.creator),
        "created_at": render.iso(item.created_at),
        "updated_at": render.iso(item.updated_at),
        "statuses_url": f"{url}/statuses",
        "repository_url": base,
        "transient_environment": item.transient_environment,
        "production_environment": item.production_environment,
        "performed_via_github_app": integration_json(request, item.app_id),
    }


def deployment_status(request: Request, repo: RepoState, owner: Deployment, item: DeploymentStatus
                      ) -> dict[str, Any]:
    base = request.api_url(f"/repos/{repo.full_name}")
    deployment_url = f"{base}/deployments/{owner.id}"
    data: dict[str, Any] = {
        "url": f"{deployment_url}/statuses/{item.id}",
        "id": item.id,
        "node_id": render.node_id("DeploymentStatus", item.id),
        "state": item.state,
        "creator": user_or_none(request, item.creator),
        "description": item.description,
        "environment": item.environment,
        "target_url": item.log_url,
        "created_at": render.iso(item.created_at),
        "updated_at": render.iso(item.updated_at),
        "deployment_url": deployment_url,
        "repository_url": base,
        "environment_url": item.environment_url,
        "log_url": item.log_url,
        "performed_via_github_app": integration_json(request, item.app_id),
    }
    return data


def release(request: Request, repo: RepoState, item: Release) -> dict[str, Any]:
    base = request.api_url(f"/repos/{repo.full_name}")
    url = f"{base}/releases/{item.id}"
    tag_path = render.q(item.tag_name)
    author = request.app.state.user(item.author) or User(item.author or "ghost", 0)
    html_tag = tag_path if not item.draft else f"untagged-{item.id:020x}"
    return {
        "url": url,
        "html_url": request.html_url(f"/{repo.full_name}/releases/tag/{html_tag}"),
        "assets_url": f"{url}/assets",
        "upload_url": request.api_url(f"/uploads/repos/{repo.full_name}/releases/{item.id}/assets") + "{?name,label}",
        "tarball_url": None if item.draft else f"{base}/tarball/{tag_path}",
        "zipball_url": None if item.draft else f"{base}/zipball/{tag_path}",
        "id": item.id,
        "node_id": render.node_id("Release", item.id),
        "tag_name": item.tag_name,
        "target_commitish": item.target_commitish,
        "name": item.name,
        "body": item.body,
        "draft": item.draft,
        "prerelease": item.prerelease,
        "immutable": False,
        "created_at": render.iso(item.created_at),
        "updated_at": render.iso(item.updated_at),
        "published_at": render.iso(item.published_at) if item.published_at is not None else None,
        "author": render.simple_user(request, author),
        "assets": [],
        "reactions": reaction_rollup(f"{url}/reactions"),
    }


def git_tag(request: Request, repo: RepoState, sha: str, tag: str, message: str, tagger: Signature,
            object_sha: str, object_type: str) -> dict[str, Any]:
    base = request.api_url(f"/repos/{repo.full_name}/git")
    kind = {"commit": "commits", "tree": "trees", "blob": "blobs", "tag": "tags"}.get(object_type, "commits")
    return {
        "node_id": render.node_id("Tag", sha),
        "sha": sha,
        "url": f"{base}/tags/{sha}",
        "tag": tag,
        "message": message,
        "tagger": render.git_user(tagger),
        "object": {"sha": object_sha, "type": object_type, "url": f"{base}/{kind}/{object_sha}"},
        "verification": {"verified": False, "reason": "unsigned", "signature": None, "payload": None,
                         "verified_at": None},
    }
