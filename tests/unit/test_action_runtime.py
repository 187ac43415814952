"""The GitHub Actions runtime adapter: files, workflow commands, inputs, and the placeholder router.

Outputs are read back with a parser that follows the runner's own (FileCommandManager's
heredoc/`NAME=VALUE` reader on Linux), so "parsed back exactly" means what the runner would see.
"""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from opsgh.action import ActionsRuntime, format_command, main
from opsgh.errors import BackportConflict, ExitCode, UsageError

SHA = "6113728f27ae82c7b1a177c8d03f9e96e0adf246"
FIXED_UUID = uuid.UUID("12345678-1234-5678-1234-567812345678")
FIXED_DELIMITER = f"ghadelimiter_{FIXED_UUID}"


def parse_file_commands(text: str) -> dict[str, str]:
    """Read a GITHUB_OUTPUT/GITHUB_ENV file the way the runner does (Linux: LF line ends)."""
    result: dict[str, str] = {}
    index = 0

    def read_line() -> tuple[str | None, bool]:
        nonlocal index
        if index >= len(text):
            return None, False
        lf = text.find("\n", index)
        if lf < 0:
            line, index = text[index:], len(text)
            return line, False
        line, index = text[index:lf], lf + 1
        return line, True

    line, _ = read_line()
    while line is not None:
        if line:
            equals, heredoc = line.find("="), line.find("<<")
            if equals >= 0 and (heredoc < 0 or equals < heredoc):
                key, value = line.split("=", 1)
                assert key, f"invalid line {line!r}"
            elif heredoc >= 0:
                key, delimiter = line.split("<<", 1)
                assert key, f"invalid line {line!r}"
                assert delimiter, f"invalid line {line!r}"
                start = end = index
                temp, had_newline = read_line()
                while temp != delimiter:
                    assert temp is not None, f"matching delimiter not found {delimiter!r}"
                    assert had_newline, "EOF marker missing new line"
                    end = index - 1
                    temp, had_newline = read_line()
                value = text[start:end] if end > start else ""
            else:
                raise AssertionError(f"invalid format {line!r}")
            result[key] = value
        line, _ = read_line()
    return result


def read_file_commands(path: Path) -> dict[str, str]:
    # Bytes, not read_text(): universal newlines would turn a value's CR LF into LF.
    return parse_file_commands(path.read_bytes().decode("utf-8"))


def actions_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The variables a runner sets for a step, with fresh command files."""
    for name in ("output", "env", "summary"):
        (tmp_path / name).touch()
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_ENV": str(tmp_path / "env"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
        "GITHUB_REPOSITORY": "octo-org/hello-world",
        "GITHUB_SHA": SHA,
        "GITHUB_REF": "refs/heads/main",
        "GITHUB_ACTOR": "octocat",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_RUN_ID": "1658821493",
        "GITHUB_API_URL": "https://api.github.com",
        "GITHUB_GRAPHQL_URL": "https://api.github.com/graphql",
    }
    env.update(extra)
    return env


def push_payload() -> dict[str, Any]:
    """A trimmed real-looking `push` delivery (shape of @octokit/webhooks-examples push)."""
    return {
        "ref": "refs/heads/main",
        "before": "0000000000000000000000000000000000000000",
        "after": SHA,
        "repository": {"id": 186853002, "name": "hello-world", "full_name": "octo-org/hello-world",
                       "private": False, "default_branch": "main",
                       "owner": {"login": "octo-org", "id": 21031067, "type": "Organization"}},
        "pusher": {"name": "octocat", "email": "octocat@github.com"},
        "sender": {"login": "octocat", "id": 21031067, "type": "User"},
        "created": False, "deleted": False, "forced": False, "base_ref": None,
        "compare": "https://github.com/octo-org/hello-world/compare/000000000000...6113728f27ae",
        "commits": [{"id": SHA, "tree_id": "31b122c26a97cf9af023e9ddab94a82c6e77b0ea", "distinct": True,
                     "message": "Fix checkout\n\nLonger body, with: colons, commas and 100%.",
                     "timestamp": "2026-05-14T16:08:11-04:00",
                     "author": {"name": "Octo Cat", "email": "octocat@github.com", "username": "octocat"},
                     "committer": {"name": "GitHub", "email": "noreply@github.com", "username": "web-flow"},
                     "added": [], "removed": [], "modified": ["README.md"]}],
        "head_commit": None,
    }


def write_event(tmp_path: Path, payload: object) -> str:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    return str(path)


@pytest.fixture
def fixed_uuid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(uuid, "uuid4", lambda: FIXED_UUID)


# ----------------------------------------------------------------------------- outputs and env files


def test_outputs_round_trip_exactly_through_the_runner_parser(tmp_path: Path) -> None:
    env = actions_env(tmp_path)
    (tmp_path / "output").write_text("earlier=kept\n", encoding="utf-8")  # an earlier step's output
    values = {
        "plain": "skipped",
        "multi": "line one\nline two\n\nline four",
        "trailing-newline": "ends with a newline\n",
        "empty": "",
        "tricky": "a=b<<c\n::error::not a command\n%0A stays literal",
        "spaced": "  keeps its spaces  ",
        "unicode": "Release 2026-05-14 ✓",
        "crlf": "windows\r\nline",
    }
    runtime = ActionsRuntime(env, io.StringIO())
    for name, value in values.items():
        runtime.set_output(name, value)

    parsed = read_file_commands(tmp_path / "output")
    assert parsed == {"earlier": "kept", **values}


def test_each_value_gets_its_own_random_delimiter(tmp_path: Path) -> None:
    env = actions_env(tmp_path)
    runtime = ActionsRuntime(env, io.StringIO())
    runtime.set_output("a", "1")
    runtime.set_output("b", "2")
    headers = [line for line in (tmp_path / "output").read_text().splitlines() if "<<" in line]
    delimiters = [h.split("<<", 1)[1] for h in headers]
    assert len(delimiters) == 2
    assert len(set(delimiters)) == 2
    for delimiter in delimiters:
        assert delimiter.startswith("ghadelimiter_")
        uuid.UUID(delimiter.removeprefix("ghadelimiter_"))  # raises unless a UUID follows


@pytest.mark.usefixtures("fixed_uuid")
def test_a_value_containing_the_delimiter_is_refused_and_nothing_written(tmp_path: Path) -> None:
    env = actions_env(tmp_path)
    runtime = ActionsRuntime(env, io.StringIO())
    with pytest.raises(ValueError, match="delimiter"):
        runtime.set_output("body", f"first\n{FIXED_DELIMITER}\ninjected=yes")
    with pytest.raises(ValueError, match="delimiter"):
        runtime.export_env(f"X{FIXED_DELIMITER}", "v")
    assert (tmp_path / "output").read_text() == ""
    assert (tmp_path / "env").read_text() == ""


@pytest.mark.parametrize("name", ["", "a=b", "a<<b", "two\nlines"])
def test_names_the_runner_would_misread_are_refused(tmp_path: Path, name: str) -> None:
    runtime = ActionsRuntime(actions_env(tmp_path), io.StringIO())
    with pytest.raises(ValueError, match="name"):
        runtime.set_output(name, "value")
    assert (tmp_path / "output").read_text() == ""


def test_export_env_writes_the_env_file(tmp_path: Path) -> None:
    env = actions_env(tmp_path)
    runtime = ActionsRuntime(env, io.StringIO())
    runtime.export_env("OPSGH_RELEASE_PR", "42")
    runtime.export_env("NOTES", "line 1\nline 2")
    assert read_file_commands(tmp_path / "env") == {"OPSGH_RELEASE_PR": "42", "NOTES": "line 1\nline 2"}
    assert (tmp_path / "output").read_text() == ""


def test_outside_actions_outputs_go_to_the_stream_as_plain_text(tmp_path: Path) -> None:
    stream = io.StringIO()
    runtime = ActionsRuntime({}, stream)
    runtime.set_output("outcome", "skipped")
    runtime.export_env("PR", "7")
    runtime.add_summary("## Release")
    assert stream.getvalue() == "outcome=skipped\nPR=7\n## Release\n"
    assert "::set-output" not in stream.getvalue()


def test_unwritable_output_file_is_a_usage_error(tmp_path: Path) -> None:
    env = actions_env(tmp_path, GITHUB_OUTPUT=str(tmp_path / "missing-dir" / "output"))
    with pytest.raises(UsageError, match="GITHUB_OUTPUT"):
        ActionsRuntime(env, io.StringIO()).set_output("a", "b")


def test_summary_is_appended_not_overwritten(tmp_path: Path) -> None:
    env = actions_env(tmp_path)
    (tmp_path / "summary").write_text("## From an earlier step\n", encoding="utf-8")
    runtime = ActionsRuntime(env, io.StringIO())
    runtime.add_summary("### Go/no-go\n\n| check | result |\n|---|---|\n| CI | ok |")
    runtime.add_summary("done\n")
    assert (tmp_path / "summary").read_text(encoding="utf-8") == (
        "## From an earlier step\n### Go/no-go\n\n| check | result |\n|---|---|\n| CI | ok |\ndone\n")


# ----------------------------------------------------------------------------- workflow commands


def test_annotation_escapes_data_and_properties() -> None:
    stream = io.StringIO()
    runtime = ActionsRuntime({}, stream)
    runtime.error("50% done\r\nnext: a, b", title="gate: NO-GO, 2 failed", file="ops/x.py", line=12)
    assert stream.getvalue() == (
        "::error title=gate%3A NO-GO%2C 2 failed,file=ops/x.py,line=12::50%25 done%0D%0Anext: a, b\n")


def test_annotation_without_properties_and_empty_ones_left_out() -> None:
    stream = io.StringIO()
    runtime = ActionsRuntime({}, stream)
    runtime.warning("careful")
    runtime.notice("fyi", title="", file="README.md")
    runtime.debug("x=1\ny=2")
    assert stream.getvalue().splitlines() == [
        "::warning::careful",
        "::notice file=README.md::fyi",
        "::debug::x=1%0Ay=2",
    ]


def test_percent_is_escaped_first_so_escapes_survive_a_round_trip() -> None:
    # "%0A" typed literally must not come out of the runner as a newline.
    assert format_command("notice", "%0A") == "::notice::%250A"
    assert format_command("notice", "m", {"title": "%3A"}) == "::notice title=%253A::m"


def test_group_is_closed_even_when_the_body_fails() -> None:
    stream = io.StringIO()
    runtime = ActionsRuntime({}, stream)

    def failing_body() -> None:
        with runtime.group("Gate: criteria"):
            stream.write("inside\n")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        failing_body()
    assert stream.getvalue() == "::group::Gate: criteria\ninside\n::endgroup::\n"


def test_stop_commands_wraps_untrusted_text_with_a_fresh_token() -> None:
    stream = io.StringIO()
    runtime = ActionsRuntime({}, stream)
    with runtime.stop_commands():
        stream.write("::error::from a PR title\n")
    first, body, last = stream.getvalue().splitlines()
    token = first.removeprefix("::stop-commands::")
    assert token.startswith("opsgh-")
    assert body == "::error::from a PR title"
    assert last == f"::{token}::"


# ----------------------------------------------------------------------------- masks


def test_add_mask_masks_a_multiline_secret_line_by_line() -> None:
    stream = io.StringIO()
    runtime = ActionsRuntime({"GITHUB_ACTIONS": "true"}, stream)
    key = "-----BEGIN RSA PRIVATE KEY-----\r\nMIIEowIBAAKCAQEA0Z\n\n  abc+/=\n-----END RSA PRIVATE KEY-----\n"
    runtime.add_mask(key)
    assert stream.getvalue().splitlines() == [
        "::add-mask::-----BEGIN RSA PRIVATE KEY-----",
        "::add-mask::MIIEowIBAAKCAQEA0Z",
        "::add-mask::abc+/=",
        "::add-mask::-----END RSA PRIVATE KEY-----",
    ]


@pytest.mark.parametrize("value", ["", "   ", "\n\n"])
def test_add_mask_of_nothing_writes_nothing(value: str) -> None:
    stream = io.StringIO()
    ActionsRuntime({"GITHUB_ACTIONS": "true"}, stream).add_mask(value)
    assert stream.getvalue() == ""


def test_add_mask_outside_actions_does_not_print_the_secret() -> None:
    stream = io.StringIO()
    ActionsRuntime({}, stream).add_mask("ghp_secret")
    assert "ghp_secret" not in stream.getvalue()


def test_mask_secrets_masks_the_known_secret_variables_only() -> None:
    stream = io.StringIO()
    env = {"GITHUB_ACTIONS": "true", "GITHUB_TOKEN": "ghs_abc", "INPUT_TOKEN": "ghp_def",
           "OPSGH_APP_PRIVATE_KEY": "line1\nline2", "GITHUB_REPOSITORY": "o/r"}
    ActionsRuntime(env, stream).mask_secrets()
    assert stream.getvalue().splitlines() == [
        "::add-mask::ghs_abc", "::add-mask::ghp_def", "::add-mask::line1", "::add-mask::line2"]


# ----------------------------------------------------------------------------- inputs


@pytest.mark.parametrize(("name", "variable"), [
    ("dry-run", "INPUT_DRY-RUN"),
    ("release branch", "INPUT_RELEASE_BRANCH"),
    ("Token", "INPUT_TOKEN"),
])
def test_input_variable_names_follow_the_runner(name: str, variable: str) -> None:
    runtime = ActionsRuntime({variable: "  value \n"})
    assert ActionsRuntime.input_variable(name) == variable
    assert runtime.input(name) == "value"


def test_hyphens_are_not_turned_into_underscores() -> None:
    runtime = ActionsRuntime({"INPUT_DRY_RUN": "true"})
    assert runtime.input("dry-run") is None


def test_missing_input_default_and_required() -> None:
    runtime = ActionsRuntime({"INPUT_BLANK": "   "})
    assert runtime.input("absent") is None
    assert runtime.input("absent", default="main") == "main"
    assert runtime.input("blank", default="main") == "main"
    with pytest.raises(UsageError, match="input `blank` is required"):
        runtime.input("blank", required=True)


@pytest.mark.parametrize(("text", "expected"), [
    ("true", True), ("True", True), ("TRUE", True), ("false", False), ("False", False), (" FALSE ", False),
])
def test_input_bool_accepts_the_yaml_core_booleans(text: str, expected: bool) -> None:
    assert ActionsRuntime({"INPUT_DRY-RUN": text}).input_bool("dry-run") is expected


@pytest.mark.parametrize("text", ["yes", "1", "on", "tRUE", "t"])
def test_input_bool_rejects_anything_else_naming_the_input(text: str) -> None:
    with pytest.raises(UsageError, match="input `dry-run` must be a boolean") as info:
        ActionsRuntime({"INPUT_DRY-RUN": text}).input_bool("dry-run")
    assert "true | True | TRUE" in info.value.hint


def test_input_bool_missing_uses_the_default_or_fails() -> None:
    runtime = ActionsRuntime({})
    assert runtime.input_bool("dry-run", default=False) is False
    with pytest.raises(UsageError, match="got nothing"):
        runtime.input_bool("dry-run")


# ----------------------------------------------------------------------------- environment


def test_runner_variables(tmp_path: Path) -> None:
    runtime = ActionsRuntime(actions_env(tmp_path, GITHUB_EVENT_NAME="push"))
    assert runtime.is_actions
    assert runtime.event_name == "push"
    assert runtime.repository == "octo-org/hello-world"
    assert runtime.sha == SHA
    assert runtime.ref == "refs/heads/main"
    assert runtime.actor == "octocat"
    assert runtime.run_url == "https://github.com/octo-org/hello-world/actions/runs/1658821493"
    assert runtime.api_url == "https://api.github.com"
    assert runtime.graphql_url == "https://api.github.com/graphql"


def test_github_actions_must_be_exactly_true() -> None:
    assert not ActionsRuntime({"GITHUB_ACTIONS": "TRUE"}).is_actions
    assert not ActionsRuntime({}).is_actions


def test_enterprise_server_urls() -> None:
    runtime = ActionsRuntime({"GITHUB_API_URL": "https://ghe.example.com/api/v3/"})
    assert runtime.api_url == "https://ghe.example.com/api/v3"
    assert runtime.graphql_url == "https://ghe.example.com/api/graphql"
    explicit = ActionsRuntime({"GITHUB_API_URL": "https://ghe.example.com/api/v3",
                               "GITHUB_GRAPHQL_URL": "https://ghe.example.com/api/graphql"})
    assert explicit.graphql_url == "https://ghe.example.com/api/graphql"


@pytest.mark.parametrize("value", ["hello-world", "octo/hello/world", "-octo/x", "octo/", "octo/he llo"])
def test_malformed_repository_is_a_usage_error(value: str) -> None:
    with pytest.raises(UsageError, match="GITHUB_REPOSITORY"):
        _ = ActionsRuntime({"GITHUB_REPOSITORY": value}).repository


def test_missing_repository_and_bad_sha_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="GITHUB_REPOSITORY is not set"):
        _ = ActionsRuntime({}).repository
    with pytest.raises(UsageError, match="GITHUB_SHA"):
        _ = ActionsRuntime({"GITHUB_SHA": "main"}).sha


def test_event_payload_is_read(tmp_path: Path) -> None:
    runtime = ActionsRuntime({"GITHUB_EVENT_PATH": write_event(tmp_path, push_payload())})
    assert runtime.event_payload()["after"] == SHA


@pytest.mark.parametrize(("content", "message"), [
    (None, "cannot read the event payload"),
    ("{not json", "is not valid JSON"),
    ("[1, 2]", "is not a JSON object"),
    (b"\xff\xfe{}", "is not UTF-8"),
])
def test_bad_event_file_is_a_one_line_usage_error(tmp_path: Path, content: str | bytes | None,
                                                  message: str) -> None:
    path = tmp_path / "event.json"
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    elif isinstance(content, bytes):
        path.write_bytes(content)
    with pytest.raises(UsageError, match=message) as info:
        ActionsRuntime({"GITHUB_EVENT_PATH": str(path)}).event_payload()
    assert "\n" not in info.value.message


def test_unset_event_path_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="GITHUB_EVENT_PATH is not set"):
        ActionsRuntime({}).event_payload()


# ----------------------------------------------------------------------------- errors


def test_report_error_writes_annotation_hint_and_summary(tmp_path: Path) -> None:
    stream = io.StringIO()
    runtime = ActionsRuntime(actions_env(tmp_path), stream)
    err = BackportConflict("cherry-pick of #12 onto main conflicts in app/models.py",
                           ["git fetch origin", "git cherry-pick -x abc123"])
    runtime.report_error(err)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "::error title=opsgh::cherry-pick of #12 onto main conflicts in app/models.py"
    assert lines[1] == ("::notice title=opsgh hint::finish the back-port by hand:"
                        "%0A  git fetch origin%0A  git cherry-pick -x abc123")
    summary = (tmp_path / "summary").read_text(encoding="utf-8")
    assert "### opsgh failed" in summary
    assert ("```text\nfinish the back-port by hand:\n  git fetch origin\n  git cherry-pick -x abc123\n```"
            in summary)
    assert "Exit code 5 (backport_conflict)" in summary


def test_report_error_escapes_html_in_the_summary(tmp_path: Path) -> None:
    runtime = ActionsRuntime(actions_env(tmp_path), io.StringIO())
    runtime.report_error(UsageError("branch <script> not found", "check the name"))
    summary = (tmp_path / "summary").read_text(encoding="utf-8")
    assert "<script>" not in summary
    assert "&lt;script&gt;" in summary


# ----------------------------------------------------------------------------- main


def test_main_masks_the_token_before_anything_else(tmp_path: Path) -> None:
    """Routing needs GitHub (the configuration); without a reachable API the run fails, token masked first."""
    env = actions_env(tmp_path, GITHUB_EVENT_NAME="push",
                      GITHUB_EVENT_PATH=write_event(tmp_path, push_payload()),
                      GITHUB_TOKEN="ghs_16C7e42F292c6912E7710c838347Ae178B4a", GITHUB_API_URL="http://127.0.0.1:9")
    stream = io.StringIO()
    assert main(env, stream) == ExitCode.GITHUB
    lines = stream.getvalue().splitlines()
    assert lines[0] == "::add-mask::ghs_16C7e42F292c6912E7710c838347Ae178B4a"  # masked before anything else
    assert any(line.startswith("::error title=opsgh::") for line in lines)
    assert read_file_commands(tmp_path / "output") == {"outcome": "failed"}


def test_main_without_a_token_is_a_usage_error(tmp_path: Path) -> None:
    env = actions_env(tmp_path, GITHUB_EVENT_NAME="schedule")
    stream = io.StringIO()
    assert main(env, stream) == ExitCode.USAGE
    assert "no GitHub token" in stream.getvalue()


def test_main_outside_actions_is_a_usage_error(tmp_path: Path) -> None:
    env = {"GITHUB_EVENT_NAME": "push", "GITHUB_EVENT_PATH": write_event(tmp_path, push_payload()),
           "GITHUB_TOKEN": "ghp_terminaltoken"}
    stream = io.StringIO()
    assert main(env, stream) == ExitCode.USAGE
    out = stream.getvalue()
    first_line = out.splitlines()[0]
    assert first_line == '::error title=opsgh::not running in GitHub Actions (GITHUB_ACTIONS is not "true")'
    assert "ghp_terminaltoken" not in out
    assert "skipped" not in out


def test_main_with_a_missing_event_file_fails_with_summary(tmp_path: Path) -> None:
    env = actions_env(tmp_path, GITHUB_EVENT_NAME="push", GITHUB_EVENT_PATH=str(tmp_path / "nope.json"))
    stream = io.StringIO()
    assert main(env, stream) == ExitCode.USAGE
    assert stream.getvalue().startswith("::error title=opsgh::cannot read the event payload ")
    assert "### opsgh failed" in (tmp_path / "summary").read_text()
    assert read_file_commands(tmp_path / "output") == {"outcome": "failed"}


def test_main_without_event_name_fails(tmp_path: Path) -> None:
    stream = io.StringIO()
    assert main(actions_env(tmp_path), stream) == ExitCode.USAGE
    assert "GITHUB_EVENT_NAME is not set" in stream.getvalue()


def test_main_reports_a_bug_as_unexpected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: ActionsRuntime) -> dict[str, Any]:
        raise KeyError("::warning::smuggled")

    monkeypatch.setattr(ActionsRuntime, "event_payload", broken)
    env = actions_env(tmp_path, GITHUB_EVENT_NAME="push", GITHUB_EVENT_PATH=write_event(tmp_path, {}))
    stream = io.StringIO()
    assert main(env, stream) == ExitCode.UNEXPECTED
    out = stream.getvalue()
    assert "::group::opsgh traceback" in out
    assert "::stop-commands::opsgh-" in out  # the traceback cannot issue commands
    assert "::error title=opsgh::unexpected error: KeyError" in out
    assert "please report it" in out
    assert read_file_commands(tmp_path / "output") == {"outcome": "failed"}
