"""`opsgh rollback` end to end against the sandbox, and the re-apply the next `opsgh release` makes.

The release is shipped the way a team does it (tests/ops/rollback_support.py); what a rollback changes
is read back through the REST API and git. Faults are injected with the sandbox's fault rules.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rollback_support import REASON, roll_back, rollback_state, shipped, tree
from ship_support import CONFIG, ReleaseRepo
from test_ship import Slack

from opsgh.cli import run
from opsgh.clock import FakeClock
from opsgh.errors import AmbiguousWrite, ExitCode, PreconditionFailed
from opsgh.ops.release import ReleaseResult, release
from opsgh.ops.rollback import (
    ANNOUNCEMENT_MARKER,
    NO_REASON,
    OPS_LOG_MARKER,
    POSTMORTEM_MARKER,
    NothingToRollBack,
    RevertNotMerged,
    RollbackBlocked,
)
from opsgh.sandbox import Sandbox

POSTMORTEM_TITLE = "Incident postmortem: Release 2027-01-15 rollback (#{number})"


@pytest.fixture
def shop(sandbox: Sandbox, sandbox_clock: FakeClock) -> Iterator[ReleaseRepo]:
    """prod protected without required checks: a rollback merges in one run."""
    repo = ReleaseRepo(sandbox, sandbox_clock, required=())
    yield repo
    repo.close()


@pytest.fixture
def guarded(sandbox: Sandbox, sandbox_clock: FakeClock) -> Iterator[ReleaseRepo]:
    """prod requires the `ci` status, for rollbacks too."""
    repo = ReleaseRepo(sandbox, sandbox_clock)
    yield repo
    repo.close()


def reverts(state: dict[str, Any], release: int) -> list[tuple[Any, ...]]:
    """The pull requests into prod from GitHub's revert branch of `release`."""
    return [p for p in state["all_pulls"] if p[2] == "prod" and p[1].startswith(f"revert-{release}-")]


def announcements(state: dict[str, Any], release: int, revert: int) -> list[str]:
    return [b for b in state["comments"][release] if ANNOUNCEMENT_MARKER.format(number=revert) in b]


def postmortems(state: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [i for i in state["issue_details"] if i[1].startswith("Incident postmortem")]


def next_release(shop: ReleaseRepo, **options: Any) -> ReleaseResult:
    return release(shop.gateway(), shop.full_name, shop.config, shop.clock, **options)


# ----------------------------------------------------------------------------- the rollback


def test_rollback_restores_prod_and_records_each_thing_once(shop: ReleaseRepo, sandbox_clock: FakeClock) -> None:
    shipped_release = shipped(shop)
    number, merge = shipped_release["number"], shipped_release["merge"]
    sandbox_clock.advance(25 * 60)  # the incident: the rollback starts 25 minutes after the release merged
    slack = Slack()
    result = roll_back(shop, notify=slack)

    prod = shop.tip("prod")
    # prod has the files it had before the release, through a new commit on top (no force-push).
    assert tree(shop, "prod") == tree(shop, shipped_release["prod_before"])
    assert shop.git("rev-list", "--parents", "-n", "1", prod).split()[1:] == [merge]
    assert shop.git("merge-base", "--is-ancestor", merge, prod) == ""
    message = shop.git("log", "-1", "--format=%B", prod)
    assert message.startswith(f'Revert "Release 2027-01-15" (#{result.revert_pr})')
    assert f"This reverts commit {merge}." in message
    assert REASON in message

    state = rollback_state(shop)
    [revert] = reverts(state, number)
    assert revert[0] == result.revert_pr
    assert revert[3] == "closed"
    assert revert[4] is not None
    assert (result.revert_sha, result.reverted_sha, result.release_pr) == (prod, merge, number)
    assert result.done == ("revert", "merge", "deployment", "previous deployment", "postmortem", "announcement",
                           "slack", "ops log")
    revert_body = shop.call("GET", f"/pulls/{result.revert_pr}")["body"]
    assert revert_body.startswith(f"Reverts acme/shop#{number}\n")
    assert REASON in revert_body

    # One new deployment, of the revert; the release's deployment inactive.
    new = [d for d in state["deployments"] if d[1] == prod]
    old = [d for d in state["deployments"] if d[1] == merge]
    assert len(state["deployments"]) == 2
    assert len(new) == 1
    assert new[0][2] == "production"
    assert state["deployment_states"][new[0][0]] == ["in_progress"]
    assert state["deployment_states"][old[0][0]] == ["inactive", "in_progress"]  # newest first
    assert result.deployment_id == new[0][0]
    assert result.inactive_deployments == (old[0][0],)
    payload = shop.call("GET", f"/deployments/{new[0][0]}")["payload"]["opsgh"]
    assert payload == {"rollback_of": number, "revert_pr": result.revert_pr, "reverted_sha": merge}

    # One announcement on the Release PR: the runbook's rollback announcement, complete.
    [announcement] = announcements(state, number, result.revert_pr)
    assert f"Rollback complete: Release PR #{number} reverted on `prod`" in announcement
    assert f"**Reason:** {REASON}" in announcement
    assert "**Requested by:** @alice" in announcement
    assert f"| Revert PR | #{result.revert_pr} |" in announcement
    assert f"`prod` at `{prod[:7]}`: the files of `{shipped_release['prod_before'][:7]}`" in announcement
    assert "| Time to roll back | 25 min from the release's merge |" in announcement
    assert "the next `opsgh release` re-applies the reverted changes" in announcement.replace("The next", "the next")

    # One postmortem issue from the runbook's template: labelled, assigned, timeline filled in.
    [postmortem] = postmortems(state)
    assert postmortem[1:] == (POSTMORTEM_TITLE.format(number=number), ("postmortem",), ("alice",))
    body = shop.call("GET", f"/issues/{postmortem[0]}")["body"]
    assert POSTMORTEM_MARKER.format(number=number) in body
    assert "## Timeline (America/New_York)" in body
    assert f"- **2027-01-15 03:00 EST**: Release PR #{number} (Release 2027-01-15) merged into `prod`" in body
    assert f"- **2027-01-15 03:25 EST**: rollback requested by @alice: revert PR #{result.revert_pr} opened" in body
    assert f"- **2027-01-15 03:25 EST**: rollback merged into `prod` as `{prod[:7]}` by @alice" in body
    assert "- **Duration**: 25 min" in body
    for section in ("## Root cause", "## Impact", "## What went well", "## What went poorly", "## Action items",
                    "## Lessons learned"):
        assert section in body
    assert result.postmortem_url == shop.call("GET", f"/issues/{postmortem[0]}")["html_url"]

    # One Ops Log line (ship wrote the first), one Slack message.
    log = next(n for n, title in state["issues"] if title == "Ops Log")
    lines = [b for b in state["comments"][log] if OPS_LOG_MARKER.format(sha=prod) in b]
    assert len(lines) == 1
    assert f"Rollback: Release PR #{number} (Release 2027-01-15) reverted on `prod`" in lines[0]
    assert "Slack told" in lines[0]
    assert len(slack.messages) == 1
    assert "Rollback complete: Release 2027-01-15 reverted on `prod`" in slack.messages[0]
    assert REASON in slack.messages[0]


def test_rolling_back_again_reports_it_and_creates_nothing(shop: ReleaseRepo) -> None:
    number = shipped(shop)["number"]
    slack = Slack()
    first = roll_back(shop, notify=slack)
    before = rollback_state(shop)
    again = roll_back(shop, notify=slack, reason="someone else, later, with another reason")
    assert rollback_state(shop) == before
    assert again.already
    assert again.done == ()
    assert again.revert_pr == first.revert_pr
    assert again.reason == REASON  # what the revert PR recorded
    assert again.lines()[0].startswith(f"Release PR #{number} (")
    assert "was rolled back already" in again.lines()[0]
    assert len(slack.messages) == 1
    # Naming it changes nothing either.
    assert roll_back(shop, release_pr=number).already
    assert rollback_state(shop) == before


def test_prods_protection_applies_to_the_revert_and_a_rerun_finishes(guarded: ReleaseRepo) -> None:
    shipped_release = shipped(guarded)
    number, merge = shipped_release["number"], shipped_release["merge"]
    with pytest.raises(RevertNotMerged) as blocked:
        roll_back(guarded)
    assert blocked.value.exit_code == ExitCode.PRECONDITION == 4
    assert blocked.value.message.startswith("rollback stopped at step 'merge': revert PR #")
    assert "cannot merge into prod yet: required check 'ci' has not reported on" in blocked.value.message
    assert "never bypasses it" in blocked.value.hint
    assert "done so far: revert, announcement" in blocked.value.hint
    assert guarded.tip("prod") == merge  # nothing merged
    state = rollback_state(guarded)
    [revert] = reverts(state, number)
    assert revert[3] == "open"
    [announcement] = announcements(state, number, revert[0])
    assert "Rollback in progress" in announcement
    assert "**not merged yet**: revert PR" in announcement
    assert "required check 'ci' has not reported" in announcement
    assert postmortems(state) == []
    assert [d[1] for d in state["deployments"]] == [merge]

    # CI goes green on the revert; the re-run merges it and finishes, editing the one announcement.
    guarded.report("success", sha=guarded.tip(revert[1]))
    result = roll_back(guarded)
    assert tree(guarded, "prod") == tree(guarded, shipped_release["prod_before"])
    assert result.done == ("merge", "deployment", "previous deployment", "postmortem", "announcement", "ops log")
    assert result.skipped == ("revert",)
    state = rollback_state(guarded)
    [announcement] = announcements(state, number, revert[0])
    assert "Rollback complete" in announcement
    assert len(reverts(state, number)) == 1
    assert len(postmortems(state)) == 1


def test_no_merge_leaves_the_revert_for_review_then_a_run_merges_it(shop: ReleaseRepo) -> None:
    shipped_release = shipped(shop)
    number = shipped_release["number"]
    opened = roll_back(shop, merge=False)
    assert opened.revert_sha is None
    assert opened.lines()[0].startswith(f"rollback of Release PR #{number} (")
    assert [(s.name, s.action) for s in opened.steps] == [("revert", "done"), ("merge", "off"),
                                                          ("announcement", "done")]
    assert shop.tip("prod") == shipped_release["merge"]
    state = rollback_state(shop)
    [announcement] = announcements(state, number, opened.revert_pr or 0)
    assert "**open for review** (`--no-merge`)" in announcement
    assert roll_back(shop, merge=False).done == ()  # nothing new to say

    merged = roll_back(shop, reason="")
    assert merged.reason == REASON  # recorded when the revert PR was opened
    assert tree(shop, "prod") == tree(shop, shipped_release["prod_before"])
    [announcement] = announcements(rollback_state(shop), number, opened.revert_pr or 0)
    assert "Rollback complete" in announcement


def test_a_dry_run_changes_nothing_and_says_what_it_would_do(shop: ReleaseRepo) -> None:
    shipped_release = shipped(shop)
    before = rollback_state(shop)
    plan = roll_back(shop, dry_run=True)
    assert rollback_state(shop) == before
    assert plan.dry_run
    assert plan.revert_pr is None
    assert plan.lines()[0].startswith("dry run, nothing changed: would roll back Release PR #")
    assert {s.action for s in plan.steps} == {"would", "off"}
    assert "mark production deployment 1 inactive" in "\n".join(plan.lines())

    roll_back(shop, merge=False)
    before = rollback_state(shop)
    plan = roll_back(shop, dry_run=True)
    assert rollback_state(shop) == before
    assert [(s.name, s.action) for s in plan.steps][:2] == [("revert", "skipped"), ("merge", "would")]
    assert shop.tip("prod") == shipped_release["merge"]


def test_a_revert_github_cannot_make_is_reported_with_the_manual_path(shop: ReleaseRepo) -> None:
    shipped_release = shipped(shop)
    number, merge = shipped_release["number"], shipped_release["merge"]
    # A hotfix on prod since the release changed a file the release added: the revert conflicts.
    shop.push({"app/tax.py": "# tax, hotfixed on prod\n"}, "Hotfix tax", branch="prod")
    before = rollback_state(shop)
    with pytest.raises(RollbackBlocked) as blocked:
        roll_back(shop)
    assert blocked.value.exit_code == ExitCode.PRECONDITION
    assert blocked.value.message.startswith(f"GitHub cannot revert Release PR #{number} by itself: ")
    assert "couldn't be reverted automatically" in blocked.value.message
    assert f"git revert -m 1 {merge}" in blocked.value.hint
    assert f"git switch -c revert-{number}-main origin/prod" in blocked.value.hint
    assert f"\"Reverts acme/shop#{number}\"" in blocked.value.hint
    assert "--force" not in blocked.value.hint
    assert rollback_state(shop) == before  # nothing half-written


def test_a_revert_made_by_hand_is_found_and_finished(shop: ReleaseRepo, sandbox: Sandbox) -> None:
    shipped_release = shipped(shop)
    number = shipped_release["number"]
    # The manual path: a branch with the revert, a pull request saying "Reverts ...", merged by a person.
    sandbox.create_branch("acme", "shop", "undo-release", "prod")
    shop.push({"app/tax.py": None, "app/checkout.py": None}, "Undo the release", branch="undo-release")
    manual = shop.call("POST", "/pulls", {"title": "Undo the release", "head": "undo-release", "base": "prod",
                                          "body": f"Reverts acme/shop#{number}\n\nBy hand."}, expect=201)
    shop.call("PUT", f"/pulls/{manual['number']}/merge", {"merge_method": "squash"})
    result = roll_back(shop, reason="done by hand first")
    assert result.revert_pr == manual["number"]
    assert result.skipped[:2] == ("revert", "merge")
    assert result.reason == "done by hand first"
    assert tree(shop, "prod") == tree(shop, shipped_release["prod_before"])
    assert len(postmortems(rollback_state(shop))) == 1


# ----------------------------------------------------------------------------- refusals


def test_nothing_merged_is_nothing_to_roll_back(shop: ReleaseRepo) -> None:
    with pytest.raises(NothingToRollBack) as nothing:
        roll_back(shop)
    assert nothing.value.exit_code == ExitCode.PRECONDITION
    assert nothing.value.message == "no merged Release PR main -> prod in acme/shop: nothing to roll back"
    shop.features("tax")
    pull = shop.open_release_pr()
    with pytest.raises(NothingToRollBack, match=rf"Release PR #{pull['number']} is open, not merged"):
        roll_back(shop, release_pr=pull["number"])


def test_only_the_last_release_is_rolled_back(shop: ReleaseRepo) -> None:
    older = shipped(shop, "tax")["number"]
    newer = shipped(shop, "checkout")["number"]
    before = rollback_state(shop)
    with pytest.raises(NothingToRollBack, match=rf"#{older} is not the last release: #{newer} was merged"):
        roll_back(shop, release_pr=older)
    assert rollback_state(shop) == before
    assert roll_back(shop).release_pr == newer


def test_a_pull_request_that_is_no_release_is_refused(shop: ReleaseRepo, sandbox: Sandbox) -> None:
    shipped(shop)
    sandbox.create_branch("acme", "shop", "feature", "main")
    shop.push({"f.txt": "f\n"}, "Feature", branch="feature")
    other = shop.call("POST", "/pulls", {"title": "Feature", "head": "feature", "base": "main"}, expect=201)
    with pytest.raises(NothingToRollBack, match=r"is feature -> main, not a Release PR \(main -> prod\)"):
        roll_back(shop, release_pr=other["number"])


# ----------------------------------------------------------------------------- failures, then a re-run

FAULTS = [
    # (id, method, path glob, kind, skip): the second GraphQL request is the revertPullRequest mutation
    ("revert-landed-then-502", "POST", "/graphql", "landed", 1),
    ("revert-dropped-after-landing", "POST", "/graphql", "drop-landed", 1),
    ("merge-landed-then-502", "PUT", "/repos/acme/shop/pulls/*/merge", "landed", 0),
    ("deployment-landed-then-502", "POST", "/repos/acme/shop/deployments", "landed", 0),
    ("inactive-502", "POST", "/repos/acme/shop/deployments/1/statuses", "error", 0),
    ("postmortem-landed-then-502", "POST", "/repos/acme/shop/issues", "landed", 0),
    ("announcement-landed-then-502", "POST", "/repos/acme/shop/issues/1/comments", "landed", 0),
    ("ops-log-line-503", "POST", "/repos/acme/shop/issues/2/comments", "error", 0),
]


@pytest.mark.parametrize(("method", "path", "kind", "skip"), [f[1:] for f in FAULTS], ids=[f[0] for f in FAULTS])
def test_a_failure_at_any_step_then_a_rerun_rolls_back_exactly_once(
        shop: ReleaseRepo, sandbox: Sandbox, method: str, path: str, kind: str, skip: int) -> None:
    shipped_release = shipped(shop)
    number = shipped_release["number"]
    if kind == "landed":
        sandbox.faults.landed_then(method, path, 502, times=1, skip=skip)
    elif kind == "drop-landed":
        sandbox.faults.drop(method, path, times=1, skip=skip, landed=True)
    else:
        sandbox.faults.error(method, path, 503 if "503" in kind else 502, times=2, skip=skip)
    if kind == "error":  # two failures of a write stop the run, saying where
        with pytest.raises(AmbiguousWrite) as stopped:
            roll_back(shop)
        assert stopped.value.message.startswith("rollback stopped at step ")
        assert "re-running `opsgh rollback` repeats none of it" in stopped.value.hint
    else:  # one ambiguous failure is read back and the run finishes
        roll_back(shop)
    sandbox.faults.clear()
    roll_back(shop)
    state = rollback_state(shop)
    assert tree(shop, "prod") == tree(shop, shipped_release["prod_before"])
    [revert] = reverts(state, number)
    assert len(announcements(state, number, revert[0])) == 1
    assert len(postmortems(state)) == 1
    assert sorted(d[1] for d in state["deployments"]) == sorted([shipped_release["merge"], shop.tip("prod")])
    assert state["deployment_states"][1][0] == "inactive"
    log = next(n for n, title in state["issues"] if title == "Ops Log")
    assert len([b for b in state["comments"][log] if OPS_LOG_MARKER.format(sha=shop.tip("prod")) in b]) == 1
    assert roll_back(shop).already


# ----------------------------------------------------------------------------- the next release re-applies


def test_rollback_fix_release_ship_gives_prod_mains_tree(shop: ReleaseRepo) -> None:
    shipped_release = shipped(shop)
    number = shipped_release["number"]
    rolled = roll_back(shop)
    fix = shop.push({"app/tax.py": "# tax, rounding fixed\n"}, "Fix tax rounding")
    main_files = tree(shop, "main")

    result = next_release(shop)
    # The re-apply went into main first and changed none of its files, only its history.
    assert tree(shop, "main") == main_files
    [reapplied] = result.reapplied
    assert (reapplied.release_pr, reapplied.revert_pr, reapplied.rollback_sha) == (
        number, rolled.revert_pr, rolled.revert_sha)
    reapply_pr = shop.call("GET", f"/pulls/{reapplied.pr_number}")
    assert (reapply_pr["base"]["ref"], reapply_pr["merged_at"] is not None) == ("main", True)
    assert reapply_pr["head"]["ref"] == f"opsgh/reapply-{str(rolled.revert_sha)[:12]}"
    assert shop.git("merge-base", "--is-ancestor", str(rolled.revert_sha), "main") == ""
    assert shop.git("merge-base", "--is-ancestor", fix, "main") == ""
    assert result.summary().startswith(f"re-applied Release PR #{number}, rolled back by ")
    # The Release PR says it ships the rolled-back changes again.
    assert result.action == "created"
    body = str(result.body)
    assert "### ↩️ Re-applied after a rollback" in body
    assert (f"Release PR #{number} was rolled back on `prod` by `{str(rolled.revert_sha)[:7]}` "
            f"(#{rolled.revert_pr}). This release ships those changes again") in body
    assert "Fix tax rounding" in body

    shop.report("success")
    shipped_again = shop.ship()
    assert shipped_again.pr_number == result.number
    # The invariant: prod's tree is main's tree at the shipped head, fix and re-applied changes included.
    assert tree(shop, "prod") == tree(shop, "main")
    assert shop.git("show", "prod:app/tax.py") == "# tax, rounding fixed"
    assert shop.git("show", "prod:app/checkout.py") == "# checkout"
    # Nothing pending any more: the release after this one has nothing to re-apply.
    assert next_release(shop).action == "nothing-to-release"


@pytest.mark.parametrize("method", ["merge", "rebase"])
def test_every_merge_method_of_the_revert_comes_back(sandbox: Sandbox, sandbox_clock: FakeClock, method: str) -> None:
    repo = ReleaseRepo(sandbox, sandbox_clock, required=(), config=CONFIG + f"rollback: {{merge_method: {method}}}\n")
    try:
        shipped_release = shipped(repo)
        rolled = roll_back(repo)
        assert tree(repo, "prod") == tree(repo, shipped_release["prod_before"])
        parents = repo.git("rev-list", "--parents", "-n", "1", str(rolled.revert_sha)).split()[1:]
        assert len(parents) == (2 if method == "merge" else 1)
        repo.push({"app/fix.py": "# fix\n"}, "Fix")
        result = next_release(repo)
        assert [r.release_pr for r in result.reapplied] == [shipped_release["number"]]
        repo.report("success")
        repo.ship()
        assert tree(repo, "prod") == tree(repo, "main")
        assert repo.git("show", "prod:app/checkout.py") == "# checkout"
    finally:
        repo.close()


def test_a_release_pr_open_during_the_rollback_is_updated_to_carry_the_re_apply(shop: ReleaseRepo) -> None:
    number = shipped(shop)["number"]
    shop.push({"app/search.py": "# search\n"}, "Add search")
    opened = next_release(shop)
    assert opened.action == "created"
    rolled = roll_back(shop)
    updated = next_release(shop)
    assert (updated.action, updated.number) == ("updated", opened.number)
    assert [r.release_pr for r in updated.reapplied] == [number]
    assert f"Release PR #{number} was rolled back on `prod` by `{str(rolled.revert_sha)[:7]}`" in str(updated.body)
    shop.report("success")
    shop.ship()
    assert tree(shop, "prod") == tree(shop, "main")
    assert shop.git("show", "prod:app/search.py") == "# search"
    assert shop.git("show", "prod:app/tax.py") == "# tax"


def test_two_rollbacks_in_a_row_each_come_back(shop: ReleaseRepo) -> None:
    shipped(shop)
    roll_back(shop)
    shop.push({"app/tax.py": "# tax v2\n"}, "Fix tax")
    next_release(shop)
    shop.report("success")
    shop.ship()
    second = roll_back(shop, reason="still broken")
    assert second.release_pr != 1
    assert "app/tax.py" not in shop.git("ls-tree", "-r", "--name-only", "prod")
    shop.push({"app/tax.py": "# tax v3\n"}, "Fix tax again")
    result = next_release(shop)
    assert [r.release_pr for r in result.reapplied] == [second.release_pr]
    shop.report("success")
    shop.ship()
    assert tree(shop, "prod") == tree(shop, "main")
    assert shop.git("show", "prod:app/tax.py") == "# tax v3"


def test_after_a_rollback_without_a_fix_there_is_nothing_to_release(shop: ReleaseRepo) -> None:
    shipped(shop)
    roll_back(shop)
    before = rollback_state(shop)
    assert next_release(shop).action == "nothing-to-release"
    assert rollback_state(shop) == before


def test_a_dry_run_release_says_it_would_re_apply_and_changes_nothing(shop: ReleaseRepo) -> None:
    number = shipped(shop)["number"]
    rolled = roll_back(shop)
    shop.push({"app/fix.py": "# fix\n"}, "Fix")
    before = rollback_state(shop)
    plan = next_release(shop, dry_run=True)
    assert rollback_state(shop) == before
    assert plan.summary().startswith(f"would re-apply Release PR #{number}, rolled back by "
                                     f"{str(rolled.revert_sha)[:7]} (#{rolled.revert_pr})")
    assert "`opsgh release` first merges the revert of that revert into `main`" in str(plan.body)


def test_mains_protection_applies_to_the_re_apply(shop: ReleaseRepo, sandbox: Sandbox) -> None:
    shipped(shop)
    roll_back(shop)
    sandbox.protect("acme", "shop", "main", required_status_checks={"strict": False, "contexts": ["ci"]})
    shop.push({"app/fix.py": "# fix\n"}, "Fix")
    main = shop.tip("main")
    with pytest.raises(PreconditionFailed) as waiting:
        next_release(shop)
    assert waiting.value.exit_code == ExitCode.PRECONDITION
    assert waiting.value.message.startswith("re-apply PR #")
    assert "into main cannot merge yet: required check 'ci' has not reported on" in waiting.value.message
    assert "without changing its files" in waiting.value.hint
    assert shop.tip("main") == main
    state = rollback_state(shop)
    [reapply] = [p for p in state["all_pulls"] if p[1].startswith("opsgh/reapply-")]
    assert (reapply[2], reapply[3]) == ("main", "open")
    assert not [p for p in state["all_pulls"] if p[1] == "main" and p[3] == "open"]  # no Release PR yet

    with pytest.raises(PreconditionFailed):  # a re-run finds the same pull request, still waiting
        next_release(shop)
    assert len([p for p in rollback_state(shop)["all_pulls"] if p[1].startswith("opsgh/reapply-")]) == 1
    shop.report("success", sha=shop.tip(reapply[1]))
    result = next_release(shop)
    assert result.reapplied[0].pr_number == reapply[0]
    shop.report("success")
    shop.ship()
    assert tree(shop, "prod") == tree(shop, "main")


# ----------------------------------------------------------------------------- the command line


def test_the_cli_rolls_back_prints_each_step_and_exits_4_when_blocked(
        guarded: ReleaseRepo, sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    number = shipped(guarded)["number"]
    config = tmp_path / "opsgh.yml"
    config.write_text(CONFIG)
    environ = {"GITHUB_TOKEN": guarded.tokens["alice"], "GITHUB_API_URL": sandbox.url,
               "GITHUB_GRAPHQL_URL": sandbox.graphql_url, "GITHUB_ACTOR": "bob"}
    argv = ["--repo", "acme/shop", "--config", str(config), "rollback"]

    assert run([*argv, "--dry-run"], environ=environ) == 0
    assert "dry run, nothing changed: would roll back Release PR #" in capsys.readouterr().out

    assert run([*argv, "--reason", "5xx on checkout"], environ=environ) == 4
    err = capsys.readouterr().err
    assert "error: rollback stopped at step 'merge': revert PR #" in err
    assert "hint: prod's protection applies to a rollback" in err
    assert "Traceback" not in err

    revert = reverts(rollback_state(guarded), number)[0]
    guarded.report("success", sha=guarded.tip(revert[1]))
    assert run([*argv, "--json"], environ=environ) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["release_pr"], data["revert_pr"], data["merged"], data["already"]) == (number, revert[0], True, False)
    assert data["reason"] == "5xx on checkout"
    assert data["requested_by"] == "bob"  # GITHUB_ACTOR, kept in the revert PR
    assert data["revert_sha"] == guarded.tip("prod")
    [postmortem] = postmortems(rollback_state(guarded))
    assert postmortem[3] == ("bob",)

    assert run(argv, environ=environ) == 0
    assert "was rolled back already" in capsys.readouterr().out


def test_no_reason_is_said_as_such(shop: ReleaseRepo) -> None:
    shipped(shop)
    assert roll_back(shop, reason="  ").reason == NO_REASON
