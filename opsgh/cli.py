"""The command line: parse, build the context, call the operation, map errors to exit codes.

Only this module knows click. Heavy modules (PyGithub, httpx, yaml, jinja2, jsonschema) are
imported inside the command that needs them, so `opsgh --help` starts fast.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from opsgh import ISSUES_URL, __version__
from opsgh.errors import ExitCode, OpsghError, UsageError

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar

    from opsgh.clock import Clock
    from opsgh.config import Config
    from opsgh.context import Settings
    from opsgh.github.gateway import GitHubGateway
    from opsgh.ops.protect import Targets as ProtectTargets
    from opsgh.ports import PullShipState


class CliState:
    """What the global options said; commands build what they need from it.

    A plain class, not a dataclass: importing dataclasses costs start-up time.
    """

    def __init__(self, environ: Mapping[str, str] | None = None, *, clock: Clock | None = None,
                 timeout: float | None = None) -> None:
        self.environ: Mapping[str, str] = dict(os.environ if environ is None else environ)
        self.repo: str | None = None
        self.config_path: str | None = None
        self.verbose = False
        self.debug = False
        self.record: str | None = None
        self._gateway: GitHubGateway | None = None
        self._clock = clock
        self._timeout = timeout

    def clock(self) -> Clock:
        """The system clock, unless the caller of `run` gave one (tests: no real waiting)."""
        if self._clock is None:
            from opsgh.clock import SystemClock

            self._clock = SystemClock()
        return self._clock

    def settings(self) -> Settings:
        from opsgh.context import settings_from_env

        return settings_from_env(self.environ, repo=self.repo, config_path=self.config_path)

    def gateway(self, max_attempts: int = 5) -> GitHubGateway:
        """The GitHub gateway, built on first use (so commands that need none stay offline)."""
        if self._gateway is None:
            from opsgh.context import build_gateway

            self._gateway = build_gateway(self.settings(), max_attempts=max_attempts,
                                          on_wait=lambda message: click.echo(f"waiting: {message}", err=True),
                                          clock=self.clock(), timeout=self._timeout)
        return self._gateway

    def config(self) -> Config:
        from opsgh.context import load_effective_config

        return load_effective_config(self.settings(), gateway_factory=self.gateway)


pass_state = click.make_pass_decorator(CliState, ensure=True)


EPILOG = """\b
Exit codes: 0 ok, 1 a check found problems (verify: the deploy failed), 2 usage or configuration error,
3 GitHub error, 4 precondition failed (NO-GO, not mergeable), 5 back-port conflict,
6 go/no-go PENDING (checks still running), 70 unexpected error (a bug: please report it), 130 interrupted.

\b
Environment: GITHUB_TOKEN (or GH_TOKEN), or OPSGH_APP_ID + OPSGH_APP_PRIVATE_KEY[_FILE]
for a GitHub App; GITHUB_REPOSITORY; GITHUB_API_URL and GITHUB_GRAPHQL_URL for GHES.
"""


@click.group(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--repo", metavar="OWNER/NAME",
              help="Repository to act on [default: $GITHUB_REPOSITORY or the origin remote].")
@click.option("--config", "config_path", metavar="PATH", type=click.Path(dir_okay=False),
              help="Read the configuration from this local file instead of the default branch.")
@click.option("-v", "--verbose", is_flag=True, help="Print every GitHub request (method, route, status, time).")
@click.option("--debug", is_flag=True, help="Show the traceback of errors.")
@click.option("--record", metavar="FILE", type=click.Path(dir_okay=False, writable=True),
              help="Record the run's HTTP exchanges, tokens scrubbed, to a cassette for a bug report.")
@click.version_option(__version__, "--version", prog_name="opsgh")
@click.pass_context
def cli(ctx: click.Context, repo: str | None, config_path: str | None, verbose: bool, debug: bool,
        record: str | None) -> None:
    """Release-day runbooks as GitHub automation.

    opsgh drives the main -> prod branch model: release PRs, go/no-go gates, hotfix
    back-ports, rollback and branch protection as code.

    \b
    Examples:
      opsgh doctor                      # what the token and repository allow
      opsgh config validate             # check .github/opsgh.yml
      opsgh --repo acme/shop doctor --json
    """
    state = ctx.ensure_object(CliState)
    state.repo, state.config_path, state.verbose, state.debug, state.record = (
        repo, config_path, verbose, debug, record)
    if record:
        ctx.with_resource(_recording(record))
    if verbose:
        ctx.call_on_close(lambda: _print_ledger(state))


@contextmanager
def _recording(path: str) -> Iterator[None]:
    from opsgh.github.record import record_cassette

    with record_cassette(path):
        yield
    click.echo(f"recorded the HTTP exchanges (tokens scrubbed) to {path}", err=True)


def _print_ledger(state: CliState) -> None:
    if state._gateway is not None:
        click.echo(state._gateway.ledger.summary(), err=True)


# ----------------------------------------------------------------------------- doctor


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@pass_state
def doctor(state: CliState, as_json: bool) -> None:
    """Explain what the token and the repository allow, and how to fix what is missing.

    Checks the token (kind, scopes, permissions, rate limit), the configuration, both
    branches, whether GitHub Actions may open PRs and whether check runs are possible.
    Exits 1 when a check fails.

    \b
    Examples:
      GITHUB_TOKEN=ghp_... opsgh --repo acme/shop doctor
      opsgh doctor --json | jq '.checks[] | select(.status == "fail")'
    """
    from opsgh.context import doctor_report
    from opsgh.ops.doctor import Status

    # Doctor is interactive: fail fast on a dead network instead of backing off for long.
    report = doctor_report(state.settings(), lambda: state.gateway(max_attempts=2))
    if as_json:
        import json

        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        marks = {Status.OK: "ok  ", Status.WARN: "warn", Status.FAIL: "FAIL", Status.SKIP: "skip"}
        for check in report.checks:
            click.echo(f"[{marks[check.status]}] {check.name}: {check.detail}")
            if check.fix and check.status in (Status.FAIL, Status.WARN):
                click.echo(f"       fix: {check.fix}")
        click.echo(report.summary_line())
    if report.failed:
        raise SystemExit(ExitCode.CHECK_FAILED)


# ----------------------------------------------------------------------------- release


@cli.command("release")
@click.option("--dry-run", is_flag=True, help="Print the title, the body and whether the PR would be created or "
              "updated; change nothing.")
@click.option("--refresh", is_flag=True, help="Re-render the body even when neither branch moved.")
@pass_state
def release_command(state: CliState, dry_run: bool, refresh: bool) -> None:
    """Open or update the one release pull request main -> prod.

    The body lists the merged pull requests and direct pushes since the last release
    (grouped by label or conventional-commit type), the risk flags (destructive
    migrations, configuration and dependency changes, hotfixes on prod missing from
    main) and the pre-deployment checklist; ticked boxes survive updates. Nothing to
    release exits 0 without opening a PR.

    \b
    Examples:
      opsgh release --dry-run
      opsgh --repo acme/shop release
    """
    from opsgh.action_ops import release_outputs
    from opsgh.ops.release import release

    repo = state.settings().repo
    if repo is None:
        raise UsageError("no repository to release", "pass --repo OWNER/NAME or set GITHUB_REPOSITORY")
    result = release(state.gateway(), repo, state.config(), state.clock(), dry_run=dry_run, refresh=refresh)
    if dry_run and result.rendered and result.body is not None and result.changed:
        click.echo(f"title: {result.title}")
        click.echo("body:")
        click.echo(result.body.rstrip("\n"))
        click.echo("-" * 72)
    _actions_outputs(state, release_outputs(result))
    click.echo(result.summary())


# ----------------------------------------------------------------------------- gate


@cli.command("gate")
@click.argument("pr", required=False, type=click.IntRange(min=1), metavar="[PR]")
@click.option("--json", "as_json", is_flag=True, help="Print the verdict and every criterion as JSON.")
@click.option("--publish/--no-publish", default=False, show_default=True,
              help="Write the verdict to GitHub: one sticky PR comment and the check run `opsgh / go-no-go` "
                   "(a commit status for tokens that may not create check runs).")
@pass_state
def gate_command(state: CliState, pr: int | None, as_json: bool, publish: bool) -> None:
    """Evaluate the go/no-go of the Release PR at its head SHA.

    Prints the verdict first, then one line per criterion (checks, approvals,
    mergeability, blocking issues, security, windows, freezes, migrations, checklist,
    hotfixes on prod not back-ported).
    Exits 0 on GO, 4 on NO-GO, 6 on PENDING (a required check still running or not
    reported yet, mergeability still being computed).

    Changes nothing unless --publish is given (safe to run locally); with --publish
    the verdict is written to the PR (edited in place, nothing written when nothing
    changed). In GitHub Actions the job summary and the step outputs `verdict` and
    `reasons` (JSON) are written too.

    \b
    Examples:
      opsgh gate
      opsgh --repo acme/shop gate 42 --json
      opsgh gate --publish
    """
    from opsgh.action_ops import gate_outputs
    from opsgh.context import gate_network_clients
    from opsgh.gate.verdict import VerdictState
    from opsgh.ops.gate import gate, verdict_lines

    repo = state.settings().repo
    if repo is None:
        raise UsageError("no repository to gate", "pass --repo OWNER/NAME or set GITHUB_REPOSITORY")
    config = state.config()
    clock = state.clock()
    probe_client, runner = gate_network_clients(config, clock)
    try:
        if publish and pr is None:
            from opsgh.ops.gate import locate_release_pull

            pr = locate_release_pull(state.gateway(), repo, config, None)
        seen: list[PullShipState] = []
        verdict = gate(state.gateway(), repo, config, clock, pr, probe_client=probe_client, command_runner=runner,
                       on_pull=seen.append)
    finally:
        if probe_client is not None:
            probe_client.close()
    comment_url = None
    if publish and pr is not None:
        from opsgh.ops.publish_verdict import publish_verdict

        published = publish_verdict(state.gateway(), repo, pr, verdict,
                                    head_checks=seen[-1].checks if seen else None)
        comment_url = published.comment_url
        click.echo(f"published: comment {published.comment} ({published.comment_url}), "
                   f"{published.check_kind} {published.check}", err=True)
    _actions_outputs(state, gate_outputs(verdict, pr, seen[-1].url if seen else None))
    if state.environ.get("GITHUB_ACTIONS") == "true":
        from opsgh.action import ActionsRuntime
        from opsgh.ops.publish_verdict import summary_text
        from opsgh.render.engine import Renderer

        ActionsRuntime(state.environ).add_summary(summary_text(verdict, pr, Renderer(), comment_url))
    if as_json:
        import json

        click.echo(json.dumps(verdict.as_dict(), indent=2))
    else:
        for line in verdict_lines(verdict, pr):
            click.echo(line)
    codes = {VerdictState.GO: ExitCode.OK, VerdictState.NO_GO: ExitCode.PRECONDITION,
             VerdictState.PENDING: ExitCode.PENDING}
    if verdict.state is not VerdictState.GO:
        raise SystemExit(codes[verdict.state])


# ----------------------------------------------------------------------------- ship


@cli.command("ship")
@click.argument("pr", required=False, type=click.IntRange(min=1), metavar="[PR]")
@click.option("--dry-run", is_flag=True, help="Evaluate and print every step that would be done; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_state
def ship_command(state: CliState, pr: int | None, dry_run: bool, as_json: bool) -> None:
    """Ship the Release PR: go/no-go at its head, merge commit, tag, GitHub Release, deployment.

    Re-evaluates the Release PR (default: the open one main -> prod) at its current
    head: NO-GO or PENDING exit 4 and change nothing. Then merges it with a merge commit
    pinned to that head (a push in between: exit 3, nothing shipped), tags the merge
    commit (v{date}, v{date}.2 for a second release that day), publishes the GitHub
    Release, records a production deployment (in_progress), comments the release-start
    announcement, posts to Slack when notify.slack_webhook_env names a set variable, and
    appends a line to the Ops Log issue. Re-running after a failure finishes the rest
    and repeats nothing.

    \b
    Examples:
      opsgh ship --dry-run
      opsgh --repo acme/shop ship 42
    """
    from opsgh.action_ops import ship_outputs
    from opsgh.ops.ship import ShipRequest, ship

    repo = state.settings().repo
    if repo is None:
        raise UsageError("no repository to ship", "pass --repo OWNER/NAME or set GITHUB_REPOSITORY")
    config = state.config()
    result = ship(state.gateway(), config, ShipRequest(repo, pr, dry_run, _run_url(state.environ)), state.clock(),
                  notify=_slack(state, config))
    _actions_outputs(state, ship_outputs(result))
    _print_result(result.lines(), result.as_dict(), as_json)


def _slack(state: CliState, config: Config) -> Callable[[str], None] | None:
    from opsgh.context import slack_notifier_from

    return slack_notifier_from(config, state.environ)


def _print_result(lines: list[str], data: dict[str, object], as_json: bool) -> None:
    if as_json:
        import json

        click.echo(json.dumps(data, indent=2))
    else:
        click.echo("\n".join(lines))


def _actions_outputs(state: CliState, outputs: Mapping[str, str]) -> None:
    """In GitHub Actions, the composite action's step outputs (`opsgh.action_ops` says which)."""
    if state.environ.get("GITHUB_ACTIONS") != "true":
        return
    from opsgh.action import ActionsRuntime

    runtime = ActionsRuntime(state.environ)
    for name, value in outputs.items():
        runtime.set_output(name, value)


# ----------------------------------------------------------------------------- rollback


@cli.command("rollback")
@click.option("--release", "release_pr", type=click.IntRange(min=1), metavar="PR",
              help="The Release PR to roll back [default: the last one merged into production].")
@click.option("--reason", default="", metavar="TEXT",
              help="Why: kept in the revert PR, the announcement, the postmortem and the Ops Log.")
@click.option("--no-merge", is_flag=True, help="Open the revert PR and leave it for review; run again to merge it.")
@click.option("--dry-run", is_flag=True, help="Print every step that would be done; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_state
def rollback_command(state: CliState, release_pr: int | None, reason: str, no_merge: bool, dry_run: bool,
                     as_json: bool) -> None:
    """Roll back the last release: revert its Release PR on prod, record it, announce it.

    GitHub's "Revert" of the last Release PR merged into prod (or --release), a pull
    request into prod merged once GitHub computed its mergeability (rollback.merge_method,
    pinned to its head). prod's protection applies: when GitHub refuses the merge (a
    required check, an approval) or the revert conflicts, the reason and the manual path
    are printed (exit 4); nothing is force-pushed. Then: a production deployment of the
    revert (the release's own marked inactive), the postmortem issue, the rollback
    announcement on the Release PR, Slack, the Ops Log line. The next `opsgh release`
    re-applies the reverted changes together with the fix. Re-running finishes what is
    left; a rollback that already happened is reported and nothing is created.

    \b
    Examples:
      opsgh rollback --dry-run
      opsgh rollback --reason "checkout errors above 5% since the release"
      opsgh --repo acme/shop rollback --release 42 --no-merge
    """
    from opsgh.action_ops import rollback_outputs
    from opsgh.ops.rollback import RollbackRequest, rollback

    repo = state.settings().repo
    if repo is None:
        raise UsageError("no repository to roll back", "pass --repo OWNER/NAME or set GITHUB_REPOSITORY")
    config = state.config()
    request = RollbackRequest(repo, reason, release_pr, not no_merge, dry_run,
                              state.environ.get("GITHUB_ACTOR", "").strip() or None, _run_url(state.environ))
    result = rollback(state.gateway(), config, request, state.clock(), notify=_slack(state, config))
    _actions_outputs(state, rollback_outputs(result))
    _print_result(result.lines(), result.as_dict(), as_json)


# ----------------------------------------------------------------------------- verify


def _seconds(value: str | None, option: str) -> float | None:
    if value is None:
        return None
    from opsgh.config import parse_duration

    try:
        return parse_duration(value)
    except ValueError:
        raise UsageError(f"{option} {value!r} is not a duration", "write it like 30s, 10m or 2h") from None


@cli.command("verify")
@click.option("--env", "environment", default="production", show_default=True, metavar="NAME",
              help="The deployment environment to verify (its probes: verify.environments.NAME).")
@click.option("--sha", metavar="SHA", help="The deployed commit [default: the tip of the environment's branch].")
@click.option("--duration", metavar="D", help="How long to watch, e.g. 10m [default: verify.duration].")
@click.option("--interval", metavar="I", help="Time between rounds of probes, e.g. 30s [default: verify.interval].")
@click.option("--rollback-on-fail", is_flag=True,
              help="When the deploy fails (tier verify.fail_on or worse), run `opsgh rollback` with the figures as the "
                   "reason (production only).")
@click.option("--dry-run", is_flag=True, help="Probe and judge, but write nothing to GitHub.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_state
def verify_command(state: CliState, environment: str, sha: str | None, duration: str | None, interval: str | None,
                   rollback_on_fail: bool, dry_run: bool, as_json: bool) -> None:
    """Verify a deploy: probe for a while, judge it against the rollback tiers.

    Sets the environment's deployment in_progress, probes every interval for the
    duration (each probe `samples` times), and judges the error rate, the p95 latency
    against the baseline and outages against the runbook's rollback tiers: immediate
    (P0), urgent (P1), evaluate (P2), monitor (P3). Then sets the deployment success, or
    failure from tier verify.fail_on on, and reports on the Release PR that shipped the
    commit (one comment, edited in place). A complete outage stops the watch at once.

    With --rollback-on-fail, a failed production deploy is rolled back at once (the
    same as `opsgh rollback --reason ...`, with the tier and the figures as the reason).

    Exits 0 when the deploy passed, 1 when it failed (a rollback is due, or was done),
    2 when the environment has no probes configured; a rollback that GitHub holds exits
    with the rollback's code (4).

    \b
    Examples:
      opsgh verify --env production
      opsgh verify --env production --duration 15m --rollback-on-fail
      opsgh verify --env staging --duration 2m --interval 10s --dry-run
    """
    from opsgh.action_ops import verify_outputs
    from opsgh.github.probes import HttpxProbeClient
    from opsgh.ops.verify import VerifyRequest, environment_config, verify

    repo = state.settings().repo
    if repo is None:
        raise UsageError("no repository to verify", "pass --repo OWNER/NAME or set GITHUB_REPOSITORY")
    duration_s, interval_s = _seconds(duration, "--duration"), _seconds(interval, "--interval")
    if sha is not None and not _is_sha(sha):
        raise UsageError(f"--sha {sha!r} is not a commit SHA", "pass 7 to 40 hex digits, e.g. --sha 1a2b3c4")
    config = state.config()
    environment_config(config, environment)  # no probes: a usage error before anything is written
    if rollback_on_fail and environment != "production":
        raise UsageError(f"--rollback-on-fail rolls back production, not {environment!r}",
                         "drop --rollback-on-fail, or verify --env production")
    clock = state.clock()
    client = HttpxProbeClient(clock)

    def roll_back(reason: str) -> list[str]:
        from opsgh.ops.rollback import RollbackRequest, rollback

        request = RollbackRequest(repo, reason, None, True, False,
                                  state.environ.get("GITHUB_ACTOR", "").strip() or None, _run_url(state.environ))
        return rollback(state.gateway(), config, request, clock, notify=_slack(state, config)).lines()

    try:
        result = verify(state.gateway(), config,
                        VerifyRequest(repo, environment, sha, duration_s, interval_s, dry_run,
                                      rollback_on_fail=rollback_on_fail, run_url=_run_url(state.environ)),
                        clock, client, progress=lambda line: click.echo(line, err=True),
                        rollback=roll_back if rollback_on_fail else None)
    finally:
        client.close()
    _actions_outputs(state, verify_outputs(result))
    if state.environ.get("GITHUB_ACTIONS") == "true":
        from opsgh.action import ActionsRuntime

        summary = ["## opsgh verify", "", *(f"- {line.strip()}" for line in result.lines())]
        ActionsRuntime(state.environ).add_summary("\n".join(summary))
    if as_json:
        import json

        click.echo(json.dumps(result.as_dict(), indent=2))
    else:
        click.echo("\n".join(result.lines()))
    if result.rollback_error is not None:
        raise result.rollback_error
    if not result.passed:
        raise SystemExit(ExitCode.CHECK_FAILED)


# ----------------------------------------------------------------------------- hotfix and back-port


@cli.group("hotfix")
def hotfix_group() -> None:
    """Hotfixes: branch from production, PR back into it, then back-port.

    \b
    Examples:
      opsgh hotfix start payment-timeout --from-issue 42
      opsgh backport 57
    """


@hotfix_group.command("start")
@click.argument("name")
@click.option("--from-issue", "issue", type=click.IntRange(min=1), metavar="N",
              help="The issue the hotfix fixes: the PR is titled after it and says `Fixes #N`.")
@click.option("--dry-run", is_flag=True, help="Print what would be created; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_state
def hotfix_start(state: CliState, name: str, issue: int | None, dry_run: bool, as_json: bool) -> None:
    """Branch hotfix/NAME from the production branch and open a draft PR back into it.

    The branch starts with one empty commit (GitHub opens no PR between identical
    branches); the draft PR carries the hotfix template. Re-running reports the open PR.

    \b
    Examples:
      opsgh hotfix start payment-timeout --from-issue 42
      opsgh --repo acme/shop hotfix start login-loop --dry-run
    """
    from opsgh.ops.hotfix import HotfixStartRequest, start_hotfix

    repo = _repo_or_fail(state, "start a hotfix in")
    result = start_hotfix(state.gateway(), state.config(), HotfixStartRequest(repo, name, issue, dry_run))
    _print_result(result.lines(), result.as_dict(), as_json)


@cli.command("backport")
@click.argument("pr", type=click.IntRange(min=1), metavar="PR")
@click.option("--to", "targets", multiple=True, metavar="BRANCH",
              help="A branch to back-port to (repeatable) [default: hotfix.backport_to].")
@click.option("--checkout", "directory", metavar="DIR", type=click.Path(file_okay=False, exists=True),
              help="Work in this clone (shallow is fine; its branch and files are not touched) instead of a "
                   "scratch repository.")
@click.option("--dry-run", is_flag=True, help="Cherry-pick locally and print what would be pushed and opened; "
              "change nothing on GitHub.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_state
def backport_command(state: CliState, pr: int, targets: tuple[str, ...], directory: str | None, dry_run: bool,
                     as_json: bool) -> None:
    """Cherry-pick what merged PR did onto other branches, with -x, as new PRs.

    Picks exactly the change that landed (a merge commit with -m 1, a squash commit,
    or each commit of a rebase merge), pushes backport/<PR>-to-<branch> and opens a PR
    linking the original, labelled, with the original's reviewers asked for review.
    Already on the branch (same commit, a cherry-pick of it, the same patch): says so,
    opens nothing. A back-port PR exists: reports it, changes nothing. A conflict:
    a draft PR with the conflict committed, or a comment on the original with the
    commands (hotfix.on_conflict), the `backport-conflict` label, exit 5; the other
    branches are still attempted.

    \b
    Examples:
      opsgh backport 57
      opsgh backport 57 --to main --to release/2.4 --dry-run
      opsgh backport 57 --checkout . --json
    """
    from opsgh.action_ops import backport_outputs
    from opsgh.git import BOT_IDENTITY, GitCheckout, default_identity
    from opsgh.ops.backport import BackportRequest, backport

    repo = _repo_or_fail(state, "back-port in")
    config = state.config()
    gateway = state.gateway()
    # In Actions the Actions bot commits (cherry-picks keep their authors); elsewhere, git's user here.
    identity = BOT_IDENTITY if state.environ.get("GITHUB_ACTIONS") == "true" else default_identity(directory)
    with GitCheckout(gateway.clone_url(repo), gateway.git_token, state.clock(), identity=identity,
                     directory=directory) as git:
        result = backport(gateway, git, config, BackportRequest(repo, pr, targets, dry_run))
    _actions_outputs(state, backport_outputs(result))
    _print_result(result.lines(), result.as_dict(), as_json)
    result.raise_for_outcome()


def _repo_or_fail(state: CliState, what: str) -> str:
    repo = state.settings().repo
    if repo is None:
        raise UsageError(f"no repository to {what}", "pass --repo OWNER/NAME or set GITHUB_REPOSITORY")
    return repo


def _is_sha(text: str) -> bool:
    return 7 <= len(text) <= 40 and all(c in "0123456789abcdefABCDEF" for c in text)


def _run_url(environ: Mapping[str, str]) -> str | None:
    """The Actions run this is part of, if any (linked from the deployment and the announcement)."""
    server, repo, run_id = (environ.get(n, "").strip() for n in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY",
                                                                  "GITHUB_RUN_ID"))
    return f"{server}/{repo}/actions/runs/{run_id}" if server and repo and run_id else None


# ----------------------------------------------------------------------------- protect


@cli.group("protect")
def protect_group() -> None:
    """Branch protection as code: plan, apply, check (protection: in .github/opsgh.yml).

    Compares each branch's classic protection or repository ruleset with the
    configuration, the way a Terraform plan does, but without perpetual diffs:
    GitHub's normalisations (check order, App ids, empty lists) are no changes.
    Targets: the current repository, --repo (repeatable) or --org ORG with filters.
    Reading protection needs admin rights (GitHub answers 404 to anyone else).

    \b
    Examples:
      opsgh protect plan
      opsgh protect apply --yes
      opsgh protect check --org acme --topic production
    """


def _protect_options(command: Callable[..., None]) -> Callable[..., None]:
    options = [
        click.option("--repo", "repos", multiple=True, metavar="OWNER/NAME",
                     help="A repository to act on; repeat for several [default: the global --repo, "
                          "$GITHUB_REPOSITORY or the origin remote]."),
        click.option("--org", metavar="ORG", help="Every repository of the organisation that passes the filters."),
        click.option("--match", metavar="GLOB",
                     help="With --org: only repositories whose name matches, e.g. 'shop-*'."),
        click.option("--topic", "topics", multiple=True, metavar="TOPIC",
                     help="With --org: only repositories with this topic (repeat: all of them)."),
        click.option("--include-archived", is_flag=True, help="With --org: also archived repositories (read-only, "
                                                              "reported as skipped)."),
        click.option("--include-forks", is_flag=True, help="With --org: also forks."),
        click.option("--concurrency", type=click.IntRange(1, 32), default=8, show_default=True,
                     help="Repositories read at once; requests are paced under GitHub's secondary rate limits "
                          "(80 writes a minute, 500 an hour, 900 points a minute) whatever this says."),
        click.option("--json", "as_json", is_flag=True, help="Print the result as JSON."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _targets(repos: tuple[str, ...], org: str | None, match: str | None, topics: tuple[str, ...],
             include_archived: bool, include_forks: bool) -> ProtectTargets:
    from opsgh.context import REPO_RE
    from opsgh.ops.protect import Targets

    for name in repos:
        if not REPO_RE.match(name):
            raise UsageError(f"--repo {name!r} is not OWNER/NAME", "pass --repo OWNER/NAME, e.g. --repo acme/shop")
    return Targets(repos, org, match, topics, include_archived, include_forks)


def _interactive() -> bool:
    """Whether a person can answer a question (apply asks before writing)."""
    return sys.stdin.isatty() and sys.stderr.isatty()


def _terminal() -> bool:
    """Whether stderr is a terminal (progress bars)."""
    return sys.stderr.isatty()


def _config_source(state: CliState) -> str:
    """Where `state.config()` read the configuration, in words (the same order as `load_effective_config`)."""
    from opsgh.context import LOCAL_CONFIG

    settings = state.settings()
    if settings.config_path:
        return settings.config_path
    if LOCAL_CONFIG.is_file():
        return str(LOCAL_CONFIG)
    if settings.repo is not None:
        return f"{settings.repo} (.github/opsgh.yml on its default branch, or the defaults)"
    return "the defaults (no configuration file and no current repository)"


class _ProgressBar:
    """A progress bar on stderr per phase (reading, applying), for runs over several repositories."""

    def __init__(self) -> None:
        self._bar: ProgressBar[int] | None = None
        self._phase = ""
        self._shown = 0

    def __call__(self, phase: str, done: int, total: int) -> None:
        if total < 2:
            return
        if phase != self._phase or self._bar is None:
            self.close()
            self._bar = click.progressbar(length=total, label=f"{phase} {total} repositories", file=sys.stderr)
            self._bar.__enter__()
            self._phase, self._shown = phase, 0
        self._bar.update(done - self._shown)
        self._shown = done

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


def _run_protect(state: CliState, mode: str, targets: ProtectTargets, concurrency: int, as_json: bool, *,
                 yes: bool = False, dry_run: bool = False) -> None:
    import json

    from opsgh.ops import protect

    clock = state.clock()
    if state.repo is None and len(targets.repos) == 1 and not state.environ.get("GITHUB_REPOSITORY", "").strip():
        state.repo = targets.repos[0]  # the one repository named is where the configuration comes from
    config = state.config()
    if not config.protection:
        raise UsageError(f"no branch protection declared in {_config_source(state)}: nothing to {mode}",
                         "declare protection.<branch> (see docs/CONFIG.md), e.g. protection: {prod: "
                         "{required_reviews: {count: 1}}}; with --org or several --repo, the configuration comes "
                         "from --config FILE, ./.github/opsgh.yml, or the repository named by the global --repo")
    gateway = state.gateway()
    gateway.pace_requests(clock)
    progress = _ProgressBar() if _terminal() and not as_json else None
    try:
        result = protect.plan(gateway, config, targets, state.settings().repo, clock,
                              mode="check" if mode == "check" else "plan", concurrency=concurrency,
                              on_progress=progress)
        if mode == "apply" and result.differs and not dry_run:
            if not as_json:
                click.echo("\n".join(result.lines()))
            if not yes:
                if not _interactive():
                    raise UsageError("refusing to apply without --yes: there is no terminal to confirm on",
                                     "review the plan above (or `opsgh protect plan`), then run "
                                     "`opsgh protect apply --yes`")
                counts = result.counts()
                if not click.confirm(f"Apply: {counts['create']} to create, {counts['update']} to update?",
                                     default=False, err=True):
                    click.echo("nothing was changed", err=True)
                    return
            result = protect.apply(gateway, result, clock, concurrency=concurrency, on_progress=progress)
    finally:
        if progress is not None:
            progress.close()
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
    else:
        lines = result.lines()
        if mode == "apply" and dry_run and result.differs:
            lines.append("dry run: nothing was changed")
        click.echo("\n".join(lines))
    if state.environ.get("GITHUB_ACTIONS") == "true":
        from opsgh.action import ActionsRuntime
        from opsgh.render.engine import Renderer

        runtime = ActionsRuntime(state.environ)
        runtime.set_output("drift", "true" if result.differs and not result.applied else "false")
        runtime.set_output("failed", str(len(result.failed)))
        runtime.add_summary(Renderer().render("protect_summary.md.j2", result.summary_context()))
    if result.exit_code:
        raise SystemExit(result.exit_code)


@protect_group.command("plan")
@_protect_options
@pass_state
def protect_plan(state: CliState, repos: tuple[str, ...], org: str | None, match: str | None, topics: tuple[str, ...],
                 include_archived: bool, include_forks: bool, concurrency: int, as_json: bool) -> None:
    """Show what apply would change on each branch; change nothing.

    One line per setting that differs (`setting: current -> desired`), warnings
    (e.g. a required check no workflow produces), and a summary table when there
    are several repositories. Exits 0, or 3 when a repository could not be read.

    \b
    Examples:
      opsgh protect plan
      opsgh protect plan --repo acme/shop --repo acme/api --json
      opsgh protect plan --org acme --match 'shop-*' --config protection.yml
    """
    _run_protect(state, "plan", _targets(repos, org, match, topics, include_archived, include_forks), concurrency,
                 as_json)


@protect_group.command("apply")
@_protect_options
@click.option("--yes", is_flag=True, help="Apply without asking (required when there is no terminal, e.g. in CI).")
@click.option("--dry-run", is_flag=True, help="Show the plan and change nothing (the same as `opsgh protect plan`).")
@pass_state
def protect_apply(state: CliState, repos: tuple[str, ...], org: str | None, match: str | None,
                  topics: tuple[str, ...], include_archived: bool, include_forks: bool, concurrency: int,
                  as_json: bool, yes: bool, dry_run: bool) -> None:
    """Change what differs from the configuration, and nothing else.

    Shows the plan, asks for confirmation on a terminal (--yes elsewhere), then
    writes only the branches that differ: one PUT of the classic protection, or
    one ruleset create/update per branch. Requests are paced under GitHub's
    secondary rate limits. A repository that fails is reported in the summary and
    the others go on; the exit code is 3 when any failed.

    \b
    Examples:
      opsgh protect apply
      opsgh protect apply --yes --org acme --topic production
    """
    _run_protect(state, "apply", _targets(repos, org, match, topics, include_archived, include_forks), concurrency,
                 as_json, yes=yes, dry_run=dry_run)


@protect_group.command("check")
@_protect_options
@pass_state
def protect_check(state: CliState, repos: tuple[str, ...], org: str | None, match: str | None,
                  topics: tuple[str, ...], include_archived: bool, include_forks: bool, concurrency: int,
                  as_json: bool) -> None:
    """Report drift between GitHub and the configuration (for a scheduled workflow).

    Exits 0 when every branch matches, 1 on drift (what differs is printed), 3 when
    a repository could not be read (e.g. the token lacks admin rights).

    \b
    Examples:
      opsgh protect check
      opsgh protect check --org acme --json
    """
    _run_protect(state, "check", _targets(repos, org, match, topics, include_archived, include_forks), concurrency,
                 as_json)


# ----------------------------------------------------------------------------- config


@cli.group("config")
def config_group() -> None:
    """Check and show the configuration (.github/opsgh.yml).

    \b
    Examples:
      opsgh config validate --file .github/opsgh.yml
      opsgh config show --json
    """


@config_group.command("validate")
@click.option("--file", "path", metavar="PATH", type=click.Path(dir_okay=False),
              help="The file to check [default: .github/opsgh.yml in the current directory].")
@pass_state
def config_validate(state: CliState, path: str | None) -> None:
    """Check a configuration file against the schema and the branch model's rules.

    Prints `ok` or one line naming the key path and line of the first problem (exit 2).

    \b
    Example:
      opsgh config validate --file .github/opsgh.yml
    """
    from opsgh.config import load_config_file

    target = path or state.config_path or os.path.join(".github", "opsgh.yml")
    load_config_file(target)
    click.echo(f"{target}: ok")


@config_group.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of YAML.")
@pass_state
def config_show(state: CliState, as_json: bool) -> None:
    """Print the effective configuration: the file merged over the defaults.

    Reads --config if given, else .github/opsgh.yml in the current directory if it
    exists, else the file on the repository's default branch (needs a token), else the
    defaults.

    \b
    Example:
      opsgh config show --json
    """
    from opsgh.config import config_as_dict

    data = config_as_dict(state.config())
    if as_json:
        import json

        click.echo(json.dumps(data, indent=2, sort_keys=False))
    else:
        import yaml

        click.echo(yaml.safe_dump(data, sort_keys=False, default_flow_style=False).rstrip())


# ----------------------------------------------------------------------------- init


@cli.command("init")
@click.option("--templates", "names", metavar="NAME,...",
              help="The workflow templates to write, comma-separated; `none`: only the configuration "
                   "[default: release, gate, commands, backport, rollback, verify, protect-drift].")
@click.option("--all", "all_templates", is_flag=True,
              help="Every template, protect-org too (for an organisation's administration repository).")
@click.option("--action-sha", metavar="SHA",
              help="Pin the opsgh action in the workflows to this commit (the full SHA of the release "
                   "tag) instead of the placeholder.")
@click.option("--force", is_flag=True, help="Overwrite files that differ from the templates (the diff is shown).")
@click.option("--dry-run", is_flag=True, help="Show the diff and what would be written; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the result (each file, its action and diff) as JSON.")
@click.option("--dir", "directory", metavar="DIR", type=click.Path(file_okay=False),
              help="A directory of the repository's work tree [default: the current directory].")
def init_command(names: str | None, all_templates: bool, action_sha: str | None, force: bool, dry_run: bool,
                 as_json: bool, directory: str | None) -> None:
    """Write .github/opsgh.yml and the workflow templates into this repository.

    Writes into the top of the git work tree of the current directory (or --dir):
    a commented starter configuration and the chosen workflows in
    .github/workflows/, showing the diff of each file. A file that is already
    identical is left alone; one that differs is never overwritten without --force
    (then nothing at all is written, exit 4). Local only: nothing is read from or
    written to GitHub.

    \b
    Examples:
      opsgh init --dry-run
      opsgh init --templates release,gate,commands
      opsgh init --all --action-sha SHA --force   # SHA: the commit of the release you use
    """
    from opsgh.git import work_tree_root
    from opsgh.ops.init import choose_templates, init

    chosen = choose_templates(None if names is None else names.split(","), all_templates)
    result = init(work_tree_root(directory or os.getcwd()), chosen, force=force, dry_run=dry_run, action_sha=action_sha)
    if as_json:
        import json

        click.echo(json.dumps(result.as_dict(), indent=2))
    else:
        click.echo(result.diffs(), nl=False)
        click.echo("\n".join(result.lines()))
    result.raise_for_outcome()


# ----------------------------------------------------------------------------- action


@cli.command(hidden=False)
@pass_state
def action(state: CliState) -> None:
    """Run as the GitHub Action: route the triggering event to an operation.

    Reads GITHUB_EVENT_NAME, GITHUB_EVENT_PATH and the INPUT_* variables; writes
    outputs, the step summary and annotations. Used by action.yml.

    \b
    Example (in a workflow step):
      run: opsgh action
    """
    from opsgh.action import main as action_main

    def run_cli(argv: list[str], environ: Mapping[str, str]) -> int:
        return run(argv, environ, clock=state._clock, timeout=state._timeout)

    raise SystemExit(action_main(state.environ, run_cli=run_cli, clock=state._clock, timeout=state._timeout))


# ----------------------------------------------------------------------------- sandbox and demo


@cli.group("sandbox")
def sandbox_group() -> None:
    """A local GitHub (REST, GraphQL, git over HTTP) for trying opsgh offline.

    Backed by real git repositories; every answer follows GitHub's official API
    description. Nothing leaves 127.0.0.1.

    \b
    Examples:
      opsgh sandbox serve --port 8080 --state ./sandbox-state
      opsgh sandbox seed --state ./sandbox-state
    """


@sandbox_group.command("serve")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Port on 127.0.0.1 (0 picks a free one).")
@click.option("--state", "state_dir", metavar="DIR", type=click.Path(file_okay=False),
              help="Keep the state (repositories, PRs, users) here so it survives a restart.")
@click.option("--latency-ms", type=click.FloatRange(0), default=0, show_default=True,
              help="Add this delay to every request (for benchmarks).")
@click.option("--seed/--no-seed", default=False, help="Seed the demo repository first (when the state is empty).")
@click.option("--log", "log_path", metavar="FILE", type=click.Path(dir_okay=False),
              help="Append every request as a JSON line to FILE.")
def sandbox_serve(port: int, state_dir: str | None, latency_ms: float, seed: bool, log_path: str | None) -> None:
    """Serve a sandbox until Ctrl-C, printing the URLs and the seeded tokens.

    \b
    Example:
      opsgh sandbox serve --seed --state ./sb
      GITHUB_API_URL=http://127.0.0.1:PORT GITHUB_TOKEN=... opsgh --repo acme/webshop doctor
    """
    from opsgh.sandbox import Sandbox, seed_demo, serve

    def ready(sandbox: Sandbox) -> None:
        click.echo(f"GITHUB_API_URL={sandbox.url}")
        click.echo(f"GITHUB_GRAPHQL_URL={sandbox.graphql_url}")
        if seed and not sandbox.state.repos:
            info = seed_demo(sandbox)
            click.echo(f"seeded {info.full_name}; clone with: git clone {sandbox.git_url(info.owner, info.repo)}")
            for login, token in sorted(info.tokens.items()):
                click.echo(f"  {login}: GITHUB_TOKEN={token}")
        click.echo("serving; press Ctrl-C to stop", err=True)

    serve(port=port, state_dir=state_dir, latency_ms=latency_ms, on_ready=ready, log_path=log_path)


@sandbox_group.command("seed")
@click.option("--state", "state_dir", metavar="DIR", type=click.Path(file_okay=False), required=True,
              help="The state directory to seed (then `opsgh sandbox serve --state DIR`).")
def sandbox_seed(state_dir: str) -> None:
    """Seed the demo repository (acme/webshop: main ahead of prod, users, tokens) into a state directory.

    \b
    Example:
      opsgh sandbox seed --state ./sb && opsgh sandbox serve --state ./sb
    """
    from opsgh.sandbox import Sandbox, seed_demo

    sandbox = Sandbox(state_dir)
    if sandbox.state.repos:
        raise UsageError(f"{state_dir} already holds a sandbox state",
                         "use an empty directory, or serve this one with `opsgh sandbox serve --state DIR`")
    sandbox.start()  # the seed lands its pull requests through the REST API, as people would
    try:
        info = seed_demo(sandbox)
    finally:
        sandbox.stop()  # saves the state into the directory
    click.echo(f"seeded {info.full_name} into {state_dir}")
    for login, token in sorted(info.tokens.items()):
        click.echo(f"  {login}: GITHUB_TOKEN={token}")


@cli.command()
@click.option("--keep", is_flag=True, help="Keep the sandbox running afterwards to explore it.")
@click.option("--latency-ms", type=click.FloatRange(0), default=0, show_default=True,
              help="Add this delay to every sandbox request.")
@pass_state
def demo(state: CliState, keep: bool, latency_ms: float) -> None:
    """Walk the release branch model end to end against a local sandbox, offline.

    Starts a sandbox GitHub, seeds a repository with main ahead of prod, and runs
    the opsgh commands a team would run on a release day, printing each one.

    \b
    Example:
      opsgh demo
    """
    from opsgh.demo import run_demo

    def run_cli(argv: list[str], environ: dict[str, str]) -> int:
        return run(argv, environ=environ)

    code = run_demo(run_cli, click.echo, latency_ms=latency_ms, keep=keep)
    if code:
        raise SystemExit(code)


# ----------------------------------------------------------------------------- the boundary


def _echo_error(err: OpsghError) -> None:
    click.echo(f"error: {err.message}", err=True)
    if err.hint:
        click.echo(f"hint: {err.hint}", err=True)


def run(argv: list[str] | None = None, environ: Mapping[str, str] | None = None, *, clock: Clock | None = None,
        timeout: float | None = None) -> int:
    """Run the CLI and return the exit code; the one place errors become output.

    `clock` replaces the system clock (every wait, retry and date; tests pass the sandbox's FakeClock) and
    `timeout` the seconds to wait for each GitHub answer (30).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    state = CliState(environ, clock=clock, timeout=timeout)
    try:
        cli.main(args=args, prog_name="opsgh", standalone_mode=False, obj=state)
        return ExitCode.OK
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return ExitCode.INTERRUPTED
    except click.ClickException as exc:
        # click's own usage errors (bad option, missing argument), in the same two lines as every error.
        _echo_error(_usage_error(exc, args))
        return ExitCode.USAGE
    except OpsghError as err:
        if debug:
            _print_traceback()
        _echo_error(err)
        return int(err.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return ExitCode.INTERRUPTED
    except SystemExit as exc:
        code = exc.code
        if code is None:
            return ExitCode.OK
        return code if isinstance(code, int) else ExitCode.UNEXPECTED
    except Exception as exc:  # the one catch-all: anything else is a bug
        if debug:
            _print_traceback()
        click.echo(f"error: unexpected {type(exc).__name__}: {_one_line(str(exc))}", err=True)
        click.echo(f"hint: this is a bug in opsgh {__version__}; re-run with --debug and report it at {ISSUES_URL}",
                   err=True)
        return ExitCode.UNEXPECTED


def _usage_error(exc: click.ClickException, args: list[str]) -> UsageError:
    """click's message on one line, and the help to read (of the command the arguments name)."""
    path: list[str] = ["opsgh"]
    command: click.Command = cli
    for token in args:
        if isinstance(command, click.Group) and token in command.commands:
            path.append(token)
            command = command.commands[token]
    return UsageError(" ".join(exc.format_message().split()),
                      f"see `{' '.join(path)} --help` for the arguments and an example")


def _print_traceback() -> None:
    import traceback

    traceback.print_exc()


def _one_line(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first[:300]


def main() -> None:
    """Console-script entry point."""
    sys.exit(run())


__all__ = ["UsageError", "cli", "main", "run"]
