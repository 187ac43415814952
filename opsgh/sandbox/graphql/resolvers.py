"""Resolvers: one small class per GraphQL object type, over the sandbox state.

graphql-core's default resolver reads a field from an attribute of the same name and calls it with
`(info, **arguments)` when it is callable, so each class below has a method per field, named as in
the schema (camelCase on purpose). Abstract types (Node, Actor, StatusCheckRollupContext) resolve by
the class attribute `TYPENAME`.

Errors that GitHub reports as `{"type": "NOT_FOUND", ...}` are raised as `GitHubGraphQLError`; the
endpoint puts the type next to the message.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeAlias

from graphql import GraphQLResolveInfo, GraphQLSchema

from opsgh.sandbox import render, render_pulls
from opsgh.sandbox.gitstore import CommitInfo
from opsgh.sandbox.render import iso, node_id
from opsgh.sandbox.routes import pulls
from opsgh.sandbox.routes.pulls import CheckContext, PullRequest, Review
from opsgh.sandbox.routing import ApiError, Request
from opsgh.sandbox.state import RepoState, User

MAX_PAGE = 100
Info: TypeAlias = "GraphQLResolveInfo[Any]"


class GitHubGraphQLError(Exception):
    """An error GitHub reports with a `type` (NOT_FOUND, FORBIDDEN, UNPROCESSABLE, ...)."""

    def __init__(self, type: str, message: str) -> None:
        super().__init__(message)
        self.type = type
        self.message = message


def not_found(message: str) -> GitHubGraphQLError:
    return GitHubGraphQLError("NOT_FOUND", message)


@dataclass
class Context:
    """One GraphQL request: who asks, and what this request already computed (a pull request's
    `mergeable` is observed once per request, however many fields read it)."""

    request: Request
    mergeable: dict[int, bool | None] = field(default_factory=dict)
    stats: dict[int, tuple[int, int, int]] = field(default_factory=dict)
    commits: dict[tuple[int, str], CommitInfo] = field(default_factory=dict)

    @property
    def app(self) -> Any:
        return self.request.app

    def observed_mergeable(self, repo: RepoState, pr: PullRequest) -> bool | None:
        if pr.id not in self.mergeable:
            self.mergeable[pr.id] = pulls.observe_mergeable(self.app, repo, pr)
        return self.mergeable[pr.id]

    def commit_info(self, repo: RepoState, sha: str) -> CommitInfo:
        key = (repo.id, sha)
        if key not in self.commits:
            self.commits[key] = self.app.git_repo(repo).commit_info(sha)
        return self.commits[key]


# ---------------------------------------------------------------------------------------------------
# Node ids and connections


def decode_node_id(value: str) -> tuple[str, str] | None:
    """(kind, key) of an id made by `render.node_id` ("0<len>:<Kind><key>", base64), or None."""
    try:
        text = base64.b64decode(value + "=" * (-len(value) % 4), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    prefix, _, rest = text.partition(":")
    if not prefix.startswith("0") or not prefix[1:].isdigit():
        return None
    length = int(prefix[1:])
    if len(rest) <= length:
        return None
    return rest[:length], rest[length:]


def _cursor(index: int) -> str:
    return base64.b64encode(f"cursor:v2:{index}".encode()).decode()


def _cursor_index(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    try:
        text = base64.b64decode(cursor, validate=True).decode()
        return int(text.rsplit(":", 1)[1])
    except (binascii.Error, UnicodeDecodeError, ValueError, IndexError):
        raise GitHubGraphQLError("INVALID_CURSOR_ARGUMENTS", f"`{cursor}` does not appear to be a valid cursor.")\
            from None


def connection(items: Sequence[Any], name: str, *, first: int | None, last: int | None, after: str | None = None,
               before: str | None = None, **extra: Any) -> dict[str, Any]:
    """A GitHub connection over `items` (nodes, totalCount, pageInfo), with GitHub's bounds on first/last."""
    if first is None and last is None:
        raise GitHubGraphQLError("MISSING_PAGINATION_BOUNDARIES",
                                 f"You must provide a `first` or `last` value to properly paginate the `{name}` "
                                 "connection.")
    for argument, value in (("first", first), ("last", last)):
        if value is not None and value < 0:
            raise GitHubGraphQLError("INVALID_PAGINATION",
                                     f"`{argument}` on the `{name}` connection cannot be less than zero.")
        if value is not None and value > MAX_PAGE:
            raise GitHubGraphQLError("EXCESSIVE_PAGINATION",
                                     f"Requesting {value} records on the `{name}` connection exceeds the "
                                     f"`{argument}` limit of {MAX_PAGE} records.")
    start = (_cursor_index(after) or -1) + 1 if after is not None else 0
    end = _cursor_index(before) if before is not None else len(items)
    window = list(range(max(0, start), min(len(items), end if end is not None else len(items))))
    if first is not None:
        window = window[:first]
    if last is not None:
        window = window[len(window) - last:] if last else []
    return {
        "nodes": [items[i] for i in window],
        "totalCount": len(items),
        "pageInfo": {
            "hasNextPage": bool(window) and window[-1] < len(items) - 1,
            "hasPreviousPage": bool(window) and window[0] > 0,
            "startCursor": _cursor(window[0]) if window else None,
            "endCursor": _cursor(window[-1]) if window else None,
        },
        **extra,
    }


# ---------------------------------------------------------------------------------------------------
# Actors


class UserNode:
    TYPENAME: ClassVar[str] = "User"

    def __init__(self, ctx: Context, user: User) -> None:
        self.ctx = ctx
        self.user = user

    def id(self, info: Info) -> str:
        return node_id(self.user.type, self.user.id)

    def databaseId(self, info: Info) -> int:
        return self.user.id

    def login(self, info: Info) -> str:
        return self.user.login

    def name(self, info: Info) -> str | None:
        return self.user.name

    def avatarUrl(self, info: Info, size: int | None = None) -> str:
        suffix = f"&s={size}" if size else ""
        return f"https://avatars.example.invalid/u/{self.user.id}?v=4{suffix}"

    def resourcePath(self, info: Info) -> str:
        return f"/{self.user.login}"

    def url(self, info: Info) -> str:
        return self.ctx.request.html_url(f"/{self.user.login}")


class BotNode(UserNode):
    """A bot: GraphQL names it without the "[bot]" that REST shows (github-actions, not github-actions[bot])."""

    TYPENAME: ClassVar[str] = "Bot"

    def login(self, info: Info) -> str:
        return self.user.login.removesuffix("[bot]")

    def resourcePath(self, info: Info) -> str:
        return f"/apps/{self.login(info)}"

    def url(self, info: Info) -> str:
        return self.ctx.request.html_url(self.resourcePath(info))


def actor(ctx: Context, login: str | None) -> UserNode | None:
    if not login:
        return None
    user = ctx.request.app.state.user(login) or User(login, 0)
    return BotNode(ctx, user) if user.type == "Bot" else UserNode(ctx, user)


# ---------------------------------------------------------------------------------------------------
# Repository


class RepositoryNode:
    TYPENAME: ClassVar[str] = "Repository"

    def __init__(self, ctx: Context, repo: RepoState) -> None:
        self.ctx = ctx
        self.repo = repo

    def id(self, info: Info) -> str:
        return node_id("Repository", self.repo.id)

    def databaseId(self, info: Info) -> int:
        return self.repo.id

    def isPrivate(self, info: Info) -> bool:
        return self.repo.private

    def name(self, info: Info) -> str:
        return self.repo.name

    def nameWithOwner(self, info: Info) -> str:
        return self.repo.full_name

    def url(self, info: Info) -> str:
        return self.ctx.request.html_url(f"/{self.repo.full_name}")

    def pullRequest(self, info: Info, number: int) -> PullRequestNode:
        pr = pulls.find_pull(self.repo, number)
        if pr is None:
            raise not_found(f"Could not resolve to a PullRequest with the number of {number}.")
        pulls.sync_pull(self.ctx.app, self.repo, pr)
        return PullRequestNode(self.ctx, self.repo, pr)

    def pullRequests(self, info: Info, states: list[str] | None = None, labels: list[str] | None = None,
                     headRefName: str | None = None, baseRefName: str | None = None,
                     orderBy: dict[str, str] | None = None, after: str | None = None, before: str | None = None,
                     first: int | None = None, last: int | None = None) -> dict[str, Any]:
        found = list(pulls.sync_all(self.ctx.app, self.repo).values())
        if states:
            found = [pr for pr in found if _pull_state(pr) in states]
        if headRefName is not None:
            found = [pr for pr in found if pr.head_ref == headRefName]
        if baseRefName is not None:
            found = [pr for pr in found if pr.base_ref == baseRefName]
        if labels:
            wanted = {name.lower() for name in labels}
            found = [pr for pr in found if wanted & {
                str(getattr(item, "name", "")).lower()
                for item in render_pulls.issue_side(self.ctx.request, self.repo, pr.number)[0]}]
        order = orderBy or {"field": "CREATED_AT", "direction": "ASC"}
        if order.get("field") == "UPDATED_AT":
            found.sort(key=lambda pr: (pr.updated_at, pr.number))
        elif order.get("field") == "COMMENTS":
            found.sort(key=lambda pr: (render_pulls.issue_side(self.ctx.request, self.repo, pr.number)[2], pr.number))
        else:
            found.sort(key=lambda pr: (pr.created_at, pr.number))
        if order.get("direction") == "DESC":
            found.reverse()
        nodes = [PullRequestNode(self.ctx, self.repo, pr) for pr in found]
        return connection(nodes, "pullRequests", first=first, last=last, after=after, before=before)


def _pull_state(pr: PullRequest) -> str:
    return "MERGED" if pr.merged else "OPEN" if pr.state == "open" else "CLOSED"


# ---------------------------------------------------------------------------------------------------
# Pull requests


class RefNode:
    """A branch (`refs/heads/<name>`) and the rules of the active rulesets that apply to it, as
    GET /repos/{owner}/{repo}/rules/branches/{branch} lists them (read access is enough)."""

    TYPENAME: ClassVar[str] = "Ref"

    def __init__(self, ctx: Context, repo: RepoState, branch: str) -> None:
        self.ctx, self.repo, self.branch = ctx, repo, branch

    def id(self, info: Info) -> str:
        return node_id("Ref", f"{self.repo.id}:refs/heads/{self.branch}")

    def name(self, info: Info) -> str:
        return self.branch

    def prefix(self, info: Info) -> str:
        return "refs/heads/"

    def rules(self, info: Info, after: str | None = None, before: str | None = None, first: int | None = None,
              last: int | None = None) -> dict[str, Any]:
        from opsgh.sandbox.rules import active_rulesets

        found = [RepositoryRuleNode(ruleset.id, index, rule)
                 for ruleset in active_rulesets(self.repo, f"refs/heads/{self.branch}")
                 for index, rule in enumerate(ruleset.rules)]
        return connection(found, "rules", first=first, last=last, after=after, before=before)


class RepositoryRuleNode:
    """One rule of a ruleset. `parameters` is modelled for required status checks only: the sandbox
    answers null for the parameters of other rule types (opsgh reads no others through GraphQL)."""

    TYPENAME: ClassVar[str] = "RepositoryRule"

    def __init__(self, ruleset_id: int, index: int, rule: dict[str, Any]) -> None:
        self.ruleset_id, self.index, self.rule = ruleset_id, index, rule

    def id(self, info: Info) -> str:
        return node_id("RepositoryRule", f"{self.ruleset_id}:{self.index}")

    def type(self, info: Info) -> str:
        return str(self.rule.get("type", "")).upper()

    def parameters(self, info: Info) -> RequiredStatusChecksNode | None:
        if self.rule.get("type") != "required_status_checks":
            return None
        return RequiredStatusChecksNode(dict(self.rule.get("parameters") or {}))


class RequiredStatusChecksNode:
    TYPENAME: ClassVar[str] = "RequiredStatusChecksParameters"

    def __init__(self, parameters: dict[str, Any]) -> None:
        self.parameters = parameters

    def requiredStatusChecks(self, info: Info) -> list[dict[str, Any]]:
        return [{"context": str(check["context"]), "integrationId": check.get("integration_id")}
                for check in self.parameters.get("required_status_checks") or ()]

    def strictRequiredStatusChecksPolicy(self, info: Info) -> bool:
        return bool(self.parameters.get("strict_required_status_checks_policy"))


class PullRequestNode:
    TYPENAME: ClassVar[str] = "PullRequest"

    def __init__(self, ctx: Context, repo: RepoState, pr: PullRequest) -> None:
        self.ctx = ctx
        self.repo = repo
        self.pr = pr

    # -- identity and text
    def id(self, info: Info) -> str:
        return node_id("PullRequest", self.pr.id)

    def databaseId(self, info: Info) -> int:
        return self.pr.id

    def number(self, info: Info) -> int:
        return self.pr.number

    def title(self, info: Info) -> str:
        return self.pr.title

    def body(self, info: Info) -> str:
        return self.pr.body or ""

    def url(self, info: Info) -> str:
        return self.ctx.request.html_url(self.resourcePath(info))

    def permalink(self, info: Info) -> str:
        return self.url(info)

    def resourcePath(self, info: Info) -> str:
        return f"/{self.repo.full_name}/pull/{self.pr.number}"

    def repository(self, info: Info) -> RepositoryNode:
        return RepositoryNode(self.ctx, self.repo)

    def author(self, info: Info) -> UserNode | None:
        return actor(self.ctx, self.pr.user)

    # -- state
    def state(self, info: Info) -> str:
        return _pull_state(self.pr)

    def isDraft(self, info: Info) -> bool:
        return self.pr.draft

    def closed(self, info: Info) -> bool:
        return self.pr.state != "open"

    def merged(self, info: Info) -> bool:
        return self.pr.merged

    def createdAt(self, info: Info) -> str:
        return iso(self.pr.created_at)

    def updatedAt(self, info: Info) -> str:
        return iso(self.pr.updated_at)

    def closedAt(self, info: Info) -> str | None:
        return iso(self.pr.closed_at) if self.pr.closed_at is not None and self.pr.state != "open" else None

    def mergedAt(self, info: Info) -> str | None:
        return iso(self.pr.merged_at) if self.pr.merged_at is not None else None

    def mergedBy(self, info: Info) -> UserNode | None:
        return actor(self.ctx, self.pr.merged_by)

    def mergeCommit(self, info: Info) -> CommitNode | None:
        if not self.pr.merged or self.pr.merge_commit_sha is None:
            return None  # the test merge of an open pull request is not its merge commit
        return CommitNode(self.ctx, self.repo, self.pr.merge_commit_sha)

    # -- refs
    def headRefName(self, info: Info) -> str:
        return self.pr.head_ref

    def headRefOid(self, info: Info) -> str:
        return self.pr.head_sha

    def baseRef(self, info: Info) -> RefNode | None:
        """The base branch, when it still exists (GitHub answers null for a deleted one)."""
        exists = self.ctx.app.git_repo(self.repo).ref(f"refs/heads/{self.pr.base_ref}") is not None
        return RefNode(self.ctx, self.repo, self.pr.base_ref) if exists else None

    def baseRefName(self, info: Info) -> str:
        return self.pr.base_ref

    def baseRefOid(self, info: Info) -> str:
        return self.pr.base_sha

    # -- mergeability
    def mergeable(self, info: Info) -> str:
        value = self.ctx.observed_mergeable(self.repo, self.pr)
        return "UNKNOWN" if value is None else "MERGEABLE" if value else "CONFLICTING"

    def mergeStateStatus(self, info: Info) -> str:
        value = self.ctx.observed_mergeable(self.repo, self.pr)
        return pulls.merge_state(self.ctx.app, self.repo, self.pr, value).upper()

    def reviewDecision(self, info: Info) -> str | None:
        return pulls.review_summary(self.repo, self.pr).decision

    # -- diff statistics
    def _stats(self) -> tuple[int, int, int]:
        if self.pr.id not in self.ctx.stats:
            git = self.ctx.app.git_repo(self.repo)
            base = git.merge_base(self.pr.base_sha, self.pr.head_sha)
            files = git.changed_files(base, self.pr.head_sha) if base is not None else []
            self.ctx.stats[self.pr.id] = (sum(f.additions for f in files), sum(f.deletions for f in files),
                                          len(files))
        return self.ctx.stats[self.pr.id]

    def additions(self, info: Info) -> int:
        return self._stats()[0]

    def deletions(self, info: Info) -> int:
        return self._stats()[1]

    def changedFiles(self, info: Info) -> int:
        return self._stats()[2]

    # -- connections
    def commits(self, info: Info, after: str | None = None, before: str | None = None,
                first: int | None = None, last: int | None = None) -> dict[str, Any]:
        shas = pulls.pull_commits(self.ctx.app.git_repo(self.repo), self.pr)[:pulls.MAX_COMMITS]
        nodes = [PullRequestCommitNode(self.ctx, self.repo, self.pr, sha) for sha in shas]
        return connection(nodes, "commits", first=first, last=last, after=after, before=before)

    def labels(self, info: Info, after: str | None = None, before: str | None = None,
               first: int | None = None, last: int | None = None) -> dict[str, Any]:
        items = render_pulls.issue_side(self.ctx.request, self.repo, self.pr.number)[0]
        nodes = [LabelNode(self.ctx, self.repo, item) for item in items]
        return connection(nodes, "labels", first=first, last=last, after=after, before=before)

    def _visible_reviews(self) -> list[Review]:
        viewer = (self.ctx.request.auth.login or "").lower()
        return [r for r in self.pr.reviews if r.state != "PENDING" or r.user.lower() == viewer]

    def reviews(self, info: Info, after: str | None = None, before: str | None = None,
                first: int | None = None, last: int | None = None, states: list[str] | None = None,
                author: str | None = None) -> dict[str, Any]:
        found = self._visible_reviews()
        if states:
            found = [r for r in found if r.state in states]
        if author is not None:
            found = [r for r in found if r.user.lower() == author.lower()]
        nodes = [ReviewNode(self.ctx, self.repo, self.pr, r) for r in found]
        return connection(nodes, "reviews", first=first, last=last, after=after, before=before)

    def latestReviews(self, info: Info, after: str | None = None, before: str | None = None,
                      first: int | None = None, last: int | None = None) -> dict[str, Any]:
        latest: dict[str, Review] = {}
        for review in self._visible_reviews():
            if review.state != "PENDING":
                latest[review.user.lower()] = review
        ordered = sorted(latest.values(), key=lambda r: r.id)
        nodes = [ReviewNode(self.ctx, self.repo, self.pr, r) for r in ordered]
        return connection(nodes, "latestReviews", first=first, last=last, after=after, before=before)


class PullRequestCommitNode:
    TYPENAME: ClassVar[str] = "PullRequestCommit"

    def __init__(self, ctx: Context, repo: RepoState, pr: PullRequest, sha: str) -> None:
        self.ctx = ctx
        self.repo = repo
        self.pr = pr
        self.sha = sha

    def id(self, info: Info) -> str:
        return node_id("PullRequestCommit", f"{self.pr.id}:{self.sha}")

    def url(self, info: Info) -> str:
        return self.ctx.request.html_url(f"/{self.repo.full_name}/pull/{self.pr.number}/commits/{self.sha}")

    def commit(self, info: Info) -> CommitNode:
        return CommitNode(self.ctx, self.repo, self.sha)


class LabelNode:
    TYPENAME: ClassVar[str] = "Label"

    def __init__(self, ctx: Context, repo: RepoState, item: Any) -> None:
        self.data = render_pulls.label(ctx.request, repo, item)
        self.html = ctx.request.html_url(f"/{repo.full_name}/labels/{render.q(self.data['name'])}")

    def id(self, info: Info) -> str:
        return str(self.data["node_id"])

    def name(self, info: Info) -> str:
        return str(self.data["name"])

    def color(self, info: Info) -> str:
        return str(self.data["color"])

    def description(self, info: Info) -> str | None:
        return self.data["description"]  # type: ignore[no-any-return]

    def url(self, info: Info) -> str:
        return self.html


class ReviewNode:
    TYPENAME: ClassVar[str] = "PullRequestReview"

    def __init__(self, ctx: Context, repo: RepoState, pr: PullRequest, review: Review) -> None:
        self.ctx = ctx
        self.repo = repo
        self.pr = pr
        self.review = review

    def id(self, info: Info) -> str:
        return node_id("PullRequestReview", self.review.id)

    def databaseId(self, info: Info) -> int:
        return self.review.id

    def author(self, info: Info) -> UserNode | None:
        return actor(self.ctx, self.review.user)

    def authorAssociation(self, info: Info) -> str:
        return render_pulls.author_association(self.repo, self.review.user)

    def body(self, info: Info) -> str:
        return self.review.body

    def state(self, info: Info) -> str:
        return self.review.state

    def createdAt(self, info: Info) -> str:
        return iso(self.review.created_at)

    def submittedAt(self, info: Info) -> str | None:
        return iso(self.review.submitted_at) if self.review.submitted_at is not None else None

    def url(self, info: Info) -> str:
        return self.ctx.request.html_url(
            f"/{self.repo.full_name}/pull/{self.pr.number}#pullrequestreview-{self.review.id}")

    def commit(self, info: Info) -> CommitNode | None:
        if self.ctx.app.git_repo(self.repo).object_type(self.review.commit_id) != "commit":
            return None
        return CommitNode(self.ctx, self.repo, self.review.commit_id)


# ---------------------------------------------------------------------------------------------------
# Commits, checks and statuses


class CommitNode:
    TYPENAME: ClassVar[str] = "Commit"

    def __init__(self, ctx: Context, repo: RepoState, sha: str) -> None:
        self.ctx = ctx
        self.repo = repo
        self.sha = sha

    def _info(self) -> CommitInfo:
        return self.ctx.commit_info(self.repo, self.sha)

    def id(self, info: Info) -> str:
        return node_id("Commit", self.sha)

    def oid(self, info: Info) -> str:
        return self.sha

    def abbreviatedOid(self, info: Info) -> str:
        return self.sha[:7]

    def message(self, info: Info) -> str:
        return self._info().message.rstrip("\n")

    def messageHeadline(self, info: Info) -> str:
        return self._info().subject

    def authoredDate(self, info: Info) -> str:
        return iso(self._info().author.timestamp)

    def committedDate(self, info: Info) -> str:
        return iso(self._info().committer.timestamp)

    def url(self, info: Info) -> str:
        return self.ctx.request.html_url(f"/{self.repo.full_name}/commit/{self.sha}")

    def statusCheckRollup(self, info: Info) -> StatusCheckRollupNode | None:
        contexts = pulls.commit_contexts(self.repo, self.sha)
        if not contexts:
            return None  # GitHub: null when no check run or status reported on the commit
        return StatusCheckRollupNode(self.ctx, self.repo, self.sha, contexts)


class StatusCheckRollupNode:
    TYPENAME: ClassVar[str] = "StatusCheckRollup"

    def __init__(self, ctx: Context, repo: RepoState, sha: str, contexts: list[CheckContext]) -> None:
        self.ctx = ctx
        self.repo = repo
        self.sha = sha
        self.contexts_found = contexts

    def id(self, info: Info) -> str:
        return node_id("StatusCheckRollup", f"{self.repo.id}:{self.sha}")

    def state(self, info: Info) -> str:
        return (pulls.rollup_state(self.contexts_found) or "success").upper()

    def commit(self, info: Info) -> CommitNode:
        return CommitNode(self.ctx, self.repo, self.sha)

    def contexts(self, info: Info, after: str | None = None, before: str | None = None,
                 first: int | None = None, last: int | None = None) -> dict[str, Any]:
        nodes: list[CheckRunNode | StatusContextNode] = [
            CheckRunNode(self.ctx, self.repo, c) if c.kind == "check_run" else StatusContextNode(self.ctx, self.repo, c)
            for c in self.contexts_found]
        runs = sum(1 for c in self.contexts_found if c.kind == "check_run")
        return connection(nodes, "contexts", first=first, last=last, after=after, before=before,
                          checkRunCount=runs, statusContextCount=len(self.contexts_found) - runs)


class _ContextNode:
    """A check run or a commit status (`found`; not `context`, which is a StatusContext field)."""

    def __init__(self, ctx: Context, repo: RepoState, found: CheckContext) -> None:
        self.ctx = ctx
        self.repo = repo
        self.found = found

    def _field(self, name: str) -> Any:
        return pulls.item_field(self.found.item, name)

    def isRequired(self, info: Info, pullRequestId: str | None = None,
                   pullRequestNumber: int | None = None) -> bool:
        pr: PullRequest | None = None
        if pullRequestNumber is not None:
            pr = pulls.find_pull(self.repo, pullRequestNumber)
        elif pullRequestId is not None:
            decoded = decode_node_id(pullRequestId)
            if decoded is not None and decoded[0] == "PullRequest" and decoded[1].isdigit():
                found = pulls.pull_by_id(self.ctx.app, int(decoded[1]))
                pr = found[1] if found is not None and found[0] is self.repo else None
        if pr is None:
            return False
        return self.found.name in pulls.required_contexts(self.repo, pr.base_ref)


class CheckRunNode(_ContextNode):
    TYPENAME: ClassVar[str] = "CheckRun"

    def id(self, info: Info) -> str:
        return node_id("CheckRun", self.found.id)

    def databaseId(self, info: Info) -> int:
        return self.found.id

    def name(self, info: Info) -> str:
        return self.found.name

    def status(self, info: Info) -> str:
        return self.found.status.upper()

    def conclusion(self, info: Info) -> str | None:
        return self.found.conclusion.upper() if self.found.conclusion else None

    def detailsUrl(self, info: Info) -> str | None:
        value = self._field("details_url")
        return str(value) if value else None

    def startedAt(self, info: Info) -> str | None:
        value = self._field("started_at")
        return iso(value) if isinstance(value, int | float) else None

    def completedAt(self, info: Info) -> str | None:
        value = self._field("completed_at")
        return iso(value) if isinstance(value, int | float) else None

    def url(self, info: Info) -> str:
        return self.ctx.request.html_url(f"/{self.repo.full_name}/runs/{self.found.id}")


class StatusContextNode(_ContextNode):
    TYPENAME: ClassVar[str] = "StatusContext"

    def id(self, info: Info) -> str:
        return node_id("StatusContext", self.found.id)

    def context(self, info: Info) -> str:
        return self.found.name

    def state(self, info: Info) -> str:
        return self.found.status.upper()

    def description(self, info: Info) -> str | None:
        value = self._field("description")
        return str(value) if value is not None else None

    def targetUrl(self, info: Info) -> str | None:
        value = self._field("target_url")
        return str(value) if value else None

    def createdAt(self, info: Info) -> str:
        value = self._field("created_at")
        return iso(value if isinstance(value, int | float) else 0)


# ---------------------------------------------------------------------------------------------------
# The roots


class Root:
    """Query and Mutation fields."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def _readable(self, repo: RepoState | None) -> bool:
        return repo is not None and self.ctx.request.can_read(repo)

    def repository(self, info: Info, owner: str, name: str,
                   followRenames: bool | None = None) -> RepositoryNode:
        repo = self.ctx.app.state.repo(owner, name)
        if repo is None or not self._readable(repo):
            raise not_found(f"Could not resolve to a Repository with the name '{owner}/{name}'.")
        return RepositoryNode(self.ctx, repo)

    def viewer(self, info: Info) -> UserNode:
        auth = self.ctx.request.auth
        if auth.token is not None and auth.token.is_integration:
            raise GitHubGraphQLError("FORBIDDEN", "Resource not accessible by integration")
        user = auth.user or User(auth.login or "ghost", 0)
        return UserNode(self.ctx, user)

    def node(self, info: Info, id: str) -> Any:
        found = self._node(id)
        if found is None:
            raise not_found(f"Could not resolve to a node with the global id of '{id}'")
        return found

    def nodes(self, info: Info, ids: list[str]) -> list[Any]:
        return [self._node(value) for value in ids]

    def _node(self, value: str) -> Any:
        decoded = decode_node_id(value)
        if decoded is None:
            return None
        kind, key = decoded
        state = self.ctx.app.state
        if kind == "PullRequest" and key.isdigit():
            found = pulls.pull_by_id(self.ctx.app, int(key))
            if found is not None and self._readable(found[0]):
                pulls.sync_pull(self.ctx.app, found[0], found[1])
                return PullRequestNode(self.ctx, *found)
        elif kind == "Repository" and key.isdigit():
            repo = state.repo_by_id(int(key))
            if repo is not None and self._readable(repo):
                return RepositoryNode(self.ctx, repo)
        elif kind in ("User", "Bot") and key.isdigit():
            user = next((u for u in state.users.values() if u.id == int(key) and u.type == kind), None)
            if user is not None:
                return BotNode(self.ctx, user) if kind == "Bot" else UserNode(self.ctx, user)
        return None

    def _pull_request(self, pull_request_id: str) -> tuple[RepoState, PullRequest]:
        """The pull request a mutation's `pullRequestId` names (GitHub's NOT_FOUND when it cannot be seen)."""
        decoded = decode_node_id(pull_request_id)
        found = None
        if decoded is not None and decoded[0] == "PullRequest" and decoded[1].isdigit():
            found = pulls.pull_by_id(self.ctx.app, int(decoded[1]))
        if found is None or not self._readable(found[0]):
            raise not_found(f"Could not resolve to a node with the global id of '{pull_request_id}'")
        return found

    def markPullRequestReadyForReview(self, info: Info, input: dict[str, Any]) -> dict[str, Any]:
        """"Ready for review" (what `gh pr ready` sends): a draft becomes an ordinary pull request; one that
        is not a draft stays as it is. Needs write access, or being its author."""
        pull_request_id = str(input["pullRequestId"])
        repo, pr = self._pull_request(pull_request_id)
        request = self.ctx.request
        author = request.auth.login is not None and request.auth.login.lower() == pr.user.lower()
        if not author:
            try:
                request.require(repo, "write", permission="pull_requests")
            except ApiError:
                raise GitHubGraphQLError("FORBIDDEN", f"{request.auth.login} does not have the correct permissions "
                                         "to execute `MarkPullRequestReadyForReview`") from None
        if pr.state != "open":
            raise GitHubGraphQLError("UNPROCESSABLE", "Pull request is closed")
        if pr.draft:
            pr.draft = False
            pr.updated_at = self.ctx.app.now()
        return {"clientMutationId": input.get("clientMutationId"), "pullRequest": PullRequestNode(self.ctx, repo, pr)}

    def revertPullRequest(self, info: Info, input: dict[str, Any]) -> dict[str, Any]:
        pull_request_id = str(input["pullRequestId"])
        repo, pr = self._pull_request(pull_request_id)
        request = self.ctx.request
        try:
            request.require(repo, "write", permission="contents")
            request.require(repo, "write", permission="pull_requests")
        except ApiError as error:
            if error.status == 404:
                raise not_found(f"Could not resolve to a node with the global id of '{pull_request_id}'") from None
            token = request.auth.token
            message = error.message if token is not None and token.kind != "classic-pat" else (
                f"{request.auth.login} does not have the correct permissions to execute `RevertPullRequest`")
            raise GitHubGraphQLError("FORBIDDEN", message) from None
        token = request.auth.token
        if token is not None and token.kind == "actions" and not pulls.actions_may_create_pulls(repo):
            raise GitHubGraphQLError("FORBIDDEN", pulls.ACTIONS_MAY_NOT_CREATE)
        try:
            reverted = pulls.revert_pull(self.ctx.app, repo, pr, request.auth.login or "", title=input.get("title"),
                                         body=input.get("body"), draft=bool(input.get("draft") or False))
        except ValueError as error:
            raise GitHubGraphQLError("UNPROCESSABLE", str(error)) from None
        return {"clientMutationId": input.get("clientMutationId"),
                "pullRequest": PullRequestNode(self.ctx, repo, pr),
                "revertPullRequest": PullRequestNode(self.ctx, repo, reverted)}


ABSTRACT_TYPES = ("Node", "Actor", "StatusCheckRollupContext", "RuleParameters")


def _resolve_type(value: Any, info: Info, abstract_type: Any) -> str | None:
    name = getattr(value, "TYPENAME", None)
    return name if isinstance(name, str) else None


def attach(schema: GraphQLSchema) -> None:
    """Wire the abstract types to `TYPENAME` (every object field uses the default resolver)."""
    for name in ABSTRACT_TYPES:
        abstract = schema.get_type(name)
        abstract.resolve_type = _resolve_type  # type: ignore[union-attr]
