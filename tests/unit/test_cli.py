"""The CLI as a user meets it: help with examples, one-line errors, exit codes, no tracebacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest

from opsgh import cli as cli_module
from opsgh.cli import cli, run
from opsgh.errors import ExitCode, PreconditionFailed


def _all_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for name, command in sorted(group.commands.items()):
        found.append((*prefix, name))
        if isinstance(command, click.Group):
            found.extend(_all_commands(command, (*prefix, name)))
    return found


COMMANDS = _all_commands(cli)


def test_there_are_commands() -> None:
    assert ("doctor",) in COMMANDS
    assert ("config", "validate") in COMMANDS


@pytest.mark.parametrize("path", [(), *COMMANDS], ids=lambda p: " ".join(p) or "opsgh")
def test_every_help_has_an_example(path: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    assert run([*path, "--help"]) == ExitCode.OK
    out = capsys.readouterr().out
    assert "Usage: opsgh" in out
    assert "Example" in out, f"`opsgh {' '.join(path)} --help` shows no example"
    assert "opsgh " in out.split("Example", 1)[1]


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["frobnicate"]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert "No such command 'frobnicate'" in err
    assert "Traceback" not in err


def test_opsgh_error_prints_message_and_hint(monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    def boom(*_: object) -> None:
        raise PreconditionFailed("release PR #12 is NO-GO: 1 required check failing", "fix CI, then run opsgh gate")

    monkeypatch.setattr(cli_module, "config_as_dict", boom, raising=False)
    monkeypatch.setattr("opsgh.config.config_as_dict", boom)
    assert run(["config", "show"]) == ExitCode.PRECONDITION
    err = capsys.readouterr().err.splitlines()
    assert err == ["error: release PR #12 is NO-GO: 1 required check failing", "hint: fix CI, then run opsgh gate"]


def test_unexpected_exception_is_reported_as_a_bug_without_traceback(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def boom(*_: object) -> None:
        raise KeyError("surprise")

    monkeypatch.setattr("opsgh.config.config_as_dict", boom)
    assert run(["config", "show"]) == ExitCode.UNEXPECTED
    err = capsys.readouterr().err
    assert "error: unexpected KeyError: 'surprise'" in err
    assert "report it" in err
    assert "Traceback" not in err


def test_debug_shows_the_traceback(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def boom(*_: object) -> None:
        raise KeyError("surprise")

    monkeypatch.setattr("opsgh.config.config_as_dict", boom)
    assert run(["--debug", "config", "show"]) == ExitCode.UNEXPECTED
    assert "Traceback (most recent call last)" in capsys.readouterr().err


def test_bad_repo_argument(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--repo", "not a repo", "doctor"]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert err.startswith("error: repository 'not a repo' (from --repo) is not OWNER/NAME")


def test_python_dash_m_and_version() -> None:
    out = subprocess.run([sys.executable, "-m", "opsgh", "--version"], capture_output=True, text=True,
                         cwd=Path(__file__).parent)
    assert out.returncode == 0
    assert out.stdout.startswith("opsgh, version ")
