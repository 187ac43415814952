"""Answer a slash command on a pull request: parse, authorize, bind to the head, run, reply.

1. Only a comment just *created* on a *pull request* by a *person* can be a command: edits, deletions,
   issues and bots are ignored (an edit could otherwise turn an old comment into a new order).
2. The first line is parsed strictly (`opsgh.slash`); not a command: no answer at all.
3. One answer per command comment: the reply carries a marker with the comment's id, and a re-run
   that finds it does nothing (re-running a workflow must not answer, or ship, twice).
4. The commenter's role comes from the collaborator-permission API and must reach the command's
   level (`commands.permission`); any failure to read it is a denial (fail closed).
5. The command is bound to the head SHA: `/ship` needs opsgh's GO (`opsgh / go-no-go`) on the current
   head, published before the comment was written (so its author saw that head gated), and
   `/ship <sha>` must name that head. The operation then runs pinned to it.
6. Reactions say what happened (eyes: received, rocket: done, confused: refused or failed); the reply
   says it in words, and a check run `opsgh / <command>` on the head carries the result too.

The operations themselves are `runners` given by the composition root (`opsgh.action`): this module
never builds clients. A runner's OpsghError becomes a "failed" reply with its hint.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from opsgh.config import Config
from opsgh.errors import Forbidden, OpsghError
from opsgh.ops.gate import GATE_CHECK_NAME
from opsgh.ports import CheckRunRef, CommentRef, PullShipState, StatusInfo
from opsgh.slash import Refusal, SlashCommand, help_lines, parse

if TYPE_CHECKING:
    from opsgh.render.engine import Renderer

REPLY_MARKER = "<!-- opsgh:reply -->"
ROLES = ("none", "read", "triage", "write", "maintain", "admin")
SUMMARY_LIMIT = 65_535
COMMENT_LIMIT = 65_536


class CommandPort(Protocol):
    def collaborator_role(self, full_name: str, login: str) -> str: ...

    def add_reaction(self, full_name: str, comment_id: int, content: str) -> None: ...

    def iter_issue_comments(self, full_name: str, number: int) -> Iterator[CommentRef]: ...

    def create_issue_comment(self, full_name: str, number: int, body: str) -> CommentRef: ...

    def pull_ship_state(self, full_name: str, number: int) -> PullShipState: ...

    def check_runs_allowed(self) -> bool: ...

    def create_check_run(self, full_name: str, *, name: str, head_sha: str, status: str, conclusion: str | None,
                         title: str, summary: str, details_url: str | None = None) -> CheckRunRef: ...

    def create_commit_status(self, full_name: str, sha: str, state: str, context: str, description: str,
                             target_url: str | None = None) -> StatusInfo: ...


@dataclass(frozen=True, slots=True)
class CommentEvent:
    """An `issue_comment` delivery, reduced to what deciding on a command needs."""

    repo: str
    action: str  # created, edited, deleted
    number: int  # the issue or pull request
    is_pull_request: bool
    comment_id: int
    body: str
    author: str
    author_type: str  # User, Bot, Organization
    created_at: str  # ISO 8601
    url: str = ""


@dataclass(frozen=True, slots=True)
class CommandContext:
    """What a runner gets: the command, the event, and the pull request as read when it was answered."""

    command: SlashCommand
    event: CommentEvent
    pull: PullShipState

    @property
    def head_sha(self) -> str:
        return self.pull.head_sha


@dataclass(frozen=True, slots=True)
class CommandReport:
    """A runner's answer: `ok` False for an operation that ran and found problems (NO-GO, verify failed)."""

    ok: bool
    lines: tuple[str, ...]
    outputs: Mapping[str, str] = field(default_factory=dict)


Runner = Callable[[CommandContext], CommandReport]


@dataclass(frozen=True, slots=True)
class CommandOutcome:
    outcome: str  # ignored, refused, done, failed
    reason: str
    command: str | None = None
    reply_url: str | None = None
    report: CommandReport | None = None
    error: OpsghError | None = None


def is_bot(event: CommentEvent) -> bool:
    return event.author_type == "Bot" or event.author.endswith("[bot]")


def _reply_marker(comment_id: int) -> str:
    return f"<!-- opsgh:reply to={comment_id} -->"


def _answered(port: CommandPort, event: CommentEvent) -> CommentRef | None:
    marker = _reply_marker(event.comment_id)
    return next((c for c in port.iter_issue_comments(event.repo, event.number) if marker in c.body), None)


def _iso(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def ship_binding(command: SlashCommand, event: CommentEvent, pull: PullShipState) -> str | None:
    """Why `/ship` may not run on `pull` as it is now, or None when it is bound to what its author saw."""
    head = pull.head_sha
    if pull.state != "OPEN":
        return None  # merged already: ship finishes the paperwork, there is no head to bind
    if command.argument is not None and not head.startswith(command.argument):
        return f"the head is `{head[:7]}`, not `{command.argument}`: it moved, or that is not this PR's head"
    ours = [c for c in pull.checks if c.name == GATE_CHECK_NAME]
    if not ours or ours[0].outcome != "success":
        state = ours[0].detail if ours else "no verdict"
        return (f"the head `{head[:7]}` has no GO from `{GATE_CHECK_NAME}` ({state}): "
                "run `/gate` and ship once it says GO")
    gated_at, written_at = _iso(ours[0].at), _iso(event.created_at)
    if gated_at is None or written_at is None or gated_at > written_at:
        return (f"the head `{head[:7]}` was gated GO after your command was written: it is not the head you saw; "
                f"if it is the one you want, comment `/ship {head[:7]}`" if command.argument is None else
                f"the head `{head[:7]}` was gated GO after your command was written; comment `/ship` again")
    return None


class CommandHandler:
    def __init__(self, port: CommandPort, config: Config, runners: Mapping[str, Runner],
                 renderer: Renderer | None = None, run_url: str | None = None) -> None:
        self.port, self.config, self.runners = port, config, runners
        if renderer is None:
            from opsgh.render.engine import Renderer  # jinja2: only when there is something to answer

            renderer = Renderer()
        self.renderer = renderer
        self.run_url = run_url
        self.prefix = config.commands.prefix

    def handle(self, event: CommentEvent) -> CommandOutcome:
        if event.action != "created":
            return CommandOutcome("ignored", f"comment {event.action}: only new comments are commands")
        if not event.is_pull_request:
            return CommandOutcome("ignored", "a comment on an issue, not a pull request")
        if is_bot(event):
            return CommandOutcome("ignored", f"@{event.author} is a bot: bots do not give commands")
        parsed = parse(event.body, self.prefix)
        if parsed is None:
            return CommandOutcome("ignored", "not a command")
        name = parsed.name
        found = _answered(self.port, event)
        if found is not None:
            return CommandOutcome("ignored", f"answered already: {found.url}", name, found.url)
        self._react(event, "eyes")
        if isinstance(parsed, Refusal):
            return self._refuse(event, parsed.line, name, parsed.reason)
        required = "read" if parsed.name == "help" else getattr(self.config.commands.permission, parsed.name)
        denial = self._authorize(event, required)
        if denial is not None:
            return self._refuse(event, parsed.line, parsed.name, denial)
        if parsed.name == "help":
            return self._done(event, parsed, None, CommandReport(True, tuple(help_lines(self.prefix))))
        pull = self.port.pull_ship_state(event.repo, event.number)
        if parsed.name == "ship":
            unbound = ship_binding(parsed, event, pull)
            if unbound is not None:
                return self._refuse(event, parsed.line, parsed.name, unbound)
        runner = self.runners.get(parsed.name)
        if runner is None:
            return self._refuse(event, parsed.line, parsed.name,
                                f"`{self.prefix}{parsed.name}` is not available in this workflow")
        try:
            report = runner(CommandContext(parsed, event, pull))
        except OpsghError as err:
            return self._failed(event, parsed, pull, err)
        return self._done(event, parsed, pull, report)

    # ------------------------------------------------------------------ decisions

    def _authorize(self, event: CommentEvent, required: str) -> str | None:
        try:
            role = self.port.collaborator_role(event.repo, event.author)
        except OpsghError as err:
            return f"your permission on {event.repo} could not be read ({err.message}), so the command is refused"
        if role not in ROLES or ROLES.index(role) < ROLES.index(required):
            have = "no role" if role in ("none", "") else f"the {role} role"
            return f"@{event.author} has {have} on {event.repo}; this command needs {required} or higher"
        return None

    # ------------------------------------------------------------------ answers

    def _react(self, event: CommentEvent, content: str) -> None:
        with suppress(OpsghError):  # a reaction is a courtesy; the reply is the answer
            self.port.add_reaction(event.repo, event.comment_id, content)

    def _reply(self, event: CommentEvent, outcome: str, line: str, command: str | None, text: Sequence[str],
               hint: str | None = None) -> CommentRef:
        body = self.renderer.render("command_reply.md.j2", {
            "outcome": outcome, "line": line, "author": event.author, "command": command, "lines": list(text),
            "hint": hint, "run_url": self.run_url, "prefix": self.prefix})
        head = f"{REPLY_MARKER}\n{_reply_marker(event.comment_id)}\n"
        return self.port.create_issue_comment(event.repo, event.number, (head + body)[:COMMENT_LIMIT])

    def _refuse(self, event: CommentEvent, line: str, command: str | None, reason: str) -> CommandOutcome:
        reply = self._reply(event, "refused", line, command, [reason])
        self._react(event, "confused")
        return CommandOutcome("refused", reason, command, reply.url)

    def _failed(self, event: CommentEvent, command: SlashCommand, pull: PullShipState,
                err: OpsghError) -> CommandOutcome:
        reply = self._reply(event, "failed", command.line, command.name, [err.message], err.hint or None)
        self._check(event, command, pull, False, [err.message, *([err.hint] if err.hint else [])])
        self._react(event, "confused")
        return CommandOutcome("failed", err.message, command.name, reply.url, error=err)

    def _done(self, event: CommentEvent, command: SlashCommand, pull: PullShipState | None,
              report: CommandReport) -> CommandOutcome:
        reply = self._reply(event, "done" if report.ok else "failed", command.line, command.name, report.lines)
        if pull is not None:
            self._check(event, command, pull, report.ok, report.lines)
        self._react(event, "rocket" if report.ok else "confused")
        return CommandOutcome("done" if report.ok else "failed", report.lines[0] if report.lines else "",
                              command.name, reply.url, report)

    def _check(self, event: CommentEvent, command: SlashCommand, pull: PullShipState, ok: bool,
               lines: Sequence[str]) -> None:
        """The result as a check run `opsgh / <command>` on the head (a commit status for PATs)."""
        if command.name == "gate":
            return  # the gate publishes its own check, `opsgh / go-no-go`
        name = f"opsgh / {command.name}"
        title = f"{self.prefix}{command.name} {'done' if ok else 'failed'}"
        summary = "\n".join(f"- {line}" for line in lines)[:SUMMARY_LIMIT] or title
        if self.port.check_runs_allowed():
            try:
                self.port.create_check_run(event.repo, name=name, head_sha=pull.head_sha, status="completed",
                                           conclusion="success" if ok else "failure", title=title, summary=summary,
                                           details_url=self.run_url)
                return
            except Forbidden:
                pass
        description = (lines[0] if lines else title)[:140]
        self.port.create_commit_status(event.repo, pull.head_sha, "success" if ok else "failure", name, description,
                                       self.run_url)


def handle_comment(port: CommandPort, config: Config, event: CommentEvent, runners: Mapping[str, Runner], *,
                   renderer: Renderer | None = None, run_url: str | None = None) -> CommandOutcome:
    """Answer the comment in `event` if it is a command (see the module docstring)."""
    return CommandHandler(port, config, runners, renderer, run_url).handle(event)

