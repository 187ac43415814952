"""The operations the GitHub Action runs, composed once per run (a composition root, like cli.py).

`ActionOperations` builds nothing until asked and turns each operation's result into what a workflow
step shows: `lines` for the log and the job summary, `outputs` (verdict, pr-number, pr-url, tag,
result-json) and an exit code. The slash-command runners are the same methods bound to a comment's
context, so `/ship` and a dispatched `ship` do exactly the same thing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from opsgh.clock import Clock, SystemClock
from opsgh.config import Config
from opsgh.errors import ExitCode
from opsgh.ops.commands import CommandContext, CommandReport, Runner

if TYPE_CHECKING:
    from opsgh.gate.verdict import Verdict
    from opsgh.github.gateway import GitHubGateway
    from opsgh.ops.backport import BackportResult
    from opsgh.ops.release import ReleaseResult
    from opsgh.ops.rollback import RollbackResult
    from opsgh.ops.ship import ShipResult
    from opsgh.ops.verify import VerifyResult


@dataclass(frozen=True, slots=True)
class OperationResult:
    exit_code: int
    lines: tuple[str, ...]
    outputs: Mapping[str, str] = field(default_factory=dict)
    ok: bool = True  # False: the operation ran and found problems (NO-GO, failed verification)


def _json(data: Mapping[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, default=str)


# The step outputs of each operation (action.yml declares them), the same whether the event was routed
# here or an explicit `command` ran the CLI (cli.py writes these in Actions).


def release_outputs(result: ReleaseResult) -> dict[str, str]:
    outputs = {"result-json": _json({"operation": "release", "action": result.action, "number": result.number,
                                     "url": result.url, "dry_run": result.dry_run})}
    if result.number is not None:
        outputs |= {"pr-number": str(result.number), "pr-url": result.url or ""}
    return outputs


def gate_outputs(verdict: Verdict, number: int | None, pr_url: str | None) -> dict[str, str]:
    outputs = {"verdict": str(verdict.state), "reasons": json.dumps(list(verdict.reasons)),
               "result-json": _json({"operation": "gate", **verdict.as_dict(), "number": number})}
    if number is not None:
        outputs |= {"pr-number": str(number), "pr-url": pr_url or ""}
    return outputs


def ship_outputs(result: ShipResult) -> dict[str, str]:
    return {"pr-number": str(result.pr_number), "pr-url": result.pr_url, "tag": result.tag or "",
            "result-json": _json({"operation": "ship", **result.as_dict()})}


def verify_outputs(result: VerifyResult) -> dict[str, str]:
    return {"result-json": _json({"operation": "verify", **result.as_dict()}), "tier": str(result.tier),
            "verify-passed": "true" if result.passed else "false"}


def backport_outputs(result: BackportResult) -> dict[str, str]:
    outputs = {"result-json": _json({"operation": "backport", **result.as_dict()})}
    opened = next((t for t in result.targets if t.pr_number is not None), None)
    if opened is not None:
        outputs |= {"pr-number": str(opened.pr_number), "pr-url": opened.pr_url or ""}
    return outputs


def rollback_outputs(result: RollbackResult) -> dict[str, str]:
    return {"result-json": _json({"operation": "rollback", **result.as_dict()})}


class ActionOperations:
    def __init__(self, gateway: GitHubGateway, config: Config, repo: str, environ: Mapping[str, str], *,
                 dry_run: bool = False, run_url: str | None = None, clock: Clock | None = None,
                 progress: Callable[[str], None] | None = None) -> None:
        self.gateway, self.config, self.repo, self.environ = gateway, config, repo, environ
        self.dry_run, self.run_url = dry_run, run_url
        self.clock = clock or SystemClock()
        self.progress = progress or (lambda line: None)

    # ------------------------------------------------------------------ operations

    def release(self) -> OperationResult:
        from opsgh.ops.release import release

        result = release(self.gateway, self.repo, self.config, self.clock, dry_run=self.dry_run)
        return OperationResult(ExitCode.OK, tuple(result.summary().splitlines()), release_outputs(result))

    def gate(self, number: int | None) -> OperationResult:
        """The verdict, published (sticky comment + check run) unless dry-run. A verdict is a result, not a
        failure of the step: NO-GO and PENDING exit 0 here, the check run carries them."""
        from opsgh.gate.verdict import VerdictState
        from opsgh.ops.gate import gate, locate_release_pull, verdict_lines
        from opsgh.ops.publish_verdict import publish_verdict
        from opsgh.ports import PullShipState

        number = locate_release_pull(self.gateway, self.repo, self.config, number)
        from opsgh.context import gate_network_clients

        probe_client, runner = gate_network_clients(self.config, self.clock)
        seen: list[PullShipState] = []
        try:
            verdict = gate(self.gateway, self.repo, self.config, self.clock, number, probe_client=probe_client,
                           command_runner=runner, on_pull=seen.append)
        finally:
            if probe_client is not None:
                probe_client.close()
        lines = list(verdict_lines(verdict, number))
        pull = seen[-1] if seen else None
        if not self.dry_run:
            published = publish_verdict(self.gateway, self.repo, number, verdict,
                                        head_checks=pull.checks if pull else None)
            lines.append(f"published: comment {published.comment} ({published.comment_url}), "
                         f"{published.check_kind} {published.check}")
        return OperationResult(ExitCode.OK, tuple(lines), gate_outputs(verdict, number, pull.url if pull else None),
                               verdict.state is VerdictState.GO)

    def gate_release_pull_at(self, head_sha: str) -> OperationResult | None:
        """Gate the open Release PR if its head is `head_sha` (a status landed there); None otherwise."""
        staging, production = self.config.branches.staging, self.config.branches.production
        found = self.gateway.list_pulls_between(self.repo, staging, production, "open", limit=1)
        if not found or found[0].head_sha != head_sha:
            return None
        return self.gate(found[0].number)

    def ship(self, number: int | None, head_sha: str | None = None) -> OperationResult:
        from opsgh.ops.ship import ShipRequest, ship

        result = ship(self.gateway, self.config, ShipRequest(self.repo, number, self.dry_run, self.run_url, head_sha),
                      self.clock, notify=self._slack())
        return OperationResult(ExitCode.OK, tuple(result.lines()), ship_outputs(result))

    def verify(self, environment: str) -> OperationResult:
        from opsgh.github.probes import HttpxProbeClient
        from opsgh.ops.verify import VerifyRequest, verify

        client = HttpxProbeClient(self.clock)
        try:
            result = verify(self.gateway, self.config,
                            VerifyRequest(self.repo, environment, dry_run=self.dry_run, run_url=self.run_url),
                            self.clock, client, progress=self.progress)
        finally:
            client.close()
        code = ExitCode.OK if result.passed else ExitCode.CHECK_FAILED
        return OperationResult(code, tuple(result.lines()), verify_outputs(result), result.passed)

    def backport(self, number: int, targets: tuple[str, ...] = ()) -> OperationResult:
        """Back-port merged PR `number` (to `targets`, default hotfix.backport_to) in a scratch repository.
        A conflict is exit 5 with the commands in the log; the draft PR or the comment carries them too."""
        from opsgh.errors import OpsghError
        from opsgh.git import BOT_IDENTITY, GitCheckout
        from opsgh.ops.backport import BackportRequest, backport

        request = BackportRequest(self.repo, number, targets, self.dry_run)
        with GitCheckout(self.gateway.clone_url(self.repo), self.gateway.git_token, self.clock,
                         identity=BOT_IDENTITY) as git:
            result = backport(self.gateway, git, self.config, request)
        outputs = backport_outputs(result)
        code = ExitCode.OK
        try:
            result.raise_for_outcome()
        except OpsghError as err:
            code = err.exit_code
        return OperationResult(code, tuple(result.lines()), outputs, code == ExitCode.OK)

    def rollback(self, reason: str, actor: str | None) -> OperationResult:
        from opsgh.ops.rollback import RollbackRequest, rollback

        result = rollback(self.gateway, self.config,
                          RollbackRequest(self.repo, reason, None, True, self.dry_run, actor, self.run_url),
                          self.clock, notify=self._slack())
        return OperationResult(ExitCode.OK, tuple(result.lines()), rollback_outputs(result))

    def _slack(self) -> Callable[[str], None] | None:
        from opsgh.context import slack_notifier_from

        return slack_notifier_from(self.config, self.environ)

    # ------------------------------------------------------------------ slash commands

    def runners(self) -> dict[str, Runner]:
        def report(result: OperationResult) -> CommandReport:
            return CommandReport(result.ok, result.lines, result.outputs)

        def release(context: CommandContext) -> CommandReport:
            return report(self.release())

        def gate(context: CommandContext) -> CommandReport:
            return report(self.gate(context.event.number))

        def ship(context: CommandContext) -> CommandReport:
            head = context.head_sha if context.pull.state == "OPEN" else None
            return report(self.ship(context.event.number, head))

        def verify(context: CommandContext) -> CommandReport:
            return report(self.verify(context.command.argument or "production"))

        def rollback(context: CommandContext) -> CommandReport:
            author = context.event.author
            reason = context.command.argument or f"/rollback by @{author} on #{context.event.number}"
            return report(self.rollback(reason, author))

        def backport(context: CommandContext) -> CommandReport:
            target = context.command.argument
            return report(self.backport(context.event.number, (target,) if target else ()))

        return {"release": release, "gate": gate, "ship": ship, "verify": verify, "rollback": rollback,
                "backport": backport}
