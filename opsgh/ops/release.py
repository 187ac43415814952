"""`opsgh release`: open or update THE one release pull request staging -> production.

Pure orchestration over `GitHubPort` (no click, no HTTP client, no environment). The requests, in
order, and why each is needed (bench/release_requests.py measures them):

1. `GET /compare/{prod}...{main}` page 1 (250 commits, the files): is there anything to release?
   Nothing ahead -> stop ("nothing to release", no PR is opened).
2. `GET /pulls?head=OWNER:main&base=prod&state=open`: the release PR, if it is open (GitHub allows
   one open PR per head/base, so this finds THE one; the hidden marker only recognises it).
   Its marker records what the body was rendered from (both tips, the merge base, the counts and a
   digest of the configuration and templates): when nothing moved, stop here ("unchanged": two
   requests in all). `--refresh` re-renders anyway.
3. the other compare pages (250 commits each, following `Link`), then `GET /compare/{main}...{prod}`
   when `prod` has commits `main` lacks (hotfixes, release merges);
4. only when the first page holds 300 files (GitHub's silent cap): compares of halves of the mainline,
   one page of one commit each, until every part is under the cap (bounded; past the bound the body
   says the file list is incomplete);
5. `GET /pulls?state=closed&base=main&sort=updated&direction=desc`, 100 a page, until every mainline
   commit is explained or the list is older than the oldest unexplained commit (changelog.PullMatcher):
   ceil(P/100) pages for P merged PRs, instead of one `GET /commits/{sha}/pulls` per commit; plus
   `GET /pulls/{n}/commits` for a pull request that may have been rebase-merged with several commits
   (rare: its merge commit follows unexplained commits GitHub stamped in the same second);
6. `GET /contents/.github/opsgh/templates` (the repository's template overrides; 404 when none), plus
   one raw read per override;
7. `POST /pulls` or `PATCH /pulls/{n}` (only when the title or body changed), and, only for labels the
   PR lacks (once per release), `POST /labels` (422 "already exists" is fine) and `POST /issues/{n}/labels`.

After a rollback (a revert of a release merge among production's own commits, found in step 3's list),
the re-apply comes first (opsgh/ops/reapply.py: a pull request into staging with the revert of the
revert, merged), then everything above again from the new staging tip; the body says what it re-applies.

Never a duplicate: a create that fails ambiguously (5xx, lost answer) is read back by head/base before
anything else, and GitHub's 422 "A pull request already exists" (a concurrent run) is read back too.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import string
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from opsgh import __version__
from opsgh.changelog import Changelog, CommitGraph, PullMatcher, build_changelog, find_hotfixes
from opsgh.clock import Clock
from opsgh.config import Config
from opsgh.errors import AmbiguousWrite, ConfigError, Forbidden, NotFound, PreconditionFailed, ValidationFailed
from opsgh.ops.reapply import Reapplied, Rollback, pending_rollbacks, planned, reapplied_in, reapply
from opsgh.ports import CommitInfo, ComparePage, FileChange, GitHubPort, PullInfo, RollbackPort
from opsgh.render.engine import OVERRIDE_DIR, Renderer, packaged_digest
from opsgh.render.tasklist import carry_ticks
from opsgh.risk import RiskReport, assess
from opsgh.versioning import BUMP_LEVELS, BumpLevel, bump_level

__all__ = [
    "BODY_LIMIT",
    "MARKER",
    "Fingerprint",
    "ReleaseResult",
    "compose_body",
    "find_release_pull",
    "release",
    "release_title",
]

BODY_LIMIT = 65_536  # GitHub's limit for a pull request body, in characters
MARKER = "<!-- opsgh:release"
COMPARE_FILE_CAP = 300
MAX_FILE_SPLITS = 40  # extra one-page compares spent to get past the 300-file cap
MAX_REAPPLY_ROUNDS = 2  # compute, re-apply the rollbacks found, compute again
BODY_TEMPLATE = "release_body.md.j2"
LABEL_COLOR = "0e8a16"
LABEL_DESCRIPTION = "The release pull request (opsgh)"

Action = Literal["created", "updated", "unchanged", "nothing-to-release"]

_MARKER_LINE = re.compile(r"<!-- opsgh:release v1 ([^>]*?) -->")
_FIELD = re.compile(r"(\w[\w-]*)=(\S+)")


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What a body was rendered from; kept in the hidden marker at the top of the body."""

    base: str  # production's tip
    merge_base: str
    head: str  # staging's tip
    ahead: int
    behind: int
    inputs: str  # digest of the configuration, the packaged templates and the opsgh version
    bump: BumpLevel | None = None  # release.versioning semver: the version bump `opsgh ship` tags
    hotfixes: int | None = None  # commits on production that staging lacks (not back-ported): the gate reads it

    def marker(self) -> str:
        bump = f" bump={self.bump}" if self.bump else ""
        hotfixes = f" hotfixes={self.hotfixes}" if self.hotfixes is not None else ""
        return (f"{MARKER} v1 base={self.base} merge-base={self.merge_base} head={self.head} ahead={self.ahead} "
                f"behind={self.behind} inputs={self.inputs}{bump}{hotfixes} -->")

    @classmethod
    def parse(cls, body: str | None) -> Fingerprint | None:
        found = _MARKER_LINE.search(body or "")
        if found is None:
            return None
        fields = dict(_FIELD.findall(found.group(1)))
        try:
            bump = fields.get("bump")
            hotfixes = fields.get("hotfixes")
            return cls(fields["base"], fields["merge-base"], fields["head"], int(fields["ahead"]),
                       int(fields["behind"]), fields["inputs"],
                       next((level for level in BUMP_LEVELS if level == bump), None),
                       int(hotfixes) if hotfixes is not None else None)
        except (KeyError, ValueError):
            return None


@dataclass(frozen=True, slots=True)
class ReleaseResult:
    """What `release` did (or, with dry_run, would do)."""

    repo: str
    action: Action
    dry_run: bool = False
    number: int | None = None
    url: str | None = None
    title: str | None = None
    body: str | None = None
    staging: str = "main"
    production: str = "prod"
    commits: int = 0
    pulls: int = 0
    direct_pushes: int = 0
    risk_flags: tuple[str, ...] = ()  # flag keys, highest severity first
    body_cut: bool = False
    labels_added: tuple[str, ...] = ()
    rendered: bool = True  # False when the marker showed nothing moved (nothing was re-rendered)
    compare_url: str | None = None
    hotfixes: int = 0
    warnings: tuple[str, ...] = field(default_factory=tuple)
    reapplied: tuple[Reapplied, ...] = ()  # rollbacks re-applied on staging by this run (before the release)

    @property
    def changed(self) -> bool:
        return self.action in ("created", "updated")

    def summary(self) -> str:
        """One or two lines for the terminal."""
        branches = f"{self.staging} -> {self.production}"
        if self.action == "nothing-to-release":
            return f"nothing to release: {self.production} already has everything in {self.staging}"
        counts = (f"{self.commits:,} commit{'s' * (self.commits != 1)}, {self.pulls:,} pull request"
                  f"{'s' * (self.pulls != 1)}, {self.direct_pushes:,} direct push{'es' * (self.direct_pushes != 1)}")
        flags = f"; risk flags: {', '.join(self.risk_flags)}" if self.risk_flags else ""
        cut = "; body cut to GitHub's limit" if self.body_cut else ""
        if self.action == "created":
            verb = "would open the release PR" if self.dry_run else f"opened release PR #{self.number}"
        elif self.action == "updated":
            what = "labels" if not self.rendered else "title/body" if not self.labels_added else "title/body, labels"
            verb = (f"would update release PR #{self.number} ({what})" if self.dry_run
                    else f"updated release PR #{self.number} ({what})")
        else:
            verb = f"release PR #{self.number} is up to date"
        line = f"{verb} ({branches}): {counts}{flags}{cut}" if self.rendered else f"{verb} ({branches})"
        first = "".join(f"{item.describe()}\n" for item in self.reapplied)
        return first + line + (f"\n{self.url}" if self.url else "")


# ----------------------------------------------------------------------------- helpers


def release_title(template: str, timezone: str, clock: Clock, tip: str) -> str:
    """`release.title` with {date} (today in the configured time zone) and {sha} (staging's short tip)."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"unknown time zone {timezone!r}", "use an IANA name such as Europe/Berlin",
                          key_path="release.timezone") from None
    today = datetime.fromtimestamp(clock.now(), zone).date().isoformat()
    try:
        title = string.Formatter().vformat(template, (), {"date": today, "sha": tip[:7]})
    except (KeyError, IndexError, ValueError) as err:
        raise ConfigError(f"cannot fill the title template {template!r}: {err}",
                          "only {date} and {sha} are available", key_path="release.title") from None
    return " ".join(title.split())[:256]


def inputs_digest(config: Config) -> str:
    """What, besides the two branches, the body depends on and the marker must notice."""
    material = repr((config.branches, config.release, config.gate.migrations, config.gate.checklist,
                     packaged_digest(), __version__, BODY_LIMIT))
    return hashlib.sha256(material.encode()).hexdigest()[:16]


def find_release_pull(port: GitHubPort, repo: str, staging: str, production: str) -> PullInfo | None:
    """The open pull request staging -> production (GitHub allows one per head and base)."""
    owner = repo.split("/", 1)[0]
    found = list(port.list_pulls(repo, state="open", head=f"{owner}:{staging}", base=production))
    if not found:
        return None
    marked = [pull for pull in found if Fingerprint.parse(pull.body) is not None]
    return min(marked or found, key=lambda pull: pull.number)


def _normalize(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n") + "\n"


def compose_body(renderer: Renderer, context: dict[str, Any], changelog: Changelog, fingerprint: Fingerprint,
                 previous: str | None = None, limit: int = BODY_LIMIT) -> tuple[str, Changelog]:
    """The body (marker first, ticks of `previous` kept) and the changelog it lists.

    Over `limit`, the changelog is cut (as few entries as needed, from the end: direct pushes first,
    then the lowest groups), never the header, the risk flags or the checklist; the cut says so and
    links the full comparison. If even an empty changelog does not fit, the text is cut at a line.
    """
    marker = fingerprint.marker()

    def attempt(listed: Changelog) -> str:
        return marker + "\n" + _normalize(renderer.render(BODY_TEMPLATE, {**context, "changelog": listed,
                                                                         "body_limit": limit}))

    body = attempt(changelog)
    listed = changelog
    if len(body) > limit:
        low, high = 0, changelog.entry_count - 1
        best: tuple[str, Changelog] | None = None
        while low <= high:
            middle = (low + high) // 2
            candidate_log = changelog.keep(middle)
            candidate = attempt(candidate_log)
            if len(candidate) <= limit:
                best, low = (candidate, candidate_log), middle + 1
            else:
                high = middle - 1
        if best is not None:
            body, listed = best
        else:
            listed = changelog.keep(0)
            body = _hard_cut(attempt(listed), limit, str(context.get("compare_url", "")))
    return carry_ticks(previous, body), listed


def _hard_cut(body: str, limit: int, compare_url: str) -> str:
    note = (f"\n\n> [!NOTE]\n> Cut to fit GitHub's limit of {limit:,} characters. "
            f"[See the full comparison]({compare_url}).\n")
    room = limit - len(note)
    cut = body[:room]
    return cut[:cut.rfind("\n")] + note if "\n" in cut else cut + note


def _all_commits(first: ComparePage, rest: Iterator[ComparePage]) -> list[CommitInfo]:
    commits = list(first.commits)
    for page in rest:
        commits.extend(page.commits)
    return commits


def _merge_files(parts: Sequence[Sequence[FileChange]]) -> list[FileChange]:
    """The union of several comparisons' files; a file in several keeps every part of its diff."""
    merged: dict[str, FileChange] = {}
    for part in parts:
        for change in part:
            seen = merged.get(change.filename)
            if seen is None:
                merged[change.filename] = change
                continue
            patches = [p for p in (seen.patch, change.patch) if p is not None]
            merged[change.filename] = FileChange(change.filename, seen.status, seen.additions + change.additions,
                                                 seen.deletions + change.deletions,
                                                 "\n".join(patches) if patches else None, seen.previous_filename)
    return sorted(merged.values(), key=lambda change: change.filename)


def release_files(port: GitHubPort, repo: str, first: ComparePage,
                  graph: CommitGraph) -> tuple[list[FileChange], bool, int]:
    """(files, complete, files known to be unseen): past GitHub's 300-file cap, compare halves of the
    mainline (one page of one commit each) until each part is under the cap."""
    files = list(first.files or ())
    if len(files) < COMPARE_FILE_CAP:
        return files, True, 0
    points = [first.merge_base_sha, *graph.mainline]
    parts: list[Sequence[FileChange]] = []
    complete = True
    budget = MAX_FILE_SPLITS
    pending = [(0, len(points) - 1)]
    while pending:
        low, high = pending.pop()
        if high - low < 2:
            complete = False  # one mainline step over the cap: nothing smaller to compare
            continue
        middle = (low + high) // 2
        for start, end in ((low, middle), (middle, high)):
            if budget == 0:
                complete = False
                continue
            budget -= 1
            part = list(next(port.compare(repo, points[start], points[end], per_page=1)).files or ())
            parts.append(part)
            if len(part) >= COMPARE_FILE_CAP:
                pending.append((start, end))
    merged = _merge_files([files, *parts])
    return merged, complete, 0 if complete else max(len(merged) - len(files), 0)


def _with_hint(err: Forbidden) -> Forbidden:
    if "not permitted to create" in err.message:
        return Forbidden(err.message, "allow it in the repository's Settings > Actions > General > Workflow "
                         "permissions (\"Allow GitHub Actions to create and approve pull requests\"), or use a "
                         "GitHub App token (PRs opened with GITHUB_TOKEN also start no CI)",
                         status=err.status, method=err.method, path=err.path, request_id=err.request_id)
    return err


def _already_exists(err: ValidationFailed) -> bool:
    texts = [err.message, *(str(e.get("message", "")) for e in err.errors if isinstance(e, dict))]
    return any("already exists" in text for text in texts)


def _open_pull(port: GitHubPort, repo: str, staging: str, production: str, title: str,
               body: str) -> tuple[PullInfo, bool]:
    """(the release PR, whether this run's create landed): create once, reading back after an
    ambiguous failure or a concurrent run's PR."""
    def create() -> PullInfo:
        return port.create_pull(repo, title=title, head=staging, base=production, body=body)

    try:
        return create(), True
    except AmbiguousWrite:
        found = find_release_pull(port, repo, staging, production)
        if found is not None:
            return found, True
        return create(), True  # it did not land; a second ambiguous failure goes to the caller
    except ValidationFailed as err:
        if _already_exists(err):
            found = find_release_pull(port, repo, staging, production)
            if found is not None:
                return found, False
        raise
    except Forbidden as err:
        raise _with_hint(err) from None


def _missing_labels(config: Config, pull: PullInfo | None) -> tuple[str, ...]:
    present = {label.lower() for label in (pull.labels if pull else ())}
    return tuple(label for label in config.release.labels if label.lower() not in present)


# ----------------------------------------------------------------------------- the operation


def release(port: RollbackPort, repo: str, config: Config, clock: Clock, *, dry_run: bool = False,
            refresh: bool = False) -> ReleaseResult:
    """Open or update the release pull request staging -> production (see the module docstring).

    After a rollback, the rollback is first re-applied on staging (opsgh/ops/reapply.py: a revert of the
    revert, merged through a pull request; staging's files do not change), then the release is computed
    from the new staging: it ships the rolled-back changes again and its body says so. `--dry-run` only
    says it would.
    """
    reapplied: list[Reapplied] = []
    for _ in range(MAX_REAPPLY_ROUNDS):
        outcome = _release_once(port, repo, config, clock, dry_run=dry_run, refresh=refresh)
        if isinstance(outcome, ReleaseResult):
            return dataclasses.replace(outcome, reapplied=tuple(reapplied)) if reapplied else outcome
        reapplied.extend(reapply(port, repo, config, clock, rollback) for rollback in outcome)
    raise PreconditionFailed(f"{config.branches.staging} still lacks a rollback after opsgh merged its re-apply",
                             "re-run `opsgh release`; if it says this again, please report it")


def _release_once(port: GitHubPort, repo: str, config: Config, clock: Clock, *, dry_run: bool,
                  refresh: bool) -> ReleaseResult | list[Rollback]:
    """The release as staging is now, or the rollbacks staging must re-apply first (never in a dry run)."""
    staging, production = config.branches.staging, config.branches.production
    pages = port.compare(repo, production, staging)
    try:
        first = next(pages)
    except NotFound as err:
        port.get_repository(repo)  # no such repository (or not for this token): GitHub's 404 says that, exit 3
        raise PreconditionFailed(f"cannot compare {production}...{staging} in {repo}: {err.message}",
                                 f"both branches must exist; `branches:` in .github/opsgh.yml names them "
                                 f"(staging: {staging}, production: {production})") from None
    if first.ahead_by == 0:
        return ReleaseResult(repo, "nothing-to-release", dry_run, staging=staging, production=production)
    existing = find_release_pull(port, repo, staging, production)
    inputs = inputs_digest(config)
    if existing is not None and not refresh:
        unchanged = _unchanged(existing, first, inputs)
        if unchanged:
            missing = _missing_labels(config, existing)
            if missing and not dry_run:
                _add_labels(port, repo, existing.number, missing)
            return ReleaseResult(repo, "updated" if missing else "unchanged", dry_run, existing.number,
                                 existing.html_url, existing.title, existing.body, staging, production,
                                 commits=first.ahead_by, labels_added=missing, rendered=False,
                                 compare_url=first.html_url)

    commits = _all_commits(first, pages)
    graph = CommitGraph(commits)
    tip = graph.tip or (commits[-1].sha if commits else first.merge_base_sha)
    prod_only: list[CommitInfo] = []
    if first.behind_by:
        for page in port.compare(repo, staging, production):
            prod_only.extend(page.commits)
    hotfixes = find_hotfixes(prod_only, commits)
    rollbacks = pending_rollbacks(prod_only)
    if rollbacks and not dry_run:
        return rollbacks
    reapplies = [planned(rollback) for rollback in rollbacks] + reapplied_in(commits)
    files, complete, uncovered = release_files(port, repo, first, graph)
    matcher = PullMatcher(graph)
    for pull in port.list_pulls(repo, state="closed", base=staging, sort="updated", direction="desc"):
        if matcher.offer(pull):
            break
    merged = list(matcher.matched.values())
    owner, _ = graph.attribute(merged)
    pull_commits = {pull.number: port.list_pull_commits(repo, pull.number)
                    for pull in graph.rebase_suspects(merged, owner)}
    changelog = build_changelog(commits, merged, graph, pull_commits)
    migrations = config.gate.migrations
    risks: RiskReport = assess(files, files_complete=complete, hotfixes=hotfixes.commits,
                               migration_paths=migrations.paths, allow_label=migrations.allow_label,
                               require_down=migrations.require_down, production=production, staging=staging,
                               uncovered=uncovered)
    renderer = Renderer(port.get_directory_texts(repo, OVERRIDE_DIR), source=f"{repo}:{OVERRIDE_DIR}")
    title = release_title(config.release.title, config.release.timezone, clock, tip)
    # The bump from the whole changelog (the body may list a cut one); only semver tags need it.
    bump = bump_level(changelog) if config.release.versioning == "semver" else None
    fingerprint = Fingerprint(first.base_sha, first.merge_base_sha, tip, first.ahead_by, first.behind_by, inputs,
                              bump, len(hotfixes.commits))
    context: dict[str, Any] = {
        "repo": repo, "staging": staging, "production": production, "title": title,
        "compare_url": first.html_url, "tip": tip, "risks": risks, "checklist_mode": config.gate.checklist,
        "version": __version__, "reapplied": reapplies,
    }
    body, listed = compose_body(renderer, context, changelog, fingerprint, existing.body if existing else None)
    facts: dict[str, Any] = {
        "staging": staging, "production": production, "commits": first.ahead_by, "pulls": changelog.pull_count,
        "direct_pushes": changelog.direct_push_count, "risk_flags": tuple(flag.key for flag in risks.flags),
        "body_cut": listed.is_cut, "compare_url": first.html_url, "hotfixes": len(hotfixes.commits),
        "reapplied": tuple(planned(rollback) for rollback in rollbacks),
    }

    if existing is None:
        labels = tuple(config.release.labels)
        if dry_run:
            return ReleaseResult(repo, "created", True, None, None, title, body, labels_added=labels, **facts)
        pull, _ = _open_pull(port, repo, staging, production, title, body)
        if pull.title != title or (pull.body or "") != body:  # a concurrent run's PR, read back
            pull = port.update_pull(repo, pull.number, title=title, body=body)
        missing = _missing_labels(config, pull)
        if missing:
            _add_labels(port, repo, pull.number, missing)
        return ReleaseResult(repo, "created", False, pull.number, pull.html_url, title, body, labels_added=missing,
                             **facts)

    missing = _missing_labels(config, existing)
    text_changed = existing.title != title or (existing.body or "") != body
    if not text_changed and not missing:
        return ReleaseResult(repo, "unchanged", dry_run, existing.number, existing.html_url, title, body, **facts)
    if not dry_run:
        if text_changed:
            port.update_pull(repo, existing.number, title=title if existing.title != title else None,
                             body=body if (existing.body or "") != body else None)
        if missing:
            _add_labels(port, repo, existing.number, missing)
    return ReleaseResult(repo, "updated", dry_run, existing.number, existing.html_url, title, body,
                         labels_added=missing, rendered=True, **facts)


def _unchanged(existing: PullInfo, first: ComparePage, inputs: str) -> bool:
    """Whether the release PR's marker says its body was rendered from exactly this state."""
    seen = Fingerprint.parse(existing.body)
    if seen is None:
        return False
    if (seen.base, seen.merge_base, seen.ahead, seen.behind, seen.inputs) != (
            first.base_sha, first.merge_base_sha, first.ahead_by, first.behind_by, inputs):
        return False
    if existing.head_sha and existing.head_sha != seen.head:
        return False
    if len(first.commits) == first.ahead_by:  # the whole history is on this page: check the tip too
        tip = CommitGraph(first.commits).tip
        return tip == seen.head
    return True


def _add_labels(port: GitHubPort, repo: str, number: int, labels: Sequence[str]) -> None:
    """Create each label if it is missing (with a colour and a description: GitHub would create it bare
    when adding it), then add them. Only runs when the PR lacks a label: once per release."""
    for label in labels:
        port.create_label(repo, label, LABEL_COLOR, LABEL_DESCRIPTION)
    port.add_labels(repo, number, labels)
