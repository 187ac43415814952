"""`opsgh ship [PR]`: re-evaluate the Release PR at its current head, merge it, tag, publish, record.

The steps, in order, each find-or-create so that a re-run after a failure half-way finishes what is
left and repeats nothing:

1. gate: one GraphQL read of the Release PR (`mergeable` polled while GitHub computes it, never read
   as false) and of the production branch's required checks; NO-GO or PENDING raise
   `PreconditionFailed` (exit 4) and change nothing. (The full go/no-go criteria belong to the gate;
   until then: draft, mergeability, mergeStateStatus, required checks, review decision.)
2. merge: a merge commit (config `release.merge_method`, which the config only allows to be
   `merge`), pinned with `sha=` to the head that was evaluated: a push in between is GitHub's 409,
   reported as `Conflict`, and nothing ships. Already merged: the merge commit is used as is.
3. tag: a lightweight tag (a ref, one request, nothing orphaned on a lost answer) on the merge commit,
   named by `release.tag` with the merge day in `release.timezone`; a second release the same day
   gets `.2`, then `.3` (`v2026-11-25`, `v2026-11-25.2`: valid ref names, sorted right by
   `git tag --sort=version:refname`). A tag of this family on the merge commit is reused; a tag
   that is ours by name but points elsewhere is an error. With `release.versioning: semver` the tag
   is `release.tag` with `{version}`: the newest version tag bumped by the level `opsgh release`
   recorded in the PR's marker (else read from the changelog's headings; opsgh/versioning.py has the
   rules), or `release.initial_version` for the first. A version tag on the merge commit is reused; a
   version is never reused for another commit (a tag taken meanwhile is an error, and a re-run bumps
   from it).
4. release: the GitHub Release for the tag; notes from the Release PR body between
   `<!-- opsgh:changelog:start -->` and `<!-- opsgh:changelog:end -->`, else the body without its
   checklist.
5. deployment: `production`, for the merge commit, `auto_merge: false`, `required_contexts: []`
   (the merge commit is new: its own checks have not run, and the required checks were verified green
   on the head it merges; the payload says which), then one `in_progress` status: merging into
   production is what starts the deploy, and `opsgh verify` later marks it `success` or `failure`.
6. announcement: the release-start comment on the Release PR (hidden marker with the merge sha).
7. slack: the same news to a Slack incoming webhook when one is configured (`notify`).
8. ops log: one comment per event on the open issue titled `ops_log.issue` (the issue is created,
   if missing, before Slack is told). The line is written last and records that Slack was told: a
   re-run that finds it sends nothing again. Slack can only hear twice when the line's own write
   fails after Slack accepted the message (an incoming webhook has no idempotency key).

Found things are matched by what identifies them: the tag by name and commit, the release by tag, the
deployment by sha and environment, comments by a hidden marker carrying the merge sha. Comments are
read with `since` = the merge time, so old traffic costs nothing; a step that cannot exist yet (the
merge happened in this very run) is not looked up at all.

Pure orchestration over `ShipPort`: no click, no HTTP client, no environment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from opsgh.clock import Clock
from opsgh.config import Config
from opsgh.errors import (
    AmbiguousWrite,
    Conflict,
    NotAllowed,
    OpsghError,
    PreconditionFailed,
    ValidationFailed,
)
from opsgh.ops.gate import evaluate_gate, gather, now_of, wait_for_mergeable
from opsgh.ops.release import Fingerprint
from opsgh.ops.steps import Notify, Step, StepRun
from opsgh.ops.writes import write_once
from opsgh.ports import (
    CommentRef,
    DeploymentRef,
    IssueRef,
    PullShipState,
    ReleaseRef,
    ShipPort,
    TagRef,
)
from opsgh.render.ship import render, without_html_comments
from opsgh.versioning import VersionChoice, bump_level_of_text, choose_version, tag_prefix

ENVIRONMENT = "production"
CHANGELOG_START = "<!-- opsgh:changelog:start -->"
CHANGELOG_END = "<!-- opsgh:changelog:end -->"
ANNOUNCEMENT_MARKER = "<!-- opsgh:ship-announcement {sha} -->"
OPS_LOG_MARKER = "<!-- opsgh:ops-log ship {sha} -->"
DEPLOYMENT_STATE = "in_progress"
# GitHub caps comment bodies at 65,536 characters; the changelog gets what the rest leaves.
COMMENT_CHANGELOG_LIMIT = 60_000
RELEASE_BODY_LIMIT = 125_000
GO, NO_GO, PENDING = "GO", "NO-GO", "PENDING"


# ----------------------------------------------------------------------------- values


@dataclass(frozen=True, slots=True)
class ShipRequest:
    """What the caller asks for. `run_url`: the workflow run (Actions) to link from the deployment."""

    repo: str
    pr_number: int | None = None
    dry_run: bool = False
    run_url: str | None = None
    head_sha: str | None = None  # ship only this head (a `/ship` bound to what its author saw gated)


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The go/no-go at one head sha."""

    verdict: str  # GO, NO-GO, PENDING
    head_sha: str
    reasons: tuple[str, ...]  # why NO-GO / PENDING (empty for GO)
    notes: tuple[str, ...]  # warnings that do not block
    green_required: tuple[str, ...]  # required checks seen green on head_sha


@dataclass(frozen=True, slots=True)
class ShipResult:
    repo: str
    pr_number: int
    pr_url: str
    head_sha: str
    evaluation: Evaluation | None  # None when the PR was merged before this run
    merge_sha: str | None
    tag: str | None
    release_url: str | None
    deployment_id: int | None
    comment_url: str | None
    ops_log_url: str | None
    steps: tuple[Step, ...]
    dry_run: bool = False

    @property
    def done(self) -> tuple[str, ...]:
        return tuple(step.name for step in self.steps if step.action == "done")

    @property
    def skipped(self) -> tuple[str, ...]:
        return tuple(step.name for step in self.steps if step.action == "skipped")

    def lines(self) -> list[str]:
        """A human summary, one step a line (the CLI prints it)."""
        head = f"Release PR #{self.pr_number} ({self.pr_url}) at {self.head_sha[:7]}"
        if self.evaluation is not None:
            head += f": {self.evaluation.verdict}"
        out = [("dry run, nothing changed: " if self.dry_run else "") + head]
        width = max(len(step.name) for step in self.steps) if self.steps else 0
        out += [f"  {step.name:<{width}}  {step.action:<7}  {step.detail}" for step in self.steps]
        if self.evaluation is not None:
            out += [f"  note: {note}" for note in self.evaluation.notes]
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "repo": self.repo, "pr": self.pr_number, "pr_url": self.pr_url, "head_sha": self.head_sha,
            "verdict": self.evaluation.verdict if self.evaluation else None, "merge_sha": self.merge_sha,
            "tag": self.tag, "release_url": self.release_url, "deployment_id": self.deployment_id,
            "comment_url": self.comment_url, "ops_log_url": self.ops_log_url, "dry_run": self.dry_run,
            "steps": [{"name": s.name, "action": s.action, "detail": s.detail} for s in self.steps],
        }


class NothingToShip(PreconditionFailed):
    """No open Release PR, and no merged one left half-shipped."""


# ----------------------------------------------------------------------------- go / no-go


# ----------------------------------------------------------------------------- text


def changelog_of(body: str) -> str:
    """The changelog of a Release PR body: between the opsgh markers, else the body without its checklist."""
    start = body.find(CHANGELOG_START)
    end = body.find(CHANGELOG_END, start + 1) if start != -1 else -1
    text = body[start + len(CHANGELOG_START):end] if start != -1 and end != -1 else _without_checklist(body)
    return re.sub(r"\n{3,}", "\n\n", without_html_comments(text)).strip()


_TASK = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+\[[ xX]\]\s")
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")


def _without_checklist(body: str) -> str:
    """Drop task-list items and any section whose heading says checklist (to the next heading as high)."""
    kept: list[str] = []
    skipping_level: int | None = None
    for line in body.replace("\r\n", "\n").split("\n"):
        heading = _HEADING.match(line)
        if heading:
            level = len(heading.group(1))
            if skipping_level is not None and level <= skipping_level:
                skipping_level = None
            if skipping_level is None and "checklist" in heading.group(2).lower():
                skipping_level = level
                continue
        if skipping_level is not None or _TASK.match(line):
            continue
        kept.append(line)
    return "\n".join(kept)


def _cut(text: str, limit: int, where: str) -> str:
    """`text` at most `limit` characters, cut at a line end, saying `where` the rest is."""
    if len(text) <= limit:
        return text
    note = f"\n\n… the changelog is cut here; the full list is {where}"
    room = max(0, limit - len(note))
    cut = text.rfind("\n", 0, room)
    return text[: cut if cut > 0 else room].rstrip() + note


def tag_base(template: str, day: str, merge_sha: str | None) -> str:
    """The tag name from `release.tag` before any same-day suffix ("{sha}": the merge commit, 7 digits)."""
    return template.replace("{date}", day).replace("{sha}", merge_sha[:7] if merge_sha else "{sha}")


def _suffix_of(name: str, base: str) -> int | None:
    """1 for `base` itself, N for `base.N` (N >= 2), None for any other name."""
    if name == base:
        return 1
    rest = name[len(base):] if name.startswith(base + ".") else ""
    return int(rest[1:]) if rest[1:].isdigit() and not rest[1:].startswith("0") and int(rest[1:]) >= 2 else None


def _tag_name(base: str, number: int) -> str:
    return base if number == 1 else f"{base}.{number}"


def choose_tag(base: str, existing: list[TagRef], merge_sha: str, *, unique: bool) -> tuple[str, bool]:
    """(tag, already there) for the merge commit among the tags that start with `base`.

    A tag of the family (`base`, `base.2`, ...) on the merge commit is reused. Otherwise the next free
    number; with `unique` (the template has {sha}) only `base` itself, and it must be free.
    """
    family = {n: t for t in existing if (n := _suffix_of(t.name, base)) is not None}
    ours = sorted(n for n, t in family.items() if t.commit_sha == merge_sha)
    if ours:
        return _tag_name(base, ours[0]), True
    if unique or not family:
        if base in {t.name for t in family.values()}:
            other = next(t for t in family.values() if t.name == base)
            raise Conflict(f"tag {base} already exists and points at {other.commit_sha[:7]}, not at the merge commit "
                           f"{merge_sha[:7]}",
                           "the tag name must be new for each release: delete the stray tag if it is a mistake, "
                           "or change release.tag; then re-run `opsgh ship`")
        return base, False
    return _tag_name(base, max(family) + 1), False


def _local(iso: str | None, clock: Clock, zone: ZoneInfo) -> datetime:
    if iso:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(zone)
    return datetime.fromtimestamp(clock.now(), UTC).astimezone(zone)


def message_context(config: Config, repo: str, pull: PullShipState, evaluation: Evaluation | None, *,
                    tag: str | None, release_url: str | None, deployment_id: int, deployment_state: str,
                    changelog: str, when: datetime, run_url: str | None) -> dict[str, Any]:
    """What the announcement, the Ops Log line and the Slack message are rendered from (a merged PR)."""
    merge_sha = str(pull.merge_commit_sha)
    return {
        "repo": repo, "version": tag or merge_sha[:7], "tag": tag, "merged_at_iso": pull.merged_at,
        "pr_number": pull.number, "pr_url": pull.url, "pr_title": pull.title, "merge_sha": merge_sha,
        "head_sha": pull.head_sha, "previous_sha": pull.base_sha, "staging": config.branches.staging,
        "production": config.branches.production, "merged_by": pull.merged_by, "date": when.strftime("%Y-%m-%d"),
        "when": when.strftime("%Y-%m-%d %H:%M %Z"), "release_url": release_url, "deployment_id": deployment_id,
        "deployment_state": deployment_state, "environment": ENVIRONMENT,
        "verdict": evaluation.verdict if evaluation else None,
        "green_required": list(evaluation.green_required) if evaluation else [],
        "changelog": _cut(changelog, COMMENT_CHANGELOG_LIMIT,
                          f"in the release notes: {release_url}" if release_url else "in the Release PR body"),
        "run_url": run_url,
    }


# ----------------------------------------------------------------------------- the run


class _Run(StepRun[ShipPort, ShipRequest]):
    """The state of one `ship` run (mutable while it goes)."""

    # ------------------------------------------------------------------ finding the PR

    def locate(self) -> PullShipState:
        staging, production = self.config.branches.staging, self.config.branches.production
        if self.request.pr_number is not None:
            pull = self.port.pull_ship_state(self.repo, self.request.pr_number)
            if (pull.head_ref, pull.base_ref) != (staging, production):
                raise PreconditionFailed(
                    f"#{pull.number} is {pull.head_ref} -> {pull.base_ref}, not a Release PR "
                    f"({staging} -> {production})", "name the Release PR, or run `opsgh ship` without a number")
            if pull.state == "CLOSED":
                raise PreconditionFailed(f"Release PR #{pull.number} was closed without merging",
                                         "reopen it or open a new one with `opsgh release`")
            return pull
        open_pulls = self.port.list_pulls_between(self.repo, staging, production, "open", limit=2)
        if open_pulls:
            return self.port.pull_ship_state(self.repo, open_pulls[0].number)
        # No open Release PR: the newest merged one may be half-shipped (a re-run after a failure).
        for candidate in self.port.list_pulls_between(self.repo, staging, production, "closed", limit=10):
            if candidate.merged:
                return self.port.pull_ship_state(self.repo, candidate.number)
        raise NothingToShip(f"no open Release PR {staging} -> {production} in {self.repo}",
                            "open one with `opsgh release`")

    # ------------------------------------------------------------------ the steps

    def run(self) -> ShipResult:
        pull = wait_for_mergeable(self.port, self.repo, self.locate(), self.clock)
        production = self.config.branches.production
        evaluation: Evaluation | None = None
        if pull.state == "OPEN":
            expected = self.request.head_sha
            if expected is not None and pull.head_sha != expected:
                raise PreconditionFailed(
                    f"the head of Release PR #{pull.number} is {pull.head_sha[:7]}, not {expected[:7]}: it moved "
                    "after the command was given, and nothing was shipped", "gate the new head, then ship it")
            self.step = "gate"
            evaluation = self.gate(pull)
            if evaluation.verdict != GO:
                self._refuse(pull, evaluation)
            green = ", ".join(evaluation.green_required) or "none required"
            self.record("gate", "done", f"GO at {pull.head_sha[:7]} (required checks green: {green})")
            if self.request.dry_run:
                return self._plan(pull, evaluation)
            pull = self.merge(pull, evaluation)
            merged_now = True
        else:
            branch = self.port.branch_checks(self.repo, production, rulesets=False)
            assert pull.merge_commit_sha is not None
            if branch.sha != pull.merge_commit_sha:
                raise NothingToShip(
                    f"Release PR #{pull.number} was merged as {pull.merge_commit_sha[:7]}, but {production} has "
                    f"moved on since (now {branch.sha[:7]}): there is nothing left to ship",
                    "open the next Release PR with `opsgh release`; to finish an old release's paperwork, "
                    "tag and announce it by hand")
            self.record("gate", "skipped", f"merged already at {pull.head_sha[:7]}: not re-evaluated")
            self.record("merge", "skipped", f"merged already as {pull.merge_commit_sha[:7]}"
                        + (f" by @{pull.merged_by}" if pull.merged_by else ""))
            if self.request.dry_run:
                return self._plan_resume(pull)
            merged_now = False
        return self.finish(pull, evaluation, merged_now)

    def gate(self, pull: PullShipState) -> Evaluation:
        """The go/no-go (opsgh.ops.gate) of `pull` at its head SHA, the one the merge pins."""
        from opsgh.gate.checks import passed_names
        from opsgh.gate.verdict import Verdict, VerdictState

        data = gather(self.port, self.repo, self.config, self.clock, pull)
        verdict = Verdict.combine(pull.head_sha, evaluate_gate(self.config, data, now_of(self.clock)))
        green = passed_names(self.config.gate.checks, data.branch.required_contexts, pull.checks)
        reasons = verdict.reasons if verdict.state is not VerdictState.GO else ()
        return Evaluation(str(verdict.state), pull.head_sha, reasons, verdict.warnings, tuple(green))

    def _refuse(self, pull: PullShipState, evaluation: Evaluation) -> None:
        reasons = "; ".join(evaluation.reasons)
        if evaluation.verdict == PENDING:
            raise PreconditionFailed(
                f"PENDING: Release PR #{pull.number} at {pull.head_sha[:7]} is not ready: {reasons}",
                "nothing was changed; wait until nothing is pending (running checks, GitHub computing the "
                "mergeability), then re-run `opsgh ship`")
        raise PreconditionFailed(f"NO-GO: Release PR #{pull.number} at {pull.head_sha[:7]}: {reasons}",
                                 "nothing was changed; fix the reasons above, then re-run `opsgh ship`")

    def merge(self, pull: PullShipState, evaluation: Evaluation) -> PullShipState:
        self.step = "merge"
        head = evaluation.head_sha

        def attempt() -> str:
            return self.port.merge_pull(self.repo, pull.number, sha=head,
                                        merge_method=self.config.release.merge_method)

        try:
            try:
                merge_sha = attempt()
            except AmbiguousWrite:
                again = self.port.pull_ship_state(self.repo, pull.number)
                if again.state == "MERGED" and again.merge_commit_sha and again.head_sha == head:
                    merge_sha = again.merge_commit_sha
                else:
                    merge_sha = attempt()  # not merged: `sha=` keeps a second try safe
        except Conflict as err:
            raise Conflict(
                f"the head of Release PR #{pull.number} moved after it was evaluated at {head[:7]}: GitHub refused "
                "the merge (409) and nothing was shipped",
                "re-run `opsgh ship` to evaluate the new head", status=err.status, method=err.method,
                path=err.path, request_id=err.request_id) from None
        except NotAllowed as err:
            raise PreconditionFailed(f"GitHub refused to merge Release PR #{pull.number}: {err.message}",
                                     "nothing was changed; fix what GitHub names, then re-run `opsgh ship`") from None
        # One read for what the merge answer lacks: when (the tag's day) and by whom.
        merged = self.port.pull_ship_state(self.repo, pull.number)
        self.record("merge", "done", f"merge commit {merge_sha[:7]} (parents {pull.base_sha[:7]} + {head[:7]})")
        if merged.state != "MERGED" or merged.merge_commit_sha != merge_sha:
            raise PreconditionFailed(f"GitHub answered the merge of #{pull.number} with {merge_sha[:7]} but reports "
                                     f"the pull request as {merged.state}", "re-run `opsgh ship` in a minute")
        return merged

    def finish(self, pull: PullShipState, evaluation: Evaluation | None, merged_now: bool) -> ShipResult:
        """Every step after the merge, each skipped when found done."""
        assert pull.merge_commit_sha is not None
        assert pull.merged_at is not None
        merge_sha = pull.merge_commit_sha
        zone = ZoneInfo(self.config.release.timezone)
        when = _local(pull.merged_at, self.clock, zone)
        changelog = changelog_of(pull.body)

        self.step = "tag"
        tag, tag_new = self.tag(pull, merge_sha, when)
        self.step = "release"
        release = self.release(pull, tag, merge_sha, changelog, when, look=not tag_new) if tag else None
        self.step = "deployment"
        deployment, status = self.deployment(pull, evaluation, tag, merge_sha, look=not merged_now)
        context = message_context(self.config, self.repo, pull, evaluation, tag=tag,
                                  release_url=release.url if release else None, deployment_id=deployment.id,
                                  deployment_state=status, changelog=changelog, when=when,
                                  run_url=self.request.run_url)
        self.step = "announcement"
        comment = self.announcement(pull, merge_sha, context, look=not merged_now)
        self.step = "ops log"
        ops_issue, line = self.find_ops_log(pull, merge_sha, look=not merged_now)
        if ops_issue is None:
            ops_issue = self.create_ops_log_issue()  # before Slack: its failure must not make Slack repeat
        self.step = "slack"
        self.slack(context, already=line is not None)
        self.step = "ops log"
        line = line or self.ops_log(ops_issue, merge_sha, context)
        return ShipResult(self.repo, pull.number, pull.url, pull.head_sha, evaluation, merge_sha, tag,
                          release.url if release else None, deployment.id, comment.url,
                          line.url if line else None, tuple(self.steps))

    def version_choice(self, pull: PullShipState, merge_sha: str) -> VersionChoice:
        """The semver tag: the bump `opsgh release` recorded in the marker, else the changelog's headings."""
        template = str(self.config.release.tag)
        seen = Fingerprint.parse(pull.body)
        level = seen.bump if seen is not None and seen.bump else bump_level_of_text(changelog_of(pull.body))
        tags = self.port.list_tags(self.repo, tag_prefix(template), peel=False)
        return choose_version(template, tags, merge_sha, level, self.config.release.initial_version)

    def tag(self, pull: PullShipState, merge_sha: str, when: datetime) -> tuple[str | None, bool]:
        template = self.config.release.tag
        if template is None:
            self.record("tag", "off", "release.tag is null: no tag")
            return None, False
        semver = self.config.release.versioning == "semver"
        how = ""
        if semver:
            choice = self.version_choice(pull, merge_sha)
            tag, found, how = choice.tag, choice.found, f"; {choice.describe()}"
        else:
            base = tag_base(template, when.strftime("%Y-%m-%d"), merge_sha)
            tag, found = choose_tag(base, self.port.list_tags(self.repo, base), merge_sha,
                                    unique="{sha}" in template)
        if found:
            self.record("tag", "skipped", f"{tag} points at {merge_sha[:7]} already")
            return tag, False

        def read_back() -> TagRef | None:
            return next((t for t in self.port.list_tags(self.repo, tag) if t.name == tag), None)

        try:
            made = write_once(lambda: self.port.create_tag(self.repo, tag, merge_sha), read_back)
        except ValidationFailed:  # "Reference already exists": someone made it since we looked
            taken = read_back()
            if taken is None:
                raise
            made = taken
        if made.commit_sha != merge_sha and semver:
            raise Conflict(f"version tag {tag} was created by someone else meanwhile and points at "
                           f"{made.commit_sha[:7]}: a version is never given to two commits",
                           "re-run `opsgh ship`: it bumps from the newest version tag (delete the stray tag "
                           "first if it is a mistake)")
        if made.commit_sha != merge_sha:
            raise Conflict(f"tag {tag} was created by someone else meanwhile and points at {made.commit_sha[:7]}",
                           "re-run `opsgh ship`: it picks the next free name")
        self.record("tag", "done", f"{tag} -> {merge_sha[:7]} (lightweight{how})")
        return tag, True

    def release(self, pull: PullShipState, tag: str, merge_sha: str, changelog: str, when: datetime, *,
                look: bool) -> ReleaseRef:
        found = self.port.get_release_by_tag(self.repo, tag) if look else None
        if found is not None:
            self.record("release", "skipped", f"{found.url} exists")
            return found
        body = render("ship_release_notes.md.j2", {
            "changelog": _cut(changelog, RELEASE_BODY_LIMIT - 2_000, f"in Release PR #{pull.number}: {pull.url}"),
            "pr_number": pull.number,
            "pr_url": pull.url, "merge_sha": merge_sha, "head_sha": pull.head_sha,
            "when": when.strftime("%Y-%m-%d %H:%M %Z"), "merged_by": pull.merged_by})
        made = write_once(
            lambda: self.port.create_release(self.repo, tag=tag, target_sha=merge_sha, name=tag, body=body),
            lambda: self.port.get_release_by_tag(self.repo, tag))
        self.record("release", "done", made.url)
        return made

    def deployment(self, pull: PullShipState, evaluation: Evaluation | None, tag: str | None, merge_sha: str, *,
                   look: bool) -> tuple[DeploymentRef, str]:
        def find() -> DeploymentRef | None:
            found = self.port.list_deployments(self.repo, sha=merge_sha, environment=ENVIRONMENT)
            return min(found, key=lambda d: d.id) if found else None

        deployment = find() if look else None
        found_one = deployment is not None
        if deployment is not None:
            self.record("deployment", "skipped", f"{ENVIRONMENT} deployment {deployment.id} for {merge_sha[:7]} exists")
        else:
            verified = list(evaluation.green_required) if evaluation else []
            payload = {"opsgh": {
                "release_pr": pull.number, "head_sha": pull.head_sha, "tag": tag,
                "required_contexts_verified": verified,
                "required_contexts_reason": (
                    f"none passed to GitHub: the merge commit {merge_sha[:7]} is new and its own checks have not "
                    f"run; the required checks were verified green on the head {pull.head_sha[:7]} it merges")}}
            description = f"{tag or merge_sha[:7]}: Release PR #{pull.number}"
            deployment = write_once(
                lambda: self.port.create_deployment(self.repo, sha=merge_sha, environment=ENVIRONMENT,
                                                    description=description, required_contexts=(),
                                                    payload=payload),
                find)
            self.record("deployment", "done", f"{ENVIRONMENT} deployment {deployment.id} for {merge_sha[:7]}")
        created = deployment
        states = self.port.list_deployment_states(self.repo, created.id) if found_one else []
        if states:
            self.record("deployment status", "skipped", f"deployment {created.id} is {states[0]}")
            return created, states[0]
        description = "shipped by opsgh; `opsgh verify` marks it successful"
        write_once(
            lambda: self.port.create_deployment_status(self.repo, created.id, state=DEPLOYMENT_STATE,
                                                       description=description,
                                                       log_url=self.request.run_url or pull.url),
            lambda: True if self.port.list_deployment_states(self.repo, created.id) else None)
        self.record("deployment status", "done", f"deployment {created.id} is {DEPLOYMENT_STATE}")
        return created, DEPLOYMENT_STATE

    def _find_comment(self, number: int, marker: str, since: str | None) -> CommentRef | None:
        return next((c for c in self.port.list_issue_comments_since(self.repo, number, since) if marker in c.body),
                    None)

    def announcement(self, pull: PullShipState, merge_sha: str, context: dict[str, Any], *,
                     look: bool) -> CommentRef:
        marker = ANNOUNCEMENT_MARKER.format(sha=merge_sha)
        found = self._find_comment(pull.number, marker, pull.merged_at) if look else None
        if found is not None:
            self.record("announcement", "skipped", f"{found.url} exists")
            return found
        body = render("ship_announcement.md.j2", {**context, "marker": marker})
        made = write_once(lambda: self.port.create_issue_comment(self.repo, pull.number, body),
                          lambda: self._find_comment(pull.number, marker, pull.merged_at))
        self.record("announcement", "done", made.url)
        return made

    def find_ops_log(self, pull: PullShipState, merge_sha: str, *,
                     look: bool) -> tuple[IssueRef | None, CommentRef | None]:
        title = self.config.ops_log.issue
        if title is None:
            return None, None
        issue = self.port.find_open_issue(self.repo, title)
        if issue is None or not look:
            return issue, None
        line = self._find_comment(issue.number, OPS_LOG_MARKER.format(sha=merge_sha), pull.merged_at)
        if line is not None:
            self.record("ops log", "skipped", f"{line.url} exists")
        return issue, line

    def slack(self, context: dict[str, Any], *, already: bool) -> None:
        if self.notify is None:
            self.record("slack", "off", "no Slack webhook (notify.slack_webhook_env unset or its variable empty)")
        elif already:
            self.record("slack", "skipped", "the Ops Log line records that Slack was told")
        else:
            self.notify(render("ship_slack.md.j2", context).strip())
            self.record("slack", "done", "posted to the Slack webhook")

    def create_ops_log_issue(self) -> IssueRef | None:
        title = self.config.ops_log.issue
        if title is None:
            return None
        body = render("ship_ops_log_issue.md.j2", {"title": title})
        return write_once(lambda: self.port.create_issue(self.repo, title, body),
                          lambda: self.port.find_open_issue(self.repo, title))

    def ops_log(self, issue: IssueRef | None, merge_sha: str, context: dict[str, Any]) -> CommentRef | None:
        if issue is None:
            self.record("ops log", "off", "ops_log.issue is null: no Ops Log")
            return None
        marker = OPS_LOG_MARKER.format(sha=merge_sha)
        text = render("ship_ops_log.md.j2", {**context, "marker": marker,
                                             "slack": self.notify is not None})
        log_issue = issue
        made = write_once(lambda: self.port.create_issue_comment(self.repo, log_issue.number, text),
                          lambda: self._find_comment(log_issue.number, marker, context["merged_at_iso"]))
        self.record("ops log", "done", made.url)
        return made

    # ------------------------------------------------------------------ dry run

    def _plan(self, pull: PullShipState, evaluation: Evaluation) -> ShipResult:
        """What a real run would do now, from reads only."""
        zone = ZoneInfo(self.config.release.timezone)
        when = _local(None, self.clock, zone)
        self.record("merge", "would", f"merge #{pull.number} with a {self.config.release.merge_method} commit, "
                    f"sha={pull.head_sha[:7]} (a push in between makes GitHub refuse)")
        template = self.config.release.tag
        tag: str | None = None
        if template is None:
            self.record("tag", "off", "release.tag is null: no tag")
            self.record("release", "off", "no tag, no GitHub Release")
        elif self.config.release.versioning == "semver":
            choice = self.version_choice(pull, "")
            tag = choice.tag
            self.record("tag", "would", f"create {tag} on the merge commit ({choice.describe()})")
            self.record("release", "would", f"publish GitHub Release {tag} with the changelog of #{pull.number}")
        else:
            base = tag_base(template, when.strftime("%Y-%m-%d"), None)
            if "{sha}" in template:
                tag = base.replace("{sha}", "<merge sha>")
            else:
                tag, _ = choose_tag(base, self.port.list_tags(self.repo, base), "", unique=False)
            self.record("tag", "would", f"create {tag} on the merge commit (if merged today, "
                        f"{when.strftime('%Y-%m-%d')} in {self.config.release.timezone})")
            self.record("release", "would", f"publish GitHub Release {tag} with the changelog of #{pull.number}")
        self.record("deployment", "would", f"create a {ENVIRONMENT} deployment of the merge commit "
                    "(auto_merge false, required_contexts [])")
        self.record("deployment status", "would", f"set it {DEPLOYMENT_STATE}")
        self.record("announcement", "would", f"comment the release start on #{pull.number}")
        if self.notify is None:
            self.record("slack", "off", "no Slack webhook (notify.slack_webhook_env unset or its variable empty)")
        else:
            self.record("slack", "would", "post the release start to the Slack webhook")
        title = self.config.ops_log.issue
        if title is None:
            self.record("ops log", "off", "ops_log.issue is null: no Ops Log")
        else:
            issue = self.port.find_open_issue(self.repo, title)
            where = f"issue #{issue.number}" if issue else f"a new issue {title!r}"
            self.record("ops log", "would", f"append a line to {where}")
        return ShipResult(self.repo, pull.number, pull.url, pull.head_sha, evaluation, None, tag, None, None, None,
                          None, tuple(self.steps), dry_run=True)


    def _plan_resume(self, pull: PullShipState) -> ShipResult:
        """What a re-run would still do for a merged Release PR, from reads only."""
        assert pull.merge_commit_sha is not None
        merge_sha = pull.merge_commit_sha
        when = _local(pull.merged_at, self.clock, ZoneInfo(self.config.release.timezone))
        template = self.config.release.tag
        tag: str | None = None
        release: ReleaseRef | None = None
        if template is None:
            self.record("tag", "off", "release.tag is null: no tag")
            self.record("release", "off", "no tag, no GitHub Release")
        else:
            if self.config.release.versioning == "semver":
                choice = self.version_choice(pull, merge_sha)
                tag, found = choice.tag, choice.found
            else:
                base = tag_base(template, when.strftime("%Y-%m-%d"), merge_sha)
                tag, found = choose_tag(base, self.port.list_tags(self.repo, base), merge_sha,
                                        unique="{sha}" in template)
            self.record("tag", "skipped" if found else "would",
                        f"{tag} points at {merge_sha[:7]} already" if found else f"create {tag} on {merge_sha[:7]}")
            release = self.port.get_release_by_tag(self.repo, tag) if found else None
            self.record("release", "skipped" if release else "would",
                        f"{release.url} exists" if release else f"publish GitHub Release {tag}")
        deployments = self.port.list_deployments(self.repo, sha=merge_sha, environment=ENVIRONMENT)
        deployment = min(deployments, key=lambda d: d.id) if deployments else None
        states = self.port.list_deployment_states(self.repo, deployment.id) if deployment else []
        self.record("deployment", "skipped" if deployment else "would",
                    f"{ENVIRONMENT} deployment {deployment.id} exists" if deployment
                    else f"create a {ENVIRONMENT} deployment of {merge_sha[:7]}")
        self.record("deployment status", "skipped" if states else "would",
                    f"it is {states[0]}" if states else f"set it {DEPLOYMENT_STATE}")
        comment = self._find_comment(pull.number, ANNOUNCEMENT_MARKER.format(sha=merge_sha), pull.merged_at)
        self.record("announcement", "skipped" if comment else "would",
                    f"{comment.url} exists" if comment else f"comment the release start on #{pull.number}")
        title = self.config.ops_log.issue
        line: CommentRef | None = None
        issue = self.port.find_open_issue(self.repo, title) if title is not None else None
        if issue is not None:
            line = self._find_comment(issue.number, OPS_LOG_MARKER.format(sha=merge_sha), pull.merged_at)
        if self.notify is None:
            self.record("slack", "off", "no Slack webhook (notify.slack_webhook_env unset or its variable empty)")
        else:
            self.record("slack", "skipped" if line else "would",
                        "the Ops Log line records that Slack was told" if line else "post the release start")
        if title is None:
            self.record("ops log", "off", "ops_log.issue is null: no Ops Log")
        else:
            where = f"issue #{issue.number}" if issue else f"a new issue {title!r}"
            self.record("ops log", "skipped" if line else "would",
                        f"{line.url} exists" if line else f"append a line to {where}")
        return ShipResult(self.repo, pull.number, pull.url, pull.head_sha, None, merge_sha, tag,
                          release.url if release else None, deployment.id if deployment else None,
                          comment.url if comment else None, line.url if line else None, tuple(self.steps),
                          dry_run=True)


def ship(port: ShipPort, config: Config, request: ShipRequest, clock: Clock, *,
         notify: Notify | None = None) -> ShipResult:
    """Ship the Release PR (see the module docstring). `notify(text)` posts to Slack when configured.

    Raises PreconditionFailed (NO-GO, PENDING, nothing to ship: nothing changed), Conflict (the head
    moved: nothing shipped; or a tag name taken meanwhile), and the gateway's errors; an error after the
    merge names the step and what was done, and re-running finishes the rest.
    """
    run = _Run(port, config, request, clock, notify)
    try:
        return run.run()
    except OpsghError as err:
        done = [s.name for s in run.steps if s.action in ("done", "skipped") and s.name != "gate"]
        if done and not request.dry_run:
            err.message = f"ship stopped at step {run.step!r}: {err.message}"
            err.args = (err.message,)
            # A hint that says how to fix this step (a permission to grant) stays; then what is done.
            fix = f"{err.hint}; " if err.hint and not isinstance(err, AmbiguousWrite) else ""
            err.hint = (f"{fix}done so far: {', '.join(done)}. Re-run `opsgh ship` (or `opsgh ship <PR>`): it "
                        "finishes the remaining steps and repeats none")
        raise
