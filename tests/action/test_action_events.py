"""`opsgh action` on real webhook deliveries against the sandbox: each event reaches its operation."""

from __future__ import annotations

import pytest
from action_support import ActionHarness
from ship_support import ReleaseRepo
from webhooks import example, pull_request_event, readdress

from opsgh.errors import ExitCode
from opsgh.ops.publish_verdict import CHECK_NAME, MARKER


def push(shop: ReleaseRepo, ref: str) -> dict[str, object]:
    payload = readdress(example("push"), shop.full_name)
    payload["ref"] = ref
    payload["deleted"] = False
    return payload


def test_a_push_to_main_opens_the_release_pr(shop: ReleaseRepo, action: ActionHarness) -> None:
    shop.features("tax")
    result = action.run("push", push(shop, "refs/heads/main"))
    assert result.code == ExitCode.OK, result.log
    [pull] = shop.call("GET", "/pulls", params={"head": "acme:main", "base": "prod"})
    assert result.outputs["pr-number"] == str(pull["number"])
    assert result.outputs["outcome"] == "done"
    assert f"opened release PR #{pull['number']}" in result.summary
    again = action.run("push", push(shop, "refs/heads/main"))
    assert again.code == ExitCode.OK
    assert len(shop.call("GET", "/pulls", params={"state": "all"})) == 1


def test_a_push_elsewhere_is_skipped_with_a_notice(shop: ReleaseRepo, action: ActionHarness) -> None:
    result = action.run("push", push(shop, "refs/heads/feature"))
    assert result.code == ExitCode.OK
    assert result.outputs == {"outcome": "skipped"}
    assert "::notice title=opsgh::received `push`: push to refs/heads/feature, not to the staging branch main" \
        in result.log
    assert shop.call("GET", "/pulls", params={"state": "all"}) == []


def test_a_release_pr_opened_is_gated_and_the_verdict_published(shop: ReleaseRepo, action: ActionHarness) -> None:
    shop.features("tax")
    number = shop.open_release_pr()["number"]
    shop.report("failure")
    payload = pull_request_event("pull_request.opened", shop.full_name, number=number, base="prod", head="main")
    result = action.run("pull_request", payload)
    assert result.code == ExitCode.OK, result.log  # a NO-GO is a result: the check run carries it
    assert (result.outputs["verdict"], result.outputs["pr-number"], result.outputs["outcome"]) == (
        "NO-GO", str(number), "problems")
    comments = [c for c in shop.call("GET", f"/issues/{number}/comments") if MARKER in c["body"]]
    assert len(comments) == 1
    runs = shop.call("GET", f"/commits/{shop.tip('main')}/check-runs", params={"check_name": CHECK_NAME})
    assert [r["conclusion"] for r in runs["check_runs"]] == ["failure"]
    shop.report("success")
    review = pull_request_event("pull_request_review.submitted", shop.full_name, number=number, base="prod",
                                head="main")
    after = action.run("pull_request_review", review)
    assert after.outputs["verdict"] == "GO"
    runs = shop.call("GET", f"/commits/{shop.tip('main')}/check-runs", params={"check_name": CHECK_NAME})
    assert [r["conclusion"] for r in runs["check_runs"]] == ["success"]


def test_a_status_on_the_release_head_gates_it_and_our_own_status_does_not(shop: ReleaseRepo,
                                                                           action: ActionHarness) -> None:
    shop.features("tax")
    number = shop.open_release_pr()["number"]
    shop.report("success")
    status = readdress(example("status"), shop.full_name)
    status["sha"], status["context"] = shop.tip("main"), "ci"
    result = action.run("status", status)
    assert (result.outputs["verdict"], result.outputs["pr-number"]) == ("GO", str(number))
    status["context"] = CHECK_NAME
    ours = action.run("status", status)
    assert ours.outputs == {"outcome": "skipped"}


def test_a_merged_pull_request_into_prod_from_main_is_not_backported(shop: ReleaseRepo,
                                                                      action: ActionHarness) -> None:
    payload = pull_request_event("pull_request.closed", shop.full_name, number=7, base="prod", head="main",
                                 merged=True)
    result = action.run("pull_request", payload)
    assert result.outputs == {"outcome": "skipped"}
    assert "is a release" in result.log


def test_an_unknown_event_is_skipped(shop: ReleaseRepo, action: ActionHarness) -> None:
    result = action.run("watch", {"action": "started"})
    assert (result.code, result.outputs) == (ExitCode.OK, {"outcome": "skipped"})


def test_dispatch_runs_the_command_input(shop: ReleaseRepo, action: ActionHarness,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    shop.features("tax")
    payload = readdress(example("workflow_dispatch"), shop.full_name)
    result = action.run("workflow_dispatch", payload, INPUT_COMMAND="release", **{"INPUT_DRY-RUN": "true"})
    assert result.code == ExitCode.OK
    assert "would open the release PR" in capsys.readouterr().out
    assert shop.call("GET", "/pulls", params={"state": "all"}) == []
    bad = action.run("workflow_dispatch", payload, INPUT_COMMAND="deploy-everything")
    assert bad.code == ExitCode.USAGE
    assert "::error title=opsgh::unknown command 'deploy-everything'" in bad.log
    assert bad.outputs == {"outcome": "failed"}


def test_an_explicit_command_still_sets_the_outputs(shop: ReleaseRepo, action: ActionHarness) -> None:
    """release.yml runs `command: release` on a schedule: the CLI writes the outputs the action declares."""
    shop.features("tax")
    result = action.run("schedule", None, INPUT_COMMAND="release")
    assert result.code == ExitCode.OK, result.log
    [pull] = shop.call("GET", "/pulls", params={"head": "acme:main", "base": "prod"})
    assert result.outputs["pr-number"] == str(pull["number"])
    assert result.outputs["pr-url"] == pull["html_url"]
    assert '"operation": "release"' in result.outputs["result-json"]
    assert result.outputs["outcome"] == "done"
