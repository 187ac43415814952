"""The command-probes criterion, with real processes (the runner) and the criterion's rules."""

from __future__ import annotations

import time

from opsgh.config import GateCommand
from opsgh.gate.commands import evaluate_commands
from opsgh.gate.verdict import Outcome
from opsgh.shell import SubprocessCommandRunner

RUNNER = SubprocessCommandRunner()


def test_expected_exit_codes_pass() -> None:
    result = evaluate_commands([GateCommand("ok", "true"), GateCommand("expected failure", "false", expect_exit=1)],
                               RUNNER)
    assert result.outcome is Outcome.PASS, result
    assert result.key == "commands"
    assert result.details == ("PASS ok (`true`)", "PASS expected failure (`false`)")


def test_wrong_exit_code_fails_with_the_output() -> None:
    result = evaluate_commands([GateCommand("ok", "true"), GateCommand("db", "echo 'connection refused' >&2; exit 3")],
                               RUNNER)
    assert result.outcome is Outcome.FAIL
    assert result.summary == "1 of 2 commands failed; `db`: exit code 3, expected 0 (output: connection refused)"


def test_output_pattern_through_a_pipe() -> None:
    matching = GateCommand("migrations", "printf 'pending: 0\\nok\\n' | grep pending", expect_output=r"^pending: 0$")
    assert evaluate_commands([matching], RUNNER).outcome is Outcome.PASS
    other = GateCommand("migrations", "echo 'pending: 2'", expect_output=r"^pending: 0$")
    result = evaluate_commands([other], RUNNER)
    assert result.outcome is Outcome.FAIL
    assert "output does not match /^pending: 0$/ (output: pending: 2)" in result.summary


def test_invalid_pattern_is_reported() -> None:
    result = evaluate_commands([GateCommand("bad", "true", expect_output="(")], RUNNER)
    assert result.outcome is Outcome.FAIL
    assert "not a valid regular expression" in result.summary


def test_timeout_kills_the_whole_shell() -> None:
    started = time.monotonic()
    result = evaluate_commands([GateCommand("hang", "sleep 30; echo never")], RUNNER, timeout_s=0.3)
    assert time.monotonic() - started < 5, "the shell's child outlived the timeout"
    assert result.outcome is Outcome.FAIL
    assert "timed out after 0.3 s" in result.summary


def test_argv_and_missing_program() -> None:
    outcome = RUNNER.run(["echo", "a b"], 5.0)
    assert (outcome.exit_code, outcome.output) == (0, "a b\n")
    missing = RUNNER.run(["/nonexistent/opsgh-tool"], 5.0)
    assert missing.exit_code == 127
    assert "cannot start" in missing.output


def test_no_commands_is_skipped() -> None:
    assert evaluate_commands([], RUNNER).outcome is Outcome.SKIP


def test_advisory_commands_do_not_block() -> None:
    result = evaluate_commands([GateCommand("no", "false")], RUNNER, advisory=True)
    assert result.outcome is Outcome.FAIL
    assert result.blocking is False
