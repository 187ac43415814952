"""The changelog model: grouping, attribution of commits to pull requests, when to stop listing PRs,
hotfixes on prod, cutting."""

from __future__ import annotations

import pytest
from release_fixtures import WEB_FLOW, commit, pull, sha

from opsgh.changelog import CommitGraph, PullMatcher, build_changelog, classify, find_hotfixes, parse_conventional


@pytest.mark.parametrize(("title", "labels", "group"), [
    ("feat(cart): add coupons", (), "feat"),
    ("fix: round totals", (), "fix"),
    ("Fix: Round Totals", (), "fix"),
    ("perf(db)!: drop the old index", (), "breaking"),
    ("refactor: split cart", ("BREAKING-CHANGE",), "breaking"),
    ("Add product search", ("enhancement",), "feat"),  # GitHub's default label
    ("feat: add search", ("bug",), "fix"),  # people's labels win over the title's type
    ("Bump lodash from 4.17.20 to 4.17.21", ("dependencies", "javascript"), "deps"),
    ('Revert "feat: add search"', (), "revert"),
    ("docs: explain the release train", (), "docs"),
    ("ci: cache pip", (), "build"),
    ("style: black", (), "chore"),
    ("Tidy up", (), "other"),
    ("wip: something", (), "other"),  # an unknown type is not a group
])
def test_classify(title: str, labels: tuple[str, ...], group: str) -> None:
    assert classify(title, labels)[0] == group


def test_parse_conventional() -> None:
    parsed = parse_conventional("feat(cart)!:   add coupons ")
    assert (parsed.type, parsed.scope, parsed.breaking, parsed.text) == ("feat", "cart", True, "add coupons")
    plain = parse_conventional("Merge branch 'x': y")  # spaces in the "type": not conventional
    assert (plain.type, plain.text) == (None, "Merge branch 'x': y")


def _history() -> tuple[list, list]:
    """prod at a0. main since: PR #1 merged with a merge commit (2 branch commits), a direct push, PR #2
    squash-merged, PR #3 rebase-merged (2 commits), PR #4 squash-merged in the same second."""
    web = WEB_FLOW
    commits = [
        commit("b1", ("a0",), "feat: cart, part 1", at=10),
        commit("b2", ("b1",), "feat: cart, part 2", at=20),
        commit("c1", ("a0", "b2"), "Merge pull request #1 from acme/cart\n\nfeat: cart", at=100, committer=web),
        commit("d1", ("c1",), "Fix typo in README", at=200, author="alice"),
        commit("e1", ("d1",), "fix: totals (#2)", at=300, committer=web),
        commit("f1", ("e1",), "refactor: first half", at=400, committer=web),
        commit("f2", ("f1",), "refactor: second half", at=400, committer=web),
        commit("f3", ("f2",), "docs: squashed in the same second (#4)", at=400, committer=web),
    ]
    pulls = [
        pull(1, "feat(cart): add a cart", "c1", labels=("enhancement",), updated_at=100),
        pull(2, "fix: totals", "e1", author="alice", updated_at=300),
        pull(3, "refactor: split", "f2", updated_at=400),
        pull(4, "docs: squashed in the same second", "f3", updated_at=400),
    ]
    return commits, pulls


def test_attribution_merge_squash_rebase_and_direct_pushes() -> None:
    commits, pulls = _history()
    graph = CommitGraph(commits)
    assert graph.tip == sha("f3")
    assert graph.mainline == tuple(sha(n) for n in ("c1", "d1", "e1", "f1", "f2", "f3"))
    owner, _ = graph.attribute(pulls)
    # Without #3's own commits, f1 cannot be told apart from a squash merge at the same second.
    assert sha("f1") not in owner
    assert [p.number for p in graph.rebase_suspects(pulls, owner)] == [3]
    originals = {3: [commit("99", ("a0",), "refactor: first half"), commit("98", ("99",), "refactor: second half")]}
    owner, _ = graph.attribute(pulls, originals)
    assert {s: n for s, n in owner.items()} == {
        sha("c1"): 1, sha("b1"): 1, sha("b2"): 1, sha("e1"): 2, sha("f1"): 3, sha("f2"): 3, sha("f3"): 4}
    changelog = build_changelog(commits, pulls, graph, originals)
    assert [(s.key, [e.number for e in s.entries]) for s in changelog.sections] == [
        ("feat", [1]), ("fix", [2]), ("refactor", [3]), ("docs", [4])]
    feat = changelog.sections[0].entries[0]
    assert (feat.title, feat.scope, feat.commits, feat.authors) == ("add a cart", "cart", 3, ("bob",))
    assert [(e.short_sha, e.title, e.authors) for e in changelog.direct_pushes] == [
        (sha("d1")[:7], "Fix typo in README", ("alice",))]
    assert changelog.contributors == ("alice", "bob")
    assert (changelog.commit_count, changelog.pull_count, changelog.direct_push_count) == (8, 4, 1)


def test_squash_merges_in_the_same_second_are_not_taken_for_a_rebase() -> None:
    web = WEB_FLOW
    commits = [commit("a1", ("a0",), "feat: one (#1)", at=5, committer=web),
               commit("a2", ("a1",), "feat: two (#2)", at=5, committer=web)]
    pulls = [pull(1, "feat: one", "a1", updated_at=5), pull(2, "feat: two", "a2", updated_at=5)]
    changelog = build_changelog(commits, pulls)
    assert [e.number for e in changelog.pulls] == [1, 2]
    assert changelog.direct_pushes == ()


def test_matcher_stops_once_every_mainline_commit_is_explained() -> None:
    commits, pulls = _history()
    commits = [c for c in commits if c.sha != sha("d1")]
    commits[3] = commit("e1", ("c1",), "fix: totals (#2)", at=300, committer=WEB_FLOW)
    matcher = PullMatcher(CommitGraph(commits))
    newest_first = sorted(pulls, key=lambda p: p.updated_at, reverse=True)
    offered = []
    for item in [*newest_first, pull(99, "older", None, updated_at=1)]:
        offered.append(item.number)
        if matcher.offer(item):
            break
    # f1 (rebased, unexplained until #3's commits are read) keeps the search going to older PRs...
    assert offered[-1] == 99
    # ...but never past the oldest unexplained commit's time (minus GitHub's clock margin).
    matcher = PullMatcher(CommitGraph([commit("z1", ("a0",), "direct push", at=86400 * 3)]))
    assert matcher.offer(pull(7, "unrelated", None, updated_at=86400 * 3)) is False
    assert matcher.offer(pull(8, "older", None, updated_at=86400 * 2)) is True


def test_matcher_stops_at_once_when_all_is_explained() -> None:
    commits = [commit("a1", ("a0",), "feat: one (#1)", at=5, committer=WEB_FLOW)]
    matcher = PullMatcher(CommitGraph(commits))
    assert matcher.offer(pull(1, "feat: one", "a1", updated_at=5)) is True
    assert list(matcher.matched) == [sha("a1")]


def test_unmerged_and_foreign_pulls_are_ignored() -> None:
    commits = [commit("a1", ("a0",), "feat: one", at=5, committer=WEB_FLOW)]
    closed = pull(1, "feat: one", "a1", merged=False)  # closed without merging; sha is the test merge
    other = pull(2, "feat: elsewhere", "bb")
    changelog = build_changelog(commits, [closed, other])
    assert changelog.pull_count == 0
    assert [e.title for e in changelog.direct_pushes] == ["feat: one"]


def test_hotfixes_since_the_last_release() -> None:
    main_only = [commit("c1", ("a0",), "feat: x")]
    prod_only = [
        commit("aa1", ("a0",), "fix: old hotfix, released since"),
        commit("bb1", ("f0", "aa1"), "Merge pull request #7 from acme/main\n\nRelease 2027-01-01"),  # f0 is on main
        commit("cc1", ("bb1",), "fix: payment timeout (#9)", author="alice"),
        commit("dd1", ("cc1", "cc2"), "Merge pull request #10 from acme/hotfix/x"),
        commit("cc2", ("bb1",), "fix: second hotfix"),
    ]
    hotfixes = find_hotfixes(prod_only, main_only)
    assert [c.sha for c in hotfixes.commits] == [sha("cc1"), sha("cc2")]
    pick = commit("c2", ("c1",), f"fix: payment\n\n(cherry picked from commit {sha('cc1')})")
    backported = find_hotfixes(prod_only, [*main_only, pick])
    assert [c.sha for c in backported.commits] == [sha("cc2")]
    assert backported.backported == (sha("cc1"),)
    assert find_hotfixes([], main_only).commits == ()


def test_a_merge_commit_backported_whole_covers_the_commits_it_brought() -> None:
    main_only = [commit("c1", ("a0",), "feat: x")]
    prod_only = [
        commit("bb1", ("f0", "aa1"), "Merge pull request #7 from acme/main\n\nRelease 2027-01-01"),  # f0 on main
        commit("cc1", ("bb1",), "Start hotfix x"),
        commit("cc2", ("cc1",), "fix: payment timeout"),
        commit("dd1", ("bb1", "cc2"), "Merge pull request #10 from acme/hotfix/x"),
        commit("ee1", ("dd1",), "fix: another one, pushed straight to prod"),
    ]
    assert [c.sha for c in find_hotfixes(prod_only, main_only).commits] == [sha("cc1"), sha("cc2"), sha("ee1")]
    # `opsgh backport` of a merge-committed hotfix: one commit, `cherry-pick -x -m 1` of the merge
    pick = commit("c2", ("c1",), f"Merge pull request #10 from acme/hotfix/x\n\n(cherry picked from commit "
                                 f"{sha('dd1')})")
    found = find_hotfixes(prod_only, [*main_only, pick])
    assert [c.sha for c in found.commits] == [sha("ee1")]
    assert found.backported == (sha("cc1"), sha("cc2"))


def test_keep_cuts_from_the_end_and_counts_what_it_left_out() -> None:
    commits, pulls = _history()
    changelog = build_changelog(commits, pulls)
    assert changelog.entry_count == 4 + 2  # f1 is a direct push without #3's commits
    kept = changelog.keep(3)
    assert [e.number for e in kept.pulls] == [1, 2, 3]
    assert (kept.omitted_pulls, kept.omitted_commits, kept.is_cut) == (1, 2, True)
    assert (kept.pull_count, kept.direct_push_count) == (4, 2)  # totals survive the cut
    assert changelog.keep(0).entry_count == 0
    assert changelog.keep(99) == changelog
