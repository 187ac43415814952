"""`opsgh ship` end to end against the sandbox: git state and API state after each scenario.

The Release PR is set up through the sandbox's REST API (tests/ops/ship_support.py), not by
`opsgh release`. Faults are injected with the sandbox's fault rules at every write ship makes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, ClassVar

import pytest
from local_http import base_url, serving
from ship_support import CONFIG, ReleaseRepo

from opsgh.cli import run
from opsgh.clock import FakeClock
from opsgh.errors import AmbiguousWrite, Conflict, ExitCode, NotificationFailed, PreconditionFailed
from opsgh.ops.gate import MERGEABLE_WAITS
from opsgh.ops.ship import ANNOUNCEMENT_MARKER, OPS_LOG_MARKER, NothingToShip
from opsgh.sandbox import Sandbox
from opsgh.sandbox.routes.rulesets import add_ruleset

TAG = "v2027-01-15"  # FakeClock's start, 2027-01-15 08:00 UTC, is 03:00 in New York


@pytest.fixture
def shop(sandbox: Sandbox, sandbox_clock: FakeClock) -> Iterator[ReleaseRepo]:
    repo = ReleaseRepo(sandbox, sandbox_clock)
    yield repo
    repo.close()


def ready(shop: ReleaseRepo, *features: str) -> dict[str, Any]:
    """Features on main, the Release PR open, CI green on its head."""
    shop.features(*(features or ("tax", "checkout")))
    pull = shop.open_release_pr()
    shop.report("success")
    return pull


class Slack:
    """A notify() that records what it was asked to post; `fail` first calls raise."""

    def __init__(self, fail: int = 0) -> None:
        self.messages: list[str] = []
        self.fail = fail

    def __call__(self, text: str) -> None:
        if self.fail:
            self.fail -= 1
            raise NotificationFailed("the Slack webhook ($SLACK_WEBHOOK_URL) answered 500: internal error")
        self.messages.append(text)


def assert_shipped_once(shop: ReleaseRepo, number: int, head: str, *, tag: str = TAG,
                        previous: str | None = None) -> dict[str, Any]:
    """prod = a merge commit (previous prod + head) with head's tree, tagged; one of everything."""
    prod = shop.tip("prod")
    assert shop.git("rev-list", "--parents", "-n", "1", prod).split()[1:] == [previous or shop.first, head]
    assert shop.git("rev-parse", f"{prod}^{{tree}}") == shop.git("rev-parse", f"{head}^{{tree}}")
    assert shop.git("rev-parse", f"refs/tags/{tag}") == prod
    assert shop.git("cat-file", "-t", f"refs/tags/{tag}") == "commit"  # lightweight
    snap = shop.snapshot()
    merged = [p for p in snap["pulls"] if p[0] == number]
    assert merged
    assert merged[0][1] == "closed"
    assert merged[0][2] is not None
    assert [r for r in snap["releases"] if r[0] == tag] == [(tag, tag)]
    ours = [d for d in snap["deployments"] if d[1] == prod]
    assert len(ours) == 1
    assert ours[0][2] == "production"
    assert snap["deployment_states"][ours[0][0]] == ["in_progress"]
    announcements = [b for b in snap["comments"][number] if ANNOUNCEMENT_MARKER.format(sha=prod) in b]
    assert len(announcements) == 1
    logs = [n for n, title in snap["issues"] if title == "Ops Log"]
    assert len(logs) == 1
    lines = [b for b in snap["comments"][logs[0]] if OPS_LOG_MARKER.format(sha=prod) in b]
    assert len(lines) == 1
    return snap


# ----------------------------------------------------------------------------- the happy path


def test_ship_merges_tags_publishes_deploys_and_announces(shop: ReleaseRepo) -> None:
    pull = ready(shop)
    head = shop.tip("main")
    slack = Slack()
    result = shop.ship(notify=slack)

    prod = shop.tip("prod")
    assert_shipped_once(shop, pull["number"], head)
    assert (result.merge_sha, result.tag, result.head_sha, result.pr_number) == (prod, TAG, head, pull["number"])
    assert result.evaluation is not None
    assert result.evaluation.verdict == "GO"
    assert result.evaluation.green_required == ("ci",)
    assert result.done == ("gate", "merge", "tag", "release", "deployment", "deployment status", "announcement",
                           "slack", "ops log")
    assert result.skipped == ()
    assert len(shop.snapshot()["pulls"]) == 1  # one Release PR, merged
    release = shop.call("GET", f"/releases/tags/{TAG}")
    assert result.release_url == release["html_url"]
    assert "- Cart totals include tax (#1) @bob" in release["body"]
    assert "checklist" not in release["body"].lower()
    assert "- [ ]" not in release["body"]
    assert "opsgh:changelog" not in release["body"]
    deployment = shop.call("GET", f"/deployments/{result.deployment_id}")
    assert deployment["sha"] == prod
    assert deployment["environment"] == "production"
    assert deployment["payload"]["opsgh"]["required_contexts_verified"] == ["ci"]
    assert deployment["payload"]["opsgh"]["head_sha"] == head
    comment = shop.call("GET", f"/issues/{pull['number']}/comments")[0]
    assert comment["html_url"] == result.comment_url
    assert f"Release `{TAG}`: production deployment starting" in comment["body"]
    assert "Faster checkout" in comment["body"]
    assert "@alice" in comment["body"]
    assert "`opsgh rollback` reverts Release PR #" in comment["body"]
    assert len(slack.messages) == 1
    assert TAG in slack.messages[0]
    merge_message = shop.git("log", "-1", "--format=%s", prod)
    assert merge_message.startswith(f"Merge pull request #{pull['number']} from acme/main")


def test_shipping_again_changes_nothing_and_says_every_step_was_done(shop: ReleaseRepo) -> None:
    pull = ready(shop)
    slack = Slack()
    shop.ship(notify=slack)
    before = shop.snapshot()
    again = shop.ship(notify=slack)
    assert shop.snapshot() == before
    assert again.done == ()
    assert again.skipped == ("gate", "merge", "tag", "release", "deployment", "deployment status", "announcement",
                             "ops log", "slack")
    assert len(slack.messages) == 1
    assert again.pr_number == pull["number"]
    assert again.tag == TAG


# ----------------------------------------------------------------------------- a failure at each step, then a re-run

FAULTS = [
    # (id, method, path glob, kind, times, skip)
    ("merge-landed-then-502", "PUT", "/repos/acme/shop/pulls/*/merge", "landed", 1, 0),
    ("merge-dropped-twice", "PUT", "/repos/acme/shop/pulls/*/merge", "drop", 2, 0),
    ("tag-502-twice", "POST", "/repos/acme/shop/git/refs", "error", 2, 0),
    ("tag-landed-then-502", "POST", "/repos/acme/shop/git/refs", "landed", 1, 0),
    ("release-landed-then-502", "POST", "/repos/acme/shop/releases", "landed", 1, 0),
    ("release-502-twice", "POST", "/repos/acme/shop/releases", "error", 2, 0),
    ("deployment-dropped-twice", "POST", "/repos/acme/shop/deployments", "drop", 2, 0),
    ("deployment-dropped-after-landing", "POST", "/repos/acme/shop/deployments", "drop-landed", 1, 0),
    ("deployment-status-502-twice", "POST", "/repos/acme/shop/deployments/*/statuses", "error", 2, 0),
    ("announcement-503-twice", "POST", "/repos/acme/shop/issues/*/comments", "error", 2, 0),
    ("announcement-landed-then-502", "POST", "/repos/acme/shop/issues/*/comments", "landed", 1, 0),
    ("ops-log-issue-502-twice", "POST", "/repos/acme/shop/issues", "error", 2, 0),
    ("ops-log-line-500-twice", "POST", "/repos/acme/shop/issues/*/comments", "error", 2, 1),
]


@pytest.mark.parametrize(("method", "path", "kind", "times", "skip"), [f[1:] for f in FAULTS],
                         ids=[f[0] for f in FAULTS])
def test_a_failure_at_any_step_then_a_rerun_ships_everything_exactly_once(
        shop: ReleaseRepo, sandbox: Sandbox, method: str, path: str, kind: str, times: int, skip: int) -> None:
    pull = ready(shop)
    head = shop.tip("main")
    if kind == "landed":
        sandbox.faults.landed_then(method, path, 502, times=times, skip=skip)
    elif kind == "drop":
        sandbox.faults.drop(method, path, times=times, skip=skip)
    elif kind == "drop-landed":
        sandbox.faults.drop(method, path, times=times, skip=skip, landed=True)
    else:
        sandbox.faults.error(method, path, 503 if "503" in path else 502, times=times, skip=skip)
    slack = Slack()
    failure: AmbiguousWrite | None = None
    try:
        shop.ship(notify=slack)
    except AmbiguousWrite as err:
        failure = err
    # One ambiguous failure is read back and finished within the run; two stop it.
    assert (failure is None) == (times == 1)
    if failure is not None and shop.tip("prod") != shop.first:  # stopped after the merge: says where, what next
        assert failure.message.startswith("ship stopped at step ")
        assert "Re-run `opsgh ship`" in failure.hint
        assert "done so far: merge" in failure.hint
    sandbox.faults.clear()
    second = shop.ship(notify=slack)
    assert_shipped_once(shop, pull["number"], head)
    assert second.merge_sha == shop.tip("prod")
    assert second.tag == TAG
    # Slack is told before the Ops Log line that records it; only a lost Ops Log line sends it twice.
    assert len(slack.messages) == (2 if path.endswith("/comments") and skip == 1 else 1)


def test_a_slack_failure_stops_before_the_ops_log_and_the_rerun_tells_slack_once(shop: ReleaseRepo) -> None:
    pull = ready(shop)
    head = shop.tip("main")
    slack = Slack(fail=1)
    with pytest.raises(NotificationFailed) as failure:
        shop.ship(notify=slack)
    assert failure.value.message.startswith("ship stopped at step 'slack'")
    assert failure.value.exit_code == ExitCode.GITHUB
    snap = shop.snapshot()
    log = next(n for n, title in snap["issues"] if title == "Ops Log")  # found or created before Slack
    assert snap["comments"][log] == []  # no line yet: it would record that Slack was told
    result = shop.ship(notify=slack)
    assert_shipped_once(shop, pull["number"], head)
    assert len(slack.messages) == 1
    assert "slack" in result.done
    assert "announcement" in result.skipped


# ----------------------------------------------------------------------------- refusals: nothing changes


class PushBeforeMerge:
    """The real gateway, except that someone pushes to main right before the merge request."""

    def __init__(self, inner: Any, push: Any) -> None:
        self._inner, self._push = inner, push

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def merge_pull(self, *args: Any, **kwargs: Any) -> str:
        self._push()
        return str(self._inner.merge_pull(*args, **kwargs))


def test_a_push_between_evaluation_and_merge_is_409_and_nothing_ships(shop: ReleaseRepo) -> None:
    pull = ready(shop)
    evaluated = shop.tip("main")
    before = shop.snapshot()
    gateway = PushBeforeMerge(shop.gateway(), lambda: shop.push({"app/late.py": "# unreviewed\n"}, "Late push"))
    with pytest.raises(Conflict) as conflict:
        shop.ship(gateway=gateway, notify=Slack())
    assert conflict.value.status == 409
    assert conflict.value.exit_code == ExitCode.GITHUB
    assert f"evaluated at {evaluated[:7]}" in conflict.value.message
    assert "nothing was shipped" in conflict.value.message
    assert "re-run `opsgh ship`" in conflict.value.hint
    after = shop.snapshot()
    assert shop.tip("prod") == shop.first
    assert after["releases"] == before["releases"] == []
    assert after["deployments"] == []
    assert [p[1] for p in after["pulls"]] == ["open"]
    assert after["comments"] == before["comments"]
    assert after["issues"] == before["issues"]
    assert "refs/tags/" not in after["refs"]
    assert pull["number"] == after["pulls"][0][0]


def test_a_failing_required_check_is_no_go_and_changes_nothing(shop: ReleaseRepo) -> None:
    shop.features("tax")
    shop.open_release_pr()
    shop.report("failure")
    before = shop.snapshot()
    with pytest.raises(PreconditionFailed) as refused:
        shop.ship(notify=Slack())
    assert refused.value.exit_code == ExitCode.PRECONDITION == 4
    assert refused.value.message.startswith("NO-GO: Release PR #")
    assert "required check 'ci' failed" in refused.value.message
    assert "nothing was changed" in refused.value.hint
    assert shop.snapshot() == before


def test_a_running_required_check_is_pending_not_no_go(shop: ReleaseRepo) -> None:
    shop.features("tax")
    shop.open_release_pr()
    shop.report("pending")
    before = shop.snapshot()
    with pytest.raises(PreconditionFailed) as waiting:
        shop.ship()
    assert waiting.value.message.startswith("PENDING: ")
    assert "required check 'ci' is still running" in waiting.value.message
    assert "wait until nothing is pending (running checks" in waiting.value.hint
    assert shop.snapshot() == before


def test_a_required_check_that_never_reported_is_pending(shop: ReleaseRepo, sandbox: Sandbox) -> None:
    add_ruleset(sandbox, "acme", "shop", {
        "name": "prod checks", "target": "branch", "enforcement": "active",
        "conditions": {"ref_name": {"include": ["refs/heads/prod"], "exclude": []}},
        "rules": [{"type": "required_status_checks", "parameters": {
            "strict_required_status_checks_policy": False,
            "required_status_checks": [{"context": "lint"}]}}]})
    ready(shop)
    with pytest.raises(PreconditionFailed) as waiting:
        shop.ship()
    assert "required check 'lint' has not reported" in waiting.value.message
    assert shop.tip("prod") == shop.first


def test_a_conflicting_release_pr_is_no_go(shop: ReleaseRepo) -> None:
    shop.push({"README.md": "# shop on main\n"}, "Main edit")
    shop.push({"README.md": "# shop hotfixed on prod\n"}, "Prod hotfix", branch="prod")
    shop.open_release_pr()
    shop.report("success")
    with pytest.raises(PreconditionFailed) as refused:
        shop.ship()
    assert "main conflicts with prod" in refused.value.message


def test_no_release_pr_is_nothing_to_ship(shop: ReleaseRepo) -> None:
    with pytest.raises(NothingToShip) as nothing:
        shop.ship()
    assert nothing.value.exit_code == ExitCode.PRECONDITION
    assert "no open Release PR main -> prod" in nothing.value.message
    assert "opsgh release" in nothing.value.hint


def test_a_pull_request_that_is_not_main_to_prod_is_refused(shop: ReleaseRepo, sandbox: Sandbox) -> None:
    sandbox.create_branch("acme", "shop", "feature", "main")
    shop.push({"f.txt": "f\n"}, "Feature", branch="feature")
    other = shop.call("POST", "/pulls", {"title": "Feature", "head": "feature", "base": "main"}, expect=201)
    with pytest.raises(PreconditionFailed, match=r"is feature -> main, not a Release PR \(main -> prod\)"):
        shop.ship(other["number"])


def test_a_merged_release_pr_is_not_resumed_once_prod_moved_on(shop: ReleaseRepo) -> None:
    pull = ready(shop)
    shop.ship()
    shop.push({"hotfix.txt": "x\n"}, "Hotfix straight on prod", branch="prod")
    with pytest.raises(NothingToShip, match="has moved on since"):
        shop.ship(pull["number"])


# ----------------------------------------------------------------------------- tags, mergeability, dry run


def test_a_second_release_the_same_day_gets_a_suffixed_tag(shop: ReleaseRepo) -> None:
    first = ready(shop)
    shop.ship()
    first_prod = shop.tip("prod")
    shop.features("coupons")
    second = shop.open_release_pr(title="Release 2027-01-15 (2)")
    shop.report("success")
    head = shop.tip("main")
    result = shop.ship()
    assert result.tag == f"{TAG}.2"
    assert_shipped_once(shop, second["number"], head, tag=f"{TAG}.2", previous=first_prod)
    assert shop.git("rev-parse", f"refs/tags/{TAG}") == first_prod  # the first release's tag stays
    assert [r[0] for r in shop.snapshot()["releases"]] == [f"{TAG}.2", TAG]
    assert first["number"] != second["number"]


def test_mergeable_unknown_is_polled_not_read_as_false(shop: ReleaseRepo, sandbox_clock: FakeClock) -> None:
    shop.features("tax")
    pull = shop.open_release_pr()
    shop.features("late")  # main moves: GitHub computes mergeable again, the next read answers null
    shop.report("success")
    sleeps_before = len(sandbox_clock.sleeps)
    result = shop.ship()
    assert sandbox_clock.sleeps[sleeps_before:] == [MERGEABLE_WAITS[0]]
    assert result.merge_sha == shop.tip("prod")
    assert_shipped_once(shop, pull["number"], shop.tip("main"))


def test_dry_run_prints_the_plan_and_changes_nothing(shop: ReleaseRepo, sandbox: Sandbox) -> None:
    pull = ready(shop)
    before = shop.snapshot()
    sandbox.log.clear()
    result = shop.ship(dry_run=True, notify=Slack())
    writes = [e for e in sandbox.log.entries if e.method not in ("GET", "HEAD") and e.path != "/graphql"]
    assert writes == []
    assert shop.snapshot() == before
    assert result.dry_run
    assert result.merge_sha is None
    assert result.tag == TAG
    text = "\n".join(result.lines())
    assert text.startswith(f"dry run, nothing changed: Release PR #{pull['number']}")
    assert f"create {TAG} on the merge commit" in text
    assert "append a line to a new issue 'Ops Log'" in text
    assert [s.action for s in result.steps] == ["done"] + ["would"] * 8


def test_dry_run_after_a_half_done_ship_shows_what_is_left(shop: ReleaseRepo, sandbox: Sandbox) -> None:
    ready(shop)
    sandbox.faults.error("POST", "/repos/acme/shop/deployments", 502, times=2)
    with pytest.raises(AmbiguousWrite):
        shop.ship()
    sandbox.faults.clear()
    before = shop.snapshot()
    plan = shop.ship(dry_run=True)
    assert shop.snapshot() == before
    actions = {s.name: s.action for s in plan.steps}
    assert actions == {"gate": "skipped", "merge": "skipped", "tag": "skipped", "release": "skipped",
                       "deployment": "would", "deployment status": "would", "announcement": "would",
                       "slack": "off", "ops log": "would"}


# ----------------------------------------------------------------------------- the command line


class _Webhook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", 0))
        type(self).received.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []
    handler = type("Hook", (_Webhook,), {"received": received})
    with serving(handler) as server:
        yield f"{base_url(server)}/services/T000/B000/XXXX", received


def test_the_cli_ships_posts_to_slack_and_prints_each_step(
        shop: ReleaseRepo, sandbox: Sandbox, tmp_path: Path, webhook: tuple[str, list[dict[str, Any]]],
        capsys: pytest.CaptureFixture[str]) -> None:
    url, received = webhook
    pull = ready(shop)
    config = tmp_path / "opsgh.yml"
    config.write_text(CONFIG)
    environ = {"GITHUB_TOKEN": shop.tokens["alice"], "GITHUB_API_URL": sandbox.url,
               "GITHUB_GRAPHQL_URL": sandbox.graphql_url, "SLACK_WEBHOOK_URL": url}
    argv = ["--repo", "acme/shop", "--config", str(config), "ship"]

    assert run([*argv, "--dry-run"], environ=environ) == 0
    out = capsys.readouterr().out
    assert "dry run, nothing changed" in out
    assert "slack" in out
    assert received == []

    assert run([*argv, str(pull["number"]), "--json"], environ=environ) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["tag"] == TAG
    assert data["merge_sha"] == shop.tip("prod")
    assert data["verdict"] == "GO"
    assert [s["action"] for s in data["steps"]] == ["done"] * 9
    assert len(received) == 1
    assert TAG in received[0]["text"]
    assert url not in json.dumps(data)

    assert run(argv, environ=environ) == 0
    assert "skipped" in capsys.readouterr().out
    assert len(received) == 1


def test_the_cli_exits_4_on_no_go(shop: ReleaseRepo, sandbox: Sandbox, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    shop.features("tax")
    shop.open_release_pr()
    shop.report("error")
    config = tmp_path / "opsgh.yml"
    config.write_text(CONFIG)
    environ = {"GITHUB_TOKEN": shop.tokens["alice"], "GITHUB_API_URL": sandbox.url,
               "GITHUB_GRAPHQL_URL": sandbox.graphql_url}
    assert run(["--repo", "acme/shop", "--config", str(config), "ship"], environ=environ) == 4
    err = capsys.readouterr().err
    assert "error: NO-GO" in err
    assert "hint: nothing was changed" in err


def test_an_annotated_tag_made_by_hand_on_the_merge_commit_is_reused(shop: ReleaseRepo, sandbox: Sandbox) -> None:
    pull = ready(shop)
    head = shop.tip("main")
    sandbox.faults.error("POST", "/repos/acme/shop/git/refs", 502, times=2)
    with pytest.raises(AmbiguousWrite, match="ship stopped at step 'tag'"):
        shop.ship()
    sandbox.faults.clear()
    prod = shop.tip("prod")
    tag_object = shop.call("POST", "/git/tags", {"tag": TAG, "message": f"Release {TAG}", "object": prod,
                                                 "type": "commit"}, expect=201)
    shop.call("POST", "/git/refs", {"ref": f"refs/tags/{TAG}", "sha": tag_object["sha"]}, expect=201)
    result = shop.ship()
    assert next(s for s in result.steps if s.name == "tag").action == "skipped"
    assert shop.git("rev-parse", f"refs/tags/{TAG}") == tag_object["sha"]  # left as the human made it
    assert shop.git("rev-parse", f"refs/tags/{TAG}^{{commit}}") == prod
    assert [r[0] for r in shop.snapshot()["releases"]] == [TAG]
    assert pull["number"] == result.pr_number
    assert result.head_sha == head


def test_the_gateway_does_not_shadow_a_ship_method() -> None:
    # GitHubGateway inherits ShipGatewayMixin: a method of the same name defined on the gateway itself would
    # silently replace ship's (with another signature) for every caller.
    from opsgh.github.gateway import GitHubGateway
    from opsgh.github.gateway_ship import ShipGatewayMixin

    ship_methods = {name for name, value in vars(ShipGatewayMixin).items() if callable(value)}
    assert ship_methods
    assert not ship_methods & set(vars(GitHubGateway))
