"""The GitHub Actions runtime: environment, inputs, outputs, step summary, workflow commands.

Follows the runner's documented conventions and `@actions/core`'s behaviour exactly:

- workflow commands are lines `::name key=value,key=value::data` on stdout, with data escaped
  (`%`, CR, LF) and property values escaped further (`:` and `,`);
- outputs and exported variables are appended to the files named by GITHUB_OUTPUT and GITHUB_ENV
  in the heredoc form `name<<ghadelimiter_<uuid4>` / value / delimiter, which is safe for
  multi-line values (the deprecated `::set-output` / `::set-env` commands are never written);
- inputs are the `INPUT_<NAME>` variables (name upper-cased, spaces -> `_`, hyphens kept).

`ActionsRuntime` reads only the mapping it is given (the composition root passes os.environ in),
so tests run it on a plain dict. `main` routes the event (`opsgh.events`) to an operation
(`opsgh.action_ops`) or to a slash command (`opsgh.ops.commands`).
"""

from __future__ import annotations

import html
import json
import re
import sys
import traceback
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, overload

from opsgh import ISSUES_URL
from opsgh.context import REPO_RE
from opsgh.errors import ExitCode, OpsghError, UsageError

if TYPE_CHECKING:
    from opsgh.action_ops import ActionOperations, OperationResult
    from opsgh.clock import Clock
    from opsgh.config import Config
    from opsgh.github.gateway import GitHubGateway
    from opsgh.ops.commands import CommentEvent

# Variables whose values are secrets; masked before anything else is written to the log.
SECRET_ENV_VARS = ("GITHUB_TOKEN", "INPUT_TOKEN", "OPSGH_APP_PRIVATE_KEY")

# YAML 1.2 core-schema booleans, the only spellings `core.getBooleanInput` accepts.
TRUE_SPELLINGS = ("true", "True", "TRUE")
FALSE_SPELLINGS = ("false", "False", "FALSE")

REPOSITORY_RE = REPO_RE
SHA_RE = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")  # SHA-1, or SHA-256 repositories

DEFAULT_API_URL = "https://api.github.com"  # only when GITHUB_API_URL is unset (outside Actions)

# Events whose payload carries nothing opsgh needs (a schedule's is just the cron string).
EVENTS_WITHOUT_PAYLOAD = frozenset({"schedule"})

NOT_IN_ACTIONS_HINT = (
    "`opsgh action` is the entry point of the GitHub Action (action.yml); "
    "on a terminal run the opsgh commands directly, e.g. `opsgh release`"
)


def escape_data(value: str) -> str:
    """Escape a workflow command's data (after the second `::`), like `@actions/core`."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """Escape a workflow command's property value: data escaping plus `:` and `,`."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def format_command(command: str, data: str = "", properties: Mapping[str, object] | None = None) -> str:
    """One workflow command line (without the newline). Properties that are None or "" are left out."""
    props = [f"{key}={escape_property(str(value))}"
             for key, value in (properties or {}).items() if value is not None and str(value) != ""]
    head = f"::{command}" + (" " + ",".join(props) if props else "")
    return f"{head}::{escape_data(data)}"


def _check_name(kind: str, name: str) -> None:
    """Refuse names the runner's file parser would read differently.

    The runner splits a line at the first `=` or `<<`, whichever comes first: a name holding
    either (or a line break) would be parsed as another name, or let a value inject entries.
    """
    if not name or "=" in name or "<<" in name or "\n" in name or "\r" in name:
        raise ValueError(f"invalid {kind} name {name!r}: it must be non-empty, on one line, "
                         "without '=' or '<<'")


class ActionsRuntime:
    """What a step running in GitHub Actions reads from its environment and writes back."""

    def __init__(self, environ: Mapping[str, str], stream: TextIO | None = None) -> None:
        self.environ = environ
        self._stream = stream

    # ------------------------------------------------------------------ environment

    @property
    def stream(self) -> TextIO:
        """Where workflow commands go; sys.stdout (looked up late) unless one was injected."""
        return self._stream if self._stream is not None else sys.stdout

    def _get(self, name: str) -> str | None:
        value = self.environ.get(name, "").strip()
        return value or None

    def _require(self, name: str, what: str) -> str:
        value = self._get(name)
        if value is None:
            raise UsageError(f"{name} is not set: {what} is unknown",
                             "the GitHub Actions runner sets it; run `opsgh action` only inside a workflow")
        return value

    @property
    def is_actions(self) -> bool:
        return self.environ.get("GITHUB_ACTIONS") == "true"

    @property
    def event_name(self) -> str:
        return self._require("GITHUB_EVENT_NAME", "the triggering event")

    def event_payload(self) -> dict[str, Any]:
        """The webhook payload of the triggering event (the JSON file at GITHUB_EVENT_PATH)."""
        path = self._require("GITHUB_EVENT_PATH", "the event payload")
        hint = "the runner writes the event payload there; check the workflow's trigger"
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot read the event payload {path}: {exc.strerror or exc}", hint) from None
        except UnicodeDecodeError:
            raise UsageError(f"the event payload {path} is not UTF-8 text", hint) from None
        try:
            payload = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UsageError(f"the event payload {path} is not valid JSON (line {exc.lineno}: {exc.msg})",
                             hint) from None
        if not isinstance(payload, dict):
            raise UsageError(f"the event payload {path} is not a JSON object", hint)
        return payload

    @property
    def repository(self) -> str:
        """`owner/name` from GITHUB_REPOSITORY, validated."""
        value = self._require("GITHUB_REPOSITORY", "the repository")
        if not REPOSITORY_RE.match(value):
            raise UsageError(f"GITHUB_REPOSITORY is {value!r}, not owner/name",
                             "the runner sets it to the repository the workflow runs in")
        return value

    @property
    def sha(self) -> str:
        value = self._require("GITHUB_SHA", "the commit")
        if not SHA_RE.match(value):
            raise UsageError(f"GITHUB_SHA is {value!r}, not a commit SHA",
                             "the runner sets it to the commit that triggered the workflow")
        return value

    @property
    def ref(self) -> str | None:
        """GITHUB_REF, e.g. `refs/heads/main`; absent for events with neither branch nor tag."""
        return self._get("GITHUB_REF")

    @property
    def actor(self) -> str:
        return self._require("GITHUB_ACTOR", "the user who triggered the workflow")

    @property
    def run_url(self) -> str | None:
        """The web page of this workflow run, or None when the runner variables are missing."""
        server, run_id = self._get("GITHUB_SERVER_URL"), self._get("GITHUB_RUN_ID")
        if server is None or run_id is None:
            return None
        return f"{server.rstrip('/')}/{self.repository}/actions/runs/{run_id}"

    @property
    def api_url(self) -> str:
        """REST base URL: GITHUB_API_URL (GitHub Enterprise Server sets its own)."""
        return (self._get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/")

    @property
    def graphql_url(self) -> str:
        """GraphQL endpoint: GITHUB_GRAPHQL_URL, else derived from the REST base URL.

        github.com: https://api.github.com/graphql; GHES: https://HOST/api/v3 -> https://HOST/api/graphql.
        """
        explicit = self._get("GITHUB_GRAPHQL_URL")
        if explicit is not None:
            return explicit.rstrip("/")
        api = self.api_url
        if api.endswith("/api/v3"):
            return api[: -len("/v3")] + "/graphql"
        return api + "/graphql"

    # ------------------------------------------------------------------ inputs

    @staticmethod
    def input_variable(name: str) -> str:
        """The variable the runner sets for an input: spaces -> `_`, upper-cased, hyphens kept."""
        return "INPUT_" + name.replace(" ", "_").upper()

    @overload
    def input(self, name: str, default: str, required: bool = False) -> str: ...
    @overload
    def input(self, name: str, default: None = None, required: bool = False) -> str | None: ...

    def input(self, name: str, default: str | None = None, required: bool = False) -> str | None:
        """An action input, whitespace stripped; empty counts as not given."""
        value = self.environ.get(self.input_variable(name), "").strip()
        if value:
            return value
        if required:
            raise UsageError(f"input `{name}` is required and was not supplied",
                             f"set `with: {name}: ...` on the opsgh step")
        return default

    def input_bool(self, name: str, default: bool | None = None) -> bool:
        """A boolean input: one of the YAML 1.2 core booleans, anything else is an error."""
        value = self.input(name)
        if value is None and default is not None:
            return default
        if value in TRUE_SPELLINGS:
            return True
        if value in FALSE_SPELLINGS:
            return False
        shown = "nothing" if value is None else repr(value)
        raise UsageError(f"input `{name}` must be a boolean, got {shown}",
                         "use one of true | True | TRUE | false | False | FALSE")

    # ------------------------------------------------------------------ environment files

    def _append_file(self, variable: str, text: str) -> bool:
        """Append to the file named by `variable`; False when the variable is unset (not in Actions)."""
        path = self._get(variable)
        if path is None:
            return False
        try:
            with open(path, "a", encoding="utf-8", newline="") as handle:
                handle.write(text)
        except OSError as exc:
            raise UsageError(f"cannot write to {variable} file {path}: {exc.strerror or exc}",
                             "the runner creates this file for each step; check the workflow") from None
        return True

    @staticmethod
    def _heredoc(kind: str, name: str, value: str) -> str:
        _check_name(kind, name)
        delimiter = f"ghadelimiter_{uuid.uuid4()}"
        if delimiter in name:
            raise ValueError(f"unexpected {kind} name: it contains the delimiter {delimiter!r}")
        if delimiter in value:
            raise ValueError(f"unexpected {kind} value: it contains the delimiter {delimiter!r}")
        return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"

    def _write_fallback(self, text: str) -> None:
        self.stream.write(text if text.endswith("\n") else text + "\n")
        self.stream.flush()

    def set_output(self, name: str, value: str) -> None:
        """Set a step output (GITHUB_OUTPUT); outside Actions print `name=value` instead."""
        if not self._append_file("GITHUB_OUTPUT", self._heredoc("output", name, value)):
            self._write_fallback(f"{name}={value}")

    def export_env(self, name: str, value: str) -> None:
        """Set a variable for the following steps (GITHUB_ENV); outside Actions print it instead."""
        if not self._append_file("GITHUB_ENV", self._heredoc("environment variable", name, value)):
            self._write_fallback(f"{name}={value}")

    def add_summary(self, markdown: str) -> None:
        """Append markdown to the job summary (GITHUB_STEP_SUMMARY); outside Actions print it."""
        text = markdown if markdown.endswith("\n") else markdown + "\n"
        if not self._append_file("GITHUB_STEP_SUMMARY", text):
            self._write_fallback(text)

    # ------------------------------------------------------------------ workflow commands

    def command(self, command: str, data: str = "", properties: Mapping[str, object] | None = None) -> None:
        """Write one workflow command line and flush, so it stays in order with child output."""
        self.stream.write(format_command(command, data, properties) + "\n")
        self.stream.flush()

    def _annotate(self, level: str, message: str, title: str | None, file: str | None,
                  line: int | None) -> None:
        self.command(level, message, {"title": title, "file": file, "line": line})

    def error(self, message: str, title: str | None = None, file: str | None = None,
              line: int | None = None) -> None:
        self._annotate("error", message, title, file, line)

    def warning(self, message: str, title: str | None = None, file: str | None = None,
                line: int | None = None) -> None:
        self._annotate("warning", message, title, file, line)

    def notice(self, message: str, title: str | None = None, file: str | None = None,
               line: int | None = None) -> None:
        self._annotate("notice", message, title, file, line)

    def debug(self, message: str) -> None:
        self.command("debug", message)

    def add_mask(self, value: str) -> None:
        """Mask a secret in the log. The runner masks line by line, so each line is masked alone.

        Outside Actions nothing is written: no runner would hide the command, it would print the secret.
        """
        if not self.is_actions:
            return
        for line in value.splitlines():
            stripped = line.strip()
            if stripped:  # the runner refuses (and warns about) empty masks
                self.command("add-mask", stripped)

    @contextmanager
    def group(self, title: str) -> Iterator[None]:
        """A foldable group in the log."""
        self.command("group", title)
        try:
            yield
        finally:
            self.command("endgroup")

    @contextmanager
    def stop_commands(self) -> Iterator[None]:
        """Echo untrusted text (tracebacks, PR titles) without the runner obeying `::` lines in it."""
        token = f"opsgh-{uuid.uuid4()}"
        self.command("stop-commands", token)
        try:
            yield
        finally:
            self.stream.write(f"::{token}::\n")
            self.stream.flush()

    def mask_secrets(self, env: Mapping[str, str] | None = None,
                     names: Iterable[str] = SECRET_ENV_VARS) -> None:
        """Mask the values of the known secret variables that are set (in `env`, else our environment)."""
        source = self.environ if env is None else env
        for name in names:
            value = source.get(name)
            if value:
                self.add_mask(value)

    # ------------------------------------------------------------------ errors

    def report_error(self, err: OpsghError) -> None:
        """An error as an annotation (message), a notice (hint) and a section of the job summary."""
        self.error(err.message, title="opsgh")
        if err.hint:
            self.notice(err.hint, title="opsgh hint")
        exit_code = ExitCode(err.exit_code)
        section = ["### opsgh failed", "", html.escape(err.message, quote=False), ""]
        if err.hint:
            section += [_markdown_block(err.hint), ""]
        section.append(f"Exit code {int(exit_code)} ({exit_code.name.lower()}).")
        try:
            self.add_summary("\n".join(section) + "\n")
        except UsageError as summary_err:  # the annotation above already carries the error
            self.warning(summary_err.message, title="opsgh")


def _markdown_block(text: str) -> str:
    """A hint as markdown: one line as a paragraph, several (e.g. manual steps) as a code block."""
    if "\n" not in text:
        return html.escape(text, quote=False)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def _event_label(event_name: str, payload: Mapping[str, Any] | None) -> str:
    action = payload.get("action") if payload else None
    return f"{event_name}.{action}" if isinstance(action, str) and action else event_name


RunCli = Callable[[list[str], Mapping[str, str]], int]
DISPATCHABLE = ("release", "gate", "ship", "verify", "backport", "rollback", "protect", "doctor")


def main(environ: Mapping[str, str], stdout: TextIO | None = None, run_cli: RunCli | None = None, *,
         clock: Clock | None = None, timeout: float | None = None) -> int:
    """Entry point of the GitHub Action: route the triggering event (`opsgh.events`), run the operation,
    write the outputs and the job summary; returns the exit code.

    `run_cli` runs an opsgh command line (workflow_dispatch's `command` + `args`, the scheduled drift
    check); the CLI passes itself in, so this module never imports click. `clock` replaces the system
    clock and `timeout` the seconds to wait for each GitHub answer (tests: the sandbox's FakeClock).
    """
    runtime = ActionsRuntime(environ, stdout)
    runtime.mask_secrets()
    try:
        if not runtime.is_actions:
            raise UsageError('not running in GitHub Actions (GITHUB_ACTIONS is not "true")',
                             NOT_IN_ACTIONS_HINT)
        event_name = runtime.event_name
        payload = None if event_name in EVENTS_WITHOUT_PAYLOAD else runtime.event_payload()
        return _run(runtime, event_name, payload, run_cli, clock, timeout)
    except OpsghError as err:
        runtime.report_error(err)
        _set_outcome_quietly(runtime, "failed")
        return int(err.exit_code)
    except Exception as exc:  # the boundary: a bug says so, with its traceback in a folded group
        with runtime.group("opsgh traceback"), runtime.stop_commands():
            runtime.stream.write(traceback.format_exc())
        runtime.report_error(OpsghError(
            f"unexpected error: {type(exc).__name__}: {exc}",
            f"this is a bug in opsgh; please report it with this log at {ISSUES_URL}"))
        _set_outcome_quietly(runtime, "failed")
        return int(ExitCode.UNEXPECTED)


def _run(runtime: ActionsRuntime, event_name: str, payload: dict[str, Any] | None, run_cli: RunCli | None,
         clock: Clock | None = None, timeout: float | None = None) -> int:
    from opsgh.action_ops import ActionOperations
    from opsgh.context import build_gateway, load_default_branch_config, settings_from_env
    from opsgh.events import route

    dry_run = runtime.input_bool("dry-run", default=False)
    repo = runtime.repository
    command = runtime.input("command")
    if event_name == "workflow_dispatch" and command is None:
        inputs = (payload or {}).get("inputs")
        found = inputs.get("command") if isinstance(inputs, dict) else None
        command = found.strip() if isinstance(found, str) and found.strip() else None
    if command is not None and event_name != "workflow_dispatch" and run_cli is not None:
        # An explicit `command` input runs that command whatever the event (e.g. a verify job after a deploy).
        return _run_command(runtime, command, dry_run, run_cli)
    settings = settings_from_env(runtime.environ, repo=repo)
    gateway = build_gateway(settings, on_wait=lambda message: runtime.notice(message, title="opsgh waiting"),
                            clock=clock, timeout=timeout)
    config = load_default_branch_config(gateway, repo, settings.remote_config_path)
    plan = route(event_name, payload, config, repo)
    label = _event_label(event_name, payload)
    if plan.operation == "skip":
        runtime.notice(f"received `{label}`: {plan.reason}; nothing to do", title="opsgh")
        runtime.set_output("outcome", "skipped")
        return int(ExitCode.OK)
    if plan.operation in ("dispatch", "protect-check"):
        if run_cli is None:
            raise UsageError(f"`{label}` runs an opsgh command, and no command runner was given",
                             "run the Action through `opsgh action`")
        if plan.operation == "protect-check":
            return _run_command(runtime, "protect", dry_run, run_cli, ["check"])
        if command is None:
            raise UsageError("workflow_dispatch without a command",
                             f"set the `command` input of the opsgh step: one of {', '.join(DISPATCHABLE)}")
        return _run_command(runtime, command, dry_run, run_cli)
    ops = ActionOperations(gateway, config, repo, runtime.environ, dry_run=dry_run, run_url=runtime.run_url,
                           progress=lambda line: _log(runtime, line), clock=clock)
    runtime.notice(f"received `{label}`: {plan.reason}", title="opsgh")
    result: OperationResult | None
    if plan.operation == "command":
        assert plan.comment is not None
        return _answer_command(runtime, gateway, config, ops, plan.comment)
    if plan.operation == "release":
        result = ops.release()
    elif plan.operation == "gate":
        result = ops.gate(plan.pr_number)
    elif plan.operation == "backport":
        assert plan.pr_number is not None
        result = ops.backport(plan.pr_number)
    elif plan.operation == "gate-release-pr":
        assert plan.head_sha is not None
        result = ops.gate_release_pull_at(plan.head_sha)
        if result is None:
            runtime.notice("the commit is not the head of the open Release PR: nothing to gate", title="opsgh")
            runtime.set_output("outcome", "skipped")
            return int(ExitCode.OK)
    else:
        raise UsageError(f"`{label}` asks for {plan.operation}, which this version of opsgh cannot do yet",
                         "update opsgh, or remove the trigger from the workflow")
    return _finish(runtime, plan.operation, result)


def _log(runtime: ActionsRuntime, line: str) -> None:
    """A line of output that may hold text from people: the runner must not read `::` commands in it."""
    with runtime.stop_commands():
        runtime.stream.write(line.rstrip("\n") + "\n")


def _finish(runtime: ActionsRuntime, operation: str, result: OperationResult) -> int:
    for line in result.lines:
        _log(runtime, line)
    for name, value in result.outputs.items():
        runtime.set_output(name, value)
    runtime.set_output("outcome", "done" if result.ok else "problems")
    runtime.add_summary("\n".join([f"### opsgh {operation}", "", "```text", *result.lines, "```", ""]))
    return int(result.exit_code)


def _run_command(runtime: ActionsRuntime, command: str, dry_run: bool, run_cli: RunCli,
                 extra: list[str] | None = None) -> int:
    import shlex

    if command not in DISPATCHABLE:
        raise UsageError(f"unknown command {command!r}", f"the `command` input is one of {', '.join(DISPATCHABLE)}")
    try:
        args = shlex.split(runtime.input("args", ""))
    except ValueError as exc:
        raise UsageError(f"the `args` input cannot be split into arguments: {exc}",
                         "quote arguments like a shell would, e.g. args: --env staging") from None
    argv = [command, *(extra or []), *args]
    if dry_run and command in ("release", "ship", "verify", "backport", "rollback"):
        argv.append("--dry-run")
    code = run_cli(argv, runtime.environ)
    runtime.set_output("outcome", "done" if code == 0 else "failed")
    return code


def _answer_command(runtime: ActionsRuntime, gateway: GitHubGateway, config: Config, ops: ActionOperations,
                    comment: CommentEvent) -> int:
    from opsgh.ops.commands import handle_comment

    outcome = handle_comment(gateway, config, comment, ops.runners(), run_url=runtime.run_url)
    runtime.set_output("outcome", outcome.outcome)
    runtime.set_output("result-json", json.dumps({
        "operation": "command", "command": outcome.command, "outcome": outcome.outcome, "reason": outcome.reason,
        "reply_url": outcome.reply_url}, sort_keys=True))
    if outcome.report is not None:
        for name, value in outcome.report.outputs.items():
            if name != "result-json":
                runtime.set_output(name, value)
    _log(runtime, f"{outcome.outcome}: {outcome.reason}" + (f" ({outcome.reply_url})" if outcome.reply_url else ""))
    if outcome.error is not None:
        # The reply on the PR says it to the commenter; the annotation says it on the workflow run.
        runtime.report_error(outcome.error)
        return int(outcome.error.exit_code)
    return int(ExitCode.OK)


def _set_outcome_quietly(runtime: ActionsRuntime, outcome: str) -> None:
    """Best effort: the error is already reported; failing to write the output must not hide it."""
    with suppress(OpsghError):
        runtime.set_output("outcome", outcome)
