"""What the core (ops/, gate/) may ask of GitHub, as plain values.

Standard library only: no PyGithub, no httpx, nothing from opsgh.github. The gateway in
`opsgh.github.gateway` implements `GitHubPort`; tests and the sandbox may implement it too.
Every method raises the typed errors of `opsgh.errors` (NotFound, Forbidden, RateLimited,
AmbiguousWrite...) unless it says it returns None for a missing thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


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
