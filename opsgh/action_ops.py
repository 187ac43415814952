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
    from opsgh.github.gateway import GitHubGateway


@dataclass(frozen=True, slots=True)
class OperationResult:
    exit_code: int
    lines: tuple[str, ...]
    outputs: Mapping[str, str] = field(default_factory=dict)
    ok: bool = True  # False: the operation ran and found problems (NO-GO, failed verification)


def _json(data: Mapping[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, default=str)


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
        outputs = {"result-json": _json({"operation": "release", "action": result.action, "number": result.number,
                                         "url": result.url, "dry_run": result.dry_run})}
        if result.number is not None:
            outputs |= {"pr-number": str(result.number), "pr-url": result.url or ""}
        return OperationResult(ExitCode.OK, tuple(result.summary().splitlines()), outputs)

    def gate(self, number: int | None) -> OperationResult:
        """The verdict, published (sticky comment + check run) unless dry-run. A verdict is a result, not a
        failure of the step: NO-GO and PENDING exit 0 here, the check run carries them."""
        from opsgh.gate.verdict import VerdictState
        from opsgh.ops.gate import gate, locate_release_pull, verdict_lines
        from opsgh.ops.publish_verdict import publish_verdict
        from opsgh.ports import PullShipState

        number = locate_release_pull(self.gateway, self.repo, self.config, number)
        probe_client, runner = self._network_clients()
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
        outputs = {"verdict": str(verdict.state), "reasons": json.dumps(list(verdict.reasons)),
                   "pr-number": str(number), "pr-url": pull.url if pull else "",
                   "result-json": _json({"operation": "gate", **verdict.as_dict(), "number": number})}
        return OperationResult(ExitCode.OK, tuple(lines), outputs, verdict.state is VerdictState.GO)

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
        outputs = {"pr-number": str(result.pr_number), "pr-url": result.pr_url, "tag": result.tag or "",
                   "result-json": _json({"operation": "ship", **result.as_dict()})}
        return OperationResult(ExitCode.OK, tuple(result.lines()), outputs)

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
        outputs = {"result-json": _json({"operation": "verify", **result.as_dict()}), "tier": str(result.tier)}
        code = ExitCode.OK if result.passed else ExitCode.CHECK_FAILED
        return OperationResult(code, tuple(result.lines()), outputs, result.passed)

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
        opened = next((t for t in result.targets if t.pr_number is not None), None)
        outputs = {"result-json": _json({"operation": "backport", **result.as_dict()})}
        if opened is not None:
            outputs |= {"pr-number": str(opened.pr_number), "pr-url": opened.pr_url or ""}
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
        outputs = {"result-json": _json({"operation": "rollback", **result.as_dict()})}
        return OperationResult(ExitCode.OK, tuple(result.lines()), outputs)

    def _slack(self) -> Callable[[str], None] | None:
        variable = self.config.notify.slack_webhook_env
        if not variable or not self.environ.get(variable, "").strip():
            return None
        from opsgh.github.notify import slack_notifier

        return slack_notifier(self.environ[variable].strip(), source=f"${variable}")

    def _network_clients(self) -> tuple[Any, Any]:
        gate_config = self.config.gate
        probe_client = runner = None
        if gate_config.probes or gate_config.parity is not None:
            from opsgh.github.probes import HttpxProbeClient

            probe_client = HttpxProbeClient(self.clock)
        if gate_config.commands:
            # From the default branch's configuration only (the Action never reads a checkout's file).
            from opsgh.shell import SubprocessCommandRunner

            runner = SubprocessCommandRunner()
        return probe_client, runner

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
