"""`opsgh release` end to end against the sandbox: GitHub state through the API, git state in the repo."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from release_support import Shop, seed_history

from opsgh.cli import run
from opsgh.clock import FakeClock
from opsgh.errors import ConfigError, Forbidden
from opsgh.ops.release import BODY_LIMIT, Fingerprint
from opsgh.render.tasklist import task_items
from opsgh.sandbox import Sandbox

WRITES = ("POST", "PATCH", "PUT", "DELETE")


@pytest.fixture
def shop(sandbox: Sandbox, sandbox_clock: FakeClock) -> Iterator[Shop]:
    instance = Shop(sandbox, sandbox_clock)
    yield instance
    instance.close()


def _writes(sandbox: Sandbox) -> list[str]:
    return [f"{e.method} {e.path}" for e in sandbox.log.entries if e.method in WRITES and e.kind != "git"]


def _three_features(shop: Shop) -> None:
    shop.land("feature/search", {"app/search.py": "def search(q):\n    return []\n"},
              "feat(search): add product search", labels=["enhancement"])
    shop.land("fix/cart", {"app/cart.py": "def total(items):\n    return round(sum(i.price for i in items), 2)\n"},
              "fix: round the cart total", author="alice", labels=["bug"])
    shop.push("main", {"docs/ops.md": "# Ops\n"}, "Add the ops notes", author="alice")


def test_first_run_opens_one_pr_with_title_labels_and_body(sandbox: Sandbox, shop: Shop) -> None:
    _three_features(shop)
    result = shop.release()

    assert result.action == "created"
    assert (result.commits, result.pulls, result.direct_pushes) == (3, 2, 1)
    pulls = shop.release_pulls()
    assert len(pulls) == 1
    pull = pulls[0]
    assert pull["number"] == result.number
    assert pull["state"] == "open"
    # The FakeClock starts at 2027-01-15 08:00 UTC: 09:00 in Berlin, the configured time zone.
    assert pull["title"] == "Release 2027-01-15"
    assert [label["name"] for label in pull["labels"]] == ["release"]
    assert (pull["head"]["ref"], pull["base"]["ref"]) == ("main", "prod")
    assert pull["head"]["sha"] == shop.tip("main")
    body = pull["body"]
    assert body == result.body
    assert Fingerprint.parse(body) == Fingerprint(shop.release_sha, shop.release_sha, shop.tip("main"), 3, 0,
                                                  Fingerprint.parse(body).inputs,  # type: ignore[union-attr]
                                                  hotfixes=0)
    assert "#### Features\n\n- **search:** add product search #1 (@bob)" in body
    assert "#### Bug fixes\n\n- round the cart total #2 (@alice)" in body
    direct = shop.tip("main")
    assert f"#### Direct pushes\n\n- [`{direct[:7]}`](" in body
    assert ") Add the ops notes (@alice)" in body
    assert "[Full comparison](" in body
    assert "/acme/shop/compare/prod...main)" in body
    items = task_items(body)
    assert items
    assert not any(item.checked for item in items)
    assert "Rollback plan confirmed: revert this pull request (`opsgh rollback`)" in [i.text for i in items]
    # git: prod did not move
    assert shop.tip("prod") == shop.release_sha


def test_second_run_changes_nothing_and_creates_no_duplicate(sandbox: Sandbox, shop: Shop) -> None:
    _three_features(shop)
    first = shop.release()
    before = shop.release_pulls()[0]
    sandbox.log.clear()
    gateway = shop.gateway()

    again = shop.release(gateway)

    assert again.action == "unchanged"
    assert again.number == first.number
    assert _writes(sandbox) == []
    assert len(gateway.ledger) == 2  # the first compare page and the open release PR
    after = shop.release_pulls()
    assert len(after) == 1
    assert (after[0]["title"], after[0]["body"], after[0]["updated_at"]) == (
        before["title"], before["body"], before["updated_at"])
    # --refresh re-renders from scratch and still finds nothing to change
    sandbox.log.clear()
    assert shop.release(refresh=True).action == "unchanged"
    assert _writes(sandbox) == []


def test_new_merge_updates_the_same_pr_and_keeps_ticks(sandbox: Sandbox, shop: Shop,
                                                       sandbox_clock: FakeClock) -> None:
    _three_features(shop)
    first = shop.release()
    body = shop.release_pulls()[0]["body"]
    ticked = body.replace("- [ ] Release announcement drafted", "- [x] Release announcement drafted")
    ticked = ticked.replace("- [ ] Changelog reviewed", "- [X] Changelog reviewed")
    assert ticked != body
    shop.call("PATCH", f"/pulls/{first.number}", {"body": ticked.replace("\n", "\r\n")})  # as a browser sends it
    sandbox_clock.advance(86400)
    shop.land("feature/orders", {"migrations/0002_orders.sql": "CREATE TABLE orders (id SERIAL PRIMARY KEY);\n"},
              "feat(db): add the orders table")

    result = shop.release()

    assert result.action == "updated"
    assert result.number == first.number
    pulls = shop.release_pulls()
    assert len(pulls) == 1
    pull = pulls[0]
    assert pull["title"] == "Release 2027-01-16"  # main moved on the next day
    assert "- **db:** add the orders table #4 (@bob)" in pull["body"]
    checked = {item.text for item in task_items(pull["body"]) if item.checked}
    assert checked == {"Release announcement drafted", "Changelog reviewed: everything below is meant to ship"}
    # the new migration brought a new, unticked item
    assert any(i.text.startswith("Database migrations reviewed") and not i.checked for i in task_items(pull["body"]))
    assert Fingerprint.parse(pull["body"]).head == shop.tip("main")  # type: ignore[union-attr]
    sandbox.log.clear()
    assert shop.release().action == "unchanged"
    assert _writes(sandbox) == []


def test_nothing_to_release_exits_0_without_a_pr(sandbox: Sandbox, shop: Shop, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    result = shop.release()
    assert result.action == "nothing-to-release"
    assert result.number is None
    assert shop.pulls() == []
    monkeypatch.chdir(tmp_path)  # no local .github/opsgh.yml: the config comes from the default branch
    code = run(["--repo", shop.full_name, "release"],
               environ={"GITHUB_TOKEN": shop.tokens["alice"], "GITHUB_API_URL": sandbox.url})
    assert code == 0
    assert "nothing to release: prod already has everything in main" in capsys.readouterr().out
    assert shop.pulls() == []


def test_dry_run_changes_nothing_and_prints_what_it_would_do(sandbox: Sandbox, shop: Shop, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    _three_features(shop)
    sandbox.log.clear()
    preview = shop.release(dry_run=True)
    assert preview.action == "created"
    assert preview.dry_run
    assert preview.number is None
    assert _writes(sandbox) == []
    assert shop.release_pulls() == []
    monkeypatch.chdir(tmp_path)
    environ = {"GITHUB_TOKEN": shop.tokens["alice"], "GITHUB_API_URL": sandbox.url}
    assert run(["--repo", shop.full_name, "release", "--dry-run"], environ=environ) == 0
    out = capsys.readouterr().out
    assert re.match(r"title: Release \d{4}-\d\d-\d\d\nbody:\n<!-- opsgh:release v1 ", out)  # the real clock
    assert "### Pre-deployment checklist" in out
    assert "would open the release PR (main -> prod): 3 commits, 2 pull requests, 1 direct push" in out
    assert _writes(sandbox) == []
    assert shop.release_pulls() == []

    created = shop.release()
    assert created.body == preview.body  # the preview was exactly what got opened
    shop.push("main", {"docs/more.md": "more\n"}, "More notes")
    sandbox.log.clear()
    update = shop.release(dry_run=True)
    assert update.action == "updated"
    assert update.dry_run
    assert update.number == created.number
    assert _writes(sandbox) == []
    assert shop.release_pulls()[0]["body"] == created.body


def test_hotfix_on_prod_is_flagged(sandbox: Sandbox, shop: Shop) -> None:
    _three_features(shop)
    hotfix = shop.land("hotfix/payments", {"app/pay.py": "TIMEOUT = 5\n"}, "fix: payment timeout", base="prod",
                       author="alice")
    result = shop.release()
    assert "hotfix" in result.risk_flags
    assert result.hotfixes == 1
    body = shop.release_pulls()[0]["body"]
    assert "**Hotfixes on prod that main does not have**" in body
    assert f"[`{hotfix['merge_sha'][:7]}`](" in body
    assert "fix: payment timeout (#" in body
    assert "- [ ] Hotfixes on `prod` back-ported to `main`" in body

    # Back-ported with `cherry-pick -x`: no longer a risk.
    shop.push("main", {"app/pay.py": "TIMEOUT = 5\n"},
              f"fix: payment timeout\n\n(cherry picked from commit {hotfix['merge_sha']})", author="alice")
    result = shop.release()
    assert result.action == "updated"
    assert "hotfix" not in result.risk_flags


def test_release_merges_on_prod_are_not_hotfixes(sandbox: Sandbox, shop: Shop) -> None:
    _three_features(shop)
    first = shop.release()
    shop.call("PUT", f"/pulls/{first.number}/merge", {"merge_method": "merge"})
    shop.land("feature/next", {"app/next.py": "X = 1\n"}, "feat: next thing")
    result = shop.release()
    assert result.action == "created"
    assert result.number != first.number
    assert result.hotfixes == 0
    assert (result.commits, result.pulls) == (1, 1)
    assert len(shop.release_pulls("open")) == 1


def test_destructive_migration_is_flagged(sandbox: Sandbox, shop: Shop) -> None:
    shop.land("feature/cleanup", [
        {"migrations/0003_cleanup.sql": "-- DROP TABLE is only mentioned here\n"
                                        "ALTER TABLE orders ADD COLUMN note text;\n"
                                        "ALTER TABLE orders DROP COLUMN legacy_total;\n"},
        {"migrations/0003_cleanup_rollback.sql": "ALTER TABLE orders DROP COLUMN note;\n"},
    ], "chore(db): drop the legacy total")
    result = shop.release()
    assert result.risk_flags[0] == "destructive-migration"
    body = result.body or ""
    assert ("  - `migrations/0003_cleanup.sql:3` drop column: `ALTER TABLE orders DROP COLUMN legacy_total;`"
            in body)
    assert "rollback.sql:1" not in body  # a down migration drops what its up migration added
    assert "label `destructive-migration-approved`" in body
    assert "- [ ] Destructive migration approved and a fresh production backup taken" in body


def test_post_that_landed_but_answered_502_opens_exactly_one_pr(sandbox: Sandbox, shop: Shop) -> None:
    _three_features(shop)
    sandbox.faults.landed_then("POST", "/repos/*/*/pulls", 502)
    sandbox.log.clear()
    result = shop.release()
    assert result.action == "created"
    pulls = shop.release_pulls()
    assert len(pulls) == 1
    assert pulls[0]["number"] == result.number
    assert [label["name"] for label in pulls[0]["labels"]] == ["release"]
    assert [e.status for e in sandbox.log.find(method="POST", path="/repos/acme/shop/pulls")] == [502]
    assert shop.release().action == "unchanged"


def test_a_concurrent_run_that_opened_it_first_is_read_back(sandbox: Sandbox, shop: Shop) -> None:
    _three_features(shop)
    # Someone opened main -> prod by hand between our look-up and our create: the look-up saw nothing.
    shop.call("POST", "/pulls", {"title": "release", "head": "main", "base": "prod"}, expect=201)
    sandbox.faults.add("GET", "/repos/*/*/pulls", status=200, body=[], times=1)
    result = shop.release()
    assert result.action == "created"
    pulls = shop.release_pulls()
    assert len(pulls) == 1
    assert pulls[0]["title"] == "Release 2027-01-15"
    assert pulls[0]["body"] == result.body
    assert [e.status for e in sandbox.log.find(method="POST", path="/repos/acme/shop/pulls")][-1] == 422


def test_a_hand_opened_release_pr_is_adopted(sandbox: Sandbox, shop: Shop) -> None:
    _three_features(shop)
    opened = shop.call("POST", "/pulls", {"title": "release", "head": "main", "base": "prod"}, expect=201)
    result = shop.release()
    assert result.action == "updated"
    assert result.number == opened["number"]
    assert result.labels_added == ("release",)
    assert len(shop.release_pulls()) == 1


def test_actions_token_without_permission_gets_a_hint(sandbox: Sandbox, shop: Shop) -> None:
    _three_features(shop)
    token = sandbox.add_user("github-actions[bot]", kind="actions", repositories=(shop.full_name,))
    with pytest.raises(Forbidden) as caught:
        shop.release(shop.gateway(token=token))
    assert "Allow GitHub Actions to create and approve pull requests" in caught.value.hint
    assert shop.release_pulls() == []


def test_merge_commits_and_rebase_merges_are_attributed_to_their_prs(sandbox: Sandbox, shop: Shop) -> None:
    shop.land("feature/a", [{"a.txt": "1\n"}, {"a.txt": "2\n"}, {"a.txt": "3\n"}], "feat: merged with a merge commit",
              method="merge")
    shop.land("feature/b", [{"b.txt": "1\n"}, {"b.txt": "2\n"}], "refactor: rebased", method="rebase",
              messages=["refactor: first half", "refactor: second half"])
    shop.land("feature/c", {"c.txt": "1\n"}, "docs: squashed right after", method="squash")
    result = shop.release()
    assert (result.commits, result.pulls, result.direct_pushes) == (3 + 1 + 2 + 1, 3, 0)
    body = result.body or ""
    assert "Direct pushes" not in body
    assert "#### Refactoring\n\n- rebased #2 (@bob)" in body


def test_template_override_from_the_default_branch(sandbox: Sandbox, shop: Shop) -> None:
    _three_features(shop)
    shop.push("main", {".github/opsgh/templates/release_changelog.md.j2":
                       "### What ships\n{% for e in changelog.pulls %}\n* {{ e.title|md }} (#{{ e.number }})\n"
                       "{% endfor %}\n"}, "Our own changelog layout", author="alice")
    body = shop.release().body or ""
    assert "### What ships\n* add product search (#1)\n* round the cart total (#2)\n" in body
    assert "### Pre-deployment checklist" in body  # the other templates are still opsgh's


def test_broken_template_override_is_a_config_error(sandbox: Sandbox, shop: Shop) -> None:
    _three_features(shop)
    shop.push("main", {".github/opsgh/templates/release_risks.md.j2": "line one\n{% if %}\n"}, "Broken")
    with pytest.raises(ConfigError) as caught:
        shop.release()
    assert ".github/opsgh/templates/release_risks.md.j2:2" in caught.value.message
    assert shop.release_pulls() == []


def test_more_than_300_files_are_looked_at_past_the_compare_cap(sandbox: Sandbox, shop: Shop) -> None:
    for part in range(3):
        shop.push("main", {f"src/part{part}/file{n:03}.py": f"X = {n}\n" for n in range(150)}, f"Bulk {part}")
    # alphabetically after every src/ file: far past the 300 files of the first compare page
    shop.push("main", {"zz/migrations/0009_drop.sql": "DROP TABLE sessions;\n"}, "Drop sessions")
    config = shop.config
    shop.config = type(config)(branches=config.branches, release=config.release,
                               gate=type(config.gate)(migrations=type(config.gate.migrations)(paths=("**/migrations/**",))))
    result = shop.release()
    assert "destructive-migration" in result.risk_flags
    assert "files-incomplete" not in result.risk_flags
    assert "`zz/migrations/0009_drop.sql:1` drop table: `DROP TABLE sessions;`" in (result.body or "")
    compares = [e for e in sandbox.log.entries if "/compare/" in e.path]
    assert len(compares) > 1  # the first page, then halves of the mainline


def test_5000_commits_and_1000_prs_give_a_correctly_cut_body(sandbox: Sandbox, shop: Shop) -> None:
    started = time.monotonic()
    history = seed_history(sandbox, "acme", "shop", pulls=1000, commits_per_pull=4)
    shop.push("main", {"migrations/0100_drop.sql": "ALTER TABLE carts DROP COLUMN coupon;\n"}, "Drop coupons")
    seeded = time.monotonic() - started
    gateway = shop.gateway()

    result = shop.release(gateway)

    assert result.action == "created"
    assert (result.commits, result.pulls, result.direct_pushes) == (history.commits + 1, 1000, 1)
    pull = shop.release_pulls()[0]
    body = pull["body"]
    assert body == result.body
    assert result.body_cut
    assert BODY_LIMIT - 2000 < len(body) <= BODY_LIMIT
    header, _, rest = body.partition("### Risk flags")
    assert "5,001 commits, 1,000 pull requests and 1 direct push" in header
    assert "Destructive migration" in rest
    assert "### Pre-deployment checklist" in rest
    assert body.index("### Pre-deployment checklist") < body.index("### Changelog")
    cut_note = body[body.index("> [!NOTE]"):]
    assert "more pull requests and 1 more direct push are not listed" in cut_note
    assert "[See the full comparison](" in cut_note
    assert "/acme/shop/compare/prod...main)" in cut_note
    listed = body.count(" (@alice)") + body.count(" (@bob)")
    assert 400 < listed < 1000
    # requests: 21 compare pages (250 commits each), the open-PR look-up, 10 pages of closed PRs,
    # the template directory, the create, the label (created, it was missing) and adding it
    gets = [entry.route for entry in gateway.ledger if entry.method == "GET"]  # /repos/o/r/... or /repositories/n/...
    assert sum(route.endswith("/compare/{basehead}") for route in gets) == 21
    assert sum(route.endswith("/pulls") for route in gets) == 1 + 10
    assert len(gateway.ledger) == 21 + 11 + 1 + 3
    again = shop.gateway()
    assert shop.release(again).action == "unchanged"
    assert len(again.ledger) == 2
    assert time.monotonic() - started < 60, f"seeding took {seeded:.1f} s"


def test_a_removed_label_comes_back_without_a_rerender(sandbox: Sandbox, shop: Shop) -> None:
    _three_features(shop)
    first = shop.release()
    shop.call("DELETE", f"/issues/{first.number}/labels/release")
    gateway = shop.gateway()
    result = shop.release(gateway)
    assert result.action == "updated"
    assert result.labels_added == ("release",)
    assert not result.rendered
    assert [label["name"] for label in shop.release_pulls()[0]["labels"]] == ["release"]
    assert len(gateway.ledger) == 2 + 2  # compare, the PR; the label (it exists: 422), adding it
    assert result.summary().startswith(f"updated release PR #{first.number} (labels) (main -> prod)")
