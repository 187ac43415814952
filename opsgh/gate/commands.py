"""The command-probes criterion: the runbooks' verification commands that only a shell can run.

Commands come only from the trusted config (the default branch's `.github/opsgh.yml`), never from
a pull request's head: a PR cannot make the gate run code of its choosing. Each command must exit
with `expect_exit` and, when `expect_output` is set, its output must match that regular
expression (`re.search`, multi-line). Commands run one after another: they are few and may depend
on each other's side effects (a login, then a query).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from opsgh.config import GateCommand
from opsgh.gate.probe_port import CommandRunner
from opsgh.gate.verdict import CriterionResult, Outcome

KEY = "commands"
TITLE = "Command probes"
DEFAULT_TIMEOUT_S = 300.0
_TAIL_CHARS = 200


def _tail(output: str) -> str:
    text = output.strip()
    return text if len(text) <= _TAIL_CHARS else "…" + text[-_TAIL_CHARS:]


def check_command(command: GateCommand, runner: CommandRunner, timeout_s: float) -> str | None:
    """Run one command; the reason it failed, or None."""
    outcome = runner.run(command.run, timeout_s)
    if outcome.timed_out:
        return f"timed out after {timeout_s:g} s"
    if outcome.exit_code != command.expect_exit:
        tail = _tail(outcome.output)
        return f"exit code {outcome.exit_code}, expected {command.expect_exit}" + (f" (output: {tail})" if tail else "")
    if command.expect_output is not None:
        try:
            pattern = re.compile(command.expect_output, re.MULTILINE)
        except re.error as exc:
            return f"`expect_output` is not a valid regular expression: {exc}"
        if not pattern.search(outcome.output):
            return f"output does not match /{command.expect_output}/ (output: {_tail(outcome.output) or 'empty'})"
    return None


def evaluate_commands(commands: Sequence[GateCommand], runner: CommandRunner, *,
                      timeout_s: float = DEFAULT_TIMEOUT_S, advisory: bool = False) -> CriterionResult:
    """Run every configured command; FAIL when any exits or prints other than expected."""
    if not commands:
        return CriterionResult(KEY, TITLE, Outcome.SKIP, "no commands configured", blocking=not advisory)
    failures: list[tuple[str, str]] = []
    details: list[str] = []
    for command in commands:
        problem = check_command(command, runner, timeout_s)
        details.append(f"{'PASS' if problem is None else 'FAIL'} {command.name} (`{command.run}`)"
                       + ("" if problem is None else f": {problem}"))
        if problem is not None:
            failures.append((command.name, problem))
    if not failures:
        return CriterionResult(KEY, TITLE, Outcome.PASS, f"all {len(commands)} commands passed", tuple(details),
                               blocking=not advisory)
    name, problem = failures[0]
    summary = f"{len(failures)} of {len(commands)} commands failed; `{name}`: {problem}"
    return CriterionResult(KEY, TITLE, Outcome.FAIL, summary, tuple(details), blocking=not advisory)
