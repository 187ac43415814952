"""The hotfixes criterion (opsgh/gate/hotfixes.py) on given reads: skip, pass, fail, advisory."""

from __future__ import annotations

from release_fixtures import commit

from opsgh.gate.hotfixes import MAX_DETAILS, HotfixesRead, evaluate_hotfixes
from opsgh.gate.verdict import Outcome


def test_off_and_not_a_release_pr_skip() -> None:
    assert evaluate_hotfixes("off", None).outcome is Outcome.SKIP
    skipped = evaluate_hotfixes("advisory", HotfixesRead(skipped="#4 is not a Release PR (main -> prod)"))
    assert (skipped.outcome, skipped.summary) == (Outcome.SKIP, "#4 is not a Release PR (main -> prod)")


def test_nothing_missing_passes() -> None:
    result = evaluate_hotfixes("required", HotfixesRead(0, source="compare"), production="live", staging="dev")
    assert (result.outcome, result.summary, result.blocking) == (Outcome.PASS, "dev has every hotfix on live", True)


def test_missing_commits_fail_with_their_names_and_advisory_does_not_block() -> None:
    commits = tuple(commit(f"c{i}", ("a0",), f"fix: number {i}") for i in range(MAX_DETAILS + 3))
    result = evaluate_hotfixes("advisory", HotfixesRead(len(commits), commits, "compare"), advisory=True)
    assert result.outcome is Outcome.FAIL
    assert result.blocking is False
    assert result.summary == f"{len(commits)} commits on prod that main lacks: back-port with `opsgh backport <PR>`"
    assert result.details[0].endswith(" fix: number 0")
    assert result.details[-1] == "… and 3 more"
    from_marker = evaluate_hotfixes("required", HotfixesRead(1, source="marker"))
    assert from_marker.summary.startswith("1 commit on prod that main lacks (from the Release PR body, current)")
    assert from_marker.details == ()


def test_each_module_of_the_chain_imports_first_in_a_fresh_interpreter() -> None:
    """release -> reapply -> gate -> hotfixes -> release: whichever comes first must import."""
    import subprocess
    import sys

    for module in ("opsgh.ops.release", "opsgh.ops.gate", "opsgh.gate.hotfixes", "opsgh.ops.backport",
                   "opsgh.ops.ship"):
        done = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True)
        assert done.returncode == 0, f"import {module}: {done.stderr}"
