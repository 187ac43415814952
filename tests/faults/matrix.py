"""The reliability matrix: every operation times every fault the sandbox can inject.

A cell (operation, fault): prepare the world the operation needs, inject the fault, run opsgh as a person
or a workflow would, then remove the fault (or let time pass, or fix the token) and run it again. Each
operation says which read and which write the faults hit, and what GitHub must hold once it is done.
Each fault says what opsgh must do about it: finish in the same run (it waits and retries on the
sandbox's clock), or stop with a clear one-line error and a documented exit code. Either way nothing is
duplicated, and the re-run finishes the job (`tests/faults/test_matrix.py` asserts it;
`scripts/reliability_report.py` writes docs/RELIABILITY.md from it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from rollback_support import shipped
from webhooks import comment_event
from world import Fact, Health, Outcome, World

from opsgh.errors import ExitCode
from opsgh.sandbox.faults import SECONDARY_MESSAGE

TAG = "v2027-01-15"  # FakeClock's start, 2027-01-15 08:00 UTC, in America/New_York
RELEASE_TITLE = "Release 2027-01-15"
CLIENT_TIMEOUT = 1.0  # seconds opsgh waits for an answer in the timeout cells (the fault says nothing for 2 s)
REASON = "checkout errors above 5% since the release"

BASE_CONFIG = """\
branches: {staging: main, production: prod}
hotfix: {backport_to: [main], on_conflict: draft-pr}
release: {title: "Release {date}", tag: "v{date}", timezone: America/New_York, labels: [release]}
ops_log: {issue: Ops Log}
gate: {approvals: {min: 0}, checklist: "off"}
rollback: {merge_method: squash, postmortem_issue: true}
"""
PROTECTION = """\
protection:
  main: {required_reviews: null, required_checks: {strict: false, contexts: [ci]}}
  prod: {required_reviews: {count: 1}, required_checks: {strict: false, contexts: [ci]}, enforce_admins: true}
"""
VERIFY = """\
verify:
  duration: 20s
  interval: 10s
  environments:
    production:
      baseline_p95_ms: 2000
      probes:
        - {name: health, url: "{url}/healthz", expect: {status: 200}, samples: 2, timeout_s: 5}
"""


# ----------------------------------------------------------------------------- operations


@dataclass
class Cell:
    """One cell while it runs: the world, the fault's token and timeout for the next run of opsgh."""

    world: World
    token: str | None = None
    timeout: float | None = None
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Operation:
    id: str
    command: str  # as the report shows it
    read: tuple[str, str]  # (method, path glob): what the read faults hit
    write: tuple[str, str]  # what the write faults hit
    lacking: tuple[str, ...]  # the App permissions at read level only in the 403 cell
    prepare: Callable[[Cell], None]
    run: Callable[[Cell], Outcome]
    expected: Callable[[Cell], list[Fact]]
    reads_mergeability: bool = False
    # The REST write GitHub's refusals hit (rate limits, 405, 409, 422: GitHub documents them per request),
    # when not `write` (backport: `write` is the git push).
    refused_write: tuple[str, str] | None = None
    # Makes GitHub compute the pull request's mergeability again (a base or head that moved), when the
    # set-up computed it already.
    recompute: Callable[[Cell], None] = lambda cell: None
    # Facts as the expectation states them (verify: a deployment's history grows with each run).
    normalize: Callable[[list[Fact]], list[Fact]] = lambda facts: facts

    def __str__(self) -> str:
        return self.id


def _ready(cell: Cell) -> None:
    """Features on main, the Release PR open, CI green on its head."""
    world = cell.world
    world.features("tax", "checkout")
    world.open_release_pr(title=RELEASE_TITLE)
    world.report("success")


# ReleaseRepo protects prod without any rule (opsgh protect's row declares more).
PROD_PROTECTED: Fact = ("protection prod", '{"admins": false, "checks": null, "deletions": false, '
                                            '"force_pushes": false, "reviews": null, "strict": null}')


def _release_facts(*, merged: bool) -> list[Fact]:
    return [("branch main", ""), ("branch prod", ""), PROD_PROTECTED,
            (f"pull main->prod {RELEASE_TITLE!r}", f"{'merged' if merged else 'open'} labels=[release]"),
            ("status 'ci' @main", "success")]


def _shipped_facts() -> list[Fact]:
    return [*_release_facts(merged=True), (f"tag {TAG}", "@prod"), (f"release {TAG}", "published"),
            ("comment on #1: opsgh:ship-announcement", ""), ("issue 'Ops Log'", "open labels=[]"),
            ("comment on #2: opsgh:ops-log ship", "")]


# release -------------------------------------------------------------------


def _release_prepare(cell: Cell) -> None:
    cell.world.features("tax", "checkout")
    cell.world.report("success")


def _release_expected(cell: Cell) -> list[Fact]:
    return [("branch main", ""), ("branch prod", ""), PROD_PROTECTED,
            (f"pull main->prod {RELEASE_TITLE!r}", "open labels=[release]"), ("status 'ci' @main", "success")]


RELEASE = Operation(
    "release", "opsgh release", read=("GET", "/repos/acme/shop/compare/*"), write=("POST", "/repos/acme/shop/pulls"),
    lacking=("pull_requests",), prepare=_release_prepare,
    run=lambda cell: cell.world.cli(["release"], token=cell.token, timeout=cell.timeout),
    expected=_release_expected)


# gate --publish -------------------------------------------------------------


def _gate_expected(cell: Cell) -> list[Fact]:
    return [*_release_facts(merged=False), ("comment on #1: opsgh:gate", ""),
            ("check-run 'opsgh / go-no-go' @main", "completed/success")]


GATE = Operation(
    "gate", "opsgh gate --publish", read=("GET", "/repos/acme/shop/branches/prod"),
    write=("POST", "/repos/acme/shop/check-runs"), lacking=("issues", "pull_requests"), prepare=_ready,
    refused_write=("POST", "/repos/acme/shop/issues/*/comments"),
    run=lambda cell: cell.world.cli(["gate", "--publish"], token=cell.token, timeout=cell.timeout),
    expected=_gate_expected, reads_mergeability=True)


# ship ------------------------------------------------------------------------


def _ship_expected(cell: Cell) -> list[Fact]:
    return [*_shipped_facts(), ("deployment production @prod", "in_progress")]


SHIP = Operation(
    "ship", "opsgh ship", read=("GET", "/repos/acme/shop/branches/prod"),
    write=("PUT", "/repos/acme/shop/pulls/*/merge"), lacking=("deployments",), prepare=_ready,
    run=lambda cell: cell.world.cli(["ship"], token=cell.token, timeout=cell.timeout),
    expected=_ship_expected, reads_mergeability=True)


# verify ------------------------------------------------------------------------


def _verify_prepare(cell: Cell) -> None:
    _ready(cell)
    cell.world.ship()


def _verify_run(cell: Cell) -> Outcome:
    return cell.world.cli(["verify", "--env", "production"], token=cell.token, timeout=cell.timeout)


def _verify_expected(cell: Cell) -> list[Fact]:
    return [*_shipped_facts(), ("comment on #1: opsgh:verify", ""),
            ("deployment production @prod", "in_progress (ship), in_progress, success")]


def _verify_normalize(facts: list[Fact]) -> list[Fact]:
    """Each run of verify adds its own in_progress and final status (the deployment's history GitHub keeps):
    after ship's in_progress, only in_progress and success, ending with success."""
    normalized = []
    for key, value in facts:
        if key == "deployment production @prod":
            states = value.split(",")
            if states[0] == "in_progress" and states[-1] == "success" and set(states) == {"in_progress", "success"}:
                value = "in_progress (ship), in_progress, success"
        normalized.append((key, value))
    return normalized


VERIFY_OP = Operation(
    "verify", "opsgh verify --env production", read=("GET", "/repos/acme/shop/deployments"),
    write=("POST", "/repos/acme/shop/deployments/*/statuses"), lacking=("deployments",), prepare=_verify_prepare,
    run=_verify_run, expected=_verify_expected, normalize=_verify_normalize)


# rollback ---------------------------------------------------------------------


def _rollback_prepare(cell: Cell) -> None:
    shipped(cell.world, "tax", "checkout")


def _rollback_expected(cell: Cell) -> list[Fact]:
    title = f'Revert "{RELEASE_TITLE}"'
    return [("branch main", ""), ("branch prod", ""), PROD_PROTECTED, ("branch revert-1-…", "tree of prod"),
            (f"pull main->prod {RELEASE_TITLE!r}", "merged labels=[release]"),
            (f"pull revert-1-…->prod {title!r}", "merged labels=[]"),
            ("status 'ci' @main", "success"),
            (f"tag {TAG}", "@other"), (f"release {TAG}", "published"),
            ("comment on #1: opsgh:ship-announcement", ""), ("comment on #1: opsgh:rollback-announcement", ""),
            ("issue 'Ops Log'", "open labels=[]"),
            ("comment on #2: opsgh:ops-log ship", ""), ("comment on #2: opsgh:ops-log rollback", ""),
            (f"issue 'Incident postmortem: {RELEASE_TITLE} rollback (#1)'", "open labels=[postmortem]"),
            ("deployment production @other", "in_progress,inactive"),
            ("deployment production @prod", "in_progress")]


ROLLBACK = Operation(
    "rollback", "opsgh rollback", read=("GET", "/repos/acme/shop/pulls"),
    write=("PUT", "/repos/acme/shop/pulls/*/merge"), lacking=("deployments",), prepare=_rollback_prepare,
    run=lambda cell: cell.world.cli(["rollback", "--reason", REASON], token=cell.token, timeout=cell.timeout),
    expected=_rollback_expected, reads_mergeability=True)


# protect apply -----------------------------------------------------------------


def _protect_expected(cell: Cell) -> list[Fact]:
    main = '{"admins": false, "checks": ["ci"], "deletions": false, "force_pushes": false, "reviews": null, ' \
           '"strict": false}'
    prod = '{"admins": true, "checks": ["ci"], "deletions": false, "force_pushes": false, "reviews": 1, ' \
           '"strict": false}'
    return [("branch main", ""), ("branch prod", ""), ("protection main", main), ("protection prod", prod)]


PROTECT = Operation(
    "protect", "opsgh protect apply --yes", read=("GET", "/repos/acme/shop/branches/*/protection"),
    write=("PUT", "/repos/acme/shop/branches/*/protection"), lacking=("administration",),
    prepare=lambda cell: None,
    run=lambda cell: cell.world.cli(["protect", "apply", "--yes"], token=cell.token, timeout=cell.timeout),
    expected=_protect_expected)


# /ship, a slash command ----------------------------------------------------------


def _slash_prepare(cell: Cell) -> None:
    _ready(cell)
    world = cell.world
    published = world.cli(["gate", "--publish"])  # the GO that /ship binds to, published before the comment
    assert published.code == 0, published.err
    world.clock.advance(60)


def _slash_run(cell: Cell) -> Outcome:
    """Alice comments `/ship` on the Release PR and the workflow runs `opsgh action` on the delivery. When
    that answered "failed", she reads the reply and comments `/ship` again; otherwise the workflow is re-run
    on the same delivery (GitHub's "Re-run jobs")."""
    world = cell.world
    comments: list[dict[str, Any]] = cell.context.setdefault("comments", [])
    if not comments or cell.context.get("last") == "failed":
        created = world.call("POST", "/issues/1/comments", {"body": "/ship"}, expect=201)
        comments.append(comment_event(world.full_name, number=1, body="/ship", login="alice",
                                      comment_id=int(created["id"]), created_at=str(created["created_at"])))
    outcome = world.action("issue_comment", comments[-1], token=cell.token, timeout=cell.timeout)
    answer = json.loads(outcome.outputs.get("result-json", "{}")).get("outcome")  # only when it answered
    cell.context["last"] = answer
    if answer == "failed":
        cell.context["failed_replies"] = cell.context.get("failed_replies", 0) + 1
    return outcome


def _slash_expected(cell: Cell) -> list[Fact]:
    commands = len(cell.context.get("comments", [])) or 1
    failed = cell.context.get("failed_replies", 0)
    return [*_shipped_facts(), ("deployment production @prod", "in_progress"),
            ("comment on #1: opsgh:gate", ""),
            ("check-run 'opsgh / go-no-go' @main", "completed/success"),
            *[("comment on #1: '/ship'", "")] * commands,
            *[("reactions on #1: '/ship'", "confused,eyes")] * failed,
            *[("reactions on #1: '/ship'", "eyes,rocket")] * (commands - failed),
            *[("comment on #1: opsgh:reply", "")] * (failed + 1),
            *[("check-run 'opsgh / ship' @main", "completed/failure")] * failed,
            ("check-run 'opsgh / ship' @main", "completed/success")]


def _hotfix_on_prod(cell: Cell) -> None:
    """A hotfix lands on prod: the Release PR's base moved, GitHub computes its mergeability again."""
    cell.world.push({"HOTFIX.md": "hotfixed on prod\n"}, "Hotfix on prod", branch="prod")


SLASH = Operation(
    "slash-ship", "/ship (opsgh action on issue_comment)", read=("GET", "/repos/acme/shop/issues/*/comments"),
    write=("PUT", "/repos/acme/shop/pulls/*/merge"), lacking=("deployments",), prepare=_slash_prepare, run=_slash_run,
    expected=_slash_expected, reads_mergeability=True, recompute=_hotfix_on_prod)


# backport ----------------------------------------------------------------------


HOTFIX_TITLE = "fix: payment timeout"


def _backport_prepare(cell: Cell) -> None:
    """A hotfix merged into prod (a branch from prod, bob's approval, a merge commit); main moved on."""
    world = cell.world
    world.features("search")
    world.sandbox.create_branch("acme", "shop", "hotfix/payment-timeout", "prod")
    world.push({"app/pay.py": "TIMEOUT = 5\n"}, HOTFIX_TITLE, branch="hotfix/payment-timeout")
    pull = world.call("POST", "/pulls", {"title": HOTFIX_TITLE, "head": "hotfix/payment-timeout", "base": "prod",
                                         "body": "Checkout hangs on slow card networks."}, login="bob", expect=201)
    world.call("PUT", f"/pulls/{pull['number']}/merge", {"merge_method": "merge"})
    cell.context["hotfix"] = pull["number"]


def _backport_expected(cell: Cell) -> list[Fact]:
    number = cell.context["hotfix"]
    return [("branch main", ""), ("branch prod", ""), PROD_PROTECTED,
            ("branch hotfix/payment-timeout", "tree of prod"), (f"branch backport/{number}-to-main", "tree of other"),
            (f"pull hotfix/payment-timeout->prod {HOTFIX_TITLE!r}", "merged labels=[]"),
            (f"pull backport/{number}-to-main->main '[Backport main] {HOTFIX_TITLE}'", "open labels=[backport]")]


BACKPORT = Operation(
    "backport", "opsgh backport PR", read=("GET", "/repos/acme/shop/pulls/*"),
    write=("POST", "/acme/shop.git/git-receive-pack"), refused_write=("POST", "/repos/acme/shop/pulls"),
    lacking=("pull_requests",), prepare=_backport_prepare,
    run=lambda cell: cell.world.cli(["backport", str(cell.context["hotfix"])], token=cell.token, timeout=cell.timeout),
    expected=_backport_expected)


OPERATIONS: tuple[Operation, ...] = (RELEASE, GATE, SHIP, VERIFY_OP, ROLLBACK, PROTECT, SLASH, BACKPORT)


def config_for(operation: Operation, health_url: str | None) -> str:
    text = BASE_CONFIG
    if operation is PROTECT:
        text += PROTECTION
    if health_url is not None:
        text += VERIFY.replace("{url}", health_url)
    return text


def open_world(operation: Operation, sandbox: Any, clock: Any, workdir: Any, stack: ExitStack) -> World:
    health_url = stack.enter_context(Health().serving()) if operation is VERIFY_OP else None
    world = World(sandbox, clock, workdir, config_for(operation, health_url))
    stack.callback(world.close)
    return world


# ----------------------------------------------------------------------------- faults


@dataclass(frozen=True)
class Fault:
    id: str
    title: str
    # "completes": the first run finishes (after waits on the sandbox clock); "stops": it stops with
    # `code` (per operation where they differ) and the re-run finishes.
    expect: str
    inject: Callable[[Cell, Operation], None]
    code: int = 0
    codes: dict[str, int] = field(default_factory=dict)  # per operation id
    # What happens between the two runs besides clearing the fault.
    between: Callable[[Cell], None] = lambda cell: None
    injected: bool = True  # False: GitHub's real behaviour (a token without a permission, a slow job)
    status: int | None = None  # a refusal GitHub documents per request: the cell exists where it does

    def __str__(self) -> str:
        return self.id

    def expected_code(self, operation: Operation) -> int:
        return self.codes.get(operation.id, self.code)


def target(operation: Operation, on: str) -> tuple[str, str]:
    """The request a fault hits: the operation's read, its write, or the REST write GitHub's refusals (rate
    limits included) hit."""
    if on == "read":
        return operation.read
    if on == "refusal":
        return operation.refused_write or operation.write
    return operation.write


def _on(on: str) -> Callable[[Callable[[Cell, str, str], None]], Callable[[Cell, Operation], None]]:
    """Inject on the operation's read or write route."""
    def wrap(inject: Callable[[Cell, str, str], None]) -> Callable[[Cell, Operation], None]:
        def apply(cell: Cell, operation: Operation) -> None:
            method, path = target(operation, on)
            inject(cell, method, path)
        return apply
    return wrap


def _timeout(landed: bool) -> Callable[[Cell, str, str], None]:
    def inject(cell: Cell, method: str, path: str) -> None:
        cell.timeout = CLIENT_TIMEOUT
        cell.world.sandbox.faults.timeout(method, path, seconds=2 * CLIENT_TIMEOUT, landed=landed)
    return inject


def _lacking(cell: Cell, operation: Operation) -> None:
    cell.context["lacking"] = operation.lacking
    cell.token = cell.world.app_token(lacking=operation.lacking)


def _grant(cell: Cell) -> None:
    cell.token = cell.world.grant(cell.context["lacking"])  # the same App, now with the permission


def _later(seconds: float) -> Callable[[Cell], None]:
    def wait(cell: Cell) -> None:
        cell.world.clock.advance(seconds)
    return wait


def _slow_mergeability(cell: Cell, operation: Operation) -> None:
    cell.world.sandbox.faults.slow_mergeability(600)
    operation.recompute(cell)


MERGE_CONFLICT_MESSAGE = "Head branch was modified. Review and try the merge again."

FAULTS: tuple[Fault, ...] = (
    Fault("none", "no fault (the baseline)", "completes", lambda cell, op: None),
    Fault("read-5xx", "502 on a read, twice", "completes",
          _on("read")(lambda cell, m, p: cell.world.sandbox.faults.error(m, p, 502, times=2))),
    Fault("read-5xx-outage", "502 on a read, every time (an outage)", "stops",
          _on("read")(lambda cell, m, p: cell.world.sandbox.faults.error(m, p, 502, times=None)),
          code=ExitCode.GITHUB),
    Fault("read-timeout", "no answer to a read within the client's timeout", "completes", _on("read")(_timeout(False))),
    Fault("read-dropped", "connection dropped on a read", "completes",
          _on("read")(lambda cell, m, p: cell.world.sandbox.faults.drop(m, p))),
    Fault("write-5xx", "502 on a write (not applied)", "completes",
          _on("write")(lambda cell, m, p: cell.world.sandbox.faults.error(m, p, 502))),
    Fault("write-landed-502", "a write applied, answered 502", "completes",
          _on("write")(lambda cell, m, p: cell.world.sandbox.faults.landed_then(m, p, 502))),
    Fault("write-timeout", "a write applied, no answer within the timeout", "completes",
          _on("write")(_timeout(True))),
    Fault("write-dropped", "connection dropped on a write (not applied)", "completes",
          _on("write")(lambda cell, m, p: cell.world.sandbox.faults.drop(m, p))),
    Fault("primary-limit", "primary rate limit, reset in 60 s (no retry-after)", "completes",
          _on("read")(lambda cell, m, p: cell.world.sandbox.faults.rate_limited(m, p, "primary", reset_in=60))),
    Fault("primary-limit-retry-after", "primary rate limit with retry-after: 30", "completes",
          _on("read")(lambda cell, m, p: cell.world.sandbox.faults.rate_limited(m, p, "primary", reset_in=60,
                                                                                retry_after=30))),
    Fault("primary-limit-exhausted", "primary rate limit, reset in 1 h (past the 15 min opsgh waits)", "stops",
          _on("read")(lambda cell, m, p: cell.world.sandbox.faults.rate_limited(m, p, "primary", reset_in=3600,
                                                                                times=None)),
          code=ExitCode.GITHUB, between=_later(3600)),
    Fault("secondary-limit-retry-after", "secondary rate limit (403) with retry-after: 30", "completes",
          _on("refusal")(lambda cell, m, p: cell.world.sandbox.faults.rate_limited(m, p, "secondary", retry_after=30))),
    Fault("secondary-limit", "secondary rate limit (403) without retry-after", "completes",
          _on("refusal")(lambda cell, m, p: cell.world.sandbox.faults.rate_limited(m, p, "secondary-no-retry-after"))),
    Fault("secondary-limit-429", "secondary rate limit (429) without retry-after", "completes",
          _on("refusal")(lambda cell, m, p: cell.world.sandbox.faults.add(m, p, status=429, message=SECONDARY_MESSAGE,
                                                                        times=1))),
    Fault("409-head-moved", "409 on the merge: the head moved", "stops",
          _on("refusal")(lambda cell, m, p: cell.world.sandbox.faults.error(m, p, 409,
                                                                            message=MERGE_CONFLICT_MESSAGE)),
          code=ExitCode.GITHUB, status=409),
    Fault("405-not-mergeable", "405 on the merge: not mergeable", "stops",
          _on("refusal")(lambda cell, m, p: cell.world.sandbox.faults.error(m, p, 405,
                                                                            message="Pull Request is not mergeable")),
          code=ExitCode.PRECONDITION, status=405),
    Fault("422-validation", "422 Validation Failed on a write", "stops",
          _on("refusal")(lambda cell, m, p: cell.world.sandbox.faults.error(m, p, 422)), code=ExitCode.GITHUB,
          status=422),
    Fault("403-permission", "403: the App lacks the write permission (real, not injected)", "stops", _lacking,
          code=ExitCode.GITHUB, between=_grant, injected=False),
    Fault("mergeable-null", "mergeable: null for 10 minutes (GitHub still computing)", "stops",
          _slow_mergeability, code=ExitCode.PRECONDITION, codes={"gate": ExitCode.PENDING},
          between=_later(600), injected=False),
)


SPEC = Path(__file__).resolve().parents[1] / "contract" / "data" / "api.github.com.trimmed.json"


@cache
def documented_statuses() -> dict[tuple[str, str], frozenset[str]]:
    """(METHOD, path regex) -> the statuses GitHub's OpenAPI description lists for it."""
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    found: dict[tuple[str, str], frozenset[str]] = {}
    for path, operations in spec["paths"].items():
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"
        for method, operation in operations.items():
            if isinstance(operation, dict) and "responses" in operation:
                found[(method.upper(), pattern)] = frozenset(operation["responses"])
    return found


def documents(method: str, path: str, status: int) -> bool:
    """Whether GitHub's description lists `status` for the request `method path` (a glob: * is a segment)."""
    concrete = path.replace("*", "1")
    return any(m == method and re.match(pattern, concrete) and str(status) in statuses
               for (m, pattern), statuses in documented_statuses().items())


def applies(operation: Operation, fault: Fault) -> bool:
    """A refusal (405, 409, 422) exists only where GitHub answers it: on the requests its description lists
    it for. (Injected elsewhere it would test a GitHub that does not exist; the contract check refuses it.)"""
    if fault.status is None:
        return True
    method, path = target(operation, "refusal")
    return documents(method, path, fault.status)


def expectation(operation: Operation, fault: Fault) -> tuple[str, int]:
    """('completes', 0), or ('stops', the documented exit code), for this cell."""
    if fault.id == "mergeable-null" and not operation.reads_mergeability:
        return "completes", ExitCode.OK  # nothing this operation does waits for GitHub's mergeability
    if fault.expect == "completes":
        return "completes", ExitCode.OK
    return "stops", fault.expected_code(operation)


def cells() -> Iterator[tuple[Operation, Fault]]:
    for operation in OPERATIONS:
        for fault in FAULTS:
            if applies(operation, fault):
                yield operation, fault


def not_applicable() -> list[tuple[Operation, Fault, str]]:
    """The cells that cannot happen, and why."""
    found = []
    for operation in OPERATIONS:
        for fault in FAULTS:
            if not applies(operation, fault):
                method, path = target(operation, "refusal")
                found.append((operation, fault, f"GitHub documents no {fault.status} for any write of this "
                                                f"operation (e.g. {method} {path})"))
    return found


def cell_id(operation: Operation, fault: Fault) -> str:
    return f"{operation.id}-{fault.id}"
