"""`opsgh rollback`: revert the last release on production, record it, announce it.

The runbook's fast path ("open the last Release PR, Revert, base = prod, squash and merge, verify
/healthz, Ops Log line; no force-pushes"), each step find-or-create so that a re-run finishes what is
left and repeats nothing (a rollback that already happened is reported and nothing is created):

1. the Release PR: the newest merged staging -> production, or the one named (`--release N`, which
   must be that newest one: reverting an older release under a newer one is for people to decide).
2. revert PR: the one made for it already (a pull request into production opened after the release
   merged, from GitHub's `revert-N-...` branch or whose body starts "Reverts OWNER/REPO#N" or carries
   opsgh's marker), else GraphQL `revertPullRequest` (REST has none): GitHub's own "Revert", a branch
   from production with the revert of the merge commit; the new pull request is the payload's
   `revertPullRequest`. GitHub refusing (the release no longer reverts cleanly) is `RollbackBlocked`
   with the manual path.
3. merge: `mergeable` waited for (bounded, never read null as false); a conflict is RollbackBlocked;
   then merged with `rollback.merge_method`, pinned with `sha=` to the head that was read. Production's
   protection applies like to any pull request: GitHub refusing (a required check, a review) is reported
   with its reason (exit 4) after the announcement says so, and a re-run merges. `--no-merge` stops here.
4. deployment: `production` for the revert's merge commit (`in_progress`: merging into production is
   what deploys, `opsgh verify` decides), then the rolled-back release's deployment `inactive`.
5. postmortem (`rollback.postmortem_issue`): the runbook's template with the timeline opsgh knows
   (release merged, rollback requested, rollback merged), labelled and assigned.
6. announcement: the runbook's rollback announcement on the Release PR, one comment edited in place
   when the status changes (in progress, blocked, complete).
7. Slack when configured, then the Ops Log line (written last; it records that Slack was told).

What the next release must do (the re-apply: a revert of the revert) is `opsgh.ops.reapply`, which
`opsgh release` runs. The reason and who asked are kept in the revert PR (a hidden marker), so a re-run
by someone else or without `--reason` tells the same story.

Pure orchestration over `RollbackPort`: no click, no HTTP client, no environment. `rollback()` is a
plain function: `opsgh verify --rollback-on-fail` calls it with a reason.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from opsgh.clock import Clock
from opsgh.config import Config
from opsgh.errors import Conflict, NotAllowed, OpsghError, PreconditionFailed, ValidationFailed
from opsgh.ops.gate import wait_for_mergeable
from opsgh.ops.merging import merge_at_head, merge_blockers
from opsgh.ops.ship import ENVIRONMENT
from opsgh.ops.steps import Notify, Step, StepRun
from opsgh.ops.writes import write_once
from opsgh.ports import CommentRef, DeploymentRef, IssueRef, PullInfo, PullShipState, RollbackPort
from opsgh.render.ship import render

REVERT_MARKER = "<!-- opsgh:rollback {data} -->"
ANNOUNCEMENT_MARKER = "<!-- opsgh:rollback-announcement revert={number} -->"
POSTMORTEM_MARKER = "<!-- opsgh:postmortem release={number} -->"
OPS_LOG_MARKER = "<!-- opsgh:ops-log rollback {sha} -->"
DEPLOYMENT_STATE = "in_progress"
NO_REASON = "no reason given"
_MARKER_DATA = re.compile(r"<!-- opsgh:rollback (\{.*?\}) -->")


# ----------------------------------------------------------------------------- values


@dataclass(frozen=True, slots=True)
class RollbackRequest:
    """What the caller asks for. `actor`: who asks (Actions: GITHUB_ACTOR; a slash command: its author);
    None: the token's user, as GitHub records it on the revert PR."""

    repo: str
    reason: str = ""
    release_pr: int | None = None
    merge: bool = True
    dry_run: bool = False
    actor: str | None = None
    run_url: str | None = None


@dataclass(frozen=True, slots=True)
class RollbackResult:
    repo: str
    release_pr: int
    release_url: str
    release_title: str
    reverted_sha: str  # the Release PR's merge commit
    revert_pr: int | None  # None: a dry run before the revert PR exists
    revert_url: str | None
    revert_sha: str | None  # the revert's merge commit on production; None until merged
    reason: str
    requested_by: str | None
    deployment_id: int | None
    inactive_deployments: tuple[int, ...]
    announcement_url: str | None
    postmortem_url: str | None
    ops_log_url: str | None
    steps: tuple[Step, ...]
    dry_run: bool = False

    @property
    def done(self) -> tuple[str, ...]:
        return tuple(step.name for step in self.steps if step.action == "done")

    @property
    def skipped(self) -> tuple[str, ...]:
        return tuple(step.name for step in self.steps if step.action == "skipped")

    @property
    def already(self) -> bool:
        """The release was rolled back before this run, and this run found nothing left to do."""
        return self.revert_sha is not None and not self.dry_run and not self.done

    def lines(self) -> list[str]:
        """A human summary, one step a line (the CLI prints it)."""
        release = f"Release PR #{self.release_pr} ({self.release_url})"
        revert = f"revert PR #{self.revert_pr} ({self.revert_url})" if self.revert_pr else "a revert PR"
        if self.dry_run:
            head = f"dry run, nothing changed: would roll back {release} with {revert}"
        elif self.already:
            head = (f"{release} was rolled back already: {revert} merged as {str(self.revert_sha)[:7]}; "
                    "nothing to do")
        elif self.revert_sha:
            head = f"rolled back {release}: {revert} merged as {self.revert_sha[:7]}"
        else:
            head = f"rollback of {release} in progress: {revert} is open, not merged"
        out = [head, f"  reason: {self.reason}"]
        width = max(len(step.name) for step in self.steps) if self.steps else 0
        out += [f"  {step.name:<{width}}  {step.action:<7}  {step.detail}" for step in self.steps]
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "repo": self.repo, "release_pr": self.release_pr, "release_url": self.release_url,
            "release_title": self.release_title, "reverted_sha": self.reverted_sha, "revert_pr": self.revert_pr,
            "revert_url": self.revert_url, "revert_sha": self.revert_sha, "merged": self.revert_sha is not None,
            "already": self.already, "reason": self.reason, "requested_by": self.requested_by,
            "deployment_id": self.deployment_id, "inactive_deployments": list(self.inactive_deployments),
            "announcement_url": self.announcement_url, "postmortem_url": self.postmortem_url,
            "ops_log_url": self.ops_log_url, "dry_run": self.dry_run,
            "steps": [{"name": s.name, "action": s.action, "detail": s.detail} for s in self.steps],
        }


class NothingToRollBack(PreconditionFailed):
    """No merged Release PR, or the one named is not the last release."""


class RollbackBlocked(PreconditionFailed):
    """GitHub cannot revert the release by itself (conflicts): the hint is the manual path."""

    def __init__(self, message: str, manual_steps: list[str]) -> None:
        self.manual_steps = tuple(manual_steps)
        steps = "\n".join(f"  {step}" for step in manual_steps)
        super().__init__(message, f"nothing was merged; the manual path (no force-push, protection applies):\n{steps}")


class RevertNotMerged(PreconditionFailed):
    """The revert PR is open and GitHub does not merge it yet (protection, mergeability unknown)."""


# ----------------------------------------------------------------------------- text


def revert_marker(release_pr: int, requested_by: str | None, reason: str) -> str:
    """The hidden marker of opsgh's revert PR: JSON with `-`, `<`, `>` escaped (an HTML comment holds it)."""
    data = json.dumps({"release": release_pr, "requested_by": requested_by, "reason": reason}, ensure_ascii=True)
    escaped = data.replace("-", "\\u002d").replace("<", "\\u003c").replace(">", "\\u003e")
    return REVERT_MARKER.format(data=escaped)


def marker_data(body: str | None) -> dict[str, Any]:
    """What `revert_marker` wrote into a revert PR body ({} when there is none or it is broken)."""
    found = _MARKER_DATA.search(body or "")
    if found is None:
        return {}
    try:
        data = json.loads(found.group(1))
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def is_revert_of(pull: PullInfo, repo: str, release_pr: int) -> bool:
    """Whether `pull` (into production) reverts Release PR `release_pr`: opsgh's marker, GitHub's branch
    name `revert-N-...`, or GitHub's body "Reverts OWNER/REPO#N"."""
    if marker_data(pull.body).get("release") == release_pr:
        return True
    if pull.head_ref.startswith(f"revert-{release_pr}-"):
        return True
    first = (pull.body or "").strip().split("\n", 1)[0].strip().lower()
    return first == f"reverts {repo.lower()}#{release_pr}"


def _moment(iso: str | None, clock: Clock) -> datetime:
    if iso:
        return datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return datetime.fromtimestamp(clock.now(), UTC)


def elapsed_text(start: datetime, end: datetime) -> str:
    minutes = max(0, int((end - start).total_seconds() // 60))
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [f"{days} d"] * bool(days) + [f"{hours} h"] * bool(hours) + [f"{minutes} min"]
    return " ".join(parts)


def manual_steps(config: Config, repo: str, release: PullShipState) -> list[str]:
    """The runbook's path by hand, when GitHub cannot make or merge the revert itself."""
    production = config.branches.production
    branch = f"revert-{release.number}-{release.head_ref}"
    return [
        f"git fetch origin && git switch -c {branch} origin/{production}",
        f"git revert -m 1 {release.merge_commit_sha}   # resolve the conflicts, `git add`, `git revert --continue`",
        f"git push origin {branch}",
        f"open a pull request {branch} -> {production} whose description starts with "
        f"\"Reverts {repo}#{release.number}\", and merge it once {production}'s protection allows",
        f"then re-run `opsgh rollback --release {release.number}`: it finds that pull request and records the "
        "rest (deployment, announcement, postmortem, Ops Log)",
    ]


# ----------------------------------------------------------------------------- the run


class _Run(StepRun[RollbackPort, RollbackRequest]):
    """The state of one `rollback` run (mutable while it goes)."""

    # ------------------------------------------------------------------ finding

    def locate(self) -> PullShipState:
        """The Release PR to roll back: merged, and the last release."""
        staging, production = self.config.branches.staging, self.config.branches.production
        merged = [p for p in self.port.list_pulls_between(self.repo, staging, production, "closed", limit=10)
                  if p.merged]
        number = self.request.release_pr if self.request.release_pr is not None else (
            merged[0].number if merged else None)
        if number is None:
            raise NothingToRollBack(f"no merged Release PR {staging} -> {production} in {self.repo}: nothing to "
                                    "roll back", "name the pull request to revert: `opsgh rollback --release 123`")
        pull = self.port.pull_ship_state(self.repo, number)
        if (pull.head_ref, pull.base_ref) != (staging, production):
            raise NothingToRollBack(f"#{pull.number} is {pull.head_ref} -> {pull.base_ref}, not a Release PR "
                                    f"({staging} -> {production})",
                                    "name a Release PR, or run `opsgh rollback` without --release for the last one")
        if pull.state != "MERGED" or pull.merge_commit_sha is None:
            raise NothingToRollBack(f"Release PR #{pull.number} is {pull.state.lower()}, not merged: {production} "
                                    "has nothing of it to roll back", "close it, or fix forward on "
                                    f"{staging} and refresh it with `opsgh release`")
        if merged and merged[0].number != pull.number:
            raise NothingToRollBack(
                f"Release PR #{pull.number} is not the last release: #{merged[0].number} was merged into "
                f"{production} after it", f"roll back #{merged[0].number} first (`opsgh rollback`); reverting an "
                "older release under a newer one is for people to decide: revert it by hand")
        return pull

    def find_revert(self, release: PullShipState) -> PullInfo | None:
        """The newest open or merged pull request into production that reverts `release`, among those opened
        since it merged (newest first: the scan stops at the release's merge)."""
        since = _moment(release.merged_at, self.clock)
        for pull in self.port.list_pulls(self.repo, state="all", base=self.config.branches.production,
                                         sort="created", direction="desc"):
            if _moment(pull.created_at, self.clock) < since:
                return None
            if (pull.state == "open" or pull.merged_at) and is_revert_of(pull, self.repo, release.number):
                return pull
        return None

    # ------------------------------------------------------------------ the steps

    def run(self) -> RollbackResult:
        release = self.locate()
        self.step = "revert"
        found = self.find_revert(release)
        meta = marker_data(found.body) if found else {}
        reason = str(meta.get("reason") or self.request.reason.strip() or NO_REASON)
        if found is None and self.request.dry_run:
            return self.plan(release, reason)
        if found is None:
            revert = self.revert(release, reason)
            meta = {"requested_by": self.request.actor}
        else:
            revert = self.port.pull_ship_state(self.repo, found.number)
            self.record("revert", "skipped", f"revert PR #{revert.number} exists ({revert.state.lower()})")
        requested_by = str(meta.get("requested_by") or "") or revert.author
        blocked: RevertNotMerged | None = None
        merged_now = False
        self.step = "merge"
        if revert.state == "MERGED":
            self.record("merge", "skipped", f"merged already as {str(revert.merge_commit_sha)[:7]}"
                        + (f" by @{revert.merged_by}" if revert.merged_by else ""))
        elif revert.state == "CLOSED":
            raise PreconditionFailed(f"revert PR #{revert.number} was closed without merging",
                                     "reopen it, or delete its branch and re-run `opsgh rollback` for a new one")
        elif not self.request.merge:
            self.record("merge", "off", f"--no-merge: revert PR #{revert.number} stays open for review")
        elif self.request.dry_run:
            self.record("merge", "would", f"merge #{revert.number} ({self.config.rollback.merge_method}, "
                        f"sha={revert.head_sha[:7]}); GitHub says mergeable: {revert.mergeable.lower()}")
        else:
            try:
                revert = self.merge(release, revert, reason)
                merged_now = self.steps[-1].action == "done"  # not when someone merged it meanwhile
            except RevertNotMerged as err:
                blocked = err
        context = self.context(release, revert, reason, requested_by, blocked)
        deployment: DeploymentRef | None = None
        inactive: tuple[int, ...] = ()
        postmortem: IssueRef | None = None
        if revert.state == "MERGED":
            self.step = "deployment"
            deployment, state = self.deployment(release, revert, look=not merged_now)
            self.step = "previous deployment"
            inactive = self.deactivate(release, revert)
            context.update(deployment_id=deployment.id, deployment_state=state, inactive=list(inactive))
            self.step = "postmortem"
            postmortem = self.postmortem(release, revert, context, look=not merged_now)
            context.update(postmortem_url=postmortem.url if postmortem else None,
                           postmortem_number=postmortem.number if postmortem else None)
        self.step = "announcement"
        # The marker names the revert PR: one made by this run has no announcement to find yet.
        announcement = self.announcement(release, revert, context, look=found is not None)
        line: CommentRef | None = None
        if revert.state == "MERGED":
            line = self.ops_log_and_slack(revert, context, look=not merged_now)
        if blocked is not None:
            self.step = "merge"
            raise blocked
        return RollbackResult(self.repo, release.number, release.url, release.title, str(release.merge_commit_sha),
                              revert.number, revert.url, revert.merge_commit_sha if revert.state == "MERGED" else None,
                              reason, requested_by, deployment.id if deployment else None, inactive,
                              announcement.url if announcement else None, postmortem.url if postmortem else None,
                              line.url if line else None, tuple(self.steps), dry_run=self.request.dry_run)

    def revert(self, release: PullShipState, reason: str) -> PullShipState:
        """GitHub's "Revert" (GraphQL revertPullRequest), read back after an ambiguous failure."""
        production = self.config.branches.production
        body = render("rollback_revert_body.md.j2", {
            "repo": self.repo, "marker": revert_marker(release.number, self.request.actor, reason),
            "release_number": release.number, "release_title": release.title, "reason": reason,
            "requested_by": self.request.actor, "reverted_sha": release.merge_commit_sha,
            "previous_sha": release.base_sha, "production": production, "staging": self.config.branches.staging,
            "merge_method": self.config.rollback.merge_method})

        def find() -> PullShipState | None:
            found = self.find_revert(release)
            return self.port.pull_ship_state(self.repo, found.number) if found else None

        try:
            made = write_once(lambda: self.port.revert_pull(self.repo, release.node_id,
                                                            title=f'Revert "{release.title}"'[:256], body=body), find)
        except ValidationFailed as err:
            raise RollbackBlocked(f"GitHub cannot revert Release PR #{release.number} by itself: {err.message}",
                                  manual_steps(self.config, self.repo, release)) from None
        self.record("revert", "done", f"revert PR #{made.number} {made.head_ref} -> {production} ({made.url})")
        return made

    def merge(self, release: PullShipState, revert: PullShipState, reason: str) -> PullShipState:
        """Merge the revert PR once GitHub computed its mergeability, pinned to the head that was read."""
        production = self.config.branches.production
        revert = wait_for_mergeable(self.port, self.repo, revert, self.clock)
        if revert.state == "MERGED":
            self.record("merge", "skipped", f"merged meanwhile as {str(revert.merge_commit_sha)[:7]}")
            return revert
        if revert.mergeable == "CONFLICTING":
            raise RollbackBlocked(
                f"revert PR #{revert.number} conflicts with {production}: {production} changed the same lines "
                f"since Release PR #{release.number}", manual_steps(self.config, self.repo, release))
        if revert.mergeable != "MERGEABLE":
            raise RevertNotMerged(f"GitHub is still computing whether revert PR #{revert.number} can merge",
                                  f"re-run `opsgh rollback` in a minute: it finds #{revert.number} and merges it")
        hint = (f"{production}'s protection applies to a rollback like to any pull request, and opsgh never "
                f"bypasses it: get #{revert.number} what is missing ({revert.url}), then re-run `opsgh rollback`: "
                "it finds the revert PR, merges it and finishes")
        blockers = merge_blockers(self.port, self.repo, revert)
        if blockers:
            raise RevertNotMerged(f"revert PR #{revert.number} cannot merge into {production} yet: "
                                  + "; ".join(blockers), hint)
        head = revert.head_sha
        method = self.config.rollback.merge_method
        message = (f"Reverts {self.repo}#{release.number}: rollback of \"{release.title}\".\n\nReason: {reason}\n\n"
                   f"This reverts commit {release.merge_commit_sha}.\n")
        try:
            merge_at_head(self.port, self.repo, revert, method, commit_title=f"{revert.title} (#{revert.number})",
                          commit_message=message)
        except NotAllowed as err:
            raise RevertNotMerged(
                f"GitHub refused to merge revert PR #{revert.number} into {production}: {err.message}", hint) from None
        except Conflict as err:
            raise Conflict(f"revert PR #{revert.number} moved after it was read at {head[:7]}: GitHub refused the "
                           "merge (409) and nothing was merged", "re-run `opsgh rollback`", status=err.status,
                           method=err.method, path=err.path, request_id=err.request_id) from None
        merged = self.port.pull_ship_state(self.repo, revert.number)
        if merged.state != "MERGED" or merged.merge_commit_sha is None:
            raise PreconditionFailed(f"GitHub accepted the merge of revert PR #{revert.number} but reports it as "
                                     f"{merged.state}", "re-run `opsgh rollback` in a minute")
        self.record("merge", "done", f"{method} of #{revert.number} at {head[:7]}: {production} is now "
                    f"{merged.merge_commit_sha[:7]}")
        return merged

    def context(self, release: PullShipState, revert: PullShipState, reason: str, requested_by: str | None,
                blocked: OpsghError | None) -> dict[str, Any]:
        """What the announcement, the postmortem, the Ops Log line and Slack are rendered from."""
        zone = ZoneInfo(self.config.release.timezone)
        released = _moment(release.merged_at, self.clock)
        requested = _moment(revert.created_at, self.clock)
        merged = _moment(revert.merged_at, self.clock) if revert.merged_at else None

        def local(moment: datetime) -> str:
            return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")

        return {
            "repo": self.repo, "staging": self.config.branches.staging,
            "production": self.config.branches.production, "environment": ENVIRONMENT,
            "release_number": release.number, "release_url": release.url, "release_title": release.title,
            "reverted_sha": str(release.merge_commit_sha), "previous_sha": release.base_sha,
            "revert_number": revert.number, "revert_url": revert.url, "revert_sha": revert.merge_commit_sha,
            "merged": revert.state == "MERGED", "merged_by": revert.merged_by, "blocked": blocked.message if blocked
            else None, "no_merge": not self.request.merge, "reason": reason, "requested_by": requested_by,
            "release_merged_at": local(released), "requested_at": local(requested),
            "rollback_merged_at": local(merged) if merged else None,
            "duration": elapsed_text(released, merged) if merged else None, "timezone": self.config.release.timezone,
            "date": (merged or requested).astimezone(zone).strftime("%Y-%m-%d"),
            "deployment_id": None, "deployment_state": None, "inactive": [], "postmortem_url": None,
            "postmortem_number": None,
        }

    def deployment(self, release: PullShipState, revert: PullShipState, *, look: bool) -> tuple[DeploymentRef, str]:
        """The production deployment of the revert's merge commit, and its first status."""
        sha = str(revert.merge_commit_sha)

        def find() -> DeploymentRef | None:
            found = self.port.list_deployments(self.repo, sha=sha, environment=ENVIRONMENT)
            return min(found, key=lambda d: d.id) if found else None

        deployment = find() if look else None
        states = self.port.list_deployment_states(self.repo, deployment.id) if deployment else []
        if deployment is not None:
            self.record("deployment", "skipped", f"{ENVIRONMENT} deployment {deployment.id} for {sha[:7]} exists")
        elif self.request.dry_run:
            self.record("deployment", "would", f"create a {ENVIRONMENT} deployment of {sha[:7]} ({DEPLOYMENT_STATE})")
            return DeploymentRef(0, sha, sha, ENVIRONMENT, ""), DEPLOYMENT_STATE
        else:
            payload = {"opsgh": {"rollback_of": release.number, "revert_pr": revert.number,
                                 "reverted_sha": release.merge_commit_sha}}
            deployment = write_once(lambda: self.port.create_deployment(
                self.repo, sha=sha, environment=ENVIRONMENT, required_contexts=(), payload=payload,
                description=f"rollback of Release PR #{release.number} (revert PR #{revert.number})"), find)
            self.record("deployment", "done", f"{ENVIRONMENT} deployment {deployment.id} for {sha[:7]}")
        if states or self.request.dry_run:
            return deployment, states[0] if states else DEPLOYMENT_STATE
        made = deployment
        write_once(lambda: self.port.create_deployment_status(
            self.repo, made.id, state=DEPLOYMENT_STATE, log_url=self.request.run_url or revert.url,
            description="rolled back by opsgh; `opsgh verify` marks it successful"),
            lambda: True if self.port.list_deployment_states(self.repo, made.id) else None)
        return deployment, DEPLOYMENT_STATE

    def deactivate(self, release: PullShipState, revert: PullShipState) -> tuple[int, ...]:
        """Mark the rolled-back release's production deployments `inactive` (each once)."""
        sha = str(release.merge_commit_sha)
        deployments = self.port.list_deployments(self.repo, sha=sha, environment=ENVIRONMENT)
        if not deployments:
            self.record("previous deployment", "skipped", f"no {ENVIRONMENT} deployment of {sha[:7]} was recorded")
            return ()
        changed, unchanged = [], []
        for deployment in sorted(deployments, key=lambda d: d.id):
            states = self.port.list_deployment_states(self.repo, deployment.id)
            if states and states[0] == "inactive":
                unchanged.append(deployment.id)
                continue
            changed.append(deployment.id)
            if self.request.dry_run:
                continue
            self._mark_inactive(deployment.id, revert)
        ids = ", ".join(str(i) for i in changed or unchanged)
        action = ("would" if self.request.dry_run else "done") if changed else "skipped"
        self.record("previous deployment", action,
                    f"{ENVIRONMENT} deployment {ids} of {sha[:7]} {'marked' if changed else 'is'} inactive")
        return tuple(sorted(changed + unchanged))

    def _mark_inactive(self, deployment_id: int, revert: PullShipState) -> None:
        write_once(lambda: self.port.create_deployment_status(
            self.repo, deployment_id, state="inactive", log_url=revert.url,
            description=f"rolled back by revert PR #{revert.number}"),
            lambda: True if self.port.list_deployment_states(self.repo, deployment_id)[:1] == ["inactive"] else None)

    def postmortem(self, release: PullShipState, revert: PullShipState, context: dict[str, Any], *,
                   look: bool) -> IssueRef | None:
        settings = self.config.rollback
        if not settings.postmortem_issue:
            self.record("postmortem", "off", "rollback.postmortem_issue is false")
            return None
        marker = POSTMORTEM_MARKER.format(number=release.number)
        title = f"Incident postmortem: {release.title} rollback (#{release.number})"[:256]

        def find() -> IssueRef | None:
            return next((IssueRef(i.number, i.title, i.url) for i in self.port.issues_since(
                self.repo, str(release.merged_at)) if marker in i.body or i.title == title), None)

        found = find() if look else None
        if found is not None:
            self.record("postmortem", "skipped", f"{found.url} exists")
            return found
        if self.request.dry_run:
            self.record("postmortem", "would", f"open the issue {title!r}")
            return None
        body = render("rollback_postmortem.md.j2", {**context, "marker": marker})
        who = context["requested_by"]
        assignees = settings.postmortem_assignees or ((who,) if who and not who.endswith("[bot]") else ())

        def create(people: tuple[str, ...]) -> IssueRef:
            return self.port.create_issue(self.repo, title, body, labels=settings.postmortem_labels, assignees=people)

        note = ""
        try:
            made = write_once(lambda: create(assignees), find)
        except ValidationFailed:
            if not assignees:
                raise
            made = write_once(lambda: create(()), find)  # GitHub refused the assignees: nothing was created
            note = f"; not assigned: GitHub refused {', '.join('@' + a for a in assignees)}"
            assignees = ()
        who_text = f", assigned to {', '.join('@' + a for a in assignees)}" if assignees else ""
        self.record("postmortem", "done", f"{made.url}{who_text}{note}")
        return made

    def announcement(self, release: PullShipState, revert: PullShipState, context: dict[str, Any], *,
                     look: bool) -> CommentRef | None:
        """The rollback announcement on the Release PR: one comment, edited when its text changes."""
        marker = ANNOUNCEMENT_MARKER.format(number=revert.number)
        body = render("rollback_announcement.md.j2", {**context, "marker": marker})

        def find() -> CommentRef | None:
            return next((c for c in self.port.list_issue_comments_since(self.repo, release.number, revert.created_at)
                         if marker in c.body), None)

        found = find() if look else None
        if found is not None and found.body.strip() == body.strip():
            self.record("announcement", "skipped", f"{found.url} says so already")
            return found
        if self.request.dry_run:
            self.record("announcement", "would", f"{'edit' if found else 'comment'} the rollback status on "
                        f"#{release.number}")
            return found
        if found is not None:
            made = self.port.update_issue_comment(self.repo, found.id, body)  # the same text twice: idempotent
            self.record("announcement", "done", f"{made.url} edited: {self._status(context)}")
            return made
        made = write_once(lambda: self.port.create_issue_comment(self.repo, release.number, body), find)
        self.record("announcement", "done", f"{made.url}: {self._status(context)}")
        return made

    @staticmethod
    def _status(context: dict[str, Any]) -> str:
        if context["merged"]:
            return "rollback complete"
        return "rollback in progress (not merged: " + ("--no-merge)" if context["no_merge"] else "blocked)")

    def ops_log_and_slack(self, revert: PullShipState, context: dict[str, Any], *, look: bool) -> CommentRef | None:
        """Slack (when configured), then the Ops Log line, which records that Slack was told."""
        title = self.config.ops_log.issue
        sha = str(revert.merge_commit_sha)
        marker = OPS_LOG_MARKER.format(sha=sha)
        issue = self.port.find_open_issue(self.repo, title) if title is not None else None

        def find_line() -> CommentRef | None:
            if issue is None:
                return None
            return next((c for c in self.port.list_issue_comments_since(self.repo, issue.number, revert.merged_at)
                         if marker in c.body), None)

        line = find_line() if look else None
        if title is not None and issue is None and not self.request.dry_run:
            self.step = "ops log"  # before Slack: its failure must not make Slack repeat
            issue = write_once(lambda: self.port.create_issue(self.repo, title, render(
                "ship_ops_log_issue.md.j2", {"title": title})), lambda: self.port.find_open_issue(self.repo, title))
        self.step = "slack"
        if self.notify is None:
            self.record("slack", "off", "no Slack webhook (notify.slack_webhook_env unset or its variable empty)")
        elif line is not None:
            self.record("slack", "skipped", "the Ops Log line records that Slack was told")
        elif self.request.dry_run:
            self.record("slack", "would", "post the rollback to the Slack webhook")
        else:
            self.notify(render("rollback_slack.md.j2", context).strip())
            self.record("slack", "done", "posted to the Slack webhook")
        self.step = "ops log"
        if title is None:
            self.record("ops log", "off", "ops_log.issue is null: no Ops Log")
            return None
        if line is not None:
            self.record("ops log", "skipped", f"{line.url} exists")
            return line
        if issue is None:
            self.record("ops log", "would", f"append a line to a new issue {title!r}")
            return None
        if self.request.dry_run:
            self.record("ops log", "would", f"append a line to issue #{issue.number}")
            return None
        text = render("rollback_ops_log.md.j2", {**context, "marker": marker, "slack": self.notify is not None})
        log = issue
        made = write_once(lambda: self.port.create_issue_comment(self.repo, log.number, text), find_line)
        self.record("ops log", "done", made.url)
        return made

    # ------------------------------------------------------------------ dry run before any revert exists

    def plan(self, release: PullShipState, reason: str) -> RollbackResult:
        production = self.config.branches.production
        method = self.config.rollback.merge_method
        self.record("revert", "would", f"revert Release PR #{release.number} (GraphQL revertPullRequest): a new "
                    f"pull request into {production} undoing merge {str(release.merge_commit_sha)[:7]}")
        if self.request.merge:
            self.record("merge", "would", f"merge it ({method}, sha= its head) once GitHub computed mergeability")
            self.record("deployment", "would", f"create a {ENVIRONMENT} deployment of the revert ({DEPLOYMENT_STATE})")
            olds = self.port.list_deployments(self.repo, sha=str(release.merge_commit_sha), environment=ENVIRONMENT)
            self.record("previous deployment", "would",
                        f"mark {ENVIRONMENT} deployment {', '.join(str(d.id) for d in olds)} inactive" if olds
                        else f"nothing to mark: no {ENVIRONMENT} deployment of the release was recorded")
            self.record("postmortem", "would" if self.config.rollback.postmortem_issue else "off",
                        "open the postmortem issue" if self.config.rollback.postmortem_issue
                        else "rollback.postmortem_issue is false")
        else:
            self.record("merge", "off", "--no-merge: the revert PR would stay open for review")
        self.record("announcement", "would", f"comment the rollback on #{release.number}")
        if self.request.merge:
            self.record("slack", "would" if self.notify else "off", "post the rollback to Slack" if self.notify
                        else "no Slack webhook (notify.slack_webhook_env unset or its variable empty)")
            self.record("ops log", "would" if self.config.ops_log.issue else "off",
                        "append a line to the Ops Log" if self.config.ops_log.issue else "ops_log.issue is null")
        return RollbackResult(self.repo, release.number, release.url, release.title, str(release.merge_commit_sha),
                              None, None, None, reason, self.request.actor, None, (), None, None, None,
                              tuple(self.steps), dry_run=True)


def rollback(port: RollbackPort, config: Config, request: RollbackRequest, clock: Clock, *,
             notify: Notify | None = None) -> RollbackResult:
    """Roll back the last release (see the module docstring). `notify(text)` posts to Slack when configured.

    Raises NothingToRollBack (no merged Release PR, not the last one), RollbackBlocked (GitHub cannot
    revert or merge it by itself: the manual path is the hint), RevertNotMerged (protection refused the
    merge; the revert PR stays open and the announcement says so), Conflict, and the gateway's errors.
    A re-run finishes what is left and repeats nothing.
    """
    run = _Run(port, config, request, clock, notify)
    try:
        return run.run()
    except OpsghError as err:
        done = [s.name for s in run.steps if s.action == "done"]
        if done and not request.dry_run:
            err.message = f"rollback stopped at step {run.step!r}: {err.message}"
            err.args = (err.message,)
            err.hint = f"{err.hint}\ndone so far: {', '.join(done)}; re-running `opsgh rollback` repeats none of it"
        raise
