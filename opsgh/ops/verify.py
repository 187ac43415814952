"""`opsgh verify --env E`: post-deploy verification, the runbooks' decision points after a deploy.

1. What is judged: the environment's probes (`verify.environments.<E>`), the deployed commit (`--sha`,
   else the tip of the branch the environment deploys: production -> `branches.production`, staging
   -> `branches.staging`), and its GitHub deployment on E (the newest for that commit; one is recorded
   when none exists, e.g. a deploy that `opsgh ship` did not start).
2. Before probing, the deployment goes `in_progress` (with the workflow run as its log), and the
   Release PR that made the commit (if any) gets one progress comment, edited in place.
3. Every interval, one round: each probe fetched `samples` times, concurrently. After each round the
   samples so far are judged against the rollback tiers (`opsgh.gate.tiers`): error rate, p95 against
   the baseline, a complete outage. An outage lasting `outage_after`, or the immediate tier holding for
   `immediate_after`, stops the watch at once (the runbook's P0: act within minutes of detection).
4. At the end: the deployment `success` (tier below `fail_on`) or `failure` (with the tier and the
   figures in its description), the comment in its "complete" form, and with `rollback_on_fail`
   the hand-over to the rollback operation (the `rollback` callable the caller provides).

Nothing is written with `dry_run` (the probes still run: they only read). Re-running is safe: the
deployment is found, not duplicated; the comment is one per deployment, edited in place; each run
adds its own `in_progress` and final status, which is the deployment's history GitHub keeps.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from opsgh.clock import Clock
from opsgh.config import Config, Probe, VerifyEnvironment, parse_duration
from opsgh.errors import OpsghError, UsageError
from opsgh.gate.probe_port import ProbeClient, ProbeResponse
from opsgh.gate.probes import fetch_samples, p95, sample_problems
from opsgh.gate.tiers import Assessment, Sample, Tier, WindowStats, assess, window_stats
from opsgh.ops.writes import write_once
from opsgh.ports import CommentRef, DeploymentRef, VerifyPort
from opsgh.render.engine import Renderer

MARKER = "<!-- opsgh:verify -->"
COMMENT_LIMIT = 65_536
DESCRIPTION_LIMIT = 140
# The progress comment is edited at most this often (the runbook's updates come every 15 minutes;
# a comment edit is a write that counts against GitHub's content-creation limit).
PROGRESS_EVERY_S = 300.0

Progress = Callable[[str], None]
Rollback = Callable[[str], Sequence[str]]  # reason -> the rollback's report lines


@dataclass(frozen=True, slots=True)
class VerifyRequest:
    repo: str
    environment: str = "production"
    sha: str | None = None
    duration_s: float | None = None  # None: verify.duration
    interval_s: float | None = None  # None: verify.interval
    dry_run: bool = False
    rollback_on_fail: bool = False
    run_url: str | None = None  # the workflow run (Actions): the deployment's log


@dataclass(frozen=True, slots=True)
class ProbeFigures:
    name: str
    samples: int
    failed: int
    p95_ms: float | None
    problem: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "samples": self.samples, "failed": self.failed, "p95_ms": self.p95_ms,
                "problem": self.problem}


@dataclass(frozen=True, slots=True)
class VerifyResult:
    environment: str
    sha: str
    deployment_id: int | None
    passed: bool
    assessment: Assessment
    stats: WindowStats
    probes: tuple[ProbeFigures, ...]
    rounds: int
    duration_s: float
    stopped_early: bool
    fail_on: Tier
    dry_run: bool
    comment_url: str | None = None
    pull_number: int | None = None
    actions: tuple[str, ...] = ()  # what was written, in order
    rollback_lines: tuple[str, ...] = field(default_factory=tuple)
    rollback_error: OpsghError | None = None  # the hand-over ran and stopped (e.g. protection held the revert)

    @property
    def tier(self) -> Tier:
        return self.assessment.tier

    def headline(self) -> str:
        word = "PASSED" if self.passed else "FAILED"
        return (f"{self.environment} verification {word} at {self.sha[:7]}: tier {self.tier} ({self.tier.priority}), "
                f"{self.assessment.action}")

    def lines(self) -> list[str]:
        out = [self.headline()]
        out += [f"  {reason}" for reason in self.assessment.reasons]
        out.append(f"  {figures_line(self.stats)} in {self.rounds} round{'s' if self.rounds != 1 else ''}"
                   + (" (stopped early: the immediate tier held)" if self.stopped_early else ""))
        for probe in self.probes:
            tail = f" — {probe.problem}" if probe.problem else ""
            out.append(f"  probe {probe.name}: {probe.failed}/{probe.samples} failed, p95 {_ms(probe.p95_ms)}{tail}")
        prefix = "would " if self.dry_run else ""
        out += [f"  {prefix}{action}" for action in self.actions]
        out += [f"  {line}" for line in self.rollback_lines]
        return out

    def as_dict(self) -> dict[str, Any]:
        return {"environment": self.environment, "sha": self.sha, "deployment_id": self.deployment_id,
                "passed": self.passed, "tier": str(self.tier), "priority": self.tier.priority,
                "action": self.assessment.action, "reasons": list(self.assessment.reasons),
                "error_rate": round(self.stats.error_rate, 3), "samples": self.stats.samples,
                "failed": self.stats.failed, "p95_ms": self.stats.p95_ms, "observed_s": self.stats.observed_s,
                "rounds": self.rounds, "stopped_early": self.stopped_early, "fail_on": str(self.fail_on),
                "probes": [p.as_dict() for p in self.probes], "comment_url": self.comment_url,
                "pull_number": self.pull_number, "dry_run": self.dry_run, "actions": list(self.actions),
                "rollback": list(self.rollback_lines)}


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"


def _duration(seconds: float) -> str:
    whole = round(seconds)
    if whole >= 3600 and whole % 3600 == 0:
        return f"{whole // 3600}h"
    if whole >= 60:
        return f"{whole // 60}m" + (f" {whole % 60:02d}s" if whole % 60 else "")
    return f"{whole}s"


def figures_line(stats: WindowStats) -> str:
    return (f"error rate {stats.error_rate:.1f}% ({stats.failed}/{stats.samples} samples), "
            f"p95 {_ms(stats.p95_ms)}, watched {_duration(stats.observed_s)}")


def environment_config(config: Config, environment: str) -> VerifyEnvironment:
    found = config.verify.environments.get(environment)
    if found is None or not found.probes:
        known = ", ".join(sorted(config.verify.environments)) or "none"
        raise UsageError(f"no probes to verify environment {environment!r} with (configured: {known})",
                         f"add verify.environments.{environment}.probes to .github/opsgh.yml, or pass --env")
    return found


def deployed_sha(port: VerifyPort, repo: str, config: Config, environment: str, sha: str | None) -> str:
    if sha:
        return sha
    branch = _branch_of(config, environment)
    if branch is None:
        raise UsageError(f"which commit was deployed to {environment!r}?",
                         "pass --sha (opsgh knows the branches of production and staging only)")
    info = port.get_branch(repo, branch)
    if info is None:
        raise UsageError(f"branch {branch!r} does not exist in {repo}", "check branches.* in .github/opsgh.yml")
    return info.sha


def _branch_of(config: Config, environment: str) -> str | None:
    """The branch an environment deploys, for the two the branch model knows."""
    return {"production": config.branches.production, "staging": config.branches.staging}.get(environment)


def round_samples(probes: Sequence[Probe], responses: Sequence[Sequence[ProbeResponse]], at: float) -> list[Sample]:
    samples = []
    for probe, answers in zip(probes, responses, strict=True):
        for response in answers:
            problems = sample_problems(probe, response)
            answered = response.status is not None and not response.timed_out
            samples.append(Sample(at, probe.name, not problems, response.elapsed_ms if answered else None,
                                  problems[0] if problems else None))
    return samples


def probe_figures(probes: Sequence[Probe], samples: Sequence[Sample]) -> tuple[ProbeFigures, ...]:
    out = []
    for probe in probes:
        mine = [s for s in samples if s.probe == probe.name]
        answered = [s.elapsed_ms for s in mine if s.elapsed_ms is not None]
        problem = next((s.problem for s in reversed(mine) if s.problem), None)
        out.append(ProbeFigures(probe.name, len(mine), sum(1 for s in mine if not s.ok),
                                p95(answered) if answered else None, problem))
    return tuple(out)


class Verification:
    """One run of `opsgh verify`: the writes around the watch, each idempotent."""

    def __init__(self, port: VerifyPort, config: Config, request: VerifyRequest, clock: Clock,
                 probe_client: ProbeClient, renderer: Renderer, progress: Progress) -> None:
        self.port, self.config, self.request, self.clock = port, config, request, clock
        self.client, self.renderer, self.progress = probe_client, renderer, progress
        self.env = environment_config(config, request.environment)
        verify = config.verify
        self.duration_s = request.duration_s if request.duration_s is not None else parse_duration(verify.duration)
        self.interval_s = request.interval_s if request.interval_s is not None else parse_duration(verify.interval)
        if self.duration_s <= 0 or self.interval_s <= 0:
            raise UsageError("--duration and --interval must be positive", "e.g. --duration 10m --interval 30s")
        self.outage_after_s = parse_duration(verify.outage_after)
        self.immediate_after_s = parse_duration(verify.immediate_after)
        self.fail_on = Tier(verify.fail_on)
        self.actions: list[str] = []
        self.comment: CommentRef | None = None
        self.pull_number: int | None = None
        self.sha = ""

    # ------------------------------------------------------------------ GitHub side

    def deployment(self) -> DeploymentRef | None:
        found = self.port.list_deployments(self.request.repo, sha=self.sha, environment=self.request.environment)
        if found:
            return max(found, key=lambda d: d.id)
        self.actions.append(f"record a {self.request.environment} deployment of {self.sha[:7]} (none existed)")
        if self.request.dry_run:
            return None
        return self.port.create_deployment(
            self.request.repo, sha=self.sha, environment=self.request.environment,
            description=f"{self.request.environment} deploy of {self.sha[:7]}, recorded by opsgh verify",
            required_contexts=(), payload={"opsgh": "verify"},
            production=self.request.environment in ("production", self.config.branches.production))

    def set_status(self, deployment: DeploymentRef | None, state: str, description: str) -> None:
        self.actions.append(f"set the deployment {state}: {description}")
        if deployment is None or self.request.dry_run:
            return
        log_url = self.request.run_url or (self.comment.url if self.comment else None)
        repo = self.request.repo

        def create() -> bool:
            self.port.create_deployment_status(repo, deployment.id, state=state,
                                               description=_cut(description, DESCRIPTION_LIMIT), log_url=log_url,
                                               environment_url=self.env.url)
            return True

        def landed() -> bool | None:
            # The deployment already in `state` is all this write is for (GitHub lists the newest first).
            return True if self.port.list_deployment_states(repo, deployment.id)[:1] == [state] else None

        write_once(create, landed)

    def release_pull(self) -> int | None:
        """The pull request whose merge commit is the deployed commit: among the 100 most recently
        updated closed pull requests into the environment's branch. (GitHub's commit -> pulls API
        lists only open pull requests for a commit that is not on the default branch.)"""
        base = _branch_of(self.config, self.request.environment)
        if base is None:
            return None
        for index, pull in enumerate(self.port.list_pulls(self.request.repo, state="closed", base=base,
                                                          sort="updated", direction="desc")):
            if pull.merge_commit_sha == self.sha and pull.merged_at is not None:
                return pull.number
            if index >= 99:
                break
        return None

    def publish(self, body: str) -> None:
        if self.pull_number is None or self.request.dry_run:
            return
        marker = _marker(self.request.environment, self.sha)
        text = f"{MARKER}\n{marker}\n{body}"[:COMMENT_LIMIT]
        if self.comment is None:
            self.comment = next((c for c in self.port.iter_issue_comments(self.request.repo, self.pull_number)
                                 if marker in c.body), None)
        if self.comment is None:
            number = self.pull_number
            self.comment = write_once(
                lambda: self.port.create_issue_comment(self.request.repo, number, text),
                lambda: next((c for c in self.port.iter_issue_comments(self.request.repo, number)
                              if marker in c.body), None))
        elif self.comment.body.replace("\r\n", "\n").rstrip() != text.rstrip():
            self.comment = self.port.update_issue_comment(self.request.repo, self.comment.id, text)

    # ------------------------------------------------------------------ the watch

    def report(self, stats: WindowStats, assessment: Assessment, samples: Sequence[Sample], *, complete: bool,
               passed: bool = True, stopped_early: bool = False, rollback_started: bool = False,
               deployment: DeploymentRef | None = None) -> str:
        tiers = self.config.verify.tiers
        fail_tier = getattr(tiers, self.fail_on.value)
        baseline = self.env.baseline_p95_ms
        error_threshold = f"{fail_tier.error_rate:g}% ({self.fail_on})" if fail_tier.error_rate is not None else \
            "not judged"
        factor = fail_tier.p95_factor
        if factor is not None and baseline:
            p95_threshold = f"{factor * baseline:.0f} ms ({factor:g}x the {baseline:g} ms baseline)"
        else:
            p95_threshold = "not judged (no baseline)" if not baseline else "not judged"
        context = {
            "complete": complete, "passed": passed, "environment": self.request.environment, "sha": self.sha,
            "short_sha": self.sha[:7], "tier": str(assessment.tier), "priority": assessment.tier.priority,
            "action": assessment.action, "reasons": list(assessment.reasons), "stopped_early": stopped_early,
            "error_rate": f"{stats.error_rate:.1f}%", "failed": stats.failed, "samples": stats.samples,
            "error_threshold": error_threshold, "p95": _ms(stats.p95_ms), "p95_threshold": p95_threshold,
            "outage": _duration(stats.outage_s) if stats.outage_s is not None else "none",
            "outage_after": _duration(self.outage_after_s), "observed": _duration(stats.observed_s),
            "immediate_after": _duration(self.immediate_after_s), "outage_stop": assessment.outage,
            "duration": _duration(self.duration_s), "interval": _duration(self.interval_s),
            "fail_on": str(self.fail_on), "deployment_id": deployment.id if deployment else None,
            "rollback_started": rollback_started,
            "probes": [{"name": p.name, "samples": p.samples, "failed": p.failed, "p95": _ms(p.p95_ms),
                        "problem": p.problem} for p in probe_figures(self.env.probes, samples)],
        }
        return self.renderer.render("verify_report.md.j2", context)

    def run(self, rollback: Rollback | None) -> VerifyResult:
        request = self.request
        self.sha = deployed_sha(self.port, request.repo, self.config, request.environment, request.sha)
        deployment = self.deployment()
        self.pull_number = self.release_pull()
        self.progress(f"verifying {request.environment} at {self.sha[:7]}"
                      + (f" (deployment {deployment.id})" if deployment else "")
                      + f": {len(self.env.probes)} probe{'s' if len(self.env.probes) != 1 else ''} every "
                      f"{_duration(self.interval_s)} for {_duration(self.duration_s)}")
        samples: list[Sample] = []
        started = self.clock.monotonic()
        last_report = started
        rounds = 0
        stopped_early = False
        immediate_since: float | None = None  # the first round of the current run of immediate rounds
        empty = WindowStats(0, 0, None, 0.0, None)
        self.publish(self.report(empty, Assessment(Tier.MONITOR, ()), samples, complete=False, deployment=deployment))
        # After the report exists: without a workflow run, the deployment's log is the report.
        self.set_status(deployment, "in_progress",
                        f"opsgh verify: watching {_duration(self.duration_s)}, probing every "
                        f"{_duration(self.interval_s)}")
        while True:
            round_start = self.clock.monotonic()
            at = round_start - started
            samples += round_samples(self.env.probes, fetch_samples(self.env.probes, self.client), at)
            rounds += 1
            stats = window_stats(samples)
            assessment = assess(stats, self.config.verify.tiers, self.env.baseline_p95_ms, self.outage_after_s)
            self.progress(f"T+{_duration(at)}: {figures_line(stats)}: {assessment.tier}"
                          + (f" ({'; '.join(assessment.reasons)})" if assessment.reasons else ""))
            immediate = assessment.tier is Tier.IMMEDIATE
            immediate_since = (immediate_since if immediate_since is not None else at) if immediate else None
            if assessment.outage or (immediate_since is not None and at - immediate_since >= self.immediate_after_s):
                # The runbook's P0: act within minutes of detection, not at the end of the watch.
                stopped_early = True
                break
            next_round = round_start + self.interval_s
            if next_round - started > self.duration_s:
                break
            now = self.clock.monotonic()
            if now - last_report >= PROGRESS_EVERY_S:
                last_report = now
                self.publish(self.report(stats, assessment, samples, complete=False, deployment=deployment))
            self.clock.sleep(max(0.0, next_round - now))
        passed = not assessment.tier.at_least(self.fail_on)
        figures = f"{stats.error_rate:.1f}% errors, p95 {_ms(stats.p95_ms)}"
        self.set_status(deployment, "success" if passed else "failure",
                        f"opsgh verify: {assessment.tier} ({figures}, {stats.samples} samples)")
        rollback_lines: list[str] = []
        rollback_error: OpsghError | None = None
        rollback_started = not passed and request.rollback_on_fail and rollback is not None and not request.dry_run
        self.publish(self.report(stats, assessment, samples, complete=True, passed=passed,
                                 stopped_early=stopped_early, rollback_started=rollback_started,
                                 deployment=deployment))
        if self.comment is not None:
            self.actions.append(f"report on #{self.pull_number}: {self.comment.url}")
        elif self.pull_number is not None:
            self.actions.append(f"report on #{self.pull_number}")
        if not passed and request.rollback_on_fail:
            reason = f"opsgh verify: {request.environment} {assessment.tier} ({figures})"
            if rollback is None or request.dry_run:
                self.actions.append(f"roll back: {reason}")
            else:
                self.progress(f"verification failed: handing over to rollback ({reason})")
                try:
                    rollback_lines = list(rollback(reason))
                except OpsghError as err:  # the verdict stands and is recorded; the caller reports this too
                    rollback_error = err
                    rollback_lines = [f"rollback stopped: {err.message}", *([f"hint: {err.hint}"] if err.hint else [])]
        return VerifyResult(
            request.environment, self.sha, deployment.id if deployment else None, passed, assessment, stats,
            probe_figures(self.env.probes, samples), rounds, self.duration_s, stopped_early, self.fail_on,
            request.dry_run, self.comment.url if self.comment else None, self.pull_number, tuple(self.actions),
            tuple(rollback_lines), rollback_error)


def _marker(environment: str, sha: str) -> str:
    safe = "".join(c for c in environment if c.isalnum() or c in "-_.")
    return f"<!-- opsgh:verify env={safe} sha={sha} -->"


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def verify(port: VerifyPort, config: Config, request: VerifyRequest, clock: Clock, probe_client: ProbeClient, *,
           renderer: Renderer | None = None, progress: Progress | None = None,
           rollback: Rollback | None = None) -> VerifyResult:
    """Watch the deployment of `request.environment` and judge it against the rollback tiers.

    Raises UsageError (before any write) when the environment has no probes or its commit is unknown.
    `rollback(reason)` is called when verification fails and `request.rollback_on_fail` is set.
    """
    run = Verification(port, config, request, clock, probe_client, renderer or Renderer(), progress or _quiet)
    return run.run(rollback)


def _quiet(line: str) -> None:
    pass
