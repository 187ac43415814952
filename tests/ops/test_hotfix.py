"""`opsgh hotfix start` end to end against the sandbox, then the whole runbook path: the fix merged
into prod and back-ported to main."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from hotfix_support import HotfixRepo

from opsgh.cli import run
from opsgh.clock import FakeClock
from opsgh.errors import ExitCode, PreconditionFailed
from opsgh.ops.hotfix import HotfixStartRequest, HotfixStartResult, start_hotfix
from opsgh.sandbox import Sandbox

FIXED = "def charge(amount):\n    return gateway.charge(amount, timeout=5)\n"


@pytest.fixture
def shop(sandbox: Sandbox, sandbox_clock: FakeClock) -> Iterator[HotfixRepo]:
    repo = HotfixRepo(sandbox, sandbox_clock)
    yield repo
    repo.close()


def start(shop: HotfixRepo, name: str, issue: int | None = None, *, dry_run: bool = False,
          login: str = "alice") -> HotfixStartResult:
    return start_hotfix(shop.gateway(login), shop.config, HotfixStartRequest(shop.full_name, name, issue, dry_run))


def test_start_branches_from_prod_and_opens_a_draft_pr_with_the_template(shop: HotfixRepo) -> None:
    issue = shop.call("POST", "/issues", {"title": "Payments time out at checkout", "body": "Since 10:02."},
                      expect=201)
    prod = shop.tip("prod")
    code = run(["hotfix", "start", "payment-timeout", "--from-issue", str(issue["number"])], environ=shop.env())
    assert code == ExitCode.OK

    branch = shop.tip("hotfix/payment-timeout")
    assert branch is not None
    # one empty commit on prod's tip: same tree, prod as parent
    assert shop.git("rev-parse", f"{branch}^") == prod
    assert shop.git("rev-parse", f"{branch}^{{tree}}") == shop.git("rev-parse", f"{prod}^{{tree}}")
    assert shop.git("log", "-1", "--format=%s", branch) == "Start hotfix payment-timeout"
    [pull] = shop.pulls(head="acme:hotfix/payment-timeout")
    assert (pull["base"]["ref"], pull["draft"], pull["state"]) == ("prod", True, "open")
    assert pull["title"] == "Hotfix: Payments time out at checkout"
    assert f"Fixes #{issue['number']} (Payments time out at checkout)." in pull["body"]
    assert f"Branched from `prod` at `{prod[:7]}`" in pull["body"]
    assert "- [ ] Back-ported to `main` once merged" in pull["body"]


def test_start_again_reports_the_open_pr_and_writes_nothing(shop: HotfixRepo) -> None:
    first = start(shop, "payment-timeout")
    before = shop.snapshot()
    shop.sandbox.log.clear()
    again = start(shop, "payment-timeout")
    assert shop.snapshot() == before
    assert [e for e in shop.sandbox.log.entries if e.method not in ("GET", "HEAD")] == []
    assert again.pr_number == first.pr_number
    assert again.steps == (("pull request", "skipped", f"#{first.pr_number} is open: {first.pr_url}"),)


def test_start_on_an_existing_branch_at_prod_adds_the_start_commit(shop: HotfixRepo) -> None:
    shop.sandbox.create_branch("acme", "shop", "hotfix/login", "prod")
    result = start(shop, "hotfix/login")  # the prefix may be given, it is not doubled
    assert result.branch == "hotfix/login"
    assert shop.git("rev-parse", "refs/heads/hotfix/login^") == shop.tip("prod")
    assert len(shop.pulls(head="acme:hotfix/login")) == 1


def test_start_dry_run_and_bad_names(shop: HotfixRepo) -> None:
    shop.sandbox.log.clear()
    result = start(shop, "payment-timeout", dry_run=True)
    assert [e for e in shop.sandbox.log.entries if e.method not in ("GET", "HEAD")] == []
    assert [action for _, action, _ in result.steps] == ["would", "would"]
    assert shop.tip("hotfix/payment-timeout") is None
    for bad in ("has space", "../up", "x.lock", "-dash"):
        assert run(["hotfix", "start", bad], environ=shop.env()) == ExitCode.USAGE


def test_a_merged_hotfix_name_is_not_reused(shop: HotfixRepo) -> None:
    shop.hotfix("payment-timeout", [{"app/pay.py": FIXED}], "fix: payment timeout")
    with pytest.raises(PreconditionFailed, match="was merged already"):
        start(shop, "payment-timeout")


@pytest.mark.parametrize("method", ["merge", "squash", "rebase"])
def test_the_runbook_path_start_fix_merge_into_prod_backport_to_main(shop: HotfixRepo, method: str) -> None:
    """Hotfix: branch from prod, PR back to prod, then PR the same change to main."""
    started = start(shop, "payment-timeout", login="dave")
    shop.push("hotfix/payment-timeout", {"app/pay.py": FIXED}, "fix: shorter payment timeout", author="dave")
    shop.ready(started.pr_number)
    hotfix = shop.hotfix("payment-timeout", [], "fix: payment timeout", method=method)
    assert hotfix["number"] == started.pr_number
    assert shop.git("show", "refs/heads/prod:app/pay.py") == FIXED.strip()

    result = shop.backport(hotfix["number"])

    [target] = result.targets
    assert target.status == "opened"
    branch = f"backport/{hotfix['number']}-to-main"
    assert shop.git("show", f"refs/heads/{branch}:app/pay.py") == FIXED.strip()
    assert shop.git("diff", "--stat", "refs/heads/main", f"refs/heads/{branch}").splitlines()[0].strip() \
        .startswith("app/pay.py")
    trailers = re.findall(r"\(cherry picked from commit ([0-9a-f]{40})\)",
                          shop.git("log", "--format=%B", f"refs/heads/main..refs/heads/{branch}"))
    assert trailers  # every back-ported commit names what it came from
    assert all(shop.git("merge-base", "--is-ancestor", sha, "refs/heads/prod") == "" for sha in trailers)
