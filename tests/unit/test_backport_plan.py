"""The pure parts of `opsgh backport`: the commands it hands a person, its output, its exit."""

from __future__ import annotations

import pytest

from opsgh.errors import BackportConflict, ExitCode
from opsgh.ops.backport import BackportResult, Landed, Pick, TargetResult, manual_steps


def test_manual_steps_for_a_merge_commit_in_both_modes() -> None:
    landed = Landed("m" * 40, "merge", (Pick("m" * 40, "Merge pull request #7", mainline=1),), 0)
    draft = manual_steps(landed, landed.picks, "main", "backport/7-to-main", ["a.py", "b b.py"], mode="draft-pr",
                         number=7, pull_ref="#9")
    assert draft[:6] == ("git fetch origin main backport/7-to-main",
                         "git switch --force-create backport/7-to-main origin/main",
                         f"git cherry-pick -x -m 1 {'m' * 40}",
                         "# resolve the conflicts in a.py, b b.py, then:",
                         "git add -- a.py b b.py",
                         "git cherry-pick --continue")
    assert draft[-2:] == ("git push --force-with-lease origin backport/7-to-main",
                          "# then mark #9 ready for review and remove its `backport-conflict` label")
    comment = manual_steps(landed, landed.picks, "main", "backport/7-to-main", [], mode="comment", number=7)
    assert comment[0] == "git fetch origin main"
    assert comment[3:5] == ("# resolve the conflicts (`git status` lists them), then:", "git add --all")
    assert comment[-1] == "opsgh backport 7 --to main  # opens the back-port PR from the pushed branch"


def test_manual_steps_for_a_rebase_keep_empty_commits_and_say_to_repeat() -> None:
    picks = (Pick("a" * 40, "Start hotfix x", empty=True), Pick("b" * 40, "fix"))
    landed = Landed("b" * 40, "rebase", picks, 0)
    steps = manual_steps(landed, picks, "main", "backport/7-to-main", ["a.py"], mode="comment", number=7)
    assert steps[2] == f"git cherry-pick -x --allow-empty {'a' * 40} {'b' * 40}"
    assert any("again" in step for step in steps)


def test_a_conflict_outranks_a_failure_and_carries_every_targets_commands() -> None:
    conflict = TargetResult("main", "conflict", "conflicts in a.py", pr_number=9, conflicts=("a.py",),
                            manual_steps=("git fetch origin main", "git cherry-pick --continue"))
    failed = TargetResult("release/1", "failed", "no branch")
    result = BackportResult("acme/shop", 7, "https://x/7", "fix: x", None, (conflict, failed))
    with pytest.raises(BackportConflict) as raised:
        result.raise_for_outcome()
    assert raised.value.exit_code is ExitCode.BACKPORT_CONFLICT
    assert raised.value.message == "the back-port of #7 to main conflicts in a.py"
    assert raised.value.manual_steps == ("# main (#9):", "git fetch origin main", "git cherry-pick --continue")
    lines = result.lines()
    assert lines[0] == "#7 fix: x (https://x/7)"
    assert lines[1].split() == ["main", "conflict", "conflicts", "in", "a.py"]
    assert lines[2].strip() == "git fetch origin main"
    BackportResult("acme/shop", 7, "u", "t", None, (TargetResult("main", "already", "x"),)).raise_for_outcome()
