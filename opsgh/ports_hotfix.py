"""What `opsgh hotfix start` and `opsgh backport` ask of GitHub and of a local git checkout.

Standard library only, like `opsgh.ports` (kept apart so the two operations' values do not crowd it).
`HotfixPort` is implemented by `opsgh.github.gateway_hotfix.HotfixGatewayMixin` (mixed into
`GitHubGateway`); `LocalGit` by `opsgh.git.GitCheckout`, real git in a scratch or existing clone.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from opsgh.ports import CommentRef, CommitInfo, PullInfo, RefInfo

# ----------------------------------------------------------------------------- GitHub


@dataclass(frozen=True, slots=True)
class PullDetail:
    """A pull request as `GET /pulls/{number}` shows it: what a back-port copies from the original."""

    number: int
    url: str  # html_url
    title: str
    body: str
    state: str  # open, closed
    merged: bool
    merge_commit_sha: str | None
    head_ref: str
    base_ref: str
    author: str | None
    labels: tuple[str, ...]
    draft: bool
    commits: int  # how many commits the pull request has
    requested_reviewers: tuple[str, ...]
    requested_teams: tuple[str, ...]  # team slugs


@dataclass(frozen=True, slots=True)
class BranchTip:
    name: str
    sha: str
    tree: str


@dataclass(frozen=True, slots=True)
class IssueDetail:
    number: int
    title: str
    url: str  # html_url
    state: str
    is_pull_request: bool


class HotfixPort(Protocol):
    """The GitHub calls of hotfix start and back-port. Finds return None for nothing."""

    def branch_tip(self, full_name: str, branch: str) -> BranchTip | None:
        """The branch's tip commit and its tree (one read), None when there is no such branch."""
        ...

    def get_ref(self, full_name: str, ref: str) -> RefInfo | None: ...

    def create_ref(self, full_name: str, ref: str, sha: str) -> RefInfo: ...

    def update_ref(self, full_name: str, ref: str, sha: str, force: bool = False) -> RefInfo: ...

    def get_pull(self, full_name: str, number: int) -> PullDetail:
        """The pull request (NotFound for none; an issue number is NotFound too)."""
        ...

    def find_pull(self, full_name: str, head: str, base: str) -> PullDetail | None:
        """The newest pull request from branch `head` (this repository) into `base`, in any state, as the
        list shows it (`commits` reads 0)."""
        ...

    def get_issue(self, full_name: str, number: int) -> IssueDetail: ...

    def list_pull_commits(self, full_name: str, number: int) -> list[CommitInfo]: ...

    def reviewers_of(self, full_name: str, number: int) -> tuple[str, ...]:
        """Logins that submitted a review (approved, commented, asked for changes), first review first."""
        ...

    def create_pull(self, full_name: str, *, title: str, head: str, base: str, body: str,
                    draft: bool = False) -> PullInfo: ...

    def request_reviewers(self, full_name: str, number: int, users: Sequence[str], teams: Sequence[str]) -> None:
        """Ask for reviews; GitHub's 422 (not a collaborator, the author) raises ValidationFailed."""
        ...

    def create_label(self, full_name: str, name: str, color: str, description: str | None = None) -> None: ...

    def add_labels(self, full_name: str, number: int, labels: Sequence[str]) -> tuple[str, ...]: ...

    def remove_label(self, full_name: str, number: int, label: str) -> None:
        """Take a label off an issue or pull request; one it does not have is fine."""
        ...

    def iter_issue_comments(self, full_name: str, number: int) -> Iterator[CommentRef]: ...

    def create_issue_comment(self, full_name: str, number: int, body: str) -> CommentRef: ...

    def create_commit(self, full_name: str, *, tree: str, parents: Sequence[str], message: str) -> str:
        """A commit object (Git database API), on no branch yet; returns its sha."""
        ...


# ----------------------------------------------------------------------------- local git


@dataclass(frozen=True, slots=True)
class LocalCommit:
    sha: str
    parents: tuple[str, ...]
    tree: str
    author_name: str
    author_email: str
    author_date: int  # epoch seconds
    message: str

    @property
    def subject(self) -> str:
        return self.message.split("\n", 1)[0].strip()


@dataclass(frozen=True, slots=True)
class PickResult:
    """One `git cherry-pick -x`: applied (a new commit), redundant (the change is already there:
    nothing to commit) or conflict (stopped, the files named; nothing committed yet)."""

    status: Literal["applied", "redundant", "conflict"]
    sha: str | None = None  # the new commit (applied)
    conflicts: tuple[str, ...] = ()


class LocalGit(Protocol):
    """A local git repository the back-port works in (opsgh.git.GitCheckout).

    Fetches go to the remote GitHub repository; nothing is pushed except by `push`.
    """

    def fetch(self, revisions: Sequence[str], *, depth: int | None = None) -> None:
        """Fetch commits (shas or `refs/heads/x`), with `depth` commits of history each (None: all)."""
        ...

    def fetch_since(self, branch: str, since: int) -> str:
        """Fetch `branch` with its history back to commit time `since` (epoch seconds) at least;
        returns its tip."""
        ...

    def remote_tips(self, branches: Sequence[str]) -> dict[str, str]:
        """{branch: its tip on the remote now} (one ls-remote); a branch that does not exist is left out."""
        ...

    def commit(self, sha: str) -> LocalCommit: ...

    def first_parents(self, sha: str, count: int) -> list[LocalCommit]:
        """`sha` and its first parents, newest first, at most `count` commits."""
        ...

    def history(self, tip: str, since: int) -> list[LocalCommit]:
        """The commits reachable from `tip` committed at or after `since` (what was fetched), newest first."""
        ...

    def only_in(self, tip: str, base: str, limit: int) -> list[LocalCommit]:
        """The commits of `tip` that `base` lacks (`git log base..tip`), newest first, at most `limit`."""
        ...

    def equivalent(self, candidates: Sequence[tuple[str, int]], tip: str, since: int) -> dict[str, str]:
        """{candidate: commit of `tip`'s history since `since` with the same patch (`git cherry`'s
        patch ids)}; a candidate is (sha, mainline): mainline 1 compares a merge against its first parent."""
        ...

    def is_ancestor(self, ancestor: str, descendant: str) -> bool: ...

    def start(self, sha: str) -> None:
        """A clean detached work tree at `sha`."""
        ...

    def cherry_pick(self, sha: str, *, mainline: int | None = None) -> PickResult:
        """`git cherry-pick -x [-m mainline] --allow-empty sha` on the work tree."""
        ...

    def commit_conflict(self, message: str) -> str:
        """Commit the work tree as it is, conflict markers included; returns the new commit."""
        ...

    def abort(self) -> None:
        """Leave a stopped cherry-pick (the work tree is reset by the next `start`)."""
        ...

    def head(self) -> str: ...

    def push(self, sha: str, branch: str, *, expected: str | None) -> bool:
        """Point remote `branch` at `sha` if it is still at `expected` (None: must not exist);
        False when the remote moved (the lease failed)."""
        ...
