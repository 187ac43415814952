"""Re-arming after a rollback: the revert of the revert, so that the next release ships the changes again.

A rollback is a commit on production (the revert of a release's merge commit) that staging's history
lacks. Git merges by history, not by content: the next staging -> production merge sees the release's
commits as merged already and the revert as production's own change, so the rolled-back changes would
never come back. The fix is what git's own documentation prescribes ("revert the revert"): bring the
rollback into staging's history together with a revert of it.

`opsgh release` does it before it opens the next Release PR, for every rollback it finds among the
commits production has and staging lacks (no extra request: it lists them anyway):

1. a branch `opsgh/reapply-<rollback sha>` at a new commit whose parent is the rollback and whose tree
   is the rollback's parent's (reverting the tip of a history is exactly that): Git database API, no
   checkout;
2. a pull request from it into staging (find-or-create by head/base);
3. once GitHub computed `mergeable` (bounded wait), a merge commit pinned with `sha=`: staging's files
   do not change, only its history gains the rollback and its revert. Staging's protection applies;
   GitHub refusing is reported (exit 4) and a re-run of `opsgh release` merges it.

The commit carries the trailer `Re-applies: <release merge> (#N), rolled back by <rollback> (#M)`, from
which the next Release PR body says what it ships again.

A rollback is recognised by what git wrote, not by who made it, so a revert made by hand with GitHub's
"Revert" button counts too: a commit on production only, with one parent, whose message says
"This reverts commit X" where X is a merge on production only whose second parent is on staging (a
release merge; a hotfix branch merged into production is production-only on both sides).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from opsgh.clock import Clock
from opsgh.config import Config
from opsgh.errors import BackportConflict, Conflict, NotAllowed, PreconditionFailed, ValidationFailed
from opsgh.ops.gate import wait_for_mergeable
from opsgh.ops.merging import merge_at_head, merge_blockers
from opsgh.ops.writes import write_once
from opsgh.ports import CommitInfo, PullRef, RollbackPort
from opsgh.render.ship import render

BRANCH_PREFIX = "opsgh/reapply-"
_REVERTS = re.compile(r"^This reverts commit ([0-9a-f]{40})\b", re.M)
_RELEASE_MERGE = re.compile(r"^Merge pull request #(\d+) ")
_PULL_SUFFIX = re.compile(r"\(#(\d+)\)\s*$")
_TRAILER = re.compile(r"^Re-applies: ([0-9a-f]{40})(?: \(#(\d+)\))?, rolled back by ([0-9a-f]{40})(?: \(#(\d+)\))?$",
                      re.M)


@dataclass(frozen=True, slots=True)
class Rollback:
    """A revert, on production only, of a release merge."""

    commit: CommitInfo  # the revert on production
    release_merge: CommitInfo  # the merge commit of the Release PR it reverts

    @property
    def release_pr(self) -> int | None:
        found = _RELEASE_MERGE.match(self.release_merge.subject)
        return int(found.group(1)) if found else None

    @property
    def revert_pr(self) -> int | None:
        found = _PULL_SUFFIX.search(self.commit.subject)
        return int(found.group(1)) if found else None

    @property
    def release_title(self) -> str:
        """The Release PR's title, which GitHub writes under a merge commit's subject."""
        body = self.release_merge.message.split("\n", 1)[1].strip() if "\n" in self.release_merge.message else ""
        return body.split("\n", 1)[0].strip() or self.release_merge.subject

    @property
    def branch(self) -> str:
        return BRANCH_PREFIX + self.commit.sha[:12]


@dataclass(frozen=True, slots=True)
class Reapplied:
    """A rollback re-applied on staging (or, in a dry run, to be). Numbers are None where unknown."""

    rollback_sha: str
    release_merge_sha: str
    release_pr: int | None
    revert_pr: int | None
    pr_number: int | None = None  # the re-apply pull request
    pr_url: str | None = None
    commit_sha: str | None = None  # the revert of the revert
    pending: bool = False  # dry run: not done yet

    def describe(self) -> str:
        release = f"Release PR #{self.release_pr}" if self.release_pr else f"release merge {self.release_merge_sha[:7]}"
        revert = f" (#{self.revert_pr})" if self.revert_pr else ""
        what = f"{release}, rolled back by {self.rollback_sha[:7]}{revert}"
        if self.pending:
            return f"would re-apply {what}: a revert of the revert, merged into staging through a pull request"
        return f"re-applied {what}: re-apply PR #{self.pr_number} merged ({self.pr_url})"


def pending_rollbacks(prod_only: Sequence[CommitInfo]) -> list[Rollback]:
    """The rollbacks among production's own commits (`main...prod`), oldest first (see the module doc)."""
    by_sha = {commit.sha: commit for commit in prod_only}
    found: list[Rollback] = []
    for commit in prod_only:
        reverted = _REVERTS.search(commit.message) if len(commit.parents) == 1 else None
        target = by_sha.get(reverted.group(1)) if reverted else None
        if target is not None and len(target.parents) == 2 and target.parents[1] not in by_sha:
            found.append(Rollback(commit, target))
    return found


def reapplied_in(commits: Sequence[CommitInfo]) -> list[Reapplied]:
    """The re-applies a release carries: its commits with opsgh's `Re-applies:` trailer."""
    found: list[Reapplied] = []
    for commit in commits:
        for match in _TRAILER.finditer(commit.message):
            found.append(Reapplied(match.group(3), match.group(1), int(match.group(2)) if match.group(2) else None,
                                   int(match.group(4)) if match.group(4) else None, commit_sha=commit.sha))
    return found


def planned(rollback: Rollback) -> Reapplied:
    return Reapplied(rollback.commit.sha, rollback.release_merge.sha, rollback.release_pr, rollback.revert_pr,
                     pending=True)


def commit_message(rollback: Rollback) -> str:
    release = f" (#{rollback.release_pr})" if rollback.release_pr else ""
    revert = f" (#{rollback.revert_pr})" if rollback.revert_pr else ""
    return (f"Re-apply \"{rollback.release_title}\"{release} after its rollback\n\n"
            f"This reverts commit {rollback.commit.sha}.\n"
            f"The rollback took the release's changes out of production; the next release ships them again.\n\n"
            f"Re-applies: {rollback.release_merge.sha}{release}, rolled back by {rollback.commit.sha}{revert}\n")


# ----------------------------------------------------------------------------- doing it


def reapply(port: RollbackPort, repo: str, config: Config, clock: Clock, rollback: Rollback) -> Reapplied:
    """Open (or find) the re-apply pull request into staging and merge it (see the module docstring).

    Raises PreconditionFailed when GitHub does not merge it yet (protection, mergeability not computed)
    and BackportConflict when it conflicts; the pull request stays open and a re-run merges it.
    """
    staging = config.branches.staging
    found = port.list_pulls_between(repo, rollback.branch, staging, "all", limit=10)
    merged = next((pull for pull in found if pull.merged), None)
    if merged is not None:
        raise PreconditionFailed(
            f"re-apply PR #{merged.number} was merged, but {staging} still lacks the rollback "
            f"{rollback.commit.sha[:7]} in its history: it was squashed or rebased",
            f"merge {config.branches.production} into {staging} with a merge commit by hand (keeping {staging}'s "
            f"files), then re-run `opsgh release`")
    pull = next((p for p in found if p.state == "open"), None) or _open(port, repo, config, rollback)
    state = wait_for_mergeable(port, repo, port.pull_ship_state(repo, pull.number), clock)
    if state.state == "MERGED" and state.merge_commit_sha:
        return _done(rollback, pull, state.head_sha)
    if state.mergeable == "CONFLICTING":
        steps = _manual_steps(config, rollback)
        raise BackportConflict(
            f"re-apply PR #{pull.number} ({pull.url}) conflicts with {staging}: the rolled-back release cannot "
            f"come back by itself", steps, "finish the re-apply by hand:\n" + "\n".join(f"  {s}" for s in steps))
    if state.mergeable != "MERGEABLE":
        raise PreconditionFailed(f"GitHub is still computing whether re-apply PR #{pull.number} can merge into "
                                 f"{staging}", "re-run `opsgh release` in a minute")
    hint = (f"it brings the rollback into {staging}'s history without changing its files, so that the next "
            f"release ships the rolled-back changes again; get it what is missing ({pull.url}), or merge it with a "
            f"merge commit yourself, then re-run `opsgh release`")
    blockers = merge_blockers(port, repo, state)
    if blockers:
        raise PreconditionFailed(f"re-apply PR #{pull.number} into {staging} cannot merge yet: " + "; ".join(blockers),
                                 hint)
    try:
        # A merge commit: squash or rebase would leave the rollback out of staging's history.
        merge_at_head(port, repo, state, "merge")
    except NotAllowed as err:
        raise PreconditionFailed(f"GitHub refused to merge re-apply PR #{pull.number} into {staging}: {err.message}",
                                 hint) from None
    except Conflict:
        raise Conflict(f"re-apply PR #{pull.number} moved while opsgh merged it",
                       "re-run `opsgh release`") from None
    return _done(rollback, pull, state.head_sha)


def _done(rollback: Rollback, pull: PullRef, head: str) -> Reapplied:
    return Reapplied(rollback.commit.sha, rollback.release_merge.sha, rollback.release_pr, rollback.revert_pr,
                     pull.number, pull.url, head)


def _open(port: RollbackPort, repo: str, config: Config, rollback: Rollback) -> PullRef:
    """The branch (made when missing) and the pull request into staging."""
    staging = config.branches.staging
    head = _branch(port, repo, rollback)
    release = f" (#{rollback.release_pr})" if rollback.release_pr else ""
    title = f"Re-apply \"{rollback.release_title}\"{release} after its rollback"[:256]
    body = render("reapply_pull_body.md.j2", {
        "rollback": rollback.commit.sha, "release_merge": rollback.release_merge.sha,
        "release_pr": rollback.release_pr, "revert_pr": rollback.revert_pr, "release_title": rollback.release_title,
        "commit": head, "staging": staging, "production": config.branches.production})

    def find() -> PullRef | None:
        return next(iter(port.list_pulls_between(repo, rollback.branch, staging, "open", limit=2)), None)

    def create() -> PullRef:
        made = port.create_pull(repo, title=title, head=rollback.branch, base=staging, body=body)
        return PullRef(made.number, made.html_url, made.title, made.state, made.head_ref, made.base_ref,
                       made.head_sha, False, None)

    try:
        return write_once(create, find)
    except ValidationFailed:  # "A pull request already exists": a concurrent run
        again = find()
        if again is None:
            raise
        return again


def _branch(port: RollbackPort, repo: str, rollback: Rollback) -> str:
    """The re-apply branch's head: found, or a new commit (parent: the rollback; tree: the rollback's
    parent's) and the branch at it."""
    ref = f"heads/{rollback.branch}"
    parent = port.get_git_commit(repo, rollback.commit.parents[0])
    commit = port.create_git_commit(repo, tree=parent.tree, parents=[rollback.commit.sha],
                                    message=commit_message(rollback))
    try:
        made = write_once(lambda: port.create_ref(repo, f"refs/{ref}", commit.sha), lambda: port.get_ref(repo, ref))
    except ValidationFailed:  # "Reference already exists": an earlier run made it (and no pull request yet)
        found = port.get_ref(repo, ref)
        if found is None:
            raise
        head = port.get_git_commit(repo, found.sha)
        if head.parents != (rollback.commit.sha,):
            raise PreconditionFailed(f"branch {rollback.branch} exists and is not opsgh's re-apply of "
                                     f"{rollback.commit.sha[:7]}",
                                     "delete the branch if it is a leftover, then re-run `opsgh release`") from None
        return found.sha
    return made.sha


def _manual_steps(config: Config, rollback: Rollback) -> list[str]:
    staging, production = config.branches.staging, config.branches.production
    local = f"reapply-{rollback.commit.sha[:7]}"
    return [
        f"git fetch origin && git switch -c {local} origin/{staging}",
        f"git merge --no-ff origin/{rollback.branch}   # resolve the conflicts, then `git commit`",
        f"git push origin {local}, open a pull request into {staging}, merge it with a merge commit (never "
        "squash: the rollback must stay in the history)",
        f"then `opsgh release` opens the next Release PR {staging} -> {production}",
    ]
