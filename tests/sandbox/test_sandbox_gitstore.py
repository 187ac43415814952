"""The sandbox's git operations, checked with real git (git 2.39: merge-tree --write-tree, no --merge-base)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from opsgh.sandbox.gitstore import GitRepo, GitStore, MergeConflict, RefConflict, Signature, git_environment

ALICE = Signature("Alice", "alice@example.invalid", 1_800_000_000)
BOB = Signature("Bob", "bob@example.invalid", 1_800_000_600)


def git(repo: GitRepo, *args: str) -> str:
    """Ask real git directly (not through GitRepo) what the repository holds."""
    return subprocess.run(["git", f"--git-dir={repo.path}", *args], check=True, capture_output=True, text=True,
                          env=git_environment()).stdout


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    store = GitStore(tmp_path)
    created = store.create("acme", "shop", "main")
    created.commit_files("main", {"README.md": "hello\n", "src/app.py": "print('v1')\n"}, "Initial", ALICE)
    return created


def test_create_commit_read_and_list(repo: GitRepo) -> None:
    assert (repo.path / "HEAD").read_text().strip() == "ref: refs/heads/main"
    sha = repo.commit_files("main", {"src/app.py": "print('v2')\n", "README.md": None, "docs/a.md": "a\n"},
                            "Second", BOB)
    assert git(repo, "rev-parse", "refs/heads/main").strip() == sha
    assert git(repo, "log", "--format=%an|%ae|%at|%s", "-1", sha).strip() == "Bob|bob@example.invalid|1800000600|Second"
    assert repo.read_file("main", "src/app.py") == b"print('v2')\n"
    assert repo.read_file("main", "README.md") is None  # deleted
    assert repo.read_file("main~1", "README.md") == b"hello\n"
    assert repo.read_file("main", "src") is None  # a directory is not a file
    assert [e.path for e in repo.list_tree("main")] == ["docs", "src"]
    assert [(e.path, e.type) for e in repo.list_tree("main", "src")] == [("src/app.py", "blob")]
    assert sorted(e.path for e in repo.list_tree("main", recursive=True)) == ["docs/a.md", "src/app.py"]
    info = repo.commit_info(sha)
    assert info.parents == (git(repo, "rev-parse", "main~1").strip(),)
    assert info.author == BOB
    assert info.subject == "Second"


def test_refs_and_compare_and_swap(repo: GitRepo) -> None:
    main = repo.ref("refs/heads/main")
    assert main is not None
    assert repo.refs() == {"refs/heads/main": main}
    repo.update_ref("refs/heads/feature", main, None)  # create: must not exist
    with pytest.raises(RefConflict):
        repo.update_ref("refs/heads/feature", main, None)
    new = repo.commit_files("feature", {"f.txt": "f\n"}, "Feature", ALICE)
    with pytest.raises(RefConflict) as stale:
        repo.update_ref("refs/heads/feature", main, main)  # someone moved it: expected old is stale
    assert stale.value.actual == new
    repo.update_ref("refs/heads/feature", main, new)
    assert repo.branches() == {"feature": main, "main": main}
    repo.delete_ref("refs/heads/feature", main)
    assert repo.ref("refs/heads/feature") is None
    assert repo.resolve("main") == main
    assert repo.resolve(main[:10]) == main
    assert repo.resolve("nope") is None
    assert repo.resolve("--output=x") is None


def test_merge_base_compare_and_changed_files(repo: GitRepo) -> None:
    base = repo.ref("refs/heads/main")
    assert base is not None
    repo.update_ref("refs/heads/feature", base, None)
    repo.commit_files("feature", {"src/app.py": "print('v2')\nprint('more')\n"}, "Change app", ALICE)
    repo.commit_files("feature", {"new.txt": "n\n"}, "Add new", ALICE)
    # rename README.md (same content) and remove nothing else
    repo.commit_files("feature", {"README.md": None, "README.rst": "hello\n"}, "Rename readme", ALICE)
    repo.commit_files("main", {"other.txt": "o\n"}, "Main moves", BOB)
    comparison = repo.compare("main", "feature")
    assert comparison.merge_base == base
    assert (comparison.ahead_by, comparison.behind_by, comparison.status) == (3, 1, "diverged")
    assert [repo.commit_info(c).subject for c in comparison.commits] == ["Change app", "Add new", "Rename readme"]
    assert repo.compare("feature", "feature").status == "identical"
    assert repo.compare(base, "feature").status == "ahead"
    assert repo.compare("main", base).status == "behind"
    files = {f.filename: f for f in repo.changed_files(base, "feature")}
    assert files["src/app.py"].status == "modified"
    assert (files["src/app.py"].additions, files["src/app.py"].deletions) == (2, 1)
    assert files["src/app.py"].patch is not None
    assert files["src/app.py"].patch.startswith("@@ -1 +1,2 @@")
    assert files["new.txt"].status == "added"
    assert files["README.rst"].status == "renamed"
    assert files["README.rst"].previous_filename == "README.md"
    assert files["new.txt"].sha == git(repo, "rev-parse", "feature:new.txt").strip()
    root_files = repo.changed_files(None, base)
    assert sorted(f.filename for f in root_files) == ["README.md", "src/app.py"]
    assert all(f.status == "added" for f in root_files)


def _diverge(repo: GitRepo, *, conflict: bool) -> tuple[str, str]:
    base = repo.ref("refs/heads/main")
    assert base is not None
    repo.update_ref("refs/heads/feature", base, None)
    repo.commit_files("feature", {"src/app.py": "print('feature')\n", "feature.txt": "f\n"}, "Feature", ALICE)
    repo.commit_files("main", {"src/app.py" if conflict else "main.txt": "print('main')\n"}, "Main", BOB)
    return "refs/heads/main", "refs/heads/feature"


def test_mergeability_clean_and_conflicting(repo: GitRepo, tmp_path: Path) -> None:
    base, head = _diverge(repo, conflict=False)
    clean = repo.mergeability(base, head)
    assert clean.clean
    assert clean.tree is not None
    other = GitStore(tmp_path / "other").create("acme", "other")
    other.commit_files("main", {"a.txt": "a\n"}, "A", ALICE)
    main_sha = other.ref("refs/heads/main")
    other.update_ref("refs/heads/x", main_sha or "", None)
    other.commit_files("x", {"a.txt": "x\n"}, "X", ALICE)
    other.commit_files("main", {"a.txt": "m\n"}, "M", BOB)
    conflicted = other.mergeability("refs/heads/main", "refs/heads/x")
    assert not conflicted.clean
    assert conflicted.conflicts == ("a.txt",)


def test_merge_commit_and_squash(repo: GitRepo) -> None:
    base, head = _diverge(repo, conflict=False)
    base_sha, head_sha = repo.resolve(base), repo.resolve(head)
    merge = repo.merge_commit(base, head, "Merge pull request #1", ALICE)
    assert repo.commit_info(merge).parents == (base_sha, head_sha)
    assert repo.read_file(merge, "main.txt") == b"print('main')\n"
    assert repo.read_file(merge, "feature.txt") == b"f\n"
    squash = repo.squash_commit(base, head, "Feature (#1)", ALICE)
    assert repo.commit_info(squash).parents == (base_sha,)
    assert repo.tree_of(squash) == repo.tree_of(merge)
    # the refs did not move: merging only creates commits
    assert repo.resolve(base) == base_sha
    assert git(repo, "cat-file", "-t", merge).strip() == "commit"


def test_merge_conflict_raises_with_files(repo: GitRepo) -> None:
    base, head = _diverge(repo, conflict=True)
    with pytest.raises(MergeConflict) as conflict:
        repo.merge_commit(base, head, "Merge", ALICE)
    assert conflict.value.files == ("src/app.py",)
    with pytest.raises(MergeConflict):
        repo.squash_commit(base, head, "Squash", ALICE)


def test_rebase_replays_each_commit_with_new_shas(repo: GitRepo) -> None:
    base, head = _diverge(repo, conflict=False)
    repo.commit_files("feature", {"second.txt": "2\n"}, "Second feature commit", BOB)
    old_commits = repo.compare(base, head).commits
    tip = repo.rebase(base, head, Signature("GitHub", "noreply@github.com", 1_800_001_000))
    new_commits = git(repo, "rev-list", "--reverse", f"{base}..{tip}").split()
    assert len(new_commits) == 2
    assert set(new_commits).isdisjoint(old_commits)
    assert git(repo, "rev-list", "--count", f"{tip}..{base}").strip() == "0"  # linear on top of base
    infos = repo.commit_infos(new_commits)
    assert [i.subject for i in infos] == ["Feature", "Second feature commit"]
    assert [i.author.name for i in infos] == ["Alice", "Bob"]  # authors kept
    assert {i.committer.email for i in infos} == {"noreply@github.com"}
    assert all(len(i.parents) == 1 for i in infos)
    assert repo.read_file(tip, "main.txt") == b"print('main')\n"
    assert repo.read_file(tip, "second.txt") == b"2\n"


def test_rebase_conflict_names_the_commit(repo: GitRepo) -> None:
    base, head = _diverge(repo, conflict=True)
    feature_sha = repo.resolve(head)
    with pytest.raises(MergeConflict) as conflict:
        repo.rebase(base, head, ALICE)
    assert conflict.value.commit == feature_sha
    assert conflict.value.files == ("src/app.py",)


def test_revert_of_a_merge_commit_relative_to_parent_one(repo: GitRepo) -> None:
    base, head = _diverge(repo, conflict=False)
    before = repo.resolve(base)
    assert before is not None
    merge = repo.merge_commit(base, head, "Release", ALICE)
    repo.update_ref(base, merge, before)
    later = repo.commit_files("main", {"later.txt": "l\n"}, "Later change", BOB)
    revert = repo.revert(merge, later, ALICE)
    info = repo.commit_info(revert)
    assert info.parents == (later,)
    assert info.message == f'Revert "Release"\n\nThis reverts commit {merge}.\n'
    assert repo.read_file(revert, "feature.txt") is None  # the merged change is gone
    assert repo.read_file(revert, "src/app.py") == b"print('v1')\n"
    assert repo.read_file(revert, "later.txt") == b"l\n"  # later work stays
    assert repo.read_file(revert, "main.txt") == b"print('main')\n"
    # reverting the revert brings the change back (the "re-apply" of a rollback)
    reapply = repo.revert(revert, revert, ALICE)
    assert repo.read_file(reapply, "feature.txt") == b"f\n"


def test_revert_conflict(repo: GitRepo) -> None:
    first = repo.commit_files("main", {"src/app.py": "print('a')\n"}, "A", ALICE)
    repo.commit_files("main", {"src/app.py": "print('b')\n"}, "B", ALICE)
    with pytest.raises(MergeConflict) as conflict:
        repo.revert(first, "refs/heads/main", ALICE)
    assert conflict.value.files == ("src/app.py",)


def test_cherry_pick_records_origin_and_keeps_author(repo: GitRepo) -> None:
    base = repo.ref("refs/heads/main")
    assert base is not None
    repo.update_ref("refs/heads/prod", base, None)
    repo.commit_files("main", {"unrelated.txt": "u\n"}, "Unrelated", BOB)
    fix = repo.commit_files("main", {"src/app.py": "print('fixed')\n"}, "Fix the bug", ALICE)
    picked = repo.cherry_pick(fix, "refs/heads/prod", Signature("GitHub", "noreply@github.com", 1_800_002_000))
    info = repo.commit_info(picked)
    assert info.parents == (base,)
    assert info.author == ALICE
    assert info.message == f"Fix the bug\n\n(cherry picked from commit {fix})\n"
    assert repo.read_file(picked, "src/app.py") == b"print('fixed')\n"
    assert repo.read_file(picked, "unrelated.txt") is None  # only the picked change


def test_cherry_pick_conflict(repo: GitRepo) -> None:
    base = repo.ref("refs/heads/main")
    assert base is not None
    repo.update_ref("refs/heads/prod", base, None)
    repo.commit_files("prod", {"src/app.py": "print('prod')\n"}, "Prod only", BOB)
    fix = repo.commit_files("main", {"src/app.py": "print('fixed')\n"}, "Fix", ALICE)
    with pytest.raises(MergeConflict) as conflict:
        repo.cherry_pick(fix, "refs/heads/prod", ALICE)
    assert conflict.value.files == ("src/app.py",)
    assert conflict.value.commit == fix


def test_git_ignores_the_users_configuration(repo: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("[user]\n\tname = Intruder\n[core]\n\thooksPath = /nonexistent\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Intruder")
    sha = repo.commit_files("main", {"x.txt": "x\n"}, "X", ALICE)
    assert repo.commit_info(sha).author.name == "Alice"
    assert repo.commit_info(sha).committer.name == "Alice"


def test_commit_series_with_fast_import(repo: GitRepo) -> None:
    before = repo.ref("refs/heads/main")
    shas = repo.commit_series("main", [
        ({"a b/c.txt": "1\n", "src/app.py": None}, "One", ALICE),
        ({"a b/c.txt": "2\n", 'odd "name".txt': "q\n"}, "Two\n\nbody", BOB),
    ])
    assert repo.ref("refs/heads/main") == shas[1]
    infos = repo.commit_infos(shas)
    assert [i.parents for i in infos] == [(before,), (shas[0],)]
    assert [(i.subject, i.author) for i in infos] == [("One", ALICE), ("Two", BOB)]
    assert repo.read_file(shas[0], "src/app.py") is None
    assert repo.read_file(shas[1], "a b/c.txt") == b"2\n"
    assert repo.read_file(shas[1], 'odd "name".txt') == b"q\n"
    assert repo.refs("refs/opsgh-import/") == {}  # the scratch ref is gone
    fresh = repo.commit_series("topic", [({"t.txt": "t\n"}, "Root", ALICE)])
    assert repo.commit_info(fresh[0]).parents == ()
