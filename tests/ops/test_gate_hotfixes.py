"""Hotfixes on prod that main lacks: flagged by `opsgh release` and by the gate until back-ported."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hotfix_support import HotfixRepo

from opsgh.clock import FakeClock
from opsgh.config import load_config
from opsgh.gate.verdict import Outcome, VerdictState
from opsgh.ops.gate import gate
from opsgh.ops.release import Fingerprint, release
from opsgh.sandbox import Sandbox

CONFIG = """\
branches: {staging: main, production: prod}
gate: {approvals: {min: 0}, checklist: "off"}
"""
FIXED = "def charge(amount):\n    return gateway.charge(amount, timeout=5)\n"


@pytest.fixture
def shop(sandbox: Sandbox, sandbox_clock: FakeClock) -> Iterator[HotfixRepo]:
    repo = HotfixRepo(sandbox, sandbox_clock, config=CONFIG)
    # The last release: main merged into prod with a merge commit, as `opsgh ship` does.
    released = repo.call("POST", "/pulls", {"title": "Release 2027-01-14", "head": "main", "base": "prod"},
                         expect=201)
    repo.call("PUT", f"/pulls/{released['number']}/merge", {"merge_method": "merge"})
    repo.push("main", {"app/orders.py": "ORDERS = []\n"}, "Add orders")
    yield repo
    repo.close()


def test_a_hotfix_is_flagged_until_it_is_backported(shop: HotfixRepo) -> None:
    hotfix = shop.hotfix("payment-timeout", [{"app/pay.py": FIXED}], "fix: payment timeout", method="merge")
    made = release(shop.gateway(), shop.full_name, shop.config, shop.clock)
    assert made.hotfixes == 1
    assert "hotfix" in made.risk_flags
    marker = Fingerprint.parse(made.body)
    assert marker is not None
    assert marker.hotfixes == 1

    # Advisory by default: reported, read from the current marker (no comparison), the verdict unchanged.
    gateway = shop.gateway()
    verdict = gate(gateway, shop.full_name, shop.config, shop.clock, made.number)
    result = {r.key: r for r in verdict.results}["hotfixes"]
    assert (result.outcome, result.blocking) == (Outcome.FAIL, False)
    assert result.summary.startswith("1 commit on prod that main lacks (from the Release PR body, current)")
    assert verdict.state is VerdictState.GO
    assert any(w.startswith("Hotfixes back-ported: 1 commit") for w in verdict.warnings)
    assert gateway.ledger.count("GET", "/repos/{owner}/{repo}/compare/{basehead}") == 0

    # Required: NO-GO, and the commit is named.
    strict = load_config(CONFIG.replace('checklist: "off"', 'checklist: "off", hotfixes: required'))
    verdict = gate(shop.gateway(), shop.full_name, strict, shop.clock, made.number)
    assert verdict.state is VerdictState.NO_GO
    assert verdict.reasons == ("Hotfixes back-ported: 1 commit on prod that main lacks (from the Release PR body, "
                               "current): back-port with `opsgh backport <PR>`",)

    # Back-ported (`cherry-pick -x -m 1` of the merge) and merged into main: the release and the gate agree.
    result_backport = shop.backport(hotfix["number"])
    number = result_backport.targets[0].pr_number
    shop.call("PUT", f"/pulls/{number}/merge", {"merge_method": "merge"})
    refreshed = release(shop.gateway(), shop.full_name, shop.config, shop.clock)
    assert refreshed.hotfixes == 0
    assert "hotfix" not in refreshed.risk_flags
    verdict = gate(shop.gateway(), shop.full_name, strict, shop.clock, made.number)
    assert verdict.state is VerdictState.GO, verdict.reasons
    assert {r.key: r for r in verdict.results}["hotfixes"].outcome is Outcome.PASS


def test_a_stale_release_body_is_checked_against_github(shop: HotfixRepo) -> None:
    made = release(shop.gateway(), shop.full_name, shop.config, shop.clock)
    assert made.hotfixes == 0
    # A hotfix lands on prod after the Release PR body was written: its marker no longer describes prod.
    shop.hotfix("payment-timeout", [{"app/pay.py": FIXED}, {"app/pay_test.py": "def test(): ...\n"}],
                "fix: payment timeout", method="rebase")
    gateway = shop.gateway()
    verdict = gate(gateway, shop.full_name, shop.config, shop.clock, made.number)
    result = {r.key: r for r in verdict.results}["hotfixes"]
    assert result.outcome is Outcome.FAIL
    assert result.summary.startswith("2 commits on prod that main lacks: back-port")
    assert [d.split(" ", 1)[1] for d in result.details] == ["fix: payment timeout, part 1",
                                                             "fix: payment timeout, part 2"]
    assert gateway.ledger.count("GET", "/repos/{owner}/{repo}/compare/{basehead}") == 2


def test_off_reads_nothing(shop: HotfixRepo) -> None:
    made = release(shop.gateway(), shop.full_name, shop.config, shop.clock)
    off = load_config(CONFIG.replace('checklist: "off"', 'checklist: "off", hotfixes: "off"'))
    gateway = shop.gateway()
    verdict = gate(gateway, shop.full_name, off, shop.clock, made.number)
    assert {r.key: r for r in verdict.results}["hotfixes"].outcome is Outcome.SKIP
    assert gateway.ledger.count("GET", "/repos/{owner}/{repo}/compare/{basehead}") == 0


def test_a_hand_written_release_body_is_compared_only_when_required(shop: HotfixRepo) -> None:
    shop.hotfix("payment-timeout", [{"app/pay.py": FIXED}], "fix: payment timeout", method="squash")
    number = shop.call("POST", "/pulls", {"title": "Release", "head": "main", "base": "prod", "body": "By hand."},
                       expect=201)["number"]
    gateway = shop.gateway()
    verdict = gate(gateway, shop.full_name, shop.config, shop.clock, number)
    result = {r.key: r for r in verdict.results}["hotfixes"]
    assert result.outcome is Outcome.SKIP
    assert "no opsgh marker" in result.summary
    assert gateway.ledger.count("GET", "/repos/{owner}/{repo}/compare/{basehead}") == 0
    strict = load_config(CONFIG.replace('checklist: "off"', 'checklist: "off", hotfixes: required'))
    verdict = gate(shop.gateway(), shop.full_name, strict, shop.clock, number)
    assert verdict.state is VerdictState.NO_GO
    assert verdict.reasons[0].startswith("Hotfixes back-ported: 1 commit on prod that main lacks: back-port")
