"""The rendered release PR body against golden files, the cut, the escaping and the kept ticks.

Regenerate the golden files after a deliberate template change:
    UPDATE_GOLDEN=1 .venv/bin/pytest tests/unit/test_release_body.py
then review the diff of tests/unit/golden/ like any other change.
"""

from __future__ import annotations

from typing import Any

import pytest
from golden_files import check_golden
from release_fixtures import WEB_FLOW, change, commit, pull

from opsgh.changelog import Changelog, build_changelog
from opsgh.clock import FakeClock
from opsgh.errors import ConfigError
from opsgh.ops.release import Fingerprint, compose_body, release_title
from opsgh.render.engine import Renderer, code_span, markdown_text
from opsgh.render.tasklist import carry_ticks, task_items
from opsgh.risk import RiskReport, assess

FINGERPRINT = Fingerprint("a0" * 20, "a0" * 20, "f3" * 20, 8, 2, "0123456789abcdef")
COMPARE = "https://github.com/acme/shop/compare/prod...main"


def _context(risks: RiskReport, **extra: Any) -> dict[str, Any]:
    return {"repo": "acme/shop", "staging": "main", "production": "prod", "title": "Release 2027-01-15",
            "compare_url": COMPARE, "tip": "f3" * 20, "risks": risks, "checklist_mode": "required",
            "version": "0.1.0", **extra}


def _full_release() -> tuple[Changelog, RiskReport]:
    commits = [
        commit("b1", ("a0",), "feat: cart", at=10),
        commit("c1", ("a0", "b1"), "Merge pull request #1 from acme/cart", at=100, committer=WEB_FLOW),
        commit("d1", ("c1",), "Fix <script> typo in README", at=200, author=None, author_name="Dana Dev"),
        commit("e1", ("d1",), "fix: totals (#2)", at=300, committer=WEB_FLOW),
        commit("f1", ("e1",), "[x] looks like a task (#3)", at=400, committer=WEB_FLOW),
    ]
    pulls = [pull(1, "feat(cart)!: replace the cart API", "c1", labels=("enhancement",)),
             pull(2, "fix: round the `total`", "e1", author="alice", labels=("bug",)),
             pull(3, "[x] looks like a task <!-- opsgh:release -->", "f1", author="carol")]
    files = [
        change("migrations/0003_drop.sql",
               "@@ -0,0 +1,2 @@\n+-- contract step\n+ALTER TABLE carts DROP COLUMN coupon;\n", "added"),
        change(".env.example", "@@ -1 +1,2 @@\n DATABASE_URL=\n+PAYMENT_API_KEY=\n"),
        change("package.json", "@@ -1 +1 @@\n-a\n+b\n"),
    ]
    hotfix = commit("cc1", ("a0",), "fix: payment timeout (#9)", author="alice")
    risks = assess(files, hotfixes=[hotfix], migration_paths=["migrations/**"],
                   allow_label="destructive-migration-approved")
    return build_changelog(commits, pulls), risks




def test_golden_full_body() -> None:
    changelog, risks = _full_release()
    body, listed = compose_body(Renderer(), _context(risks), changelog, FINGERPRINT)
    assert listed == changelog
    check_golden("release_body_full.md", body)


def test_golden_quiet_body() -> None:
    changelog = build_changelog([commit("e1", ("a0",), "fix: totals (#2)", at=300, committer=WEB_FLOW)],
                                [pull(2, "fix: totals", "e1", author="alice")])
    body, _ = compose_body(Renderer(), _context(assess([])), changelog, FINGERPRINT)
    check_golden("release_body_quiet.md", body)


def test_golden_cut_body() -> None:
    commits = [commit(f"{n:02x}", (f"{n - 1:02x}" if n else "a0",), f"feat: change {n} (#{n + 10})", at=n * 60,
                      committer=WEB_FLOW) for n in range(40)]
    pulls = [pull(n + 10, f"feat: change number {n} with a title of a realistic length", f"{n:02x}")
             for n in range(40)]
    changelog = build_changelog(commits, pulls)
    body, listed = compose_body(Renderer(), _context(assess([])), changelog, FINGERPRINT, limit=3000)
    assert len(body) <= 3000
    assert listed.is_cut
    assert 0 < listed.entry_count < 40
    assert listed.omitted_pulls == 40 - listed.entry_count
    check_golden("release_body_cut.md", body)
    # one more entry would not have fitted
    longer, _ = compose_body(Renderer(), _context(assess([])), changelog.keep(listed.entry_count + 1),
                             FINGERPRINT, limit=10**6)
    assert len(longer) > 3000 - 200  # the cut kept as much as it could


def test_a_body_too_long_even_without_a_changelog_is_cut_at_a_line() -> None:
    changelog, risks = _full_release()
    body, listed = compose_body(Renderer(), _context(risks), changelog, FINGERPRINT, limit=1200)
    assert len(body) <= 1200
    assert listed.entry_count == 0
    assert Fingerprint.parse(body) == FINGERPRINT  # the marker is never cut
    assert body.endswith(f"[See the full comparison]({COMPARE}).\n")
    assert "\n\n> [!NOTE]\n> Cut to fit GitHub's limit of 1,200 characters." in body


def test_people_text_cannot_spoof_the_marker_or_make_tasks() -> None:
    changelog, risks = _full_release()
    body, _ = compose_body(Renderer(), _context(risks), changelog, FINGERPRINT)
    # only opsgh's own comments: its marker and the changelog bounds `opsgh ship` reads
    assert body.count("<!--") == 3
    assert body.count("<!-- opsgh:changelog:start -->") == body.count("<!-- opsgh:changelog:end -->") == 1
    assert "&lt;script&gt;" in body
    assert "- \\[x\\] looks like a task" not in body
    assert [item.text for item in task_items(body) if "looks like a task" in item.text] == []
    assert Fingerprint.parse(body) == FINGERPRINT


def test_ticks_survive_and_new_items_come_unticked() -> None:
    changelog, risks = _full_release()
    body, _ = compose_body(Renderer(), _context(risks), changelog, FINGERPRINT)
    edited = body.replace("- [ ] Release announcement drafted", "- [x] Release announcement drafted")
    edited = edited.replace("- [ ] New configuration and secrets set in `prod`",
                            "* [X]   New configuration  and secrets set in `prod`").replace("\n", "\r\n")
    quiet = assess([])
    again, _ = compose_body(Renderer(), _context(quiet), changelog, FINGERPRINT, previous=edited)
    checked = {item.text for item in task_items(again) if item.checked}
    assert checked == {"Release announcement drafted"}  # the config item is gone with its flag
    assert carry_ticks(edited, body).count("- [x]") == 2
    fenced = "```\n- [x] Release announcement drafted\n```\n"
    assert carry_ticks(fenced, body) == body  # a task in a code block is not a task


def test_override_templates_and_their_errors() -> None:
    changelog, risks = _full_release()
    renderer = Renderer({"release_risks.md.j2": "### Risks: {{ risks.flags|length }}\n", "notes.txt": "ignored"})
    body, _ = compose_body(renderer, _context(risks), changelog, FINGERPRINT)
    assert "### Risks: 5\n" in body
    with pytest.raises(ConfigError) as syntax:
        Renderer({"release_body.md.j2": "{% for %}"}).render("release_body.md.j2", _context(risks))
    assert ".github/opsgh/templates/release_body.md.j2:1" in syntax.value.message
    with pytest.raises(ConfigError) as undefined:
        Renderer({"release_body.md.j2": "\n{{ nope }}"}).render("release_body.md.j2", _context(risks))
    assert "nope" in undefined.value.message
    with pytest.raises(ConfigError):  # the sandbox refuses internals
        Renderer({"release_body.md.j2": "{{ risks.__class__.__mro__ }}"}).render("release_body.md.j2",
                                                                                 _context(risks))


def test_filters() -> None:
    assert markdown_text("  a <b>\n c & d ") == "a &lt;b&gt; c &amp; d"
    assert markdown_text("# not a heading") == "\\# not a heading"
    assert code_span("a`b") == "``a`b``"
    assert code_span("`x`") == "`` `x` ``"


def test_release_title_uses_the_time_zone_and_the_injected_clock() -> None:
    clock = FakeClock(1_800_000_000 + 16 * 3600)  # 2027-01-16 00:00 UTC
    assert release_title("Release {date}", "UTC", clock, "abc1234def") == "Release 2027-01-16"
    assert release_title("Release {date} ({sha})", "America/New_York", clock, "abc1234def") == \
        "Release 2027-01-15 (abc1234)"
    with pytest.raises(ConfigError):
        release_title("Release {day}", "UTC", clock, "abc")
    with pytest.raises(ConfigError):
        release_title("Release {date}", "Mars/Olympus", clock, "abc")
