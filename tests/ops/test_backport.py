"""`opsgh backport` end to end against the sandbox, with real git: the PR that exists afterwards, the
commits on its branch, their `(cherry picked from commit ...)` trailers, labels, reviewers, exit codes."""

from __future__ import annotations

import re
import shlex
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from hotfix_support import CONFIG, PAY, HotfixRepo, run_git

from opsgh.cli import run
from opsgh.clock import FakeClock
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


def writes(shop: HotfixRepo) -> list[str]:
    """What changed GitHub since the log was cleared: REST writes and git pushes (fetches are reads)."""
    return [f"{e.method} {e.path}" for e in shop.sandbox.log.entries
            if (("receive-pack" in e.path) if e.kind == "git" else e.method not in ("GET", "HEAD"))]


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
    assert shop.git("show", "refs/heads/main:app/pay.py") == PAY.strip()  # main itself is untouched


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


# ----------------------------------------------------------------------------- nothing twice


def test_a_rerun_creates_nothing_new_and_reports_the_pr(shop: HotfixRepo) -> None:
    hotfix = shop.hotfix("payment-timeout", [{"app/pay.py": FIXED}], "fix: payment timeout")
    first = shop.backport(hotfix["number"])
    before = shop.snapshot()
    shop.sandbox.log.clear()

    again = shop.backport(hotfix["number"])

    assert shop.snapshot() == before
    assert writes(shop) == []  # no REST write, nothing pushed
    [target] = again.targets
    assert (target.status, target.pr_number) == ("exists", first.targets[0].pr_number)
    assert "exists (open)" in target.detail


def test_already_on_main_as_a_cherry_pick_opens_nothing(shop: HotfixRepo) -> None:
    hotfix = shop.hotfix("payment-timeout", [{"app/pay.py": FIXED}], "fix: payment timeout", method="squash")
    # Someone back-ported it by hand with `git cherry-pick -x` (and changed nothing else).
    by_hand = shop.push("main", {"app/pay.py": FIXED},
                        f"fix: payment timeout\n\n(cherry picked from commit {hotfix['merge_sha']})")
    before = shop.snapshot()

    result = shop.backport(hotfix["number"])

    [target] = result.targets
    assert target.status == "already"
    assert by_hand[:7] in target.detail
    assert "a cherry-pick" in target.detail
    assert shop.snapshot() == before
    assert shop.tip(f"backport/{hotfix['number']}-to-main") is None


def test_already_on_main_as_the_same_patch_is_found_like_git_cherry(shop: HotfixRepo) -> None:
    hotfix = shop.hotfix("payment-timeout", [{"app/pay.py": FIXED}], "fix: payment timeout", method="squash")
    same = shop.push("main", {"app/pay.py": FIXED}, "Shorter payment timeout (applied by hand)", author="dave")
    before = shop.snapshot()

    result = shop.backport(hotfix["number"])

    [target] = result.targets
    assert target.status == "already"
    assert f"the same patch: {same[:7]}" in target.detail
    assert shop.snapshot() == before


def test_a_pr_merged_into_the_target_itself_is_already_there(shop: HotfixRepo) -> None:
    feature = shop.hotfix("docs", [{"docs/a.md": "a\n"}], "docs: a", base="main", method="squash")
    before = shop.snapshot()
    result = shop.backport(feature["number"], "main")
    assert [(t.target, t.status) for t in result.targets] == [("main", "already")]
    assert shop.snapshot() == before


def test_an_unmerged_pr_is_refused_and_nothing_is_written(shop: HotfixRepo) -> None:
    shop.sandbox.create_branch("acme", "shop", "hotfix/wip", "prod")
    shop.push("hotfix/wip", {"app/pay.py": FIXED}, "wip")
    pull = shop.open_pull("hotfix/wip", "fix: wip")
    shop.sandbox.log.clear()
    code = run(["backport", str(pull["number"])], environ=shop.env())
    assert code == ExitCode.PRECONDITION
    assert writes(shop) == []
    with pytest.raises(PreconditionFailed, match="only a merged pull request can be back-ported"):
        shop.backport(pull["number"])


def test_a_dry_run_picks_locally_and_writes_nothing(shop: HotfixRepo) -> None:
    hotfix = shop.hotfix("payment-timeout", [{"app/pay.py": FIXED}], "fix: payment timeout")
    before = shop.snapshot()
    shop.sandbox.log.clear()
    result = shop.backport(hotfix["number"], dry_run=True)
    [target] = result.targets
    assert (target.status, target.would) == ("opened", True)
    assert "would open a PR backport/" in target.detail
    assert result.lines()[0].startswith("dry run, nothing changed: ")
    assert shop.snapshot() == before
    assert writes(shop) == []


# ----------------------------------------------------------------------------- conflicts

MAIN_PAY = "def charge(amount):\n    return gateway.charge(amount, timeout=30, retries=2)\n"
RESOLVED = "def charge(amount):\n    return gateway.charge(amount, timeout=5, retries=2)\n"


def conflicting_hotfix(shop: HotfixRepo) -> dict[str, Any]:
    """main changed the line the hotfix changes on prod."""
    shop.push("main", {"app/pay.py": MAIN_PAY}, "Retry payments twice")
    return shop.hotfix("payment-timeout", [{"app/pay.py": FIXED}], "fix: payment timeout", method="squash")


def commands_in(text: str, quoted: bool) -> list[str]:
    """The shell block of a PR body (quoted, `> ` lines) or of a comment."""
    lines = [line[2:] if quoted and line.startswith("> ") else line for line in text.splitlines()]
    start = lines.index("```sh") + 1
    return lines[start:lines.index("```", start)]


def finish_by_hand(shop: HotfixRepo, clone: Path, steps: Sequence[str]) -> list[str]:
    """Run the commands as a person would, resolving the conflict where they say so; returns the
    commands that were not git commands (left for the caller)."""
    rest: list[str] = []
    for step in steps:
        if step.startswith("# resolve the conflicts in app/pay.py"):
            assert "<<<<<<<" in (clone / "app/pay.py").read_text()
            (clone / "app/pay.py").write_text(RESOLVED)
        elif step.startswith("#"):
            continue
        elif step.startswith("git "):
            now = f"@{int(shop.clock.now())} +0000"  # the person's clock is the sandbox's
            done = subprocess.run(shlex.split(step), cwd=clone, capture_output=True, text=True,
                                  env={"PATH": "/usr/bin:/bin", "HOME": str(clone.parent), "GIT_EDITOR": "true",
                                       "GIT_COMMITTER_DATE": now})
            stopped = step.startswith("git cherry-pick -x") and "CONFLICT" in done.stdout  # what it is for
            assert done.returncode == 0 or stopped, f"{step}: {done.stderr}"
        else:
            rest.append(step)
    return rest


def test_a_conflict_opens_a_draft_pr_whose_commands_finish_the_backport(
        shop: HotfixRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hotfix = conflicting_hotfix(shop)
    number, squash = hotfix["number"], hotfix["merge_sha"]

    code = run(["backport", str(number)], environ=shop.env())

    assert code == ExitCode.BACKPORT_CONFLICT == 5
    err = capsys.readouterr().err
    assert f"error: the back-port of #{number} to main conflicts in app/pay.py" in err
    assert f"git cherry-pick -x {squash}" in err
    branch = f"backport/{number}-to-main"
    [pull] = shop.pulls(head=f"acme:{branch}", base="main")
    assert pull["draft"] is True
    assert sorted(label["name"] for label in pull["labels"]) == ["backport", CONFLICT_LABEL]
    # the conflict is committed as is, with its trailer
    committed = shop.git("show", f"refs/heads/{branch}:app/pay.py")
    assert "<<<<<<<" in committed
    assert ">>>>>>>" in committed
    assert f"(cherry picked from commit {squash})" in message(shop, shop.tip(branch) or "")
    steps = commands_in(pull["body"], quoted=True)
    assert steps[:3] == [f"git fetch origin main {branch}", f"git switch --force-create {branch} origin/main",
                         f"git cherry-pick -x {squash}"]

    # Re-running changes nothing and still says "conflict".
    before = shop.snapshot()
    assert run(["backport", str(number)], environ=shop.env()) == ExitCode.BACKPORT_CONFLICT
    assert shop.snapshot() == before

    # The commands, run by hand, finish it: the branch holds the resolved change and the trailer.
    clone = shop.clone(tmp_path / "clone")
    assert finish_by_hand(shop, clone, steps) == []
    tip = shop.tip(branch)
    assert tip is not None
    assert shop.git("show", f"{tip}:app/pay.py") == RESOLVED.strip()
    assert shop.git("rev-parse", f"{tip}^") == shop.tip("main")
    assert re.findall(r"\(cherry picked from commit ([0-9a-f]{40})\)", message(shop, tip)) == [squash]
    files = shop.call("GET", f"/pulls/{pull['number']}/files")
    assert [(f["filename"], f["additions"], f["deletions"]) for f in files] == [("app/pay.py", 1, 1)]
    assert shop.call("GET", f"/pulls/{pull['number']}")["head"]["sha"] == tip


@pytest.fixture
def commenting_shop(sandbox: Sandbox, sandbox_clock: FakeClock) -> Iterator[HotfixRepo]:
    repo = HotfixRepo(sandbox, sandbox_clock, config=COMMENT_CONFIG)
    yield repo
    repo.close()


def test_a_conflict_in_comment_mode_comments_commands_that_finish_the_backport(
        commenting_shop: HotfixRepo, tmp_path: Path) -> None:
    shop = commenting_shop
    hotfix = conflicting_hotfix(shop)
    number = hotfix["number"]
    branch = f"backport/{number}-to-main"

    assert run(["backport", str(number)], environ=shop.env()) == ExitCode.BACKPORT_CONFLICT
    assert shop.tip(branch) is None  # nothing pushed
    assert shop.pulls(head=f"acme:{branch}") == []
    comments = shop.call("GET", f"/issues/{number}/comments")
    assert len(comments) == 1
    assert COMMENT_MARKER.format(number=number, target="main") in comments[0]["body"]
    assert CONFLICT_LABEL in [label["name"] for label in shop.call("GET", f"/issues/{number}/labels")]

    # Re-running: still a conflict, still one comment.
    assert run(["backport", str(number)], environ=shop.env()) == ExitCode.BACKPORT_CONFLICT
    assert len(shop.call("GET", f"/issues/{number}/comments")) == 1

    steps = commands_in(comments[0]["body"], quoted=False)
    clone = shop.clone(tmp_path / "clone")
    rest = finish_by_hand(shop, clone, steps)
    assert rest == [f"opsgh backport {number} --to main  # opens the back-port PR from the pushed branch"]
    assert shop.git("show", f"refs/heads/{branch}:app/pay.py") == RESOLVED.strip()

    # The last command opens the PR from the pushed branch, and the conflict label goes.
    assert run(["backport", str(number), "--to", "main"], environ=shop.env()) == ExitCode.OK
    [pull] = shop.pulls(head=f"acme:{branch}", base="main")
    assert pull["draft"] is False
    assert [label["name"] for label in pull["labels"]] == ["backport"]
    assert pull["head"]["sha"] == shop.tip(branch)
    assert CONFLICT_LABEL not in [label["name"] for label in shop.call("GET", f"/issues/{number}/labels")]


def test_the_other_targets_are_still_attempted_after_a_conflict(shop: HotfixRepo) -> None:
    shop.sandbox.create_branch("acme", "shop", "release/1.0", "prod")  # before the hotfix: a clean target
    hotfix = conflicting_hotfix(shop)
    result = shop.backport(hotfix["number"], "main", "release/1.0")
    assert [(t.target, t.status) for t in result.targets] == [("main", "conflict"), ("release/1.0", "opened")]
    [clean] = shop.pulls(head=f"acme:backport/{hotfix['number']}-to-release/1.0", base="release/1.0")
    assert clean["draft"] is False
    with pytest.raises(BackportConflict) as raised:
        result.raise_for_outcome()
    assert raised.value.exit_code == ExitCode.BACKPORT_CONFLICT
    assert "to main conflicts in app/pay.py" in raised.value.message


# ----------------------------------------------------------------------------- races and failures


class MovingTarget:
    """A `LocalGit` whose target moves on GitHub right after the first fetch (someone pushes meanwhile)."""

    def __init__(self, inner: GitCheckout, meanwhile: Any) -> None:
        self.inner, self.meanwhile, self.fetches = inner, meanwhile, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def fetch_since(self, branch: str, since: int) -> str:
        tip = self.inner.fetch_since(branch, since)
        self.fetches += 1
        if self.fetches == 1:
            self.meanwhile()
        return tip


def test_a_target_that_moves_during_the_backport_is_retried_from_a_fresh_fetch(shop: HotfixRepo) -> None:
    hotfix = shop.hotfix("payment-timeout", [{"app/pay.py": FIXED}], "fix: payment timeout", method="squash")
    moved: list[str] = []
    gateway = shop.gateway()
    with shop.checkout(gateway) as checkout:
        git = MovingTarget(checkout, lambda: moved.append(shop.push("main", {"docs/x.md": "x\n"}, "Docs")))
        result = shop.backport(hotfix["number"], gateway=gateway, git=git)
    assert git.fetches == 2
    [target] = result.targets
    assert target.status == "opened"
    # built on the tip main moved to, not on the one first fetched
    squash = hotfix["merge_sha"]
    assert_backported(shop, hotfix["number"], diff(shop, f"{squash}^", squash), [squash])
    assert shop.tip("main") == moved[0]
    assert len(shop.pulls(head=f"acme:backport/{hotfix['number']}-to-main")) == 1


def test_a_backport_that_lands_by_hand_meanwhile_is_not_opened_twice(shop: HotfixRepo) -> None:
    hotfix = shop.hotfix("payment-timeout", [{"app/pay.py": FIXED}], "fix: payment timeout", method="squash")
    squash = hotfix["merge_sha"]

    def by_hand() -> None:
        shop.push("main", {"app/pay.py": FIXED}, f"fix: payment timeout\n\n(cherry picked from commit {squash})")

    gateway = shop.gateway()
    with shop.checkout(gateway) as checkout:
        git = MovingTarget(checkout, by_hand)
        result = shop.backport(hotfix["number"], gateway=gateway, git=git)
    assert [t.status for t in result.targets] == ["already"]
    assert shop.tip(f"backport/{hotfix['number']}-to-main") is None
    assert shop.pulls(head=f"acme:backport/{hotfix['number']}-to-main") == []


def test_a_lost_answer_to_the_pr_create_is_read_back_not_posted_twice(shop: HotfixRepo) -> None:
    hotfix = shop.hotfix("payment-timeout", [{"app/pay.py": FIXED}], "fix: payment timeout")
    shop.sandbox.faults.landed_then("POST", "/repos/*/*/pulls", 502)
    shop.sandbox.log.clear()
    result = shop.backport(hotfix["number"])
    [target] = result.targets
    assert target.status == "opened"
    assert len(shop.pulls(head=f"acme:backport/{hotfix['number']}-to-main")) == 1
    assert [e.status for e in shop.sandbox.log.find(method="POST", path="/repos/acme/shop/pulls")] == [502]


def test_a_shallow_clone_is_enough_and_is_left_as_it_was(shop: HotfixRepo, tmp_path: Path) -> None:
    hotfix = shop.hotfix("payment-timeout", [{"app/pay.py": FIXED}, {"app/pay_test.py": "def test(): ...\n"}],
                         "fix: payment timeout", method="rebase")
    clone = shop.clone(tmp_path / "ci-checkout", "--depth", "1")  # what actions/checkout leaves
    assert run_git(clone, "rev-parse", "--is-shallow-repository") == "true"
    head, branch = run_git(clone, "rev-parse", "HEAD"), run_git(clone, "branch", "--show-current")

    gateway = shop.gateway()
    with shop.checkout(gateway, directory=clone) as checkout:
        result = shop.backport(hotfix["number"], gateway=gateway, git=checkout)

    tip = hotfix["merge_sha"]
    assert_backported(shop, hotfix["number"], diff(shop, f"{tip}~2", tip),
                      shop.git("rev-list", "--reverse", "--max-count=2", tip).split())
    assert [t.status for t in result.targets] == ["opened"]
    # the clone's own branch, files and refs are as they were
    assert (run_git(clone, "rev-parse", "HEAD"), run_git(clone, "branch", "--show-current")) == (head, branch)
    assert run_git(clone, "status", "--porcelain") == ""
    assert len(run_git(clone, "worktree", "list").splitlines()) == 1
    assert run_git(clone, "for-each-ref", "refs/opsgh/") == ""


def test_a_missing_target_fails_alone(shop: HotfixRepo) -> None:
    hotfix = shop.hotfix("payment-timeout", [{"app/pay.py": FIXED}], "fix: payment timeout")
    result = shop.backport(hotfix["number"], "release/9.9", "main")
    assert [(t.target, t.status) for t in result.targets] == [("release/9.9", "failed"), ("main", "opened")]
    with pytest.raises(PreconditionFailed, match=r"there is no branch 'release/9\.9'"):
        result.raise_for_outcome()


def test_the_cli_prints_json(shop: HotfixRepo, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    hotfix = shop.hotfix("payment-timeout", [{"app/pay.py": FIXED}], "fix: payment timeout")
    assert run(["backport", str(hotfix["number"]), "--json"], environ=shop.env()) == ExitCode.OK
    data = json.loads(capsys.readouterr().out)
    assert data["method"] == "merge"
    assert data["picks"] == [hotfix["merge_sha"]]
    assert [(t["target"], t["status"]) for t in data["targets"]] == [("main", "opened")]
    assert data["targets"][0]["pr_url"].endswith(f"/pull/{data['targets'][0]['pr']}")


def test_config_labels_and_no_reviewers_to_ask(sandbox: Sandbox, sandbox_clock: FakeClock) -> None:
    config = CONFIG.replace("on_conflict: draft-pr", "on_conflict: draft-pr, labels: [backport, prod-fix]")
    shop = HotfixRepo(sandbox, sandbox_clock, config=config)
    try:
        hotfix = shop.hotfix("payment-timeout", [{"app/pay.py": FIXED}], "fix: payment timeout",
                             reviewer="alice")  # the only reviewer is who opens the back-port
        result = shop.backport(hotfix["number"])
        [pull] = shop.pulls(head=f"acme:backport/{hotfix['number']}-to-main")
        assert sorted(label["name"] for label in pull["labels"]) == ["backport", "prod-fix"]
        assert pull["requested_reviewers"] == []
        assert result.targets[0].reviewers == ()
    finally:
        shop.close()


def test_a_target_with_nothing_recent_is_fetched_at_its_tip(shop: HotfixRepo) -> None:
    gateway = shop.gateway()
    with shop.checkout(gateway) as git:
        later = int(shop.clock.now()) + 86400  # every commit on main is older than this
        assert git.fetch_since("main", later) == shop.tip("main")
        assert git.history(shop.tip("main") or "", later) == []
        assert git.remote_tips(["main", "nope"]) == {"main": shop.tip("main")}


def test_the_token_travels_in_a_header_not_in_the_url_or_the_arguments(shop: HotfixRepo) -> None:
    import base64

    gateway = shop.gateway()
    with shop.checkout(gateway) as git:
        assert shop.tokens["alice"] not in git.remote_url
        env = git._env()
        headers = [env[f"GIT_CONFIG_VALUE_{i}"] for i in range(int(env["GIT_CONFIG_COUNT"]))
                   if env[f"GIT_CONFIG_KEY_{i}"] == "http.extraHeader"]
        secret = base64.b64encode(f"x-access-token:{shop.tokens['alice']}".encode()).decode()
        assert headers == [f"Authorization: Basic {secret}"]
        assert (git.repo / ".git" / "config").read_text().count(shop.tokens["alice"]) == 0
