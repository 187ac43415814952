"""`opsgh gate --publish` against the sandbox: one sticky comment, one check run (or status) per head SHA,
no write when nothing changed, our comment found past the first page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ship_support import ReleaseRepo

from opsgh.cli import run
from opsgh.clock import FakeClock
from opsgh.errors import ExitCode
from opsgh.gate.verdict import VerdictState
from opsgh.github.gateway import GitHubGateway
from opsgh.ops.gate import gate
from opsgh.ops.publish_verdict import CHECK_NAME, MARKER, publish_verdict
from opsgh.ports import PullShipState
from opsgh.sandbox import Sandbox

CONFIG = """\
branches: {staging: main, production: prod}
release: {title: "Release {date}", tag: "v{date}", timezone: America/New_York}
gate:
  approvals: {min: 1}
"""

BODY = "## Release\n\n## Pre-deployment checklist\n- [x] Rollback plan confirmed\n"

APP_PERMISSIONS = {"checks": "write", "issues": "write", "pull_requests": "write", "statuses": "write",
                   "contents": "read", "metadata": "read"}


@pytest.fixture
def shop(sandbox: Sandbox, sandbox_clock: FakeClock) -> Iterator[ReleaseRepo]:
    repo = ReleaseRepo(sandbox, sandbox_clock, config=CONFIG)
    yield repo
    repo.close()


def _app_gateway(shop: ReleaseRepo) -> GitHubGateway:
    token = shop.sandbox.installation_token(shop.sandbox.add_app("opsgh-gate", "acme", permissions=APP_PERMISSIONS))
    gateway = GitHubGateway.connect(api_url=shop.sandbox.url, token=token, clock=shop.clock, jitter=None)
    shop._gateways.append(gateway)
    return gateway


def _ours(shop: ReleaseRepo, number: int) -> list[dict[str, object]]:
    comments = [c for page in (1, 2, 3) for c in shop.call("GET", f"/issues/{number}/comments",
                                                              params={"per_page": 100, "page": page})]
    return [c for c in comments if MARKER in str(c["body"])]


def _writes(gateway: GitHubGateway) -> int:
    return gateway.ledger.count("POST") + gateway.ledger.count("PATCH")


def test_no_go_then_go_one_comment_one_check_run_no_write_when_unchanged(shop: ReleaseRepo) -> None:
    shop.features("tax")
    number = shop.open_release_pr(body=BODY)["number"]
    shop.report("failure")
    app = _app_gateway(shop)

    verdict = gate(shop.gateway(), shop.full_name, shop.config, shop.clock, number)
    assert verdict.state is VerdictState.NO_GO
    first = publish_verdict(app, shop.full_name, number, verdict)
    assert (first.comment, first.check_kind, first.check) == ("created", "check-run", "created")

    app.ledger.clear()
    again = publish_verdict(app, shop.full_name, number, verdict)
    assert (again.comment, again.check) == ("unchanged", "unchanged")
    assert _writes(app) == 0, app.ledger.summary()

    # With the head's checks as the gate read them, an unchanged verdict costs one read (the comments).
    seen: list[PullShipState] = []
    verdict = gate(app, shop.full_name, shop.config, shop.clock, number, on_pull=seen.append)
    app.ledger.clear()
    shortcut = publish_verdict(app, shop.full_name, number, verdict, head_checks=seen[-1].checks)
    assert (shortcut.comment, shortcut.check) == ("unchanged", "unchanged")
    assert [e.method for e in app.ledger] == ["GET"], app.ledger.summary()

    shop.report("success")
    shop.call("POST", f"/pulls/{number}/reviews", {"event": "APPROVE"}, login="bob")
    verdict = gate(shop.gateway(), shop.full_name, shop.config, shop.clock, number)
    assert verdict.state is VerdictState.GO, verdict.reasons
    # the gate never judges its own check run (its NO-GO on this head would otherwise stick)
    assert not [d for r in verdict.results for d in r.details if CHECK_NAME in d]
    after = publish_verdict(app, shop.full_name, number, verdict)
    assert (after.comment, after.check, after.check_run_id) == ("updated", "updated", first.check_run_id)
    assert after.comment_url == first.comment_url

    ours = _ours(shop, number)
    assert len(ours) == 1
    body = str(ours[0]["body"])
    assert "**GO**" in body
    assert "**NO-GO**" not in body
    assert verdict.sha in body
    runs = shop.call("GET", f"/commits/{verdict.sha}/check-runs", params={"check_name": CHECK_NAME})
    assert runs["total_count"] == 1
    assert (runs["check_runs"][0]["status"], runs["check_runs"][0]["conclusion"]) == ("completed", "success")


def test_a_classic_pat_falls_back_to_one_commit_status(shop: ReleaseRepo) -> None:
    shop.features("tax")
    number = shop.open_release_pr(body=BODY)["number"]
    shop.report("pending")
    shop.call("POST", f"/pulls/{number}/reviews", {"event": "APPROVE"}, login="bob")
    pat = shop.gateway()

    verdict = gate(pat, shop.full_name, shop.config, shop.clock, number)
    assert verdict.state is VerdictState.PENDING
    first = publish_verdict(pat, shop.full_name, number, verdict)
    assert (first.check_kind, first.check) == ("status", "created")
    pat.ledger.clear()
    assert publish_verdict(pat, shop.full_name, number, verdict).check == "unchanged"
    assert _writes(pat) == 0, pat.ledger.summary()

    shop.report("success")
    verdict = gate(pat, shop.full_name, shop.config, shop.clock, number)
    assert verdict.state is VerdictState.GO
    assert publish_verdict(pat, shop.full_name, number, verdict).check == "updated"
    statuses = [s for s in shop.call("GET", f"/commits/{verdict.sha}/statuses") if s["context"] == CHECK_NAME]
    assert [s["state"] for s in statuses] == ["success", "pending"]  # newest first: the current one is GO
    assert len(statuses[0]["description"]) <= 140
    assert shop.call("GET", f"/commits/{verdict.sha}/check-runs")["total_count"] == 0
    assert len(_ours(shop, number)) == 1


def test_our_comment_is_found_on_page_two_of_150(shop: ReleaseRepo) -> None:
    shop.features("tax")
    number = shop.open_release_pr(body=BODY)["number"]
    shop.report("failure")
    app = _app_gateway(shop)
    for index in range(110):
        shop.call("POST", f"/issues/{number}/comments", {"body": f"chatter {index}"}, expect=201)
    verdict = gate(shop.gateway(), shop.full_name, shop.config, shop.clock, number)
    publish_verdict(app, shop.full_name, number, verdict)
    for index in range(38):
        shop.call("POST", f"/issues/{number}/comments", {"body": f"more chatter {index}"}, login="bob",
                  expect=201)
    # 150 comments; ours is the 111th (page 2 at per_page=100), and bob quotes the marker after it.
    shop.call("POST", f"/issues/{number}/comments", {"body": f"quoting it: {MARKER}"}, login="bob", expect=201)

    shop.report("success")
    shop.call("POST", f"/pulls/{number}/reviews", {"event": "APPROVE"}, login="bob")
    verdict = gate(shop.gateway(), shop.full_name, shop.config, shop.clock, number)
    app.ledger.clear()
    result = publish_verdict(app, shop.full_name, number, verdict, author="opsgh-gate[bot]")
    assert result.comment == "updated"
    pages = [e for e in app.ledger if e.method == "GET" and e.route.endswith("/comments")]
    assert len(pages) == 2, app.ledger.summary()  # both pages read, no third
    mine = [c for c in _ours(shop, number) if c["user"]["login"] == "opsgh-gate[bot]"]
    assert [c["html_url"] for c in mine] == [result.comment_url]


def test_cli_publish_is_opt_in_and_writes_the_actions_summary(shop: ReleaseRepo, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    shop.features("tax")
    number = shop.open_release_pr(body=BODY)["number"]
    shop.report("failure")
    summary, outputs = tmp_path / "summary.md", tmp_path / "outputs"
    environ = {"GITHUB_TOKEN": shop.tokens["alice"], "GITHUB_API_URL": shop.sandbox.url,
               "GITHUB_GRAPHQL_URL": shop.sandbox.graphql_url, "GITHUB_REPOSITORY": shop.full_name}

    assert run(["gate"], environ=environ) == ExitCode.PRECONDITION
    assert _ours(shop, number) == []  # not published without --publish

    actions = {**environ, "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary),
               "GITHUB_OUTPUT": str(outputs)}
    assert run(["gate", "--publish"], environ=actions) == ExitCode.PRECONDITION
    capsys.readouterr()
    assert len(_ours(shop, number)) == 1
    assert "**NO-GO**" in summary.read_text()
    written = outputs.read_text()
    assert "verdict" in written
    assert "NO-GO" in written
    assert "required check 'ci' failed" in written


def test_a_new_head_gets_its_own_check_run_and_the_same_comment(shop: ReleaseRepo) -> None:
    shop.features("tax")
    number = shop.open_release_pr(body=BODY)["number"]
    shop.report("failure")
    app = _app_gateway(shop)
    old = gate(app, shop.full_name, shop.config, shop.clock, number)
    publish_verdict(app, shop.full_name, number, old)

    shop.features("late")  # the Release PR's head moves
    shop.report("success")
    shop.call("POST", f"/pulls/{number}/reviews", {"event": "APPROVE"}, login="bob")
    seen: list[PullShipState] = []
    new = gate(app, shop.full_name, shop.config, shop.clock, number, on_pull=seen.append)
    assert new.sha != old.sha
    app.ledger.clear()
    result = publish_verdict(app, shop.full_name, number, new, head_checks=seen[-1].checks)
    assert (result.comment, result.check) == ("updated", "created")
    assert not [e for e in app.ledger if e.route.endswith("/check-runs") and e.method == "GET"]  # nothing to find
    for sha, conclusion in ((old.sha, "failure"), (new.sha, "success")):
        runs = shop.call("GET", f"/commits/{sha}/check-runs", params={"check_name": CHECK_NAME})["check_runs"]
        assert [r["conclusion"] for r in runs] == [conclusion]
    assert len(_ours(shop, number)) == 1


def test_a_changed_verdict_updates_our_run_by_its_id_without_a_lookup(shop: ReleaseRepo) -> None:
    shop.features("tax")
    number = shop.open_release_pr(body=BODY)["number"]
    shop.report("failure")
    app = _app_gateway(shop)
    first = publish_verdict(app, shop.full_name, number, gate(app, shop.full_name, shop.config, shop.clock, number))

    shop.report("success")
    shop.call("POST", f"/pulls/{number}/reviews", {"event": "APPROVE"}, login="bob")
    seen: list[PullShipState] = []
    verdict = gate(app, shop.full_name, shop.config, shop.clock, number, on_pull=seen.append)
    assert verdict.state is VerdictState.GO, verdict.reasons
    assert [c.run_id for c in seen[-1].checks if c.name == CHECK_NAME] == [first.check_run_id]
    app.ledger.clear()
    after = publish_verdict(app, shop.full_name, number, verdict, head_checks=seen[-1].checks)
    assert (after.comment, after.check, after.check_run_id) == ("updated", "updated", first.check_run_id)
    # the comments, PATCH our run by the id the gate read, PATCH the comment: no check-run lookup
    assert [(e.method, e.route) for e in app.ledger] == [
        ("GET", "/repos/{owner}/{repo}/issues/{n}/comments"),
        ("PATCH", "/repos/{owner}/{repo}/check-runs/{n}"),
        ("PATCH", "/repos/{owner}/{repo}/issues/comments/{n}")], app.ledger.summary()
    runs = shop.call("GET", f"/commits/{verdict.sha}/check-runs", params={"check_name": CHECK_NAME})["check_runs"]
    assert [(r["id"], r["conclusion"]) for r in runs] == [(first.check_run_id, "success")]


def test_a_classic_pat_reads_its_status_from_the_gate_and_writes_only_a_new_state(shop: ReleaseRepo) -> None:
    shop.features("tax")
    number = shop.open_release_pr(body=BODY)["number"]
    shop.report("failure")
    pat = shop.gateway()
    publish_verdict(pat, shop.full_name, number, gate(pat, shop.full_name, shop.config, shop.clock, number))
    seen: list[PullShipState] = []
    verdict = gate(pat, shop.full_name, shop.config, shop.clock, number, on_pull=seen.append)
    ours = [c for c in seen[-1].checks if c.name == CHECK_NAME]
    assert [(c.detail, c.run_id) for c in ours] == [("failure", None)]
    assert (ours[0].description or "").startswith("NO-GO at ")
    pat.ledger.clear()
    assert publish_verdict(pat, shop.full_name, number, verdict, head_checks=seen[-1].checks).check == "unchanged"
    assert len(pat.ledger) == 1, pat.ledger.summary()

    shop.report("success")
    shop.call("POST", f"/pulls/{number}/reviews", {"event": "APPROVE"}, login="bob")
    verdict = gate(pat, shop.full_name, shop.config, shop.clock, number, on_pull=seen.append)
    pat.ledger.clear()
    result = publish_verdict(pat, shop.full_name, number, verdict, head_checks=seen[-1].checks)
    assert (result.check_kind, result.check, result.comment) == ("status", "updated", "updated")
    assert not [e for e in pat.ledger if e.route.endswith("/statuses")], pat.ledger.summary()  # no lookup
    statuses = shop.call("GET", f"/commits/{verdict.sha}/statuses")
    assert [s["state"] for s in statuses if s["context"] == CHECK_NAME] == ["success", "failure"]


def test_a_required_go_no_go_check_does_not_keep_the_gate_at_no_go(sandbox: Sandbox,
                                                                   sandbox_clock: FakeClock) -> None:
    """prod requires `opsgh / go-no-go` itself: our published NO-GO makes GitHub report the merge BLOCKED,
    which must not read as a new reason once CI and the review are fixed."""
    shop = ReleaseRepo(sandbox, sandbox_clock, config=CONFIG, required=("ci", CHECK_NAME))
    try:
        shop.features("tax")
        number = shop.open_release_pr(body=BODY)["number"]
        shop.report("failure")
        app = _app_gateway(shop)
        publish_verdict(app, shop.full_name, number, gate(app, shop.full_name, shop.config, shop.clock, number))
        shop.report("success")
        shop.call("POST", f"/pulls/{number}/reviews", {"event": "APPROVE"}, login="bob")
        seen: list[PullShipState] = []
        verdict = gate(app, shop.full_name, shop.config, shop.clock, number, on_pull=seen.append)
        assert seen[-1].merge_state_status == "BLOCKED"  # what GitHub says while our NO-GO stands
        assert verdict.state is VerdictState.GO, verdict.reasons
        mergeability = next(r for r in verdict.results if r.key == "mergeability")
        assert "earlier go/no-go verdict" in mergeability.summary
        publish_verdict(app, shop.full_name, number, verdict, head_checks=seen[-1].checks)
        again = gate(app, shop.full_name, shop.config, shop.clock, number, on_pull=seen.append)
        assert (again.state, seen[-1].merge_state_status) == (VerdictState.GO, "CLEAN")
    finally:
        shop.close()
