"""Releases, generated release notes, and annotated tag objects (POST/GET /git/tags).

Collection `releases` (per repository, `Release` by id). Like GitHub: publishing a release (creating
it without `draft`, or PATCHing `draft: false`) creates the lightweight tag `refs/tags/TAG` at
`target_commitish` (default: the default branch) when the tag does not exist yet; a tag name already
used by a published release is 422 already_exists; drafts are visible only with push access; deleting
a release keeps its tag. `/releases/latest` is the release last made latest (`make_latest`, default
"true" for a published non-prerelease), else the newest published non-prerelease.

Generated notes list the merged pull requests whose merge commit (or head) lies between the previous
release's tag (or `previous_tag_name`) and the new tag or target, then the "Full Changelog" link.

Annotated tags are real git tag objects (`git mktag`); point a ref at one with POST /git/refs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from opsgh.sandbox import render_deployments
from opsgh.sandbox.gitstore import GitRepo, Signature
from opsgh.sandbox.routes.issues import PullView, pull_views
from opsgh.sandbox.routing import ApiError, Request, Response, RouteTable, not_found, paginate, validation_failed
from opsgh.sandbox.state import Collection, RepoState, role_at_least

routes = RouteTable()

RELEASES_DOCS = "https://docs.github.com/rest/releases/releases"
BODY_LIMIT = 125000  # GitHub: release bodies up to 125000 characters
MAKE_LATEST = ("true", "false", "legacy")
_SHA = re.compile(r"^[0-9a-f]{40}$")


@dataclass
class Release:
    id: int
    tag_name: str
    target_commitish: str
    name: str | None = None
    body: str | None = None
    draft: bool = False
    prerelease: bool = False
    author: str | None = None
    created_at: float = 0.0
    updated_at: float = 0.0
    published_at: float | None = None
    latest: bool = False


RELEASES: Collection[int, Release] = Collection("releases", Release, key=int)


# ---------------------------------------------------------------------------------------------------
# Helpers


def _git(request: Request, repo: RepoState) -> GitRepo:
    return request.app.git_repo(repo)


def _invalid(detail: str) -> ApiError:
    return ApiError(422, f"Invalid request.\n\n{detail}", documentation_url=RELEASES_DOCS)


def _optional_string(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise _invalid(f"For 'properties/{name}', {value!r} is not a string.")
    return value


def _optional_bool(body: dict[str, Any], name: str) -> bool | None:
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise _invalid(f"For 'properties/{name}', {value!r} is not a boolean.")
    return value


def _valid_tag_name(git: GitRepo, tag: str) -> bool:
    code, _ = git.run_bytes("check-ref-format", f"refs/tags/{tag}", ok=(0, 1))
    return code == 0


def _tag_commit(git: GitRepo, tag: str) -> str | None:
    return git.resolve(f"refs/tags/{tag}") if git.ref(f"refs/tags/{tag}") is not None else None


def _published_with_tag(repo: RepoState, tag: str, *, other_than: int | None = None) -> Release | None:
    return next((r for r in repo.items(RELEASES).values()
                 if r.tag_name == tag and not r.draft and r.id != other_than), None)


def _check_body(body: str | None) -> None:
    if body is not None and len(body) > BODY_LIMIT:
        raise validation_failed("Release", "body", "custom", f"body is too long (maximum is {BODY_LIMIT} characters)")


def _publish(request: Request, repo: RepoState, release: Release) -> None:
    """Create the release's tag at its target when missing (GitHub does it on publication)."""
    git = _git(request, repo)
    if git.ref(f"refs/tags/{release.tag_name}") is None:
        sha = git.resolve(release.target_commitish)
        if sha is None:
            raise validation_failed("Release", "target_commitish", "invalid")
        request.app.move_ref(repo, f"refs/tags/{release.tag_name}", sha, None, request.auth.login)
    release.published_at = request.app.now()


def _make_latest(repo: RepoState, release: Release, choice: str | None) -> None:
    if choice is not None and choice not in MAKE_LATEST:
        raise validation_failed("Release", "make_latest", "invalid")
    if release.draft or release.prerelease:
        release.latest = False
        return
    if choice in (None, "true"):
        for other in repo.items(RELEASES).values():
            other.latest = other.id == release.id
    elif choice == "false":
        release.latest = False
    else:  # legacy: by creation date, i.e. no explicit choice
        for other in repo.items(RELEASES).values():
            other.latest = False


def latest_release(repo: RepoState) -> Release | None:
    published = [r for r in repo.items(RELEASES).values() if not r.draft and not r.prerelease]
    chosen = next((r for r in published if r.latest), None)
    if chosen is None and published:
        chosen = max(published, key=lambda r: (r.created_at, r.id))
    return chosen


def _visible(request: Request, repo: RepoState, release: Release) -> bool:
    return not release.draft or role_at_least(request.role(repo), "write")


def _release_or_404(request: Request, repo: RepoState) -> Release:
    try:
        release = repo.items(RELEASES).get(int(request.params["release_id"]))
    except ValueError:
        release = None
    if release is None or not _visible(request, repo, release):
        raise not_found()
    return release


def _render(request: Request, repo: RepoState, release: Release) -> dict[str, Any]:
    return render_deployments.release(request, repo, release)


# ---------------------------------------------------------------------------------------------------
# Release notes


def _pull_line(request: Request, repo: RepoState, pull: PullView) -> str:
    author = f" by @{pull.user}" if pull.user else ""
    return f"* {pull.title}{author} in {request.html_url(f'/{repo.full_name}/pull/{pull.number}')}"


def generate_notes(request: Request, repo: RepoState, tag: str, end: str, previous: str | None) -> str:
    """GitHub's generated notes: merged pull requests in previous..end, then the full changelog link."""
    git = _git(request, repo)
    start = (git.resolve(f"refs/tags/{previous}") or git.resolve(previous)) if previous else None
    rev_range = f"{start}..{end}" if start else end
    commits = set(git.run("rev-list", rev_range).split())
    pulls = [p for p in pull_views(repo).values() if p.merged_at is not None
             and (p.merge_commit_sha in commits or p.head_sha in commits)]
    pulls.sort(key=lambda p: (p.merged_at or 0.0, p.number))
    lines: list[str] = []
    if pulls:
        lines += ["## What's Changed", *(_pull_line(request, repo, p) for p in pulls), ""]
    if previous:
        link = request.html_url(f"/{repo.full_name}/compare/{previous}...{tag}")
    else:
        link = request.html_url(f"/{repo.full_name}/commits/{tag}")
    lines.append(f"**Full Changelog**: {link}")
    return "\n".join(lines)


def _previous_tag(repo: RepoState, tag: str) -> str | None:
    published = [r for r in repo.items(RELEASES).values() if not r.draft and r.tag_name != tag]
    if not published:
        return None
    return max(published, key=lambda r: (r.published_at or r.created_at, r.id)).tag_name


# ---------------------------------------------------------------------------------------------------
# Releases


@routes.get("/repos/{owner}/{repo}/releases")
def list_releases(request: Request) -> Response:
    repo = request.repo("read", permission="contents")
    releases = [r for r in repo.items(RELEASES).values() if _visible(request, repo, r)]
    releases.sort(key=lambda r: (r.created_at, r.id), reverse=True)
    return paginate(request, releases).response(lambda r: _render(request, repo, r))


@routes.post("/repos/{owner}/{repo}/releases")
def create_release(request: Request) -> Response:
    repo = request.repo("write", permission="contents")
    body = request.json_object()
    tag = body.get("tag_name")
    if not isinstance(tag, str) or not tag:
        raise _invalid('"tag_name" wasn\'t supplied.')
    git = _git(request, repo)
    if not _valid_tag_name(git, tag):
        raise validation_failed("Release", "tag_name", "invalid")
    if _published_with_tag(repo, tag) is not None:
        raise validation_failed("Release", "tag_name", "already_exists")
    target = _optional_string(body, "target_commitish") or repo.default_branch
    if _tag_commit(git, tag) is None and git.resolve(target) is None:
        raise validation_failed("Release", "target_commitish", "invalid")
    name, text = _optional_string(body, "name"), _optional_string(body, "body")
    draft, prerelease = bool(_optional_bool(body, "draft")), bool(_optional_bool(body, "prerelease"))
    if _optional_bool(body, "generate_release_notes"):
        end = _tag_commit(git, tag) or git.resolve(target)
        assert end is not None
        notes = generate_notes(request, repo, tag, end, _previous_tag(repo, tag))
        text = f"{text}\n\n{notes}" if text else notes
        name = name or tag
    _check_body(text)
    now = request.app.now()
    release = Release(request.app.state.next_id("release"), tag, target, name, text, draft, prerelease,
                      request.auth.login, now, now)
    if not draft:
        _publish(request, repo, release)
    repo.items(RELEASES)[release.id] = release
    _make_latest(repo, release, _optional_string(body, "make_latest"))
    data = _render(request, repo, release)
    return Response(201, data, {"location": str(data["url"])})


@routes.get("/repos/{owner}/{repo}/releases/latest")
def get_latest_release(request: Request) -> Response:
    repo = request.repo("read", permission="contents")
    release = latest_release(repo)
    if release is None:
        raise not_found()
    return Response(200, _render(request, repo, release))


@routes.get("/repos/{owner}/{repo}/releases/tags/{tag:path}")
def get_release_by_tag(request: Request) -> Response:
    repo = request.repo("read", permission="contents")
    release = _published_with_tag(repo, request.params["tag"])
    if release is None:
        raise not_found()
    return Response(200, _render(request, repo, release))


@routes.get("/repos/{owner}/{repo}/releases/{release_id}")
def get_release(request: Request) -> Response:
    repo = request.repo("read", permission="contents")
    return Response(200, _render(request, repo, _release_or_404(request, repo)))


@routes.patch("/repos/{owner}/{repo}/releases/{release_id}")
def update_release(request: Request) -> Response:
    repo = request.repo("write", permission="contents")
    release = _release_or_404(request, repo)
    body = request.json_object()
    git = _git(request, repo)
    tag = _optional_string(body, "tag_name")
    if tag is not None and tag != release.tag_name:
        if not tag or not _valid_tag_name(git, tag):
            raise validation_failed("Release", "tag_name", "invalid")
        if _published_with_tag(repo, tag, other_than=release.id) is not None:
            raise validation_failed("Release", "tag_name", "already_exists")
        release.tag_name = tag
    target = _optional_string(body, "target_commitish")
    if target is not None:
        if git.resolve(target) is None:
            raise validation_failed("Release", "target_commitish", "invalid")
        release.target_commitish = target
    for name in ("name", "body"):
        if name in body:
            setattr(release, name, _optional_string(body, name))
    _check_body(release.body)
    prerelease = _optional_bool(body, "prerelease")
    if prerelease is not None:
        release.prerelease = prerelease
    draft = _optional_bool(body, "draft")
    if draft is False and release.draft:
        if _published_with_tag(repo, release.tag_name, other_than=release.id) is not None:
            raise validation_failed("Release", "tag_name", "already_exists")
        release.draft = False
        _publish(request, repo, release)
    elif draft is True and not release.draft:
        release.draft, release.published_at = True, None
    release.updated_at = request.app.now()
    choice = _optional_string(body, "make_latest")
    if choice is not None or draft is False or prerelease is not None:
        _make_latest(repo, release, choice)
    return Response(200, _render(request, repo, release))


@routes.delete("/repos/{owner}/{repo}/releases/{release_id}")
def delete_release(request: Request) -> Response:
    repo = request.repo("write", permission="contents")
    release = _release_or_404(request, repo)
    del repo.items(RELEASES)[release.id]
    return Response(204)


@routes.post("/repos/{owner}/{repo}/releases/generate-notes")
def generate_release_notes(request: Request) -> Response:
    repo = request.repo("write", permission="contents")
    body = request.json_object()
    tag = body.get("tag_name")
    if not isinstance(tag, str) or not tag:
        raise _invalid('"tag_name" wasn\'t supplied.')
    git = _git(request, repo)
    target = _optional_string(body, "target_commitish") or repo.default_branch
    end = _tag_commit(git, tag) or git.resolve(target)
    if end is None:
        raise not_found()
    previous = _optional_string(body, "previous_tag_name")
    if previous is not None and git.resolve(f"refs/tags/{previous}") is None:
        raise not_found()
    if previous is None:
        previous = _previous_tag(repo, tag)
        if previous is not None and git.resolve(f"refs/tags/{previous}") is None:
            previous = None
    return Response(200, {"name": tag, "body": generate_notes(request, repo, tag, end, previous)})


# ---------------------------------------------------------------------------------------------------
# Annotated tag objects


def git_signature(request: Request, raw: Any, default: Signature | None = None) -> Signature:
    """A tagger, author or committer object of a request body (`name`, `email`, optional `date`) as a
    Signature; None in the body gives `default` (the caller at the sandbox time)."""
    default = default or request.app.signature(request.auth.login)
    if raw is None:
        return default
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not isinstance(raw.get("email"), str):
        raise _invalid('"name", "email" weren\'t supplied.')
    timestamp = default.timestamp
    if raw.get("date") is not None:
        try:
            timestamp = int(datetime.fromisoformat(str(raw["date"]).replace("Z", "+00:00")).timestamp())
        except ValueError:
            raise _invalid(f"For 'properties/date', {raw['date']!r} is not a date-time.") from None
    return Signature(raw["name"], raw["email"], timestamp)


def _signature(text: str) -> Signature:
    """ "Name <email> 1700000000 +0000" -> Signature."""
    left, _, rest = text.rpartition(">")
    name, _, email = left.partition("<")
    parts = rest.split()
    return Signature(name.strip(), email.strip(), int(parts[0]) if parts else 0,
                     parts[1] if len(parts) > 1 else "+0000")


def _read_tag(git: GitRepo, sha: str) -> tuple[str, str, Signature, str, str] | None:
    """(tag, message, tagger, object sha, object type) of tag object `sha`, or None."""
    if not _SHA.match(sha) or git.object_type(sha) != "tag":
        return None
    text = git.run("cat-file", "tag", sha)
    header, _, message = text.partition("\n\n")
    fields: dict[str, str] = {}
    for line in header.split("\n"):
        key, _, value = line.partition(" ")
        fields.setdefault(key, value)
    tagger = _signature(fields["tagger"]) if "tagger" in fields else Signature("", "", 0)
    return fields.get("tag", ""), message, tagger, fields.get("object", ""), fields.get("type", "commit")


@routes.post("/repos/{owner}/{repo}/git/tags")
def create_tag_object(request: Request) -> Response:
    repo = request.repo("write", permission="contents")
    body = request.json_object()
    missing = [name for name in ("tag", "message", "object", "type") if not isinstance(body.get(name), str)]
    if missing:
        quoted = ", ".join(f'"{name}"' for name in missing)
        raise _invalid(f"{quoted} {'wasn' if len(missing) == 1 else 'weren'}'t supplied.")
    git = _git(request, repo)
    if not git.refs("refs/heads/"):
        raise ApiError(409, "Git Repository is empty.")
    tag, message, target, kind = body["tag"], body["message"], body["object"].lower(), body["type"]
    if kind not in ("commit", "tree", "blob"):
        raise _invalid(f"For 'properties/type', {kind!r} is not a member of ['commit', 'tree', 'blob'].")
    if not _SHA.match(target) or git.object_type(target) != kind:
        raise validation_failed("Tag", "object", "invalid", "Object does not exist")
    if not _valid_tag_name(git, tag):
        raise validation_failed("Tag", "tag", "invalid")
    tagger = git_signature(request, body.get("tagger"))
    message = message if message.endswith("\n") else message + "\n"
    content = (f"object {target}\ntype {kind}\ntag {tag}\n"
               f"tagger {tagger.name} <{tagger.email}> {tagger.timestamp} {tagger.offset}\n\n{message}")
    sha = git.run("mktag", input=content).strip()
    data = render_deployments.git_tag(request, repo, sha, tag, message, tagger, target, kind)
    return Response(201, data, {"location": str(data["url"])})


@routes.get("/repos/{owner}/{repo}/git/tags/{tag_sha}")
def get_tag_object(request: Request) -> Response:
    repo = request.repo("read", permission="contents")
    git = _git(request, repo)
    if not git.refs("refs/heads/"):
        raise ApiError(409, "Git Repository is empty.")
    found = _read_tag(git, request.params["tag_sha"].lower())
    if found is None:
        raise not_found()
    tag, message, tagger, target, kind = found
    return Response(200, render_deployments.git_tag(request, repo, request.params["tag_sha"].lower(), tag,
                                                    message, tagger, target, kind))
