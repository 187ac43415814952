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


BAD_CONFIGS = sorted((Path(__file__).parent / "bad_configs").glob("*.yml"))


def test_the_bad_config_corpus_is_large_enough() -> None:
    assert len(BAD_CONFIGS) >= 15


@pytest.mark.parametrize("path", BAD_CONFIGS, ids=lambda p: p.name)
def test_bad_config_gives_exit_2_and_one_line(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Through the real command a user types: exit 2, `error:` + `hint:`, the key path, no traceback."""
    assert run(["config", "validate", "--file", str(path)]) == ExitCode.USAGE
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert out == ""
    assert lines[0].startswith(f"error: {path}")
    assert lines[1].startswith("hint: ")
    assert len(lines) == 2 or all(line.startswith("  ") for line in lines[2:])
    assert "Traceback" not in err
    header = path.read_bytes().split(b"\n", 1)[0].decode("utf-8", "replace")
    # `# expect: <line|-> | <key path|-> | <message part>` (see test_config.py)
    _, line, key_path, _ = (part.strip() for part in header.replace("# expect:", "|", 1).split("|", 3))
    if line != "-":
        assert f"{path}:{line}:" in lines[0]
    if key_path != "-":
        assert f" {key_path}: " in lines[0]


def test_good_config_validates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    example = Path(__file__).resolve().parents[2] / "docs" / "opsgh.example.yml"
    assert run(["config", "validate", "--file", str(example)]) == ExitCode.OK
    assert capsys.readouterr().out.strip() == f"{example}: ok"


def test_action_command_runs_the_actions_entry_point(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    event = tmp_path / "event.json"
    event.write_text('{"ref": "refs/heads/main", "repository": {"full_name": "acme/shop"}}')
    output = tmp_path / "output"
    output.write_text("")
    environ = {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "push", "GITHUB_EVENT_PATH": str(event),
               "GITHUB_OUTPUT": str(output), "GITHUB_REPOSITORY": "acme/shop"}
    assert run(["action"], environ=environ) == ExitCode.USAGE
    assert "::error title=opsgh::no GitHub token" in capsys.readouterr().out
    assert "outcome<<" in output.read_text()
