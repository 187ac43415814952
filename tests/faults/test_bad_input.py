"""The bad-input corpus: every command's arguments, the environment, event payloads, each with the one-line
error a user gets, its exit code, and nothing written on GitHub.

The configuration corpus is tests/unit/bad_configs (run through `opsgh config validate` in
tests/unit/test_cli.py) and the comment-text corpus is tests/action/test_slash_commands.py's CORPUS; this
file covers the rest. Arguments that can be judged without GitHub are (a network guard fails any that
tries); the others run against the sandbox, with the Release PR #1 open.
"""

from __future__ import annotations

import io
import json
import subprocess
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import pytest
from matrix import BASE_CONFIG, PROTECTION, VERIFY
from sandbox.support import ContractRecorder
from webhooks import comment_event, example, readdress
from world import World

from opsgh.cli import cli, run
from opsgh.clock import FakeClock
from opsgh.errors import ExitCode
from opsgh.sandbox import Sandbox

TOKEN = "ghp_" + "a" * 36  # offline cases: a token that never leaves this machine
REPO = {"GITHUB_REPOSITORY": "acme/shop"}
PROBES = VERIFY.replace("{url}", "http://127.0.0.1:9")
STAGING_PROBES = PROBES.replace("production:", "staging:")


@dataclass(frozen=True)
class Bad:
    argv: tuple[str, ...]
    code: int
    error: str  # part of the `error:` line
    hint: str = ""  # part of the `hint:` line
    env: Mapping[str, str] = field(default_factory=dict)
    config: str | None = None  # written to a file passed with --config
    undocumented: tuple[str, str] | None = None  # (violation, operation): GitHub answers what it does not document

    @property
    def id(self) -> str:
        return " ".join(self.argv)[:60] + (f" {sorted(self.env)}" if self.env else "")


def run_cli(argv: list[str], environ: Mapping[str, str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = run(argv, environ=environ)
    return code, out.getvalue(), err.getvalue()


def assert_one_line_error(case: Bad, code: int, err: str) -> None:
    lines = err.splitlines()
    assert code == case.code, err
    errors = [i for i, line in enumerate(lines) if line.startswith("error: ")]
    assert len(errors) == 1, err
    error, hint = lines[errors[0]], lines[errors[0] + 1] if errors[0] + 1 < len(lines) else ""
    assert case.error in error, error
    assert hint.startswith("hint: "), err
    assert case.hint in hint, hint
    assert "Traceback" not in err


# ----------------------------------------------------------------------------- arguments, without GitHub

OFFLINE = [
    Bad(("release",), ExitCode.USAGE, "no GitHub token: GITHUB_TOKEN and GH_TOKEN are unset", "export GITHUB_TOKEN",
        env=REPO),
    Bad(("release",), ExitCode.USAGE, "repository 'shop' (from GITHUB_REPOSITORY) is not OWNER/NAME", "--repo acme",
        env={"GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": "shop"}),
    Bad(("release",), ExitCode.USAGE, "GITHUB_API_URL must be an http(s) URL, not 'ftp://ghe.example.com'",
        "https://ghe.example.com/api/v3",
        env={"GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": "ftp://ghe.example.com", **REPO}),
    Bad(("release", "--dry-rn"), ExitCode.USAGE, "No such option '--dry-rn'. Did you mean '--dry-run'?",
        "opsgh release --help"),
    Bad(("gate", "1", "2"), ExitCode.USAGE, "Got unexpected extra argument (2)", "opsgh gate --help"),
    Bad(("gate", "abc"), ExitCode.USAGE, "'abc' is not a valid integer range", "opsgh gate --help"),
    Bad(("ship", "0"), ExitCode.USAGE, "Invalid value for '[PR]': 0 is not in the range x>=1", "opsgh ship --help"),
    Bad(("ship", "--yes"), ExitCode.USAGE, "No such option '--yes'.", "opsgh ship --help"),
    Bad(("verify", "--duration", "10x"), ExitCode.USAGE, "--duration '10x' is not a duration", "30s, 10m or 2h",
        env={"GITHUB_TOKEN": TOKEN, **REPO}, config=BASE_CONFIG + PROBES),
    Bad(("verify", "--interval", "0s"), ExitCode.USAGE, "--interval '0s' is not a duration", "30s, 10m or 2h",
        env={"GITHUB_TOKEN": TOKEN, **REPO}, config=BASE_CONFIG + PROBES),
    Bad(("verify", "--sha", "HEAD~1"), ExitCode.USAGE, "--sha 'HEAD~1' is not a commit SHA", "7 to 40 hex digits",
        env={"GITHUB_TOKEN": TOKEN, **REPO}, config=BASE_CONFIG + PROBES),
    Bad(("verify", "--env", "staging"), ExitCode.USAGE, "no probes to verify environment 'staging' with",
        "verify.environments.staging.probes", env={"GITHUB_TOKEN": TOKEN, **REPO}, config=BASE_CONFIG + PROBES),
    Bad(("verify", "--env", "staging", "--rollback-on-fail"), ExitCode.USAGE,
        "--rollback-on-fail rolls back production, not 'staging'", "verify --env production",
        env={"GITHUB_TOKEN": TOKEN, **REPO}, config=BASE_CONFIG + STAGING_PROBES),
    Bad(("rollback", "--release", "0"), ExitCode.USAGE, "0 is not in the range x>=1", "opsgh rollback --help"),
    Bad(("rollback", "--reason"), ExitCode.USAGE, "Option '--reason' requires an argument", "opsgh rollback --help"),
    Bad(("backport",), ExitCode.USAGE, "Missing argument 'PR'", "opsgh backport --help"),
    Bad(("backport", "5", "--checkout", "/nonexistent/clone"), ExitCode.USAGE,
        "Directory '/nonexistent/clone' does not exist", "opsgh backport --help"),
    Bad(("hotfix", "start"), ExitCode.USAGE, "Missing argument 'NAME'", "opsgh hotfix start --help"),
    Bad(("hotfix", "start", "pay ment"), ExitCode.USAGE, "'pay ment' is not a usable hotfix name",
        "e.g. `payment-timeout`", env={"GITHUB_TOKEN": TOKEN, **REPO}, config=BASE_CONFIG),
    Bad(("hotfix", "start", "fix..it"), ExitCode.USAGE, "'fix..it' is not a usable hotfix name",
        env={"GITHUB_TOKEN": TOKEN, **REPO}, config=BASE_CONFIG),
    Bad(("hotfix", "start", "x", "--from-issue", "-3"), ExitCode.USAGE, "-3 is not in the range x>=1"),
    Bad(("init", "--templates", "release,nope"), ExitCode.USAGE, "unknown template 'nope'", "choose from backport"),
    Bad(("init", "--all", "--templates", "release"), ExitCode.USAGE, "--all and --templates cannot be used together"),
    Bad(("init", "--dir", "/nonexistent/work"), ExitCode.USAGE, "/nonexistent/work is not a directory"),
    Bad(("protect", "plan", "--concurrency", "0"), ExitCode.USAGE, "0 is not in the range 1<=x<=32"),
    Bad(("protect", "plan", "--org", "acme", "--repo", "acme/shop"), ExitCode.USAGE,
        "--repo and --org cannot be combined", env={"GITHUB_TOKEN": TOKEN}, config=BASE_CONFIG + PROTECTION),
    Bad(("protect", "check", "--match", "shop-*"), ExitCode.USAGE,
        "--match, --topic, --include-archived and --include-forks filter an organisation", "add --org ORG",
        env={"GITHUB_TOKEN": TOKEN, **REPO}, config=BASE_CONFIG + PROTECTION),
    Bad(("protect", "apply", "--yes"), ExitCode.USAGE, "no branch protection declared in", "declare protection.",
        env={"GITHUB_TOKEN": TOKEN, **REPO}, config=BASE_CONFIG),
    Bad(("protect", "plan", "--repo", "not-a-repo"), ExitCode.USAGE, "'not-a-repo'",
        env={"GITHUB_TOKEN": TOKEN}, config=BASE_CONFIG + PROTECTION),
    Bad(("config", "validate", "--file", "/nonexistent/opsgh.yml"), ExitCode.USAGE,
        "/nonexistent/opsgh.yml: file not found", "opsgh init"),
    Bad(("--config", "/nonexistent/opsgh.yml", "config", "show"), ExitCode.USAGE,
        "/nonexistent/opsgh.yml: file not found"),
    Bad(("config", "show", "--json"), ExitCode.USAGE, "gaet: unknown key; did you mean \"gate\"?",
        config="gaet: {checks: required}\n"),
    Bad(("doctor",), ExitCode.USAGE, "OPSGH_APP_ID must be the App's numeric id, not 'opsgh'", "App ID",
        env={"OPSGH_APP_ID": "opsgh", "OPSGH_APP_PRIVATE_KEY": "x", **REPO}),
    Bad(("doctor",), ExitCode.USAGE, "OPSGH_APP_ID is set but no private key", "OPSGH_APP_PRIVATE_KEY_FILE",
        env={"OPSGH_APP_ID": "12345", **REPO}),
    Bad(("doctor",), ExitCode.USAGE, "cannot read OPSGH_APP_PRIVATE_KEY_FILE /nonexistent/key.pem",
        "the App's .pem private key",
        env={"OPSGH_APP_ID": "12345", "OPSGH_APP_PRIVATE_KEY_FILE": "/nonexistent/key.pem", **REPO}),
    Bad(("sandbox", "serve", "--port", "70000"), ExitCode.USAGE, "70000 is not in the range 0<=x<=65535"),
    Bad(("sandbox", "seed"), ExitCode.USAGE, "Missing option '--state'", "opsgh sandbox seed --help"),
    Bad(("demo", "--latency-ms", "-5"), ExitCode.USAGE, "-5.0 is not in the range x>=0", "opsgh demo --help"),
    Bad(("frobnicate",), ExitCode.USAGE, "No such command 'frobnicate'", "opsgh --help"),
]


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory outside any clone: no local .github/opsgh.yml, no origin remote."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("case", OFFLINE, ids=lambda c: c.id)
def test_a_bad_argument_is_one_line_and_exit_2(case: Bad, elsewhere: Path) -> None:
    options = []
    if case.config is not None:
        path = elsewhere / "opsgh.yml"
        path.write_text(case.config, encoding="utf-8")
        options = ["--config", str(path)]
    code, out, err = run_cli([*options, *case.argv], case.env)
    assert_one_line_error(case, code, err)
    assert "error" not in out.lower() or case.argv[0] == "protect"


def test_action_outside_actions_is_a_usage_error(elsewhere: Path) -> None:
    code, out, _ = run_cli(["action"], {})
    assert code == ExitCode.USAGE
    assert out.startswith('::error title=opsgh::not running in GitHub Actions (GITHUB_ACTIONS is not "true")')
    assert "::notice title=opsgh hint::`opsgh action` is the entry point of the GitHub Action" in out


# ----------------------------------------------------------------------------- arguments GitHub judges

ONLINE = [
    Bad(("ship", "99"), ExitCode.GITHUB, "Could not resolve to a PullRequest with the number of 99"),
    Bad(("gate", "--publish", "99"), ExitCode.GITHUB, "Could not resolve to a PullRequest with the number of 99"),
    Bad(("backport", "99"), ExitCode.GITHUB, "no pull request #99 in acme/shop", "it must be a pull request"),
    Bad(("backport", "1"), ExitCode.PRECONDITION, "#1 is open: only a merged pull request can be back-ported",
        "merge it first"),
    Bad(("rollback",), ExitCode.PRECONDITION, "no merged Release PR main -> prod in acme/shop: nothing to roll back",
        "opsgh rollback --release 123"),
    Bad(("rollback", "--release", "1"), ExitCode.PRECONDITION, "Release PR #1 is open, not merged",
        "fix forward on main"),
    Bad(("hotfix", "start", "timeout", "--from-issue", "99"), ExitCode.GITHUB,
        "404 Not Found (GET /repos/acme/shop/issues/99)"),
    Bad(("verify", "--sha", "0000000"), ExitCode.GITHUB, "No ref found for: 0000000", config=BASE_CONFIG + PROBES),
    Bad(("--repo", "acme/nope", "release"), ExitCode.GITHUB, "404 Not Found (GET /repos/acme/nope)", "check the name"),
    Bad(("release",), ExitCode.PRECONDITION, "cannot compare production...main in acme/shop",
        "both branches must exist", config=BASE_CONFIG.replace("production: prod", "production: production")),
    Bad(("protect", "apply"), ExitCode.USAGE, "refusing to apply without --yes: there is no terminal to confirm on",
        "opsgh protect apply --yes", config=BASE_CONFIG + PROTECTION),
    # GitHub answers 404 for an organisation that does not exist; its description lists no 404 there.
    Bad(("protect", "plan", "--org", "nope"), ExitCode.GITHUB, "no organisation nope visible to this token",
        config=BASE_CONFIG + PROTECTION, undocumented=("response status 404", "GET /orgs/{org}/repos")),
    Bad(("release",), ExitCode.GITHUB, "401 Unauthorized", "set GITHUB_TOKEN to a valid token",
        env={"GITHUB_TOKEN": "ghp_" + "0" * 36}),
]


@pytest.fixture
def shop(sandbox: Sandbox, sandbox_clock: FakeClock, tmp_path: Path) -> Iterator[World]:
    world = World(sandbox, sandbox_clock, tmp_path, BASE_CONFIG)
    world.features("tax")
    world.open_release_pr(title="Release 2027-01-15")
    yield world
    world.close()


def github_writes(sandbox: Sandbox, since: int) -> list[str]:
    """Writes GitHub applied (refused ones changed nothing)."""
    return [f"{e.method} {e.path}" for e in sandbox.log.entries[since:]
            if e.method not in ("GET", "HEAD") and e.path != "/graphql" and e.status is not None and e.status < 400]


@pytest.mark.parametrize("case", ONLINE, ids=lambda c: c.id)
def test_an_argument_github_refuses_is_one_line_and_writes_nothing(case: Bad, shop: World, sandbox: Sandbox,
                                                                   sandbox_contract: ContractRecorder) -> None:
    if case.undocumented is not None:
        sandbox_contract.expect(case.undocumented[0], operation=case.undocumented[1])
    if case.config is not None:
        shop.config_file.write_text(case.config, encoding="utf-8")
    before = len(sandbox.log.entries)
    environ = {**shop.environ(shop.app_token()), **case.env}
    options = [] if "--repo" in case.argv else ["--repo", "acme/shop"]
    code, _, err = run_cli(["--config", str(shop.config_file), *options, *case.argv], environ)
    assert_one_line_error(case, code, err)
    assert github_writes(sandbox, before) == []


# ----------------------------------------------------------------------------- event payloads


def _comment(**changes: Any) -> dict[str, Any]:
    payload = comment_event("acme/shop", number=1, body="/gate", login="alice", comment_id=7,
                            created_at="2027-01-15T08:00:00Z")
    for path, value in changes.items():
        target = payload
        *parents, last = path.split("__")
        for key in parents:
            target = target[key]
        if value is ...:
            del target[last]
        else:
            target[last] = value
    return payload


@dataclass(frozen=True)
class BadEvent:
    name: str
    event: str
    payload: bytes | None  # None: no GITHUB_EVENT_PATH
    outcome: str  # "error" (exit 2, ::error + hint) or "skipped" (exit 0, a notice, nothing done)
    words: str
    inputs: Mapping[str, str] = field(default_factory=dict)


def _json(payload: Any) -> bytes:
    return json.dumps(payload).encode()


EVENTS = [
    BadEvent("no event file", "issue_comment", None, "error", "GITHUB_EVENT_PATH is not set"),
    BadEvent("not JSON", "issue_comment", b"{not json", "error", "is not valid JSON (line 1: Expecting property"),
    BadEvent("empty file", "issue_comment", b"", "error", "is not valid JSON"),
    BadEvent("a JSON list", "issue_comment", b"[1, 2]", "error", "is not a JSON object"),
    BadEvent("no event name", "", _json(_comment()), "error", "GITHUB_EVENT_NAME is not set"),
    BadEvent("dispatch without a command", "workflow_dispatch", _json({"inputs": {}}), "error",
             "workflow_dispatch without a command"),
    BadEvent("dispatch of an unknown command", "workflow_dispatch", _json({"inputs": {"command": "deploy"}}), "error",
             "unknown command 'deploy'"),
    BadEvent("args a shell cannot split", "workflow_dispatch", _json({"inputs": {"command": "release"}}), "error",
             "the `args` input cannot be split into arguments: No closing quotation",
             inputs={"INPUT_ARGS": '--dry-run "unbalanced'}),
    BadEvent("dry-run not a boolean", "push", _json(readdress(example("push"), "acme/shop")), "error",
             "input `dry-run` must be a boolean, got 'maybe'", inputs={"INPUT_DRY-RUN": "maybe"}),
    BadEvent("a comment event without its comment", "issue_comment", _json(_comment(comment=...)), "skipped",
             "a comment event without an issue or a comment; nothing to do"),
    BadEvent("an issue number that is a string", "issue_comment", _json(_comment(issue__number="1")), "skipped",
             "a comment event without an issue or a comment; nothing to do"),
    BadEvent("a comment body that is a number", "issue_comment", _json(_comment(comment__body=5)), "skipped",
             "not a command"),
    BadEvent("an event opsgh does not handle", "deployment_protection_rule", _json({"action": "requested"}),
             "skipped", "is not one opsgh acts on; nothing to do"),
]


@pytest.mark.parametrize("case", EVENTS, ids=lambda c: c.name)
def test_a_bad_event_payload_is_refused_or_skipped_and_writes_nothing(case: BadEvent, shop: World, sandbox: Sandbox,
                                                                      tmp_path: Path) -> None:
    from opsgh.action import main

    env = {**shop.environ(shop.app_token()), "GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": case.event,
           "GITHUB_OUTPUT": str(tmp_path / "output"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
           **case.inputs}
    if case.payload is not None:
        (tmp_path / "event.json").write_bytes(case.payload)
        env["GITHUB_EVENT_PATH"] = str(tmp_path / "event.json")
    before = len(sandbox.log.entries)
    stream = io.StringIO()
    code = main(env, stream, run_cli=lambda argv, environ: run(argv, environ, clock=shop.clock), clock=shop.clock)
    log = stream.getvalue()
    assert "Traceback" not in log
    if case.outcome == "error":
        assert code == ExitCode.USAGE, log
        errors = [line for line in log.splitlines() if line.startswith("::error title=opsgh::")]
        assert len(errors) == 1, log
        assert case.words in errors[0]
        assert "::notice title=opsgh hint::" in log
    else:
        assert code == ExitCode.OK, log
        assert case.words in log
        assert "::error" not in log
    assert github_writes(sandbox, before) == []


# ----------------------------------------------------------------------------- every command is in the corpus


def _leaf_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from _leaf_commands(command, (*prefix, name))
        else:
            yield (*prefix, name)


def _named(argv: tuple[str, ...], command: tuple[str, ...]) -> bool:
    words = [a for a in argv if not a.startswith("-")]
    return any(tuple(words[i:i + len(command)]) == command for i in range(len(words)))


@pytest.mark.parametrize("command", list(_leaf_commands(cli)), ids=" ".join)
def test_every_command_has_bad_input_in_the_corpus(command: tuple[str, ...]) -> None:
    covered: list[Callable[[], bool]] = [
        lambda: any(_named(case.argv, command) for case in OFFLINE + ONLINE),
        lambda: command == ("action",) and bool(EVENTS),
    ]
    assert any(check() for check in covered), f"no bad input for `opsgh {' '.join(command)}`"


def test_init_refuses_a_mutable_action_ref(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "--quiet", str(tmp_path)], check=True)
    with ExitStack():
        code, _, err = run_cli(["init", "--dir", str(tmp_path), "--action-sha", "v1"], {})
    assert_one_line_error(Bad(("init",), ExitCode.USAGE, "--action-sha 'v1' is not a full commit SHA",
                              "tags and branches can be moved, a commit cannot"), code, err)
    assert not (tmp_path / ".github").exists()
