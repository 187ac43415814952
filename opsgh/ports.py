"""What the core (ops/, gate/) may ask of GitHub, as plain values.

Standard library only: no PyGithub, no httpx, nothing from opsgh.github. The gateway in
`opsgh.github.gateway` implements `GitHubPort`; tests and the sandbox may implement it too.
Every method raises the typed errors of `opsgh.errors` (NotFound, Forbidden, RateLimited,
AmbiguousWrite...) unless it says it returns None for a missing thing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from opsgh.gate.security import AlertsRead


@dataclass(frozen=True, slots=True)
class RepoInfo:
    full_name: str
    default_branch: str
    private: bool
    archived: bool
    fork: bool
    # The token's permissions on the repository; None when GitHub does not say (App installation tokens).
    permissions: dict[str, bool] | None
    # GitHub only reports the merge settings to tokens with write access: None means "not told".
    allow_merge_commit: bool | None
    allow_squash_merge: bool | None
    allow_rebase_merge: bool | None
    topics: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BranchInfo:
    name: str
    sha: str
    protected: bool


@dataclass(frozen=True, slots=True)
class IssueInfo:
    number: int
    title: str
    labels: tuple[str, ...]
    state: str
    is_pull_request: bool


@dataclass(frozen=True, slots=True)
class StatusInfo:
    """A commit status (the fallback for check runs)."""

    state: str  # error, failure, pending, success
    context: str
    description: str | None
    target_url: str | None
    id: int | None = None
    creator: str | None = None
    created_at: str | None = None


@dataclass(frozen=True, slots=True)
class RefInfo:
    ref: str  # fully qualified: refs/heads/main
    sha: str


@dataclass(frozen=True, slots=True)
class TokenReport:
    """What GitHub says about the token (for `doctor`)."""

    kind: str  # classic-pat, fine-grained-pat, installation, actions, app, oauth, user-to-server, unknown
    login: str | None  # None for installation tokens (GET /user is refused)
    scopes: tuple[str, ...] | None  # X-OAuth-Scopes; only classic PATs and OAuth tokens have scopes
    accepted_permissions: str | None  # X-Accepted-GitHub-Permissions, as GitHub wrote it
    rate_limit_remaining: int | None
    rate_limit_limit: int | None
    rate_limit_reset: float | None  # epoch seconds
    notes: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class CommitInfo:
    """A commit as the compare and commit-list APIs show it."""

    sha: str
    message: str
    author_name: str
    author_login: str | None  # None when the author's email maps to no GitHub account
    committer_name: str
    committer_email: str
    committed_at: str  # ISO 8601, the committer date
    parents: tuple[str, ...]
    html_url: str

    @property
    def subject(self) -> str:
        return self.message.split("\n", 1)[0].strip()


@dataclass(frozen=True, slots=True)
class FileChange:
    """One changed file of a comparison. `patch` is None when GitHub leaves it out (binary, too large)."""

    filename: str
    status: str  # added, removed, modified, renamed, copied, changed, unchanged
    additions: int
    deletions: int
    patch: str | None
    previous_filename: str | None = None


@dataclass(frozen=True, slots=True)
class ComparePage:
    """One page of `GET /compare/{base}...{head}` (three dots: what head has since the merge base).

    Commits are oldest first, at most 250 a page. `files` is only on the first page and GitHub stops
    at 300 files for the whole comparison without saying so: 300 files means "maybe more".
    """

    status: str  # ahead, behind, diverged, identical
    ahead_by: int
    behind_by: int
    base_sha: str  # the base's tip
    merge_base_sha: str
    html_url: str  # the comparison on the web
    commits: tuple[CommitInfo, ...]
    files: tuple[FileChange, ...] | None


@dataclass(frozen=True, slots=True)
class PullInfo:
    """A pull request as the list endpoint shows it (`pull-request-simple`)."""

    number: int
    title: str
    body: str | None
    state: str  # open, closed
    html_url: str
    author: str | None
    head_ref: str
    head_sha: str
    base_ref: str
    base_sha: str
    labels: tuple[str, ...]
    draft: bool
    created_at: str
    updated_at: str
    merged_at: str | None
    merge_commit_sha: str | None


class GitHubPort(Protocol):
    """The GitHub operations the core uses. `full_name` is always OWNER/NAME."""

    def get_repository(self, full_name: str) -> RepoInfo: ...

    def get_branch(self, full_name: str, branch: str) -> BranchInfo | None: ...

    def get_file_text(self, full_name: str, path: str, ref: str) -> str | None: ...

    def get_branch_protection(self, full_name: str, branch: str) -> dict[str, Any] | None: ...

    def list_issues(self, full_name: str, state: str = "open",
                    labels: tuple[str, ...] = ()) -> list[IssueInfo]: ...

    def create_commit_status(self, full_name: str, sha: str, state: str, context: str, description: str,
                             target_url: str | None = None) -> StatusInfo: ...

    def list_commit_statuses(self, full_name: str, ref: str) -> list[StatusInfo]: ...

    def get_ref(self, full_name: str, ref: str) -> RefInfo | None: ...

    def create_ref(self, full_name: str, ref: str, sha: str) -> RefInfo: ...

    def update_ref(self, full_name: str, ref: str, sha: str, force: bool = False) -> RefInfo: ...

    def get_workflow_permissions(self, full_name: str) -> dict[str, Any] | None: ...

    def token_report(self) -> TokenReport: ...

    def graphql(self, name: str, variables: dict[str, Any]) -> dict[str, Any]: ...

    # ------------------------------------------------------------------ releases (opsgh release)

    def compare(self, full_name: str, base: str, head: str, *, per_page: int = 250) -> Iterator[ComparePage]:
        """The pages of `base...head`, fetched lazily (stop iterating to stop paying)."""
        ...

    def list_pulls(self, full_name: str, *, state: str = "open", head: str | None = None, base: str | None = None,
                   sort: str = "created", direction: str = "desc") -> Iterator[PullInfo]:
        """Pull requests, fetched lazily a page (100) at a time. `head` is "OWNER:branch"."""
        ...

    def list_pull_commits(self, full_name: str, number: int) -> list[CommitInfo]:
        """A pull request's own commits, oldest first (GitHub lists at most 250)."""
        ...

    def create_pull(self, full_name: str, *, title: str, head: str, base: str, body: str,
                    draft: bool = False) -> PullInfo:
        """Open a pull request; a 5xx or a lost answer raises AmbiguousWrite (read back before retrying)."""
        ...

    def update_pull(self, full_name: str, number: int, *, title: str | None = None,
                    body: str | None = None) -> PullInfo: ...

    def add_labels(self, full_name: str, number: int, labels: Sequence[str]) -> tuple[str, ...]:
        """Add labels to an issue or pull request (GitHub creates missing ones); returns all its labels."""
        ...

    def create_label(self, full_name: str, name: str, color: str, description: str | None = None) -> None:
        """Create a repository label; one that already exists is left as it is."""
        ...

    def get_directory_texts(self, full_name: str, path: str, ref: str | None = None) -> dict[str, str]:
        """{file name: text} of the files directly in directory `path` at `ref` (None: the default
        branch); {} when there is no such directory."""
        ...


# ----------------------------------------------------------------------------- ship (`opsgh ship`)
# Values and the port of the ship operation (opsgh/ops/ship.py); implemented by
# `opsgh.github.gateway_ship.ShipGatewayMixin`, which `GitHubGateway` inherits.


@dataclass(frozen=True, slots=True)
class PullRef:
    """A pull request as a list shows it (enough to pick the Release PR)."""

    number: int
    url: str  # html_url
    title: str
    state: str  # open, closed
    head_ref: str
    base_ref: str
    head_sha: str
    merged: bool
    merge_commit_sha: str | None


@dataclass(frozen=True, slots=True)
class CheckContextState:
    """One check run or commit status on a commit, reduced to what a go/no-go needs."""

    name: str
    outcome: str  # success, failure, pending
    detail: str  # GitHub's words: "completed/failure", "in_progress", "error"...
    required: bool  # GitHub's isRequired for the pull request
    run_id: int | None = None  # a check run's id (databaseId); None for a commit status
    description: str | None = None  # a commit status's description; None for a check run
    at: str | None = None  # ISO 8601: when a check run completed, when a status was set


@dataclass(frozen=True, slots=True)
class PullShipState:
    """A pull request at one moment, from one GraphQL read: state, mergeability, checks on the head."""

    number: int
    url: str
    title: str
    body: str
    state: str  # OPEN, CLOSED, MERGED
    is_draft: bool
    head_ref: str
    base_ref: str
    head_sha: str
    base_sha: str
    mergeable: str  # MERGEABLE, CONFLICTING, UNKNOWN (still being computed: poll, never read as false)
    merge_state_status: str  # CLEAN, BLOCKED, BEHIND, DIRTY, DRAFT, HAS_HOOKS, UNKNOWN, UNSTABLE
    review_decision: str | None  # APPROVED, CHANGES_REQUESTED, REVIEW_REQUIRED, None (not required)
    checks: tuple[CheckContextState, ...]  # on head_sha, every page
    author: str | None
    merged_at: str | None  # ISO 8601 (UTC)
    merged_by: str | None
    merge_commit_sha: str | None
    labels: tuple[str, ...] = ()
    latest_reviews: tuple[tuple[str, str], ...] = ()  # (reviewer login, APPROVED/CHANGES_REQUESTED/...)
    # The checks the base branch's rulesets require (baseRef.rules); None: not read (base deleted, GHES
    # without rulesets).
    base_ruleset_contexts: tuple[str, ...] | None = None
    node_id: str = ""  # the GraphQL id (what mutations such as revertPullRequest take)
    created_at: str | None = None  # ISO 8601 (UTC)


@dataclass(frozen=True, slots=True)
class BranchChecks:
    """A branch's tip and the status checks merging into it requires (classic protection + rulesets)."""

    name: str
    sha: str
    required_contexts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TagRef:
    """A tag and the commit it points at (annotated tags peeled)."""

    name: str
    commit_sha: str


@dataclass(frozen=True, slots=True)
class ReleaseRef:
    id: int
    tag_name: str
    name: str | None
    url: str  # html_url
    draft: bool


@dataclass(frozen=True, slots=True)
class DeploymentRef:
    id: int
    sha: str
    ref: str
    environment: str
    url: str  # API url (deployments have no html page)


@dataclass(frozen=True, slots=True)
class CommentRef:
    id: int
    url: str  # html_url
    body: str
    author: str | None


@dataclass(frozen=True, slots=True)
class IssueRef:
    number: int
    title: str
    url: str  # html_url


class DeploymentPort(Protocol):
    """Deployments and their statuses (ship records them, verify judges them, rollback retires them)."""

    def list_deployments(self, full_name: str, *, sha: str, environment: str) -> list[DeploymentRef]: ...

    def create_deployment(self, full_name: str, *, sha: str, environment: str, description: str,
                          required_contexts: tuple[str, ...], payload: dict[str, Any],
                          production: bool = True) -> DeploymentRef: ...

    def list_deployment_states(self, full_name: str, deployment_id: int) -> list[str]: ...

    def create_deployment_status(self, full_name: str, deployment_id: int, *, state: str, description: str,
                                 log_url: str | None = None, environment_url: str | None = None) -> None: ...


class ShipPort(GitHubPort, DeploymentPort, Protocol):
    """What `opsgh ship` asks of GitHub besides `GitHubPort`. Finds return None / [] for nothing."""

    def list_pulls_between(self, full_name: str, head: str, base: str, state: str = "open",
                           limit: int = 30) -> list[PullRef]: ...

    def pull_ship_state(self, full_name: str, number: int) -> PullShipState: ...

    def security_alerts(self, full_name: str, source: str, severity: str) -> AlertsRead:
        """Open Dependabot / code-scanning alerts at or above `severity` (disabled: `unavailable` says why)."""

    def team_members(self, org: str, slug: str) -> tuple[str, ...] | None:
        """Logins in a team; None when the team cannot be read."""

    def branch_checks(self, full_name: str, branch: str, *, rulesets: bool = True) -> BranchChecks: ...

    def merge_pull(self, full_name: str, number: int, *, sha: str, merge_method: str,
                   commit_title: str | None = None, commit_message: str | None = None) -> str: ...

    def list_tags(self, full_name: str, prefix: str, *, peel: bool = True) -> list[TagRef]:
        """Tags starting with `prefix`; `peel=False` leaves an annotated tag's sha its tag object's
        (no request per annotated tag: for reading versions, where only lightweight ones are ours)."""
        ...

    def create_tag(self, full_name: str, tag: str, sha: str) -> TagRef: ...

    def get_release_by_tag(self, full_name: str, tag: str) -> ReleaseRef | None: ...

    def create_release(self, full_name: str, *, tag: str, target_sha: str, name: str, body: str) -> ReleaseRef: ...


    def list_issue_comments_since(self, full_name: str, number: int, since: str | None) -> list[CommentRef]: ...

    def create_issue_comment(self, full_name: str, number: int, body: str) -> CommentRef: ...

    def find_open_issue(self, full_name: str, title: str) -> IssueRef | None: ...

    def create_issue(self, full_name: str, title: str, body: str, *, labels: Sequence[str] = (),
                     assignees: Sequence[str] = ()) -> IssueRef: ...


# ----------------------------------------------------------------------------- publishing the gate verdict
# What `opsgh.ops.publish_verdict` asks of GitHub: the sticky PR comment, the check run (or the commit
# status when the token may not create check runs). Implemented by `ShipGatewayMixin` / `GitHubGateway`.


@dataclass(frozen=True, slots=True)
class CheckRunRef:
    id: int
    url: str  # html_url
    status: str  # queued, in_progress, completed
    conclusion: str | None
    title: str | None
    summary: str | None


class VerdictPort(Protocol):
    """The writes and reads of publishing a verdict. Finds return None / nothing for nothing."""

    def iter_issue_comments(self, full_name: str, number: int) -> Iterator[CommentRef]:
        """The comments of an issue or pull request, oldest first, a page (100) at a time, lazily."""
        ...

    def create_issue_comment(self, full_name: str, number: int, body: str) -> CommentRef: ...

    def update_issue_comment(self, full_name: str, comment_id: int, body: str) -> CommentRef: ...

    def check_runs_allowed(self) -> bool:
        """False when the token cannot create check runs (PATs, OAuth tokens: GitHub Apps only)."""
        ...

    def find_check_run(self, full_name: str, sha: str, name: str) -> CheckRunRef | None: ...

    def create_check_run(self, full_name: str, *, name: str, head_sha: str, status: str, conclusion: str | None,
                         title: str, summary: str, details_url: str | None = None) -> CheckRunRef: ...

    def update_check_run(self, full_name: str, run_id: int, *, status: str, conclusion: str | None,
                         title: str, summary: str) -> CheckRunRef: ...

    def create_commit_status(self, full_name: str, sha: str, state: str, context: str, description: str,
                             target_url: str | None = None) -> StatusInfo: ...

    def list_commit_statuses(self, full_name: str, ref: str) -> list[StatusInfo]: ...


# ----------------------------------------------------------------------------- post-deploy verification
# What `opsgh verify` asks of GitHub: the deployment it judges and its statuses, the Release PR that
# shipped the commit, and one progress comment there. Implemented by `GitHubGateway`.


class VerifyPort(DeploymentPort, Protocol):
    def get_branch(self, full_name: str, branch: str) -> BranchInfo | None: ...

    def list_pulls(self, full_name: str, *, state: str = "open", head: str | None = None, base: str | None = None,
                   sort: str = "created", direction: str = "desc") -> Iterator[PullInfo]: ...

    def iter_issue_comments(self, full_name: str, number: int) -> Iterator[CommentRef]: ...

    def create_issue_comment(self, full_name: str, number: int, body: str) -> CommentRef: ...

    def update_issue_comment(self, full_name: str, comment_id: int, body: str) -> CommentRef: ...


# ----------------------------------------------------------------------------- rollback (`opsgh rollback`)
# Values and the port of `opsgh.ops.rollback` and of the re-apply `opsgh release` makes after a rollback
# (`opsgh.ops.reapply`); implemented by `opsgh.github.gateway_rollback.RollbackGatewayMixin`.


@dataclass(frozen=True, slots=True)
class GitCommitRef:
    """A commit object of the Git database API."""

    sha: str
    tree: str
    parents: tuple[str, ...]
    message: str


@dataclass(frozen=True, slots=True)
class IssueText:
    """An issue with its body (to find one by the hidden marker opsgh wrote into it)."""

    number: int
    title: str
    url: str  # html_url
    body: str
    state: str  # open, closed


class RollbackPort(ShipPort, Protocol):
    """What `opsgh rollback` and the re-apply ask of GitHub besides `ShipPort`."""

    def revert_pull(self, full_name: str, node_id: str, *, title: str, body: str) -> PullShipState:
        """GraphQL `revertPullRequest`: a new branch from the base with the revert, and a new pull request
        into the base, as the payload's `revertPullRequest` shows it (no checks yet); a lost answer raises
        AmbiguousWrite."""
        ...

    def update_issue_comment(self, full_name: str, comment_id: int, body: str) -> CommentRef: ...

    def issues_since(self, full_name: str, since: str, labels: Sequence[str] = ()) -> list[IssueText]:
        """Issues (not pull requests), open or closed, updated at or after `since`, with all `labels`."""
        ...

    def get_git_commit(self, full_name: str, sha: str) -> GitCommitRef: ...

    def create_git_commit(self, full_name: str, *, tree: str, parents: Sequence[str],
                          message: str) -> GitCommitRef:
        """A commit object; no branch moves, so creating it again after a lost answer only leaves an
        unreferenced object behind (safe to retry)."""
# ----------------------------------------------------------------------------- branch protection (`opsgh protect`)
# What `opsgh.ops.protect` asks of GitHub; implemented by `opsgh.github.gateway_protect.ProtectGatewayMixin`.
# Protection and rulesets travel as GitHub's JSON (plain dicts): `opsgh.ops.protect_model` reads them.


@dataclass(frozen=True, slots=True)
class ClassicProtectionRead:
    """`GET /branches/{branch}/protection`: GitHub's object, None when the branch is not protected;
    `branch_exists` False when the branch itself is missing (then `protection` is None)."""

    branch_exists: bool
    protection: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class RulesetRef:
    """A repository ruleset as the list shows it (no rules, no bypass actors)."""

    id: int
    name: str
    target: str
    enforcement: str


class ProtectPort(Protocol):
    """The reads and writes of branch protection as code. Writes raise `AmbiguousWrite` only where a
    re-send could duplicate (creating a ruleset); the others are idempotent and retried."""

    def get_repository(self, full_name: str) -> RepoInfo: ...

    def list_org_repositories(self, org: str) -> list[RepoInfo]:
        """Every repository of the organisation the token can see (archived and forks included)."""
        ...

    def read_classic_protection(self, full_name: str, branch: str) -> ClassicProtectionRead: ...

    def put_classic_protection(self, full_name: str, branch: str, body: dict[str, Any]) -> dict[str, Any]:
        """Replace the branch's protection (PUT, idempotent); returns GitHub's normalised object."""
        ...

    def set_required_signatures(self, full_name: str, branch: str, enabled: bool) -> None: ...

    def delete_classic_protection(self, full_name: str, branch: str) -> None: ...

    def list_rulesets(self, full_name: str) -> list[RulesetRef]:
        """The repository's own rulesets (not the organisation's); [] where rulesets do not exist (old GHES)."""
        ...

    def get_ruleset(self, full_name: str, ruleset_id: int) -> dict[str, Any]: ...

    def create_ruleset(self, full_name: str, body: dict[str, Any]) -> dict[str, Any]: ...

    def update_ruleset(self, full_name: str, ruleset_id: int, body: dict[str, Any]) -> dict[str, Any]: ...

    def delete_ruleset(self, full_name: str, ruleset_id: int) -> None: ...

    def get_directory_texts(self, full_name: str, path: str, ref: str | None = None) -> dict[str, str]: ...

    def reported_check_names(self, full_name: str, ref: str) -> frozenset[str]:
        """Names of the check runs and commit statuses on `ref` (its newest 100 of each); empty when the
        ref does not exist."""
        ...
