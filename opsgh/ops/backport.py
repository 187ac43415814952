"""`opsgh backport PR [--to BRANCH ...]`: the change a merged pull request landed, onto other branches.

The runbook's last hotfix step ("PR the same commit to main"), for each target branch (default
`hotfix.backport_to`), each attempted even when another one fails or conflicts:

1. What landed, from the merge commit (fetched with just enough history, so a shallow clone works):
   two parents: a merge commit, picked whole with `-m 1` (exactly the diff the merge brought, one
   `(cherry picked from commit ...)` trailer naming it); one parent and one commit in the PR: a squash
   or a one-commit rebase (the same pick: "single"), picked as is; one parent and several commits:
   the PR's commits replayed by a rebase merge (same messages and authors, newest first from the
   merge commit) are picked in order, else it was a squash.
2. Already there: a back-port PR for `backport/<PR>-to-<target>` exists (open, merged or closed):
   report it, change nothing. The target contains the merge commit, carries a commit whose
   `cherry-pick -x` trailer names a pick, or a commit with the same patch (`git cherry`'s patch ids),
   all among the target's commits since shortly before the hotfix was written: "already on <target>",
   no PR. A pick that turns out empty (the change is in the tree by other means) is skipped; all of
   them empty is "already" too.
3. The cherry-picks, `-x`, onto the target's tip in a local checkout (`LocalGit`, real git).
4. Clean: before pushing, the target's tip is read again: if it moved, everything is redone from a
   fresh fetch (so a back-port that landed meanwhile is not opened twice); the branch is pushed with a
   lease (a concurrent run's push is found by the next attempt). Then the PR: title
   `[Backport <target>] <original title>`, a body linking the original, `hotfix.labels`, and review
   requested from the original's reviewers (the author of the new PR left out).
5. Conflict, per `hotfix.on_conflict`: `draft-pr` pushes the conflict as committed (markers and
   all) and opens a draft PR whose body has the exact commands to finish by hand; `comment` pushes
   nothing and comments the commands on the original PR (once: a hidden marker finds it again).
   Either way a `backport-conflict` label (on the draft PR, or on the original) and exit 5.
   A branch of the back-port's name without a PR (a previous run stopped before the PR, or a person
   finished a conflict by hand and pushed) is used as it is when it holds the picks.

Pure orchestration over `HotfixPort` (GitHub) and `LocalGit` (git): no click, no HTTP client, no
environment. `backport()` is a plain function: the CLI, the Action's `pull_request` closed event and
the `/backport [branch]` slash command all call it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from opsgh.config import Config
from opsgh.errors import (
    BackportConflict,
    Conflict,
    OpsghError,
    PreconditionFailed,
    ValidationFailed,
)
from opsgh.ops.writes import write_once
from opsgh.ports import CommitInfo
from opsgh.ports_hotfix import HotfixPort, LocalCommit, LocalGit, PullDetail
from opsgh.render.ship import render

BRANCH = "backport/{number}-to-{target}"
CONFLICT_LABEL = "backport-conflict"
CONFLICT_LABEL_COLOR = "b60205"
CONFLICT_LABEL_DESCRIPTION = "A back-port needs a person: see the commands in the PR or its comment"
LABEL_COLOR = "c5def5"
LABEL_DESCRIPTION = "A back-port of a merged pull request (opsgh)"
BODY_MARKER = "<!-- opsgh:backport pr={number} target={target} -->"
COMMENT_MARKER = "<!-- opsgh:backport-conflict pr={number} target={target} -->"
CONFLICT_NOTE = "opsgh: this back-port conflicted; the conflict is committed as is, markers and all."
TITLE_LIMIT = 256
# Back-ports of a commit are made after it was written: the target's commits since then are the ones
# that can carry it (a week of margin for clocks and for commits written long before their merge).
SINCE_MARGIN = 7 * 86400
MAX_ATTEMPTS = 3
_CHERRY_PICKED = re.compile(r"\(cherry picked from commit ([0-9a-f]{7,40})\)")

Status = Literal["opened", "conflict", "exists", "already", "failed"]


# ----------------------------------------------------------------------------- values


@dataclass(frozen=True, slots=True)
class BackportRequest:
    """What the caller asks for. `targets` empty: `hotfix.backport_to`."""

    repo: str
    pr_number: int
    targets: tuple[str, ...] = ()
    dry_run: bool = False


@dataclass(frozen=True, slots=True)
class Pick:
    """One commit to cherry-pick: `mainline` 1 for a merge commit (its diff against the first parent)."""

    sha: str
    subject: str
    mainline: int | None = None
    empty: bool = False  # no change of its own (e.g. the commit `opsgh hotfix start` opens a branch with)


@dataclass(frozen=True, slots=True)
class Landed:
    """What the merge of the original PR put on its base branch."""

    merge_sha: str
    # single: one commit with one parent from a one-commit PR (a squash and a rebase are the same pick)
    method: Literal["merge", "squash", "rebase", "single"]
    picks: tuple[Pick, ...]
    authored: int  # the oldest pick's author date (epoch seconds)

    def describe(self) -> str:
        count = len(self.picks)
        how = {"merge": "a merge commit, picked with -m 1", "squash": "a squash commit", "single": "one commit",
               "rebase": f"a rebase merge: {count} commit{'s' * (count != 1)}"}[self.method]
        return f"{self.merge_sha[:7]} ({how})"


@dataclass(frozen=True, slots=True)
class TargetResult:
    """What happened for one target branch. `would`: a dry run's plan (nothing was written)."""

    target: str
    status: Status
    detail: str
    branch: str | None = None
    pr_number: int | None = None
    pr_url: str | None = None
    draft: bool = False
    commits: tuple[str, ...] = ()  # the back-port's new commits
    conflicts: tuple[str, ...] = ()  # files
    manual_steps: tuple[str, ...] = ()
    comment_url: str | None = None
    reviewers: tuple[str, ...] = ()
    would: bool = False
    error: OpsghError | None = field(default=None, compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {"target": self.target, "status": self.status, "detail": self.detail, "branch": self.branch,
                "pr": self.pr_number, "pr_url": self.pr_url, "draft": self.draft, "commits": list(self.commits),
                "conflicts": list(self.conflicts), "manual_steps": list(self.manual_steps),
                "comment_url": self.comment_url, "reviewers": list(self.reviewers), "dry_run": self.would}


@dataclass(frozen=True, slots=True)
class BackportResult:
    repo: str
    pr_number: int
    pr_url: str
    title: str
    landed: Landed | None
    targets: tuple[TargetResult, ...]
    dry_run: bool = False
    notes: tuple[str, ...] = ()

    @property
    def conflicts(self) -> tuple[TargetResult, ...]:
        return tuple(t for t in self.targets if t.status == "conflict")

    @property
    def failures(self) -> tuple[TargetResult, ...]:
        return tuple(t for t in self.targets if t.status == "failed")

    def lines(self) -> list[str]:
        """A human summary: the original, then one line per target (and the commands of a conflict)."""
        head = f"#{self.pr_number} {self.title} ({self.pr_url})"
        if self.landed is not None:
            head += f": landed as {self.landed.describe()}"
        out = [("dry run, nothing changed: " if self.dry_run else "") + head]
        width = max((len(t.target) for t in self.targets), default=0)
        for target in self.targets:
            status = f"would {target.status}" if target.would and target.status in ("opened", "conflict") \
                else target.status
            out.append(f"  {target.target:<{width}}  {status:<8}  {target.detail}")
            if target.status == "conflict" and target.manual_steps:
                out += [f"      {step}" for step in target.manual_steps]
        out += [f"  note: {note}" for note in self.notes]
        return out

    def as_dict(self) -> dict[str, Any]:
        landed = self.landed
        return {"repo": self.repo, "pr": self.pr_number, "pr_url": self.pr_url, "title": self.title,
                "merge_sha": landed.merge_sha if landed else None, "method": landed.method if landed else None,
                "picks": [p.sha for p in landed.picks] if landed else [], "dry_run": self.dry_run,
                "targets": [t.as_dict() for t in self.targets], "notes": list(self.notes)}

    def raise_for_outcome(self) -> None:
        """Raise `BackportConflict` (exit 5) when a target conflicted, else the first target's error."""
        if self.conflicts:
            steps: list[str] = []
            for target in self.conflicts:
                where = f"#{target.pr_number}" if target.pr_number else "the comment on " + f"#{self.pr_number}"
                steps.append(f"# {target.target} ({where}):")
                steps += list(target.manual_steps)
            names = ", ".join(t.target for t in self.conflicts)
            files = sorted({f for t in self.conflicts for f in t.conflicts})
            raise BackportConflict(f"the back-port of #{self.pr_number} to {names} conflicts"
                                   + (f" in {', '.join(files)}" if files else ""), steps)
        for target in self.failures:
            if target.error is not None:
                raise target.error


# ----------------------------------------------------------------------------- what landed


def _same_commit(original: CommitInfo, replayed: LocalCommit) -> bool:
    """A rebase merge keeps the message and the author of each commit it replays."""
    return original.message.strip() == replayed.message.strip() and original.author_name == replayed.author_name


def find_landed(port: HotfixPort, git: LocalGit, repo: str, pull: PullDetail) -> Landed:
    """What the merge of `pull` put on its base branch (fetching the merge commit and its parents)."""
    merge_sha = pull.merge_commit_sha
    assert merge_sha is not None
    git.fetch([merge_sha], depth=max(2, pull.commits + 1))
    head = git.commit(merge_sha)
    if len(head.parents) > 1:
        return Landed(merge_sha, "merge", (Pick(merge_sha, head.subject, mainline=1),), head.author_date)
    if pull.commits <= 1:
        return Landed(merge_sha, "single", (_pick(git, head),), head.author_date)
    originals = [c for c in port.list_pull_commits(repo, pull.number) if len(c.parents) <= 1]
    chain = git.first_parents(merge_sha, len(originals))
    replayed: list[LocalCommit] = []
    for original in reversed(originals):  # newest first, like the chain
        if len(replayed) < len(chain) and _same_commit(original, chain[len(replayed)]):
            replayed.append(chain[len(replayed)])
        elif not replayed:
            break  # the merge commit is not the PR's newest commit replayed: a squash
        # else: a commit the rebase did not replay (GitHub may drop empty ones)
    if not replayed:
        return Landed(merge_sha, "squash", (_pick(git, head),), head.author_date)
    picks = tuple(_pick(git, commit) for commit in reversed(replayed))
    return Landed(merge_sha, "rebase", picks, min(c.author_date for c in replayed))


def _pick(git: LocalGit, commit: LocalCommit) -> Pick:
    parent_tree = git.commit(commit.parents[0]).tree if commit.parents else None
    return Pick(commit.sha, commit.subject, empty=parent_tree == commit.tree)


def backport_branch(number: int, target: str) -> str:
    return BRANCH.format(number=number, target=target)


def manual_steps(landed: Landed, picks: Sequence[Pick], target: str, branch: str, conflicts: Sequence[str], *,
                 mode: str, number: int, pull_ref: str = "the draft PR") -> tuple[str, ...]:
    """The exact commands that finish a conflicting back-port in a clone (`origin` = the repository)."""
    options = ["-x", *(["-m", "1"] if landed.method == "merge" else []),
               *(["--allow-empty"] if any(p.empty for p in picks) else [])]
    steps = [f"git fetch origin {target}" + (f" {branch}" if mode == "draft-pr" else ""),
             f"git switch --force-create {branch} origin/{target}",
             " ".join(["git", "cherry-pick", *options, *(p.sha for p in picks)]),
             f"# resolve the conflicts in {', '.join(conflicts)}, then:" if conflicts else
             "# resolve the conflicts (`git status` lists them), then:",
             " ".join(["git", "add", "--", *conflicts]) if conflicts else "git add --all",
             "git cherry-pick --continue"]
    if len(picks) > 1:
        steps.append("# (if a later commit stops too: resolve, `git add`, `git cherry-pick --continue` again)")
    if mode == "draft-pr":
        steps.append(f"git push --force-with-lease origin {branch}")
        steps.append(f"# then mark {pull_ref} ready for review and remove its `{CONFLICT_LABEL}` label")
    else:
        steps.append(f"git push origin {branch}")
        steps.append(f"opsgh backport {number} --to {target}  # opens the back-port PR from the pushed branch")
    return tuple(steps)


# ----------------------------------------------------------------------------- one target


@dataclass
class _TargetRun:
    port: HotfixPort
    git: LocalGit
    config: Config
    request: BackportRequest
    pull: PullDetail
    landed_of: Callable[[], Landed]  # found on first use: a target that needs no git costs no fetch
    target: str
    reviewers: Callable[[], tuple[str, ...]]
    _to_pick: list[Pick] = field(default_factory=list)

    @property
    def repo(self) -> str:
        return self.request.repo

    @property
    def landed(self) -> Landed:
        return self.landed_of()

    @property
    def branch(self) -> str:
        return backport_branch(self.pull.number, self.target)

    def result(self, status: Status, detail: str, **values: Any) -> TargetResult:
        return TargetResult(self.target, status, detail, **values)

    def run(self) -> TargetResult:
        number = self.pull.number
        if self.target == self.pull.base_ref:
            return self.result("already", f"#{number} was merged into {self.target}")
        existing = self.port.find_pull(self.repo, self.branch, self.target)
        if existing is not None:
            return self._existing(existing)
        self._to_pick = list(self.landed.picks)
        since = self.landed.authored - SINCE_MARGIN
        for _ in range(MAX_ATTEMPTS):
            done = self._attempt(since)
            if done is not None:
                return done
        raise Conflict(f"{self.target} moved during each of {MAX_ATTEMPTS} attempts to back-port #{number}",
                       f"re-run `opsgh backport {number} --to {self.target}` when pushes to {self.target} slow down")

    def _existing(self, pull: PullDetail) -> TargetResult:
        values: dict[str, Any] = {"branch": self.branch, "pr_number": pull.number, "pr_url": pull.url,
                                  "draft": pull.draft}
        if pull.merged:
            return self.result("already", f"back-port PR #{pull.number} was merged", **values)
        if pull.state == "open" and CONFLICT_LABEL in pull.labels:
            return self.result("conflict", f"back-port PR #{pull.number} exists, its conflict not marked resolved "
                               f"(the `{CONFLICT_LABEL}` label): {pull.url}",
                               manual_steps=self._steps((), "draft-pr", f"#{pull.number}", all_picks=True),
                               **values)
        state = "open" if pull.state == "open" else "closed without merging"
        return self.result("exists", f"back-port PR #{pull.number} exists ({state}): {pull.url}", **values)

    def _already(self, tip: str, since: int) -> str | None:
        """Why the change is on the target at `tip` already, or None."""
        if self.git.is_ancestor(self.landed.merge_sha, tip):
            return f"{self.target} contains {self.landed.merge_sha[:7]}"
        needed = [p for p in self.landed.picks if not p.empty]
        named = {self.landed.merge_sha, *(p.sha for p in self.landed.picks)}
        carried: dict[str, str] = {}
        for commit in self.git.history(tip, since):
            for sha in _CHERRY_PICKED.findall(commit.message):
                for full in named:
                    if full.startswith(sha):
                        carried.setdefault(full, commit.sha)
        if self.landed.merge_sha in carried:
            return f"{self.target} has {carried[self.landed.merge_sha][:7]}, a cherry-pick of it"
        equivalent = self.git.equivalent([(p.sha, p.mainline or 1) for p in needed if p.sha not in carried],
                                         tip, since)
        found = {**carried, **equivalent}
        if needed and all(p.sha in found for p in needed):
            where = sorted({found[p.sha][:7] for p in needed})
            how = "a cherry-pick" if all(p.sha in carried for p in needed) else "the same patch"
            return f"{self.target} has it already ({how}: {', '.join(where)})"
        return None

    def _attempt(self, since: int) -> TargetResult | None:
        """One try from a fresh fetch; None: the target (or our branch) moved meanwhile, try again."""
        git = self.git
        tips = git.remote_tips([self.target, self.branch])
        if self.target not in tips:
            raise PreconditionFailed(f"there is no branch {self.target!r} to back-port to",
                                     "check the name (hotfix.backport_to in .github/opsgh.yml, or --to)")
        tip = git.fetch_since(self.target, since)
        reason = self._already(tip, since)
        if reason is not None:
            return self.result("already", reason)
        pushed = tips.get(self.branch)
        if pushed is not None:
            return self._from_pushed_branch(pushed, tip)
        git.start(tip)
        picks = list(self.landed.picks)
        applied: list[str] = []
        redundant: set[str] = set()
        conflicts: tuple[str, ...] = ()
        stopped_at = len(picks)
        for index, pick in enumerate(picks):
            outcome = git.cherry_pick(pick.sha, mainline=pick.mainline)
            if outcome.status == "applied" and outcome.sha:
                applied.append(outcome.sha)
            elif outcome.status == "redundant":
                redundant.add(pick.sha)
            else:
                conflicts, stopped_at = outcome.conflicts, index
                break
        if not conflicts and not applied:
            return self.result("already", f"the change is in {self.target}'s files already: nothing to commit")
        mode = self.config.hotfix.on_conflict
        if conflicts:
            # What a person picks by hand: from the target's tip again, every commit not already there.
            self._to_pick = [p for p in picks if p.sha not in redundant]
            if mode == "draft-pr" and not self.request.dry_run:
                applied.append(git.commit_conflict(self._conflict_message(picks[stopped_at], conflicts)))
            else:
                git.abort()
        if self.request.dry_run:
            return self._plan(applied, conflicts, mode)
        if git.remote_tips([self.target]).get(self.target) != tip:
            return None  # the target moved while we worked: start again from a fresh fetch
        if conflicts and mode == "comment":
            return self._comment(conflicts)
        if not git.push(git.head(), self.branch, expected=None):
            return None  # someone pushed the branch meanwhile: the next attempt finds it
        return self._open(applied, conflicts)

    def _steps(self, conflicts: Sequence[str], mode: str, pull_ref: str = "the draft PR", *,
               all_picks: bool = False) -> tuple[str, ...]:
        picks = list(self.landed.picks) if all_picks else self._to_pick
        return manual_steps(self.landed, picks, self.target, self.branch, conflicts, mode=mode,
                            number=self.pull.number, pull_ref=pull_ref)

    def _plan(self, applied: Sequence[str], conflicts: Sequence[str], mode: str) -> TargetResult:
        if not conflicts:
            return self.result("opened", f"would open a PR {self.branch} -> {self.target} "
                               f"({len(applied)} commit{'s' * (len(applied) != 1)}, cherry-picked cleanly)",
                               branch=self.branch, would=True)
        where = "a draft PR with the conflict committed" if mode == "draft-pr" else \
            f"a comment on #{self.pull.number} with the commands"
        return self.result("conflict", f"conflicts in {', '.join(conflicts)}: would open {where}",
                           branch=self.branch, conflicts=tuple(conflicts), manual_steps=self._steps(conflicts, mode),
                           would=True)

    def _conflict_message(self, pick: Pick, conflicts: Sequence[str]) -> str:
        info = self.git.commit(pick.sha)
        lines = [info.message.rstrip("\n"), "", f"(cherry picked from commit {pick.sha})", "", CONFLICT_NOTE,
                 "Conflicts:", *(f"\t{name}" for name in conflicts)]
        return "\n".join(lines) + "\n"

    def _from_pushed_branch(self, pushed: str, tip: str) -> TargetResult | None:
        """`backport/<PR>-to-<target>` exists without a PR: open the PR for it if it holds the picks."""
        room = len(self.landed.picks) + 20
        self.git.fetch([f"refs/heads/{self.branch}"], depth=room)
        commits = self.git.only_in(pushed, tip, room)
        carried = {sha for c in commits for sha in _CHERRY_PICKED.findall(c.message)}
        needed = [p for p in self.landed.picks if not p.empty] or list(self.landed.picks)
        if not all(any(p.sha.startswith(s) for s in carried) for p in needed):
            raise PreconditionFailed(
                f"branch {self.branch} exists but does not hold the back-port of #{self.pull.number}",
                f"delete it (git push origin --delete {self.branch}) and re-run `opsgh backport "
                f"{self.pull.number} --to {self.target}`")
        conflicted = any(CONFLICT_NOTE in c.message for c in commits)
        if self.request.dry_run:
            return self.result("opened", f"would open a PR for the pushed branch {self.branch}", branch=self.branch,
                               would=True)
        files: tuple[str, ...] = ()
        if conflicted:
            files = tuple(sorted({line.strip() for c in commits if CONFLICT_NOTE in c.message
                                  for line in c.message.split("Conflicts:", 1)[-1].splitlines() if line.strip()}))
        return self._open([c.sha for c in reversed(commits)], files, reused=True)

    # ------------------------------------------------------------------ writes

    def _open(self, commits: Sequence[str], conflicts: Sequence[str], *, reused: bool = False) -> TargetResult:
        pull, number = self.pull, self.pull.number
        title = f"[Backport {self.target}] {pull.title}"
        if len(title) > TITLE_LIMIT:
            title = title[: TITLE_LIMIT - 1] + "…"
        draft = bool(conflicts)
        context = {"marker": BODY_MARKER.format(number=number, target=self.target), "number": number,
                   "url": pull.url, "title": pull.title, "target": self.target, "base": pull.base_ref,
                   "landed": self.landed, "commits": list(commits), "conflicts": list(conflicts),
                   "steps": list(self._steps(conflicts, "draft-pr", "this PR")) if draft else [], "branch": self.branch,
                   "conflict_label": CONFLICT_LABEL,
                   "author": pull.author}
        body = render("backport_body.md.j2", context)

        def create() -> tuple[int, str, str | None]:
            try:
                made = self.port.create_pull(self.repo, title=title, head=self.branch, base=self.target, body=body,
                                             draft=draft)
            except ValidationFailed as err:
                texts = [err.message, *(str(e.get("message", "")) for e in err.errors if isinstance(e, dict))]
                found = read_back() if any("already exists" in t for t in texts) else None
                if found is None:
                    raise
                return found
            return made.number, made.html_url, made.author

        def read_back() -> tuple[int, str, str | None] | None:
            found = self.port.find_pull(self.repo, self.branch, self.target)
            return (found.number, found.url, found.author) if found is not None else None

        created_number, created_url, created_author = write_once(create, read_back)
        labels = list(self.config.hotfix.labels) + ([CONFLICT_LABEL] if draft else [])
        self._label(created_number, labels)
        asked = self._ask_reviews(created_number, created_author)
        how = "reused the pushed branch" if reused else f"{len(commits)} commit{'s' * (len(commits) != 1)}"
        if draft:
            detail = (f"conflicts in {', '.join(conflicts)}: draft PR #{created_number} has the conflict committed "
                      f"({created_url})")
            return self.result("conflict", detail, branch=self.branch, pr_number=created_number, pr_url=created_url,
                               draft=True, commits=tuple(commits), conflicts=tuple(conflicts),
                               manual_steps=self._steps(conflicts, "draft-pr", f"#{created_number}"), reviewers=asked)
        reviewers = f"; review requested from {', '.join(asked)}" if asked else ""
        return self.result("opened", f"#{created_number} {created_url} ({self.branch}, {how}{reviewers})",
                           branch=self.branch, pr_number=created_number, pr_url=created_url, commits=tuple(commits),
                           reviewers=asked)

    def _label(self, number: int, labels: Sequence[str]) -> None:
        if not labels:
            return
        for label in labels:
            conflict = label == CONFLICT_LABEL
            self.port.create_label(self.repo, label, CONFLICT_LABEL_COLOR if conflict else LABEL_COLOR,
                                   CONFLICT_LABEL_DESCRIPTION if conflict else LABEL_DESCRIPTION)
        self.port.add_labels(self.repo, number, labels)

    def _ask_reviews(self, number: int, author: str | None) -> tuple[str, ...]:
        """Request review from the original's reviewers; people GitHub refuses are left out."""
        wanted = [login for login in dict.fromkeys([*self.reviewers(), *self.pull.requested_reviewers])
                  if author is None or login.lower() != author.lower()]
        teams = list(self.pull.requested_teams)
        if not wanted and not teams:
            return ()
        try:
            self.port.request_reviewers(self.repo, number, wanted, teams)
            return tuple(wanted) + tuple(f"@{t}" for t in teams)
        except ValidationFailed:
            asked: list[str] = []
            for login in wanted:  # one by one: a non-collaborator must not cost the others their request
                try:
                    self.port.request_reviewers(self.repo, number, [login], [])
                    asked.append(login)
                except ValidationFailed:
                    continue
            return tuple(asked)

    def _comment(self, conflicts: Sequence[str]) -> TargetResult:
        number = self.pull.number
        steps = self._steps(conflicts, "comment")
        marker = COMMENT_MARKER.format(number=number, target=self.target)

        def find() -> str | None:
            return next((c.url for c in self.port.iter_issue_comments(self.repo, number) if marker in c.body), None)

        found = find()
        posted = "comment exists"
        if found is None:
            body = render("backport_conflict_comment.md.j2", {
                "marker": marker, "number": number, "target": self.target, "branch": self.branch,
                "conflicts": list(conflicts), "steps": list(steps), "landed": self.landed,
                "conflict_label": CONFLICT_LABEL})
            found = write_once(lambda: self.port.create_issue_comment(self.repo, number, body).url, find)
            posted = "commented"
        if CONFLICT_LABEL not in self.pull.labels:
            self._label(number, [CONFLICT_LABEL])
        return self.result("conflict", f"conflicts in {', '.join(conflicts)}: {posted} the commands on #{number} "
                           f"({found})", branch=self.branch, conflicts=tuple(conflicts), manual_steps=steps,
                           comment_url=found)


# ----------------------------------------------------------------------------- the operation


def backport(port: HotfixPort, git: LocalGit, config: Config, request: BackportRequest) -> BackportResult:
    """Back-port merged PR `request.pr_number` to each target (see the module docstring).

    Returns one result per target, each attempted even when another failed; `raise_for_outcome()`
    turns a conflict into `BackportConflict` (exit 5) and a failure into its error. Raises
    PreconditionFailed when the PR is not merged (nothing is written then).
    """
    repo = request.repo
    pull = port.get_pull(repo, request.pr_number)
    if not pull.merged or pull.merge_commit_sha is None:
        state = "open" if pull.state == "open" else "closed without merging"
        raise PreconditionFailed(f"#{pull.number} is {state}: only a merged pull request can be back-ported",
                                 "merge it first; the back-port picks exactly the change that landed")
    targets = tuple(dict.fromkeys(request.targets or config.hotfix.backport_to))
    if not targets:
        raise PreconditionFailed("no branch to back-port to", "pass --to BRANCH, or set hotfix.backport_to")
    found: list[Landed] = []

    def landed() -> Landed:
        if not found:
            found.append(find_landed(port, git, repo, pull))
        return found[0]

    reviewers: list[tuple[str, ...]] = []

    def original_reviewers() -> tuple[str, ...]:
        if not reviewers:  # read once, and only when a PR is opened
            reviewers.append(port.reviewers_of(repo, pull.number))
        return reviewers[0]

    results: list[TargetResult] = []
    for target in targets:
        run = _TargetRun(port, git, config, request, pull, landed, target, original_reviewers)
        try:
            results.append(run.run())
        except OpsghError as err:
            results.append(TargetResult(target, "failed", f"{err.message} (hint: {err.hint})" if err.hint
                                        else err.message, error=err))
    notes: list[str] = []
    settled = all(r.status in ("opened", "exists", "already") for r in results)
    if settled and CONFLICT_LABEL in pull.labels and not request.dry_run:
        port.remove_label(repo, pull.number, CONFLICT_LABEL)
        notes.append(f"removed the `{CONFLICT_LABEL}` label from #{pull.number}: every target is done")
    return BackportResult(repo, pull.number, pull.url, pull.title, found[0] if found else None, tuple(results),
                          request.dry_run, tuple(notes))


__all__ = ["BackportRequest", "BackportResult", "Landed", "Pick", "TargetResult", "backport", "backport_branch",
           "find_landed", "manual_steps"]
