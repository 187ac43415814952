"""The Action's back-ports: a hotfix merged into prod back-ports itself, `/backport [branch]` on a merged PR."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from action_support import ActionHarness
from hotfix_support import CONFIG, HotfixRepo
from webhooks import comment_event, pull_request_event

from opsgh.clock import FakeClock
from opsgh.errors import ExitCode
from opsgh.ops.backport import CONFLICT_LABEL
from opsgh.ops.commands import REPLY_MARKER
from opsgh.sandbox import Sandbox

FIXED = "def charge(amount):\n    return gateway.charge(amount, timeout=5)\n"


@pytest.fixture
def shop(sandbox: Sandbox, sandbox_clock: FakeClock) -> Iterator[HotfixRepo]:
    repo = HotfixRepo(sandbox, sandbox_clock, config=CONFIG)
    yield repo
    repo.close()


def closed(shop: HotfixRepo, number: int, head: str) -> dict[str, object]:
    return pull_request_event("pull_request.closed", shop.full_name, number=number, base="prod", head=head,
                              merged=True)


def test_a_hotfix_merged_into_prod_is_backported_to_main(shop: HotfixRepo, action: ActionHarness) -> None:
    hotfix = shop.hotfix("payment-timeout", [{"app/pay.py": FIXED}], "fix: payment timeout")
    result = action.run("pull_request", closed(shop, hotfix["number"], "hotfix/payment-timeout"))
    assert result.code == ExitCode.OK, result.log
    [pull] = shop.pulls(head=f"acme:backport/{hotfix['number']}-to-main", base="main")
    assert (result.outputs["pr-number"], result.outputs["outcome"]) == (str(pull["number"]), "done")
    assert json.loads(result.outputs["result-json"])["targets"][0]["status"] == "opened"
    assert shop.git("show", f"refs/heads/backport/{hotfix['number']}-to-main:app/pay.py") == FIXED.strip()
    # The cherry-pick keeps its author; the Actions bot committed it.
    assert shop.git("log", "-1", "--format=%cn", f"refs/heads/backport/{hotfix['number']}-to-main") == \
        "github-actions[bot]"
    again = action.run("pull_request", closed(shop, hotfix["number"], "hotfix/payment-timeout"))
    assert again.code == ExitCode.OK
    assert len(shop.pulls(head=f"acme:backport/{hotfix['number']}-to-main")) == 1


def test_a_conflict_fails_the_step_with_exit_5_and_opens_the_draft(shop: HotfixRepo, action: ActionHarness) -> None:
    shop.push("main", {"app/pay.py": "def charge(amount):\n    return gateway.charge(amount, retries=2)\n"},
              "Retry payments")
    hotfix = shop.hotfix("payment-timeout", [{"app/pay.py": FIXED}], "fix: payment timeout", method="squash")
    result = action.run("pull_request", closed(shop, hotfix["number"], "hotfix/payment-timeout"))
    assert result.code == ExitCode.BACKPORT_CONFLICT
    assert result.outputs["outcome"] == "problems"
    assert "git cherry-pick -x" in result.log
    [pull] = shop.pulls(head=f"acme:backport/{hotfix['number']}-to-main")
    assert pull["draft"] is True
    assert CONFLICT_LABEL in [label["name"] for label in pull["labels"]]


def test_slash_backport_to_a_named_branch(shop: HotfixRepo, action: ActionHarness) -> None:
    shop.sandbox.create_branch("acme", "shop", "release/1.0", "prod")
    hotfix = shop.hotfix("payment-timeout", [{"app/pay.py": FIXED}], "fix: payment timeout", method="squash")
    number = hotfix["number"]
    body = "/backport release/1.0"
    created = shop.call("POST", f"/issues/{number}/comments", {"body": body}, login="bob", expect=201)
    payload = comment_event(shop.full_name, number=number, body=body, login="bob", comment_id=int(created["id"]),
                            created_at=str(created["created_at"]))
    result = action.run("issue_comment", payload)
    assert result.code == ExitCode.OK, result.log
    assert result.outputs["outcome"] == "done"
    [pull] = shop.pulls(head=f"acme:backport/{number}-to-release/1.0", base="release/1.0")
    assert pull["title"] == "[Backport release/1.0] fix: payment timeout"
    assert shop.pulls(head=f"acme:backport/{number}-to-main") == []  # only the branch asked for
    [reply] = [c["body"] for c in shop.call("GET", f"/issues/{number}/comments") if REPLY_MARKER in c["body"]]
    assert "✅ @bob: `/backport release/1.0` done." in reply
    assert f"#{pull['number']}" in reply


def test_the_backport_template_runs_the_command_with_the_merged_prs_number(shop: HotfixRepo,
                                                                             action: ActionHarness) -> None:
    """workflows-templates/backport.yml: `command: backport`, `args: <the merged PR's number>`."""
    hotfix = shop.hotfix("payment-timeout", [{"app/pay.py": FIXED}, {"app/pay_test.py": "def test(): ...\n"}],
                         "fix: payment timeout", method="rebase")
    number = hotfix["number"]
    result = action.run("pull_request", closed(shop, number, "hotfix/payment-timeout"), INPUT_COMMAND="backport",
                        INPUT_ARGS=str(number))
    assert result.code == ExitCode.OK, result.log
    [pull] = shop.pulls(head=f"acme:backport/{number}-to-main", base="main")
    assert (result.outputs["pr-number"], result.outputs["outcome"]) == (str(pull["number"]), "done")
    assert json.loads(result.outputs["result-json"])["method"] == "rebase"
    assert shop.git("log", "-1", "--format=%cn|%an", f"refs/heads/backport/{number}-to-main") == \
        "github-actions[bot]|Dave"
