"""Slash commands end to end: `opsgh action` on `issue_comment` deliveries against the sandbox.

The adversarial corpus: injection strings, workflow commands, look-alike and invisible characters,
CR/LF, two commands, quotes and fences, edits, bots, users without the role, a permission API that
fails. Each comment is either ignored (no answer) or refused exactly once, nothing runs that should
not, and nothing on GitHub changes but the answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from action_support import CONFIG, ActionHarness, ActionRun
from rollback_support import shipped
from ship_support import ReleaseRepo
from webhooks import comment_event

from opsgh.clock import FakeClock
from opsgh.errors import ExitCode
from opsgh.ops.commands import REPLY_MARKER
from opsgh.ops.publish_verdict import CHECK_NAME, MARKER
from opsgh.sandbox import Sandbox

PWNED = Path("/tmp/opsgh-pwned")


@pytest.fixture
def shop(sandbox: Sandbox, sandbox_clock: FakeClock) -> Iterator[ReleaseRepo]:
    repo = ReleaseRepo(sandbox, sandbox_clock, config=CONFIG)
    repo.tokens["carol"] = sandbox.add_user("carol")
    repo.tokens["dave"] = sandbox.add_user("dave")
    sandbox.repo("acme", "shop").collaborators["carol"] = "triage"
    repo.features("tax")
    repo.open_release_pr()
    repo.report("success")
    yield repo
    repo.close()


class Comments:
    """Comments as people write them: an id and a creation time after everything so far."""

    def __init__(self, shop: ReleaseRepo) -> None:
        self.shop = shop
        self.next_id = 900_000

    def post(self, body: str, login: str = "alice", **changes: Any) -> dict[str, Any]:
        """The comment exists on GitHub (as it would before the delivery), then the delivery is made."""
        created = self.shop.call("POST", "/issues/1/comments", {"body": body}, login=login if login in
                                 self.shop.tokens else "alice", expect=201)
        return comment_event(self.shop.full_name, number=changes.pop("number", 1), body=body, login=login,
                             comment_id=int(created["id"]), created_at=str(created["created_at"]), **changes)


def replies(shop: ReleaseRepo, number: int = 1) -> list[str]:
    return [c["body"] for c in shop.call("GET", f"/issues/{number}/comments", params={"per_page": 100})
            if REPLY_MARKER in c["body"]]


def reactions(shop: ReleaseRepo, comment_id: int) -> list[str]:
    return [r["content"] for r in shop.call("GET", f"/issues/comments/{comment_id}/reactions")]


def state(shop: ReleaseRepo) -> dict[str, Any]:
    return {"pulls": shop.call("GET", "/pulls", params={"state": "all"}),
            "refs": shop.git("for-each-ref", "refs/heads", "refs/tags")}


def command(action: ActionHarness, payload: dict[str, Any]) -> ActionRun:
    return action.run("issue_comment", payload)


def test_gate_by_a_writer_publishes_the_verdict_and_answers_once(shop: ReleaseRepo, action: ActionHarness) -> None:
    comments = Comments(shop)
    payload = comments.post("/gate", login="bob")
    result = command(action, payload)
    assert result.code == ExitCode.OK, result.log
    assert (result.outputs["outcome"], result.outputs["verdict"]) == ("done", "GO")
    [reply] = replies(shop)
    assert "✅ @bob: `/gate` done." in reply
    assert "GO #1 at " in reply
    assert [c for c in shop.call("GET", "/issues/1/comments") if MARKER in c["body"]]  # the verdict comment
    assert reactions(shop, payload["comment"]["id"]) == ["eyes", "rocket"]
    runs = shop.call("GET", f"/commits/{shop.tip('main')}/check-runs", params={"check_name": CHECK_NAME})
    assert [r["conclusion"] for r in runs["check_runs"]] == ["success"]
    again = command(action, payload)  # the workflow re-run: answered already
    assert again.outputs["outcome"] == "ignored"
    assert len(replies(shop)) == 1


def test_ship_needs_a_go_published_before_the_comment(shop: ReleaseRepo, action: ActionHarness) -> None:
    comments = Comments(shop)
    early = command(action, comments.post("/ship"))
    assert early.outputs["outcome"] == "refused"
    assert "has no GO from `opsgh / go-no-go`" in replies(shop)[-1]
    command(action, comments.post("/gate", login="bob"))  # GO published now
    late = command(action, {**comments.post("/ship"), "comment": {**comments.post("/ship")["comment"],
                                                                  "created_at": "2001-01-01T00:00:00Z"}})
    assert late.outputs["outcome"] == "refused"
    assert "was gated GO after your command was written" in replies(shop)[-1]
    wrong = command(action, comments.post("/ship 0000000"))
    assert wrong.outputs["outcome"] == "refused"
    assert "the head is `" in replies(shop)[-1]
    assert shop.call("GET", "/pulls/1")["merged"] is False
    shipped = command(action, comments.post(f"/ship {shop.tip('main')[:12]}"))
    assert shipped.outputs["outcome"] == "done", shipped.log
    assert shop.call("GET", "/pulls/1")["merged"] is True
    assert shipped.outputs["tag"].startswith("v")
    ship_runs = shop.call("GET", f"/commits/{shop.tip('main')}/check-runs", params={"check_name": "opsgh / ship"})
    assert [r["conclusion"] for r in ship_runs["check_runs"]] == ["success"]


@dataclass(frozen=True)
class Case:
    body: str
    login: str = "alice"
    expected: str = "refused"  # ignored: no answer at all
    words: str = ""  # in the reply
    changes: tuple[tuple[str, Any], ...] = ()


CORPUS = [
    Case("/gate $(id)", words="takes no argument"),
    Case("/gate `id`", words="takes no argument"),
    Case('/ship";echo pwned > /tmp/opsgh-pwned', words="is followed by"),
    Case("/ship $(touch /tmp/opsgh-pwned)", words="not a valid SHA"),
    Case("/rollback $(touch /tmp/opsgh-pwned)", login="bob", words="needs maintain"),
    Case("/backport main;touch /tmp/opsgh-pwned", login="bob", words="not a valid BRANCH"),
    Case("/backport --upload-pack=touch", login="bob", words="not a valid BRANCH"),
    Case("/verify ../../etc/passwd", words="not a valid ENVIRONMENT"),
    Case("::add-mask::/gate", expected="ignored"),
    Case("::stop-commands::pwn\n/gate", expected="ignored"),
    Case("/gate ::warning::smuggled", words="takes no argument"),
    Case("/ѕhip", words="plain ASCII"),
    Case("/sh\u200bip", words="plain ASCII"),
    Case("/ga\u200dte", words="plain ASCII"),
    Case("/gate\u202e", words="plain ASCII"),
    Case("/ｓhip", words="plain ASCII"),  # a full-width letter folds to s
    Case("／ship", expected="ignored"),
    Case("/gate\r\n/ship", expected="done"),  # the first line only: a gate, never a ship
    Case("/gate\r/ship", expected="done"),
    Case("/gate /ship", words="takes no argument"),
    Case("> /ship", expected="ignored"),
    Case("```\n/ship\n```", expected="ignored"),
    Case("`/ship`", expected="ignored"),
    Case("Looks good, /ship it", expected="ignored"),
    Case(" /ship", expected="ignored"),
    Case("/SHIP", words="did you mean `/ship`"),
    Case("/shipit", words="did you mean `/ship`"),
    Case("/gate", changes=(("action", "edited"),), expected="ignored"),
    Case("/gate", login="github-actions[bot]", changes=(("user_type", "Bot"),), expected="ignored"),
    Case("/gate", login="renovate", changes=(("user_type", "Bot"),), expected="ignored"),
    Case("/gate", login="carol", words="has the triage role on acme/shop; this command needs write"),
    Case("/gate", login="dave", words="has the read role"),
    Case("/ship", login="bob", words="needs maintain"),
    Case("/gate", changes=(("on_pull_request", False),), expected="ignored"),
    Case("/gate " + "A" * 400, words="longer than 300"),
    Case("/help", login="dave", expected="done"),
    Case("/help me", login="dave", words="`/help` takes no argument"),
    Case("/release now", login="bob", words="`/release` takes no argument"),
    Case("/backport main prod", login="bob", words="`main prod` is not a valid BRANCH"),
    Case("/backport ../main", login="bob", words="`../main` is not a valid BRANCH"),
    Case("/verify staging production", words="`staging production` is not a valid ENVIRONMENT"),
    Case("/ship " + "a" * 41, words="is not a valid SHA"),
    Case("/ship ggggggg", words="`ggggggg` is not a valid SHA"),
    Case("\x00/gate", expected="ignored"),
    Case("/ship\u00a0abc1234", expected="ignored"),  # a no-break space: not a command at all
]


@pytest.mark.parametrize("case", CORPUS, ids=lambda c: repr(c.body[:24]) + "@" + c.login)
def test_adversarial_comment(shop: ReleaseRepo, action: ActionHarness, case: Case) -> None:
    before = state(shop)
    payload = Comments(shop).post(case.body, case.login, **dict(case.changes))
    result = command(action, payload)
    assert result.code == ExitCode.OK, result.log
    assert result.outputs["outcome"] == case.expected, result.log
    answers = replies(shop)
    assert len(answers) == (0 if case.expected == "ignored" else 1)
    if case.words:
        assert case.words in answers[0]
    if case.expected == "refused":
        assert "Nothing was changed." in answers[0]
        assert reactions(shop, payload["comment"]["id"]) == ["eyes", "confused"]
    assert not PWNED.exists()
    after = state(shop)
    assert [p["merged_at"] for p in after["pulls"]] == [p["merged_at"] for p in before["pulls"]]
    assert after["refs"] == before["refs"]  # nothing shipped, tagged or pushed
    assert "::warning::smuggled" not in result.log.replace("%3A", ":").split("::stop-commands::")[0]
    assert command(action, payload).outputs["outcome"] in ("ignored",)  # a re-run answers nothing more


def test_a_failing_permission_api_is_a_denial(shop: ReleaseRepo, action: ActionHarness) -> None:
    # An App token without `metadata` / a GHES that refuses: GitHub's 403, every time.
    shop.sandbox.faults.error("GET", "/repos/acme/shop/collaborators/alice/permission", 403, times=None)
    result = command(action, Comments(shop).post("/gate"))
    assert result.outputs["outcome"] == "refused"
    [reply] = replies(shop)
    assert "could not be read" in reply
    assert not [c for c in shop.call("GET", "/issues/1/comments") if MARKER in c["body"]]  # no verdict published


def test_the_corpus_is_big_enough() -> None:
    assert len(CORPUS) >= 30


def test_rollback_by_a_maintainer_reverts_the_shipped_release(sandbox: Sandbox, sandbox_clock: FakeClock,
                                                              tmp_path: Path) -> None:
    repo = ReleaseRepo(sandbox, sandbox_clock, config=CONFIG, required=())
    try:
        before = shipped(repo, "tax")["prod_before"]
        action = ActionHarness(repo, tmp_path)
        payload = Comments(repo).post("/rollback checkout errors since $(date)")
        result = command(action, payload)
        assert result.outputs["outcome"] == "done", result.log
        assert repo.git("rev-parse", "prod^{tree}") == repo.git("rev-parse", f"{before}^{{tree}}")
        [reply] = replies(repo)
        assert "✅ @alice: `/rollback checkout errors since $(date)` done." in reply
        reverts = [p for p in repo.call("GET", "/pulls", params={"state": "closed", "base": "prod"})
                   if p["head"]["ref"].startswith("revert-")]
        assert len(reverts) == 1
        assert "checkout errors since $(date)" in reverts[0]["body"]  # the reason, as data
        assert command(action, payload).outputs["outcome"] == "ignored"
    finally:
        repo.close()
