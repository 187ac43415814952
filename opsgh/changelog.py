"""The changelog of a release: which pull requests and direct pushes `main` has that `prod` lacks.

Pure functions over the port's values (`CommitInfo`, `PullInfo`), no I/O, shared by `opsgh release`
(the PR body) and `opsgh ship` (the GitHub Release notes).

Attribution works on the commit graph GitHub's compare API returns (each commit with its parents):

- the *mainline* is the first-parent chain from `main`'s tip back to the merge base;
- a pull request owns its merge commit (`merge_commit_sha`, which GitHub sets for all three merge
  methods), every commit its merge brought in (reachable from the second parent, not from the
  mainline or an earlier merge), and, for a rebase merge, the rebased commits just before it on the
  mainline (same committer stamp, the messages of its own commits: the caller fetches those only for
  the few pull requests `CommitGraph.rebase_suspects` names);
- every other commit is a *direct push*, listed as a commit (short sha + subject).

Grouping: a pull request's labels first (people curate them), then its conventional-commit type
(`feat(cart)!: ...`), else "Other changes". Breaking changes (`!`, `BREAKING CHANGE`, a breaking
label) come first whatever their type.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from opsgh.ports import CommitInfo, PullInfo

__all__ = [
    "GROUPS",
    "ChangeEntry",
    "Changelog",
    "ChangelogSection",
    "CommitGraph",
    "Group",
    "PullMatcher",
    "build_changelog",
    "classify",
    "parse_conventional",
]

# GitHub stamps the merge commit when it merges; `updated_at` is never earlier. The margin covers the
# second GitHub may take between the two.
MERGE_CLOCK_MARGIN = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Group:
    key: str
    title: str
    labels: tuple[str, ...] = ()
    types: tuple[str, ...] = ()


# In display order. Labels are matched case-insensitively; GitHub's defaults (bug, enhancement,
# documentation) and Dependabot's (dependencies) are covered.
GROUPS: tuple[Group, ...] = (
    Group("breaking", "Breaking changes", ("breaking", "breaking-change", "breaking change", "semver-major")),
    Group("feat", "Features", ("feature", "enhancement", "feat", "type: feature", "kind/feature", "new feature"),
          ("feat", "feature")),
    Group("fix", "Bug fixes", ("bug", "fix", "bugfix", "type: bug", "kind/bug", "regression"),
          ("fix", "bugfix", "hotfix")),
    Group("security", "Security", ("security",), ("security", "sec")),
    Group("perf", "Performance", ("performance", "perf"), ("perf",)),
    Group("refactor", "Refactoring", ("refactor", "refactoring", "tech debt", "tech-debt"), ("refactor",)),
    Group("docs", "Documentation", ("documentation", "docs"), ("docs", "doc")),
    Group("deps", "Dependencies", ("dependencies", "deps"), ("deps",)),
    Group("test", "Tests", ("test", "tests", "testing"), ("test", "tests")),
    Group("build", "Build and CI", ("build", "ci", "github_actions"), ("build", "ci")),
    Group("chore", "Chores", ("chore", "maintenance"), ("chore", "style")),
    Group("revert", "Reverts", ("revert",), ("revert",)),
    Group("other", "Other changes"),
)
_BY_KEY = {group.key: group for group in GROUPS}
_ORDER = {group.key: index for index, group in enumerate(GROUPS)}

_CONVENTIONAL = re.compile(r"^(?P<type>[A-Za-z]+)(?:\((?P<scope>[^()]*)\))?(?P<bang>!)?:\s*(?P<text>\S.*)$")
_REVERT = re.compile(r'^Revert\s+"')


@dataclass(frozen=True, slots=True)
class Conventional:
    type: str | None
    scope: str | None
    breaking: bool
    text: str  # the description without the `type(scope)!:` prefix


def parse_conventional(title: str) -> Conventional:
    """`feat(cart)!: add x` -> type feat, scope cart, breaking, text `add x`; other titles as they are."""
    title = title.strip()
    found = _CONVENTIONAL.match(title)
    if found is None:
        return Conventional(None, None, "BREAKING CHANGE" in title, title)
    scope = (found.group("scope") or "").strip() or None
    return Conventional(found.group("type").lower(), scope, bool(found.group("bang")) or "BREAKING CHANGE" in title,
                        found.group("text").strip())


def classify(title: str, labels: Iterable[str] = ()) -> tuple[str, Conventional]:
    """The group key of a change with this title and these labels, and the parsed title."""
    parsed = parse_conventional(title)
    lowered = {label.strip().lower() for label in labels}
    if parsed.breaking or lowered.intersection(_BY_KEY["breaking"].labels):
        return "breaking", parsed
    for group in GROUPS:
        if lowered.intersection(group.labels):
            return group.key, parsed
    if parsed.type is not None:
        for group in GROUPS:
            if parsed.type in group.types:
                return group.key, parsed
    if _REVERT.match(title.strip()):
        return "revert", parsed
    return "other", parsed


@dataclass(frozen=True, slots=True)
class ChangeEntry:
    """One line of the changelog: a merged pull request, or a commit pushed without one."""

    title: str  # without the conventional-commit prefix
    url: str
    authors: tuple[str, ...]  # GitHub logins (without @); a commit by an unknown email: its author name
    group: str
    number: int | None = None  # the pull request's number; None for a direct push
    sha: str | None = None  # the commit, for a direct push
    scope: str | None = None
    labels: tuple[str, ...] = ()
    commits: int = 1  # commits it brought to main
    authors_are_logins: bool = True

    @property
    def is_pull(self) -> bool:
        return self.number is not None

    @property
    def short_sha(self) -> str:
        return (self.sha or "")[:7]


@dataclass(frozen=True, slots=True)
class ChangelogSection:
    key: str
    title: str
    entries: tuple[ChangeEntry, ...]


@dataclass(frozen=True, slots=True)
class Changelog:
    """What the release brings, grouped; `omitted_*` count entries left out of a cut body."""

    sections: tuple[ChangelogSection, ...]
    direct_pushes: tuple[ChangeEntry, ...]
    commit_count: int
    contributors: tuple[str, ...]  # logins, sorted, without @
    omitted_pulls: int = 0
    omitted_commits: int = 0

    @property
    def pulls(self) -> tuple[ChangeEntry, ...]:
        return tuple(entry for section in self.sections for entry in section.entries)

    @property
    def pull_count(self) -> int:
        return sum(len(section.entries) for section in self.sections) + self.omitted_pulls

    @property
    def direct_push_count(self) -> int:
        return len(self.direct_pushes) + self.omitted_commits

    @property
    def entry_count(self) -> int:
        """Entries listed (after a cut)."""
        return sum(len(section.entries) for section in self.sections) + len(self.direct_pushes)

    @property
    def is_cut(self) -> bool:
        return bool(self.omitted_pulls or self.omitted_commits)

    @property
    def is_empty(self) -> bool:
        return self.commit_count == 0

    def keep(self, count: int) -> Changelog:
        """The first `count` entries in display order (sections, then direct pushes); the rest counted."""
        sections: list[ChangelogSection] = []
        left = max(count, 0)
        omitted_pulls = self.omitted_pulls
        for section in self.sections:
            kept = section.entries[:left]
            omitted_pulls += len(section.entries) - len(kept)
            left -= len(kept)
            if kept:
                sections.append(ChangelogSection(section.key, section.title, kept))
        pushes = self.direct_pushes[:left]
        return replace(self, sections=tuple(sections), direct_pushes=pushes, omitted_pulls=omitted_pulls,
                       omitted_commits=self.omitted_commits + len(self.direct_pushes) - len(pushes))


# ----------------------------------------------------------------------------- the commit graph


def _when(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


class CommitGraph:
    """The commits `main` has and `prod` lacks, with the mainline and who owns what."""

    def __init__(self, commits: Sequence[CommitInfo]) -> None:
        self.commits = tuple(commits)
        self.by_sha = {commit.sha: commit for commit in self.commits}
        children: set[str] = {parent for commit in self.commits for parent in commit.parents}
        tips = [commit.sha for commit in self.commits if commit.sha not in children]
        # All commits of base...head are ancestors of head, so there is one tip; take the last listed if not.
        self.tip: str | None = tips[-1] if tips else None
        mainline: list[str] = []
        sha = self.tip
        while sha is not None and sha in self.by_sha:
            mainline.append(sha)
            parents = self.by_sha[sha].parents
            sha = parents[0] if parents else None
        self.mainline: tuple[str, ...] = tuple(reversed(mainline))  # oldest first
        self.mainline_set = frozenset(self.mainline)

    def __len__(self) -> int:
        return len(self.commits)

    def __contains__(self, sha: object) -> bool:
        return sha in self.by_sha

    def _same_stamp(self, a: str, b: str) -> bool:
        one, two = self.by_sha[a], self.by_sha[b]
        return (one.committer_name, one.committer_email, one.committed_at) == (
            two.committer_name, two.committer_email, two.committed_at)

    def rebase_suspects(self, pulls: Iterable[PullInfo], owner: Mapping[str, int]) -> list[PullInfo]:
        """Pull requests that may have been rebase-merged with more than one commit: their merge commit
        has one parent, and that parent is an unexplained mainline commit stamped in the same second
        by the same committer (GitHub's rebase commits them all at once). Their commits must be
        asked for (`GET /pulls/{n}/commits`) to tell a rebase from a squash merge a moment later."""
        suspects = []
        for pull in pulls:
            sha = pull.merge_commit_sha
            if sha is None or sha not in self.by_sha or len(self.by_sha[sha].parents) != 1:
                continue
            parent = self.by_sha[sha].parents[0]
            if parent in self.mainline_set and parent not in owner and self._same_stamp(parent, sha):
                suspects.append(pull)
        return suspects

    def rebased_before(self, sha: str, original: Sequence[CommitInfo], owner: Mapping[str, int]) -> list[str]:
        """The mainline commits right before `sha` that a rebase merge made from the pull request's
        `original` commits: same committer stamp, unexplained, and the message of one of them."""
        messages: dict[str, int] = {}
        for commit in original:
            messages[commit.message.strip()] = messages.get(commit.message.strip(), 0) + 1
        last = self.by_sha[sha].message.strip()
        if messages.get(last):
            messages[last] -= 1
        found: list[str] = []
        previous = self.by_sha[sha].parents[0] if self.by_sha[sha].parents else None
        while (previous is not None and previous in self.mainline_set and previous not in owner
               and len(self.by_sha[previous].parents) == 1 and self._same_stamp(previous, sha)
               and messages.get(self.by_sha[previous].message.strip(), 0) > 0):
            messages[self.by_sha[previous].message.strip()] -= 1
            found.append(previous)
            previous = self.by_sha[previous].parents[0]
        return found

    def attribute(self, pulls: Iterable[PullInfo], pull_commits: Mapping[int, Sequence[CommitInfo]] | None = None,
                  ) -> tuple[dict[str, int], dict[int, PullInfo]]:
        """({sha: pull number} for every commit a pull request brought, {number: pull}) for the pulls
        whose merge commit is in the graph; `pull_commits` holds the original commits of pull requests
        that may have been rebase-merged (see `rebase_suspects`)."""
        by_merge = {pull.merge_commit_sha: pull for pull in pulls  # an unmerged PR's sha is its test merge
                    if pull.merged_at is not None and pull.merge_commit_sha in self.by_sha}
        owner: dict[str, int] = {}
        for sha in self.mainline:  # oldest first: an earlier merge claims shared commits
            pull = by_merge.get(sha)
            if pull is None:
                continue
            owner[sha] = pull.number
            commit = self.by_sha[sha]
            if len(commit.parents) > 1:
                stack = list(commit.parents[1:])
                while stack:
                    side = stack.pop()
                    if side not in self.by_sha or side in self.mainline_set or side in owner:
                        continue
                    owner[side] = pull.number
                    stack.extend(self.by_sha[side].parents)
            elif pull_commits and pull.number in pull_commits:
                for rebased in self.rebased_before(sha, pull_commits[pull.number], owner):
                    owner[rebased] = pull.number
        # Merge commits off the mainline (a PR into a branch that was then merged): owned too.
        for sha, pull in by_merge.items():
            owner.setdefault(sha, pull.number)
        return owner, {pull.number: pull for pull in by_merge.values()}


class PullMatcher:
    """Feeds on closed pull requests into `main`, newest update first, and says when to stop asking.

    A pull request merged in this release has `updated_at` no earlier than its merge commit, so once
    the list reaches pull requests last updated before the oldest mainline commit still unexplained,
    no later page can hold one. When every mainline commit is explained, it stops at once.
    """

    def __init__(self, graph: CommitGraph) -> None:
        self.graph = graph
        self.matched: dict[str, PullInfo] = {}
        self._unexplained = set(graph.mainline)
        self._oldest: list[tuple[datetime, str]] = []
        for sha in graph.mainline:
            when = _when(graph.by_sha[sha].committed_at)
            if when is not None:
                self._oldest.append((when, sha))
            # A mainline commit without a date cannot bound the search: it is found or the list ends.
        heapq.heapify(self._oldest)

    @property
    def done(self) -> bool:
        return not self._unexplained

    def _bound(self) -> datetime | None:
        while self._oldest and self._oldest[0][1] not in self._unexplained:
            heapq.heappop(self._oldest)
        if len(self._oldest) < len(self._unexplained):
            return None  # some unexplained commit has no date: no bound
        return self._oldest[0][0] - MERGE_CLOCK_MARGIN if self._oldest else None

    def offer(self, pull: PullInfo) -> bool:
        """Take one pull request; True when no later one can belong to the release."""
        sha = pull.merge_commit_sha
        if pull.merged_at is not None and sha is not None and sha in self.graph and sha not in self.matched:
            self.matched[sha] = pull
            self._unexplained.discard(sha)
        if self.done:
            return True
        bound = self._bound()
        updated = _when(pull.updated_at)
        return bound is not None and updated is not None and updated < bound


# ----------------------------------------------------------------------------- building


def build_changelog(commits: Sequence[CommitInfo], pulls: Iterable[PullInfo], graph: CommitGraph | None = None,
                    pull_commits: Mapping[int, Sequence[CommitInfo]] | None = None) -> Changelog:
    """Group the release's pull requests and list its direct pushes (oldest first within a group)."""
    graph = graph or CommitGraph(commits)
    owner, by_number = graph.attribute(pulls, pull_commits)
    brought: dict[int, int] = {}
    for number in owner.values():
        brought[number] = brought.get(number, 0) + 1
    order = {sha: index for index, sha in enumerate(graph.mainline)}
    sections: dict[str, list[ChangeEntry]] = {}
    contributors: set[str] = set()
    merged_pulls = sorted(by_number.values(), key=lambda p: (order.get(p.merge_commit_sha or "", -1), p.number))
    for pull in merged_pulls:
        group, parsed = classify(pull.title, pull.labels)
        authors = (pull.author,) if pull.author else ()
        contributors.update(authors)
        sections.setdefault(group, []).append(ChangeEntry(
            title=parsed.text if parsed.type is not None else pull.title.strip(), url=pull.html_url, authors=authors,
            group=group, number=pull.number, scope=parsed.scope, labels=pull.labels,
            commits=brought.get(pull.number, 1)))
    pushes: list[ChangeEntry] = []
    for commit in graph.commits:
        if commit.sha in owner:
            continue
        login = commit.author_login
        if login:
            contributors.add(login)
        group, _ = classify(commit.subject)
        pushes.append(ChangeEntry(title=commit.subject, url=commit.html_url,
                                  authors=(login or commit.author_name,) if (login or commit.author_name) else (),
                                  group=group, sha=commit.sha, authors_are_logins=login is not None))
    ordered = tuple(ChangelogSection(key, _BY_KEY[key].title, tuple(sections[key]))
                    for key in sorted(sections, key=lambda k: _ORDER[k]))
    return Changelog(sections=ordered, direct_pushes=tuple(pushes), commit_count=len(graph),
                     contributors=tuple(sorted(contributors, key=str.lower)))


@dataclass(frozen=True, slots=True)
class Hotfixes:
    """Commits on `prod` that `main` lacks, other than release merges and back-ported ones."""

    commits: tuple[CommitInfo, ...] = ()
    backported: tuple[str, ...] = field(default_factory=tuple)  # shas main has as a cherry-pick


_CHERRY_PICKED = re.compile(r"\(cherry picked from commit ([0-9a-f]{7,40})\)")


def find_hotfixes(prod_only: Sequence[CommitInfo], main_only: Sequence[CommitInfo]) -> Hotfixes:
    """What `prod` has that `main` does not, since the last release.

    `prod_only` is `main...prod` (oldest first), `main_only` is `prod...main`. Merge commits are not
    changes by themselves. A release merge (a merge with a parent outside `prod_only`, i.e. on
    `main`) marks the last release: commits before it were in front of the previous release already.
    Commits that `main` carries as a `cherry-pick -x` are back-ported.
    """
    inside = {commit.sha for commit in prod_only}
    by_sha = {commit.sha: commit for commit in prod_only}
    release_merges = [c for c in prod_only if len(c.parents) > 1 and any(p not in inside for p in c.parents)]
    # The newest release merge: the one no other release merge descends from (the last listed).
    before_last_release = _reachable([release_merges[-1].sha], by_sha) if release_merges else set()
    picked = {match for commit in main_only for match in _CHERRY_PICKED.findall(commit.message)}
    candidates = [c for c in prod_only if len(c.parents) <= 1 and c.sha not in before_last_release]
    # A merge commit back-ported whole (`cherry-pick -x -m 1`, what `opsgh backport` does with a
    # merge-committed hotfix) carries the commits it brought.
    covered: set[str] = set()
    for merge in prod_only:
        if len(merge.parents) > 1 and any(merge.sha.startswith(p) for p in picked):
            covered |= _reachable(merge.parents[1:], by_sha) - _reachable(merge.parents[:1], by_sha)
    backported = [c.sha for c in candidates if c.sha in covered or any(c.sha.startswith(p) for p in picked)]
    return Hotfixes(tuple(c for c in candidates if c.sha not in backported), tuple(backported))


def _reachable(starts: Sequence[str], by_sha: Mapping[str, CommitInfo]) -> set[str]:
    """The commits of `by_sha` reachable from `starts` through commits of `by_sha`."""
    seen: set[str] = set()
    stack = list(starts)
    while stack:
        sha = stack.pop()
        if sha in seen or sha not in by_sha:
            continue
        seen.add(sha)
        stack.extend(by_sha[sha].parents)
    return seen
