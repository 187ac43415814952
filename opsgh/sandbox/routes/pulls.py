"""Pull requests: create, list, get, update, commits, files, merge, pulls of a commit; and the PR
logic GraphQL shares (revert included).

State: `PULLS` (number -> `PullRequest`, reviews kept on the pull request). Numbers come from
`repo.next_number()`, shared with issues. The issue side of a pull request (labels, assignees,
comments) belongs to routes/issues.py, which reads these items by attribute name (number, id, title,
body, state, user, draft, created_at, updated_at, closed_at, merged_at, head_ref, head_sha, base_ref,
base_sha, merge_commit_sha: keep those names) and renders GET /issues/{n} for pull requests itself.

`mergeable` behaves like GitHub's asynchronous job: after the head or the base moves, the first read
of the pull request answers null (`mergeable_state: unknown`) and starts the computation; later reads
answer true/false, computed with `git merge-tree` (and a real test-merge commit at refs/pull/N/merge).
A merge computes it on the spot. The head and base shas follow the branches lazily: every handler that
reads a pull request calls `sync_pull` first, which also dismisses stale approvals when the rules
ask for it and closes a pull request whose branch is gone.

Merges and `mergeable_state` follow `opsgh.sandbox.rules.effective_rules` (classic protection and
active rulesets combined; the merger's bypasses apply to the merge, nobody's to the state). The
Actions GITHUB_TOKEN may open or approve pull requests only when the repository allows it
(routes/actions_settings.py), as on GitHub.

For other route modules (documented contracts):
- `find_pull(repo, number)`: the pull request at an issue number, or None; `pull_by_id(app, id)`.
- `required_checks_state(repo, sha, contexts)` and `commit_contexts(repo, sha)`: how protection and
  `statusCheckRollup` read check runs (routes/checks.py) and commit statuses (routes/statuses.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from opsgh.sandbox import render, render_pulls
from opsgh.sandbox.gitstore import GitRepo, MergeConflict, RefConflict
from opsgh.sandbox.routing import ApiError, Request, Response, RouteTable, not_found, paginate, validation_failed
from opsgh.sandbox.rules import EffectiveRules, RuleActor, effective_rules
from opsgh.sandbox.state import Collection, RepoState, role_at_least

if TYPE_CHECKING:
    from opsgh.sandbox.app import SandboxApp

routes = RouteTable()

# GitHub's caps: the files of a pull request stop at 3000, its commits at 250.
MAX_FILES = 3000
MAX_COMMITS = 250
MAX_BODY = 65536
MAX_TITLE = 256
MERGE_METHODS = ("merge", "squash", "rebase")
REVIEW_EVENTS = {"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED", "COMMENT": "COMMENTED"}
PROTECTION_DOCS = "https://docs.github.com/articles/about-protected-branches"
MERGE_DOCS = "https://docs.github.com/rest/pulls/pulls#merge-a-pull-request"


@dataclass
class Review:
    """A pull request review. state: PENDING, COMMENTED, APPROVED, CHANGES_REQUESTED, DISMISSED."""

    id: int
    user: str
    state: str
    body: str
    commit_id: str
    submitted_at: float | None = None
    created_at: float = 0.0


@dataclass
class PullRequest:
    number: int
    id: int  # database id (state.next_id("pull")); the node id is render.node_id("PullRequest", id)
    title: str
    user: str  # the author's login
    head_ref: str
    base_ref: str
    head_sha: str
    base_sha: str  # the base tip when last synced (kept as it was once closed or merged)
    body: str | None = None
    state: str = "open"  # open | closed
    draft: bool = False
    maintainer_can_modify: bool = False
    locked: bool = False
    created_at: float = 0.0
    updated_at: float = 0.0
    closed_at: float | None = None
    merged_at: float | None = None
    merged_by: str | None = None
    merge_commit_sha: str | None = None  # the test merge while open, the merge result once merged
    merge_method: str | None = None
    requested_reviewers: list[str] = field(default_factory=list)
    requested_teams: list[str] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)
    # mergeability: the value, the "base:head" it was computed for, and the one a read asked for
    mergeable: bool | None = None
    mergeable_key: str | None = None
    mergeable_requested: str | None = None
    mergeable_requested_at: float | None = None  # sandbox clock (Faults.slow_mergeability)

    @property
    def merged(self) -> bool:
        return self.merged_at is not None

    @property
    def key(self) -> str:
        return f"{self.base_sha}:{self.head_sha}"


PULLS = Collection("pulls", PullRequest, key=int)


def pulls_of(repo: RepoState) -> dict[int, PullRequest]:
    return repo.items(PULLS)


def find_pull(repo: RepoState, number: int) -> PullRequest | None:
    """The pull request with this issue number (None: no such number, or an issue)."""
    return pulls_of(repo).get(number)


def pull_by_id(app: SandboxApp, pull_id: int) -> tuple[RepoState, PullRequest] | None:
    """A pull request by database id, anywhere in the sandbox (GraphQL node ids)."""
    for repo in app.state.repos.values():
        for pr in pulls_of(repo).values():
            if pr.id == pull_id:
                return repo, pr
    return None


# ---------------------------------------------------------------------------------------------------
# Following the branches


def sync_pull(app: SandboxApp, repo: RepoState, pr: PullRequest, branches: Mapping[str, str] | None = None) -> None:
    """Bring an open pull request's head/base shas up to the branches (GitHub does this on push).

    A new head dismisses stale approvals when protection says `dismiss_stale_reviews`; a head or base
    branch that is gone closes the pull request, as on GitHub.
    """
    if pr.state != "open":
        return
    if branches is None:
        branches = app.git_repo(repo).branches()
    head, base = branches.get(pr.head_ref), branches.get(pr.base_ref)
    if head is None or base is None:
        pr.state = "closed"
        pr.closed_at = pr.updated_at = app.now()
        return
    if head != pr.head_sha:
        pr.head_sha = head
        pr.updated_at = app.now()
        _set_internal_ref(app.git_repo(repo), f"refs/pull/{pr.number}/head", head)
        if rules_for(repo, pr).dismiss_stale_reviews:
            for review in pr.reviews:
                if review.state == "APPROVED" and review.commit_id != head:
                    review.state = "DISMISSED"
    if base != pr.base_sha:
        pr.base_sha = base


def _set_internal_ref(git: GitRepo, ref: str, sha: str) -> None:
    """refs/pull/N/head and /merge, as GitHub keeps them (not branches: no listeners, no protection)."""
    git.run("update-ref", "--no-deref", ref, sha)


def sync_all(app: SandboxApp, repo: RepoState) -> dict[int, PullRequest]:
    pulls = pulls_of(repo)
    if any(pr.state == "open" for pr in pulls.values()):
        branches = app.git_repo(repo).branches()
        for pr in pulls.values():
            sync_pull(app, repo, pr, branches)
    return pulls


# ---------------------------------------------------------------------------------------------------
# Mergeability


def compute_mergeable(app: SandboxApp, repo: RepoState, pr: PullRequest) -> bool:
    """Merge base into head with `git merge-tree` now; keep the result and the test-merge commit."""
    git = app.git_repo(repo)
    result = git.mergeability(pr.base_sha, pr.head_sha)
    pr.mergeable = result.clean
    pr.mergeable_key = pr.key
    pr.mergeable_requested = pr.mergeable_requested_at = None
    if result.clean and result.tree is not None:
        stamp = app.signature()
        test_merge = git.commit_tree(result.tree, [pr.base_sha, pr.head_sha],
                                     f"Merge {pr.head_sha} into {pr.base_sha}\n", stamp)
        pr.merge_commit_sha = test_merge
        _set_internal_ref(git, f"refs/pull/{pr.number}/merge", test_merge)
    else:
        pr.merge_commit_sha = None
    return result.clean


def observe_mergeable(app: SandboxApp, repo: RepoState, pr: PullRequest) -> bool | None:
    """What a read of `mergeable` answers: null on the first read after a change (the job starts),
    then the computed value. Merged pull requests answer null, like GitHub."""
    if pr.merged:
        return None
    if pr.mergeable_key == pr.key:
        return pr.mergeable
    if pr.state != "open":
        return None
    if pr.mergeable_requested == pr.key:
        ready_at = (pr.mergeable_requested_at or 0.0) + app.faults.mergeability_seconds
        if app.clock.now() < ready_at:
            return None  # the job is still running (slow_mergeability)
        return compute_mergeable(app, repo, pr)
    pr.mergeable_requested = pr.key
    pr.mergeable_requested_at = app.clock.now()
    return None


# ---------------------------------------------------------------------------------------------------
# Checks and statuses (owned by routes/checks.py)


@dataclass(frozen=True)
class CheckContext:
    """One check run or commit status on a commit, the latest of its name.

    kind: "check_run" or "status". outcome: success | failure | pending (what protection reads).
    For check runs `status` is queued/in_progress/completed and `conclusion` GitHub's; for statuses
    `status` is the state (pending/success/failure/error) and `conclusion` None.
    """

    kind: str
    id: int
    name: str
    status: str
    conclusion: str | None
    outcome: str
    item: Any = field(compare=False, default=None)
    app_id: int | None = None  # the App that reported a check run


_PASSING_CONCLUSIONS = frozenset({"success", "neutral", "skipped"})


def _collection_items(repo: RepoState, name: str) -> list[Any]:
    """The items of another module's collection: typed if that module declared it, else the raw JSON."""
    declared = Collection.registry.get(name)
    if declared is not None:
        return list(repo.items(declared).values())
    raw = repo.collections.get(name) or {}
    return list(raw.values()) if isinstance(raw, dict) else []


def item_field(item: Any, *names: str) -> Any:
    """A field of another module's item, by attribute or (raw JSON) key; None when absent."""
    for name in names:
        value = item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)
        if value is not None:
            return value
    return None


def _as_int(value: Any) -> int:
    return value if isinstance(value, int) else 0


def commit_contexts(repo: RepoState, sha: str) -> list[CheckContext]:
    """The check runs (collection `check_runs`: head_sha, name, status, conclusion) and commit statuses
    (collection `statuses`: sha, context, state) on `sha`, the latest per name, check runs first.

    This is the one place that reads the checks module's data; the field names are the agreement.
    """
    runs: dict[str, CheckContext] = {}
    for item in sorted(_collection_items(repo, "check_runs"), key=lambda i: _as_int(item_field(i, "id"))):
        if item_field(item, "head_sha") != sha:
            continue
        status = str(item_field(item, "status") or "queued")
        conclusion = item_field(item, "conclusion")
        passed = "success" if conclusion in _PASSING_CONCLUSIONS else "failure"
        outcome = passed if status == "completed" else "pending"
        name = str(item_field(item, "name") or "")
        app_id = item_field(item, "app_id")
        runs[name] = CheckContext("check_run", _as_int(item_field(item, "id")), name, status,
                                  str(conclusion) if conclusion is not None else None, outcome, item,
                                  app_id if isinstance(app_id, int) else None)
    statuses: dict[str, CheckContext] = {}
    for item in sorted(_collection_items(repo, "statuses"), key=lambda i: _as_int(item_field(i, "id"))):
        if item_field(item, "sha", "head_sha") != sha:
            continue
        state = str(item_field(item, "state") or "pending")
        outcome = {"success": "success", "pending": "pending"}.get(state, "failure")
        name = str(item_field(item, "context") or "default")
        statuses[name] = CheckContext("status", _as_int(item_field(item, "id")), name, state, None, outcome, item)
    return [*runs.values(), *statuses.values()]


def required_contexts(repo: RepoState, branch: str) -> list[str]:
    """The check names merging into `branch` requires (classic protection and rulesets)."""
    return list(effective_rules(repo, branch).contexts)


def _combined_outcome(outcomes: list[str]) -> str:
    if not outcomes:
        return "expected"
    if "failure" in outcomes:
        return "failure"
    return "pending" if "pending" in outcomes else "success"


def required_checks_state(repo: RepoState, sha: str, contexts: Iterable[str]) -> dict[str, str]:
    """{required context: success | failure | pending | expected (not reported on `sha` at all)}.

    A context is satisfied by a check run of that name or a commit status of that context (a failing
    one of either fails it), the way GitHub matches required checks.
    """
    found: dict[str, list[str]] = {}
    for context in commit_contexts(repo, sha):
        found.setdefault(context.name, []).append(context.outcome)
    return {name: _combined_outcome(found.get(name, [])) for name in contexts}


def rollup_state(contexts: list[CheckContext]) -> str | None:
    """GraphQL's StatusCheckRollup.state (lower-case), or None when nothing reported."""
    if not contexts:
        return None
    failures = [c for c in contexts if c.outcome == "failure"]
    if failures:
        return "error" if all(c.kind == "status" and c.status == "error" for c in failures) else "failure"
    outcomes = {c.outcome for c in contexts}
    return "pending" if "pending" in outcomes else "success"


# ---------------------------------------------------------------------------------------------------
# Reviews and protection (classic protection and rulesets, combined by opsgh.sandbox.rules)


def rules_for(repo: RepoState, pr: PullRequest, actor: RuleActor | None = None) -> EffectiveRules:
    """The rules merging into the pull request's base is held to (without `actor`: nobody bypasses,
    which is what `mergeable_state` shows, to admins too)."""
    return effective_rules(repo, pr.base_ref, actor)


def rule_actor(request: Request, repo: RepoState) -> RuleActor:
    """The caller, as bypass lists see it."""
    token = request.auth.token
    app_id = None
    if token is not None and token.installation_id is not None:
        installation = request.app.state.installations.get(token.installation_id)
        app_id = installation.app_id if installation is not None else None
    user = request.auth.user
    return RuleActor(role=request.role(repo), login=request.auth.login, user_id=user.id if user else None,
                     app_id=app_id)


@dataclass(frozen=True)
class ReviewSummary:
    approvals: int  # from users with write access (what protection counts)
    changes_requested: bool  # by a user with write access
    required: int | None  # approvals the rules require (None: reviews not required)
    decision: str | None  # APPROVED | CHANGES_REQUESTED | REVIEW_REQUIRED | None


def latest_reviews(pr: PullRequest) -> dict[str, Review]:
    """Each reviewer's latest opinionated review (a comment does not undo an approval)."""
    latest: dict[str, Review] = {}
    for review in pr.reviews:
        if review.state in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED"):
            latest[review.user.lower()] = review
    return latest


def review_summary(repo: RepoState, pr: PullRequest, rules: EffectiveRules | None = None) -> ReviewSummary:
    """Approvals and `reviewDecision`. Without required approvals GitHub's decision is null."""
    writers = [r for r in latest_reviews(pr).values() if role_at_least(repo.role_of(r.user), "write")]
    approvals = sum(1 for r in writers if r.state == "APPROVED")
    changes = any(r.state == "CHANGES_REQUESTED" for r in writers)
    rules = rules if rules is not None else rules_for(repo, pr)
    required = rules.required_approving_review_count or None  # a count of 0: no decision, like GitHub
    if required is None:
        return ReviewSummary(approvals, changes, None, None)
    decision = "CHANGES_REQUESTED" if changes else "APPROVED" if approvals >= required else "REVIEW_REQUIRED"
    return ReviewSummary(approvals, changes, required, decision)


def _required_check_states(repo: RepoState, sha: str, rules: EffectiveRules) -> dict[str, str]:
    """required_checks_state for the rules' checks, honouring a check's `app_id` when one is set."""
    found = commit_contexts(repo, sha)
    states: dict[str, str] = {}
    for check in rules.required_status_checks:
        matching = [c for c in found if c.name == check.context
                    and (check.app_id is None or c.kind != "check_run" or c.app_id == check.app_id)]
        states[check.context] = _combined_outcome([c.outcome for c in matching])
    return states


def merge_blockers(repo: RepoState, pr: PullRequest, git: GitRepo, rules: EffectiveRules, *,
                   out_of_date_counts: bool = True) -> list[str]:
    """Why the rules refuse the merge now (GitHub's 405 messages), empty when they allow it.

    With strict required checks, an out-of-date head's checks count as expected (what a merge is told);
    `out_of_date_counts=False` leaves that to `merge_state`, which calls it "behind".
    """
    reasons: list[str] = []
    if rules.lock_branch:
        reasons.append("Cannot update this protected branch: the branch is locked.")
    summary = review_summary(repo, pr, rules)
    if summary.required is not None and summary.approvals < summary.required:
        plural = "s are" if summary.required != 1 else " is"
        reasons.append(f"At least {summary.required} approving review{plural} required by reviewers with "
                       "write access.")
    elif summary.changes_requested and summary.required is not None:
        reasons.append("Pull Request is not mergeable")
    contexts = rules.contexts
    if contexts:
        states = _required_check_states(repo, pr.head_sha, rules)
        if out_of_date_counts and rules.strict and not git.is_ancestor(pr.base_sha, pr.head_sha):
            states = dict.fromkeys(contexts, "expected")  # checks on an out-of-date head do not count
        failing = [name for name, state in states.items() if state == "failure"]
        waiting = [name for name, state in states.items() if state in ("pending", "expected")]
        if failing:
            reasons.append(f'Required status check "{failing[0]}" is failing.')
        elif len(waiting) == 1 and len(contexts) == 1:
            reasons.append(f'Required status check "{waiting[0]}" is expected.')
        elif waiting:
            reasons.append(f"{len(waiting)} of {len(contexts)} required status checks are expected.")
    return reasons


def merge_state(app: SandboxApp, repo: RepoState, pr: PullRequest, mergeable: bool | None) -> str:
    """REST `mergeable_state` (GraphQL mergeStateStatus in upper case)."""
    if mergeable is None or pr.merged or pr.state != "open":
        return "unknown"
    if not mergeable:
        return "dirty"
    if pr.draft:
        return "draft"
    git = app.git_repo(repo)
    rules = rules_for(repo, pr)
    if merge_blockers(repo, pr, git, rules, out_of_date_counts=False):
        return "blocked"
    if rules.strict and not git.is_ancestor(pr.base_sha, pr.head_sha):
        return "behind"
    required = set(rules.contexts)
    if any(c.outcome != "success" for c in commit_contexts(repo, pr.head_sha) if c.name not in required):
        return "unstable"
    return "clean"


@dataclass(frozen=True)
class PullView:
    """What a full read of a pull request shows besides its stored fields."""

    mergeable: bool | None
    mergeable_state: str
    commits: int
    additions: int
    deletions: int
    changed_files: int


def pull_view(app: SandboxApp, repo: RepoState, pr: PullRequest, *, observe: bool = True) -> PullView:
    """The computed fields of a full read (`observe`: this read counts for the mergeable job)."""
    mergeable = observe_mergeable(app, repo, pr) if observe else (
        pr.mergeable if pr.mergeable_key == pr.key and not pr.merged else None)
    git = app.git_repo(repo)
    commits = pull_commits(git, pr)
    base = git.merge_base(pr.base_sha, pr.head_sha)
    files = git.changed_files(base, pr.head_sha) if base is not None else []
    return PullView(mergeable, merge_state(app, repo, pr, mergeable), len(commits),
                    sum(f.additions for f in files), sum(f.deletions for f in files), len(files))


def pull_commits(git: GitRepo, pr: PullRequest) -> list[str]:
    """The pull request's commits, oldest first (base..head; what was merged for merged ones)."""
    return git.run("rev-list", "--reverse", "--topo-order", f"{pr.base_sha}..{pr.head_sha}").split()


# ---------------------------------------------------------------------------------------------------
# Opening pull requests (REST and the GraphQL revert)


def open_pull(app: SandboxApp, repo: RepoState, *, title: str, head: str, base: str, author: str,
              body: str | None = None, draft: bool = False, maintainer_can_modify: bool = False) -> PullRequest:
    """Validate like GitHub (422s) and open a pull request from branch `head` into branch `base`."""
    git = app.git_repo(repo)
    branches = git.branches()
    if head not in branches:
        raise validation_failed("PullRequest", "head", "invalid")
    if base not in branches:
        raise validation_failed("PullRequest", "base", "invalid")
    for other in sync_all(app, repo).values():
        if other.state == "open" and other.head_ref == head and other.base_ref == base:
            raise _custom(f"A pull request already exists for {repo.owner}:{head}.")
    comparison = git.compare(branches[base], branches[head])
    if comparison.merge_base is None:
        raise _custom(f"The {head} branch has no history in common with {base}")
    if comparison.ahead_by == 0:
        raise _custom(f"No commits between {base} and {head}")
    now = app.now()
    state = app.state
    pr = PullRequest(repo.next_number(), state.next_id("pull"), title, author, head, base,
                     branches[head], branches[base], body, draft=draft, maintainer_can_modify=maintainer_can_modify,
                     created_at=now, updated_at=now)
    pulls_of(repo)[pr.number] = pr
    _set_internal_ref(git, f"refs/pull/{pr.number}/head", pr.head_sha)
    return pr


ACTIONS_MAY_NOT_CREATE = "GitHub Actions is not permitted to create or approve pull requests."


def actions_may_create_pulls(repo: RepoState) -> bool:
    """The repository's "Allow GitHub Actions to create and approve pull requests" (off for new
    repositories, as on GitHub): item "repo" of routes/actions_settings.py's `actions_settings`."""
    declared = Collection.registry.get("actions_settings")
    items = repo.items(declared) if declared is not None else (repo.collections.get("actions_settings") or {})
    item = items.get("repo") if isinstance(items, Mapping) else None
    return item is not None and item_field(item, "can_approve_pull_request_reviews") is True


def _custom(message: str) -> ApiError:
    return ApiError(422, "Validation Failed", [{"resource": "PullRequest", "code": "custom", "message": message}])


def _check_text(body: Mapping[str, Any]) -> None:
    title, text = body.get("title"), body.get("body")
    if isinstance(title, str) and len(title) > MAX_TITLE:
        raise validation_failed("Issue", "title", "custom", f"title is too long (maximum is {MAX_TITLE} characters)")
    if isinstance(text, str) and len(text) > MAX_BODY:
        raise validation_failed("Issue", "body", "custom", f"body is too long (maximum is {MAX_BODY} characters)")


def _string(body: Mapping[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise validation_failed("PullRequest", name, "invalid")
    return value


def _head_branch(repo: RepoState, head: str) -> str:
    """`head` as GitHub takes it: "branch" or "owner:branch" (forks are not modelled: another owner is invalid)."""
    if ":" in head:
        owner, _, branch = head.partition(":")
        if owner.lower() != repo.owner.lower():
            raise validation_failed("PullRequest", "head", "invalid")
        return branch
    return head


# ---------------------------------------------------------------------------------------------------
# Routes


def _pull(request: Request, repo: RepoState) -> PullRequest:
    try:
        number = int(request.params["pull_number"])
    except ValueError:
        raise not_found() from None
    pr = find_pull(repo, number)
    if pr is None:
        raise not_found()
    sync_pull(request.app, repo, pr)
    return pr


def full_json(request: Request, repo: RepoState, pr: PullRequest, *, observe: bool = True) -> dict[str, Any]:
    return render_pulls.pull_request(request, repo, pr, pull_view(request.app, repo, pr, observe=observe))


@routes.post("/repos/{owner}/{repo}/pulls")
def create_pull(request: Request) -> Response:
    repo = request.repo("write", permission="pull_requests")
    body = request.json_object()
    title, head, base = _string(body, "title"), _string(body, "head"), _string(body, "base")
    text = _string(body, "body")
    if not head:
        raise validation_failed("PullRequest", "head", "missing_field")
    if not base:
        raise validation_failed("PullRequest", "base", "missing_field")
    if not title:
        raise validation_failed("PullRequest", "title", "missing_field")
    _check_text(body)
    draft = body.get("draft", False)
    can_modify = body.get("maintainer_can_modify", False)
    if not isinstance(draft, bool) or not isinstance(can_modify, bool):
        raise validation_failed("PullRequest", "draft" if not isinstance(draft, bool) else "maintainer_can_modify",
                                "invalid")
    token = request.auth.token
    if token is not None and token.kind == "actions" and not actions_may_create_pulls(repo):
        raise ApiError(403, ACTIONS_MAY_NOT_CREATE,
                       documentation_url="https://docs.github.com/rest/pulls/pulls#create-a-pull-request")
    author = request.auth.login or ""
    pr = open_pull(request.app, repo, title=title, head=_head_branch(repo, head), base=base, author=author,
                   body=text, draft=draft, maintainer_can_modify=can_modify)
    data = full_json(request, repo, pr)
    return Response(201, data, {"location": data["url"]})


_SORTS = ("created", "updated", "popularity", "long-running")


@routes.get("/repos/{owner}/{repo}/pulls")
def list_pulls(request: Request) -> Response:
    repo = request.repo("read", permission="pull_requests")
    state = request.arg("state") or "open"
    if state not in ("open", "closed", "all"):
        raise ApiError(422, "Validation Failed", [{"resource": "PullRequest", "field": "state", "code": "invalid",
                                                   "value": state}])
    pulls = [pr for pr in sync_all(request.app, repo).values() if state == "all" or pr.state == state]
    head = request.arg("head")
    if head and ":" in head:  # GitHub ignores a head filter without its "owner:" prefix
        owner, _, branch = head.partition(":")
        pulls = [pr for pr in pulls if owner.lower() == repo.owner.lower() and pr.head_ref == branch]
    base = request.arg("base")
    if base:
        pulls = [pr for pr in pulls if pr.base_ref == base]
    sort = request.arg("sort") or "created"
    if sort not in _SORTS:
        sort = "created"
    default_direction = "desc" if sort == "created" else "asc"
    descending = (request.arg("direction") or default_direction) == "desc"
    if sort == "updated":
        pulls.sort(key=lambda pr: (pr.updated_at, pr.number), reverse=descending)
    elif sort == "popularity":
        pulls.sort(key=lambda pr: (len(pr.reviews), pr.number), reverse=descending)
    elif sort == "long-running":
        now = request.app.now()
        pulls.sort(key=lambda pr: (now - pr.created_at if pr.state == "open" else 0.0, pr.number),
                   reverse=descending)
    else:
        pulls.sort(key=lambda pr: (pr.created_at, pr.number), reverse=descending)
    page = paginate(request, pulls)
    return page.response(lambda pr: render_pulls.pull_request_simple(request, repo, pr))


@routes.get("/repos/{owner}/{repo}/pulls/{pull_number}")
def get_pull(request: Request) -> Response:
    repo = request.repo("read", permission="pull_requests")
    return Response(200, full_json(request, repo, _pull(request, repo)))


@routes.patch("/repos/{owner}/{repo}/pulls/{pull_number}")
def update_pull(request: Request) -> Response:
    repo = request.repo("read", permission="pull_requests")
    pr = _pull(request, repo)
    login = request.auth.login
    token = request.auth.token
    # The author may edit their own pull request; anyone else (and any integration) needs write access.
    if login is None or login.lower() != pr.user.lower() or (token is not None and token.kind != "classic-pat"):
        request.require(repo, "write", permission="pull_requests")
    body = request.json_object()
    _check_text(body)
    title, text, base, state = _string(body, "title"), _string(body, "body"), _string(body, "base"), \
        _string(body, "state")
    app = request.app
    if state is not None and state not in ("open", "closed"):
        raise validation_failed("PullRequest", "state", "invalid")
    if base is not None and base != pr.base_ref:
        if pr.state != "open":
            raise _custom("Cannot change the base branch of a closed pull request.")
        branches = app.git_repo(repo).branches()
        if base not in branches:
            raise validation_failed("PullRequest", "base", "invalid")
        if any(o.state == "open" and o is not pr and o.head_ref == pr.head_ref and o.base_ref == base
               for o in pulls_of(repo).values()):
            raise _custom(f"A pull request already exists for base branch '{base}' and head branch "
                          f"'{pr.head_ref}'")
        pr.base_ref = base
        pr.base_sha = branches[base]
    if state == "open" and pr.state == "closed":
        if pr.merged:
            raise _custom("Cannot reopen a merged pull request.")  # not in GitHub's words: it has no API for it
        branches = app.git_repo(repo).branches()
        if pr.head_ref not in branches or pr.base_ref not in branches:
            raise _custom("The head or base branch of this pull request no longer exists.")
        if any(o.state == "open" and o.head_ref == pr.head_ref and o.base_ref == pr.base_ref
               for o in pulls_of(repo).values()):
            raise _custom(f"A pull request already exists for {repo.owner}:{pr.head_ref}.")
        pr.state = "open"
        pr.closed_at = None
        sync_pull(app, repo, pr, branches)
    elif state == "closed" and pr.state == "open":
        pr.state = "closed"
        pr.closed_at = app.now()
    if title is not None:
        if not title:
            raise validation_failed("PullRequest", "title", "missing_field")
        pr.title = title
    if text is not None:
        pr.body = text
    if isinstance(body.get("maintainer_can_modify"), bool):
        pr.maintainer_can_modify = body["maintainer_can_modify"]
    pr.updated_at = app.now()
    return Response(200, full_json(request, repo, pr))


@routes.get("/repos/{owner}/{repo}/pulls/{pull_number}/commits")
def list_pull_commits(request: Request) -> Response:
    repo = request.repo("read", permission="pull_requests")
    pr = _pull(request, repo)
    git = request.app.git_repo(repo)
    shas = pull_commits(git, pr)[:MAX_COMMITS]
    page = paginate(request, shas)
    infos = git.commit_infos(page.items)
    return Response(200, [render.commit(request, repo, info) for info in infos], page.headers)


@routes.get("/repos/{owner}/{repo}/pulls/{pull_number}/files")
def list_pull_files(request: Request) -> Response:
    repo = request.repo("read", permission="pull_requests")
    pr = _pull(request, repo)
    git = request.app.git_repo(repo)
    base = git.merge_base(pr.base_sha, pr.head_sha)
    files = git.changed_files(base, pr.head_sha)[:MAX_FILES] if base is not None else []
    page = paginate(request, files)
    return page.response(lambda change: render.diff_entry(request, repo, pr.head_sha, change))


@routes.get("/repos/{owner}/{repo}/pulls/{pull_number}/merge")
def check_merged(request: Request) -> Response:
    repo = request.repo("read", permission="pull_requests")
    pr = _pull(request, repo)
    if not pr.merged:
        raise not_found()
    return Response(204)


@routes.get("/repos/{owner}/{repo}/commits/{commit_sha}/pulls")
def pulls_for_commit(request: Request) -> Response:
    """GitHub: the merged pull request that brought a commit into the default branch; for a commit not
    on the default branch, the open pull requests that contain it."""
    repo = request.repo("read", permission="pull_requests")
    git = request.app.git_repo(repo)
    if not git.refs("refs/heads/"):
        raise ApiError(409, "Git Repository is empty.")
    spec = request.params["commit_sha"]
    sha = git.resolve(spec)
    if sha is None:
        raise ApiError(422, f"No commit found for SHA: {spec}")
    default = git.ref(f"refs/heads/{repo.default_branch}")
    on_default = default is not None and git.is_ancestor(sha, default)
    found = []
    for pr in sorted(sync_all(request.app, repo).values(), key=lambda p: p.number, reverse=True):
        if on_default and not (pr.merged and pr.base_ref == repo.default_branch):
            continue
        if not on_default and pr.state != "open":
            continue
        if (sha == pr.merge_commit_sha and pr.merged) or sha in pull_commits(git, pr):
            found.append(pr)
    page = paginate(request, found)
    return page.response(lambda pr: render_pulls.pull_request_simple(request, repo, pr))


def _not_allowed(message: str, documentation_url: str = MERGE_DOCS) -> ApiError:
    return ApiError(405, message, documentation_url=documentation_url)


_DISALLOWED = {"merge": "Merge commits are not allowed on this repository.",
               "squash": "Squash merges are not allowed on this repository.",
               "rebase": "Rebase merges are not allowed on this repository."}


@routes.put("/repos/{owner}/{repo}/pulls/{pull_number}/merge")
def merge_pull(request: Request) -> Response:
    repo = request.repo("write", permission="contents")
    pr = _pull(request, repo)
    data = request.json()
    body: dict[str, Any] = data if isinstance(data, dict) else {}
    method = body.get("merge_method", "merge")
    if method not in MERGE_METHODS:
        raise validation_failed("PullRequest", "merge_method", "invalid")
    sha = _string(body, "sha")
    title, message = _string(body, "commit_title"), _string(body, "commit_message")
    if pr.merged or pr.state != "open":
        raise _not_allowed("Pull Request is not mergeable")
    settings = repo.settings
    allowed = {"merge": settings.allow_merge_commit, "squash": settings.allow_squash_merge,
               "rebase": settings.allow_rebase_merge}
    if not allowed[method]:
        raise _not_allowed(_DISALLOWED[method])
    if sha is not None and sha != pr.head_sha:
        raise ApiError(409, "Head branch was modified. Review and try the merge again.",
                       documentation_url=MERGE_DOCS)
    if pr.draft:
        raise _not_allowed("Pull Request is still a draft")
    app = request.app
    git = app.git_repo(repo)
    if not compute_mergeable(app, repo, pr):
        raise _not_allowed("Pull Request is not mergeable")
    login = request.auth.login
    rules = rules_for(repo, pr, rule_actor(request, repo))  # after the caller's bypasses
    if rules.restrictions is not None and not rules.restrictions.allows(login):
        raise _not_allowed(f"You're not authorized to push to this branch. Visit {PROTECTION_DOCS} for more "
                           "information.", PROTECTION_DOCS)
    if rules.required_linear_history and method == "merge":
        raise _not_allowed("This branch must not contain merge commits.", PROTECTION_DOCS)
    if rules.allowed_merge_methods is not None and method not in rules.allowed_merge_methods:
        raise _not_allowed(f"Repository rule violations found\n\nMerge method {method} is not allowed on this "
                           "branch.\n", PROTECTION_DOCS)
    blockers = merge_blockers(repo, pr, git, rules)
    if blockers:
        raise _not_allowed(blockers[0], PROTECTION_DOCS)
    merger = app.signature(login)
    web_flow = app.signature()
    try:
        if method == "merge":
            new = git.merge_commit(pr.base_sha, pr.head_sha, _merge_message(repo, pr, title, message), merger,
                                   web_flow)
        elif method == "squash":
            author = app.signature(pr.user) if app.state.user(pr.user) is not None else merger
            new = git.squash_commit(pr.base_sha, pr.head_sha, _squash_message(repo, pr, git, title, message),
                                    author, web_flow)
        else:
            new = git.rebase(pr.base_sha, pr.head_sha, web_flow)
    except MergeConflict:
        if method == "rebase":
            raise _not_allowed("This branch can't be rebased") from None
        raise _not_allowed("Pull Request is not mergeable") from None
    try:
        app.move_ref(repo, f"refs/heads/{pr.base_ref}", new, pr.base_sha, login)
    except RefConflict:
        raise _not_allowed("Base branch was modified. Review and try the merge again.") from None
    now = app.now()
    pr.state = "closed"
    pr.merged_at = pr.closed_at = pr.updated_at = now
    pr.merged_by = login
    pr.merge_commit_sha = new
    pr.merge_method = method
    pr.mergeable = None
    pr.mergeable_key = pr.mergeable_requested = None
    if settings.delete_branch_on_merge and pr.head_ref != repo.default_branch \
            and not effective_rules(repo, pr.head_ref).protected:
        _delete_head(app, repo, pr, login)
    return Response(200, {"sha": new, "merged": True, "message": "Pull Request successfully merged"})


def _delete_head(app: SandboxApp, repo: RepoState, pr: PullRequest, login: str | None) -> None:
    with contextlib.suppress(RefConflict):  # the branch moved after the merge: GitHub leaves it too
        app.move_ref(repo, f"refs/heads/{pr.head_ref}", None, pr.head_sha, login)


def _merge_message(repo: RepoState, pr: PullRequest, title: str | None, message: str | None) -> str:
    """GitHub's merge commit message: "Merge pull request #N from owner/branch" + the PR title."""
    subject = title or f"Merge pull request #{pr.number} from {repo.owner}/{pr.head_ref}"
    if message is None:
        kind = repo.settings.merge_commit_message
        message = pr.title if kind == "PR_TITLE" else (pr.body or "") if kind == "PR_BODY" else ""
    return f"{subject}\n\n{message}\n" if message else f"{subject}\n"


def _squash_message(repo: RepoState, pr: PullRequest, git: GitRepo, title: str | None, message: str | None) -> str:
    """GitHub's squash message: "<title> (#N)" and the squashed commits' messages as a list."""
    infos = git.commit_infos(pull_commits(git, pr))
    if title is None:
        single = len(infos) == 1 and repo.settings.squash_merge_commit_title == "COMMIT_OR_PR_TITLE"
        title = f"{infos[0].subject if single else pr.title} (#{pr.number})"
    if message is None:
        kind = repo.settings.squash_merge_commit_message
        if kind == "COMMIT_MESSAGES":
            message = "\n\n".join(f"* {info.message.strip()}" for info in infos) if len(infos) > 1 else (
                infos[0].message.partition("\n")[2].strip() if infos else "")
        else:
            message = (pr.body or "") if kind == "PR_BODY" else ""
    return f"{title}\n\n{message}\n" if message else f"{title}\n"


# ---------------------------------------------------------------------------------------------------
# Reverting (GraphQL revertPullRequest; REST has no revert)


def revert_pull(app: SandboxApp, repo: RepoState, pr: PullRequest, actor: str, *, title: str | None = None,
                body: str | None = None, draft: bool = False) -> PullRequest:
    """What GitHub's "Revert" does: a branch `revert-N-<head>` from the base tip with a revert of what
    the merge brought (a merge commit against its first parent; a squash commit; each rebased commit,
    newest first), and a pull request from it into the original base. Raises ValueError with GitHub's
    explanation when it cannot."""
    if not pr.merged or pr.merge_commit_sha is None:
        raise ValueError("Pull request must be merged to be reverted.")
    git = app.git_repo(repo)
    base_tip = git.ref(f"refs/heads/{pr.base_ref}")
    if base_tip is None:
        raise ValueError(f"The base branch {pr.base_ref} no longer exists.")
    if pr.merge_method == "rebase":
        replayed = git.run("rev-list", "--topo-order", f"{pr.base_sha}..{pr.merge_commit_sha}").split()
    else:
        replayed = [pr.merge_commit_sha]
    signature = app.signature(actor)
    tip = base_tip
    try:
        for sha in replayed:  # newest first
            info = git.commit_info(sha)
            text = f'Revert "{info.subject}"\n\nThis reverts commit {sha}'
            text += f", reversing\nchanges made to {info.parents[0]}.\n" if len(info.parents) > 1 else ".\n"
            tip = git.revert(sha, tip, signature, app.signature(), mainline=1, message=text)
    except MergeConflict:
        raise ValueError("Sorry, this pull request couldn't be reverted automatically. It may already have been "
                         "reverted, or the content may have changed since it was merged.") from None
    existing = git.branches()
    branch = f"revert-{pr.number}-{pr.head_ref}"
    suffix = 1
    while branch in existing:
        suffix += 1
        branch = f"revert-{pr.number}-{pr.head_ref}-{suffix}"
    app.move_ref(repo, f"refs/heads/{branch}", tip, None, actor)
    return open_pull(app, repo, title=title or f'Revert "{pr.title}"', head=branch, base=pr.base_ref,
                     author=actor, body=body if body is not None else f"Reverts {repo.full_name}#{pr.number}",
                     draft=draft)

