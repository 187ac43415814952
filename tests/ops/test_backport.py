"""`opsgh backport` end to end against the sandbox, with real git: the PR that exists afterwards, the
commits on its branch, their `(cherry picked from commit ...)` trailers, labels, reviewers, exit codes."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from hotfix_support import CONFIG, PAY, HotfixRepo, run_git

from opsgh.cli import run
from opsgh.clock import FakeClock
from opsgh.config import load_config
from opsgh.errors import BackportConflict, ExitCode, PreconditionFailed
from opsgh.git import GitCheckout
from opsgh.ops.backport import BODY_MARKER, COMMENT_MARKER, CONFLICT_LABEL
from opsgh.sandbox import Sandbox

FIXED = "def charge(amount):\n    return gateway.charge(amount, timeout=5)\n"
COMMENT_CONFIG = CONFIG.replace("on_conflict: draft-pr", "on_conflict: comment")


@pytest.fixture
def shop(sandbox: Sandbox, sandbox_clock: FakeClock) -> Iterator[HotfixRepo]:
    repo = HotfixRepo(sandbox, sandbox_clock)
    yield repo
    repo.close()


def diff(shop: HotfixRepo, base: str, head: str) -> str:
    return shop.git("diff", base, head)


def branch_commits(shop: HotfixRepo, branch: str, base: str = "main") -> list[str]:
    """The back-port branch's own commits (oldest first), as `sha message`."""
    return shop.git("log", "--reverse", "--format=%H", f"refs/heads/{base}..refs/heads/{branch}").split()


def message(shop: HotfixRepo, sha: str) -> str:
    return shop.git("log", "-1", "--format=%B", sha)


def assert_backported(shop: HotfixRepo, number: int, landed_diff: str, trailers: Sequence[str]) -> dict[str, Any]:
    """One open back-port PR main <- backport/N-to-main: exactly the landed diff, one trailer per pick."""
    branch = f"backport/{number}-to-main"
    found = shop.pulls(head=f"acme:{branch}", base="main")
    assert len(found) == 1
    pull = found[0]
    assert pull["state"] == "open"
    assert pull["draft"] is False
    assert pull["head"]["sha"] == shop.tip(branch)
    assert "+    return gateway.charge(amount, timeout=5)" in landed_diff
    assert diff(shop, "refs/heads/main", f"refs/heads/{branch}") == landed_diff
    commits = branch_commits(shop, branch)
    assert [re.findall(r"\(cherry picked from commit ([0-9a-f]{40})\)", message(shop, c)) for c in commits] == \
        [[sha] for sha in trailers]
    assert shop.git("rev-parse", f"{commits[0]}^") == shop.tip("main")  # on the target's tip
    return pull


# ----------------------------------------------------------------------------- clean back-ports


def test_a_merge_committed_hotfix_is_picked_whole_with_mainline_1(shop: HotfixRepo) -> None:
    hotfix = shop.hotfix("payment-timeout", [{"app/pay.py": FIXED}, {"app/pay_test.py": "def test(): ...\n"}],
                         "fix: payment timeout", method="merge")
    merge = hotfix["merge_sha"]
    result = shop.backport(hotfix["number"])

    pull = assert_backported(shop, hotfix["number"], diff(shop, f"{merge}^1", merge), [merge])
    assert result.landed is not None
    assert (result.landed.method, [p.sha for p in result.landed.picks]) == ("merge", [merge])
    [target] = result.targets
    assert (target.status, target.pr_number, target.pr_url) == ("opened", pull["number"], pull["html_url"])
    assert pull["title"] == "[Backport main] fix: payment timeout"
    assert BODY_MARKER.format(number=hotfix["number"], target="main") in pull["body"]
    assert f"Back-port of #{hotfix['number']} to `main`" in pull["body"]
    assert [label["name"] for label in pull["labels"]] == ["backport"]
    # bob approved the original; alice opened the back-port (GitHub refuses her as her own reviewer)
    assert [user["login"] for user in pull["requested_reviewers"]] == ["bob"]
    assert target.reviewers == ("bob",)
    assert shop.git("show", f"refs/heads/main:app/pay.py") == PAY.strip()  # main itself is untouched


def test_a_squashed_hotfix_is_its_one_commit(shop: HotfixRepo) -> None:
    hotfix = shop.hotfix("payment-timeout", [{"app/pay.py": FIXED}, {"app/pay_test.py": "def test(): ...\n"}],
                         "fix: payment timeout", method="squash")
    squash = hotfix["merge_sha"]
    result = shop.backport(hotfix["number"])

    assert_backported(shop, hotfix["number"], diff(shop, f"{squash}^", squash), [squash])
    assert result.landed is not None
    assert result.landed.method == "squash"


def test_a_rebased_hotfix_is_each_replayed_commit_in_order(shop: HotfixRepo) -> None:
    hotfix = shop.hotfix("payment-timeout", [{"app/pay.py": FIXED}, {"app/pay_test.py": "def test(): ...\n"},
                                             {"app/pay.py": FIXED + "# retried by the queue\n"}],
                         "fix: payment timeout", method="rebase")
    tip = hotfix["merge_sha"]
    replayed = shop.git("rev-list", "--reverse", "--max-count=3", tip).split()
    result = shop.backport(hotfix["number"])

    assert_backported(shop, hotfix["number"], diff(shop, f"{tip}~3", tip), replayed)
    assert result.landed is not None
    assert result.landed.method == "rebase"
    # the back-port keeps the authors and messages of the replayed commits
    commits = branch_commits(shop, f"backport/{hotfix['number']}-to-main")
    assert [shop.git("log", "-1", "--format=%an|%s", c) for c in commits] == \
        [shop.git("log", "-1", "--format=%an|%s", c) for c in replayed]
