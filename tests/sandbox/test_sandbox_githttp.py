"""Clone, fetch and push over git's smart HTTP, with token auth and protected branches."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from opsgh.sandbox import Sandbox
from opsgh.sandbox.gitstore import git_environment


def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = git_environment({"GIT_AUTHOR_NAME": "Alice", "GIT_AUTHOR_EMAIL": "alice@example.invalid",
                           "GIT_COMMITTER_NAME": "Alice", "GIT_COMMITTER_EMAIL": "alice@example.invalid",
                           "GIT_ASKPASS": "/bin/false"})
    result = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=60)
    if check and result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed:\n{result.stderr}")
    return result


@pytest.fixture
def shop(sandbox: Sandbox) -> dict[str, str]:
    tokens = {"alice": sandbox.add_user("alice", email="alice@example.invalid"), "carol": sandbox.add_user("carol")}
    sandbox.create_repo("acme", "shop", private=True, collaborators={"alice": "write", "carol": "read"})
    sandbox.create_branch("acme", "shop", "prod", "main")
    sandbox.protect("acme", "shop", "prod", required_pull_request_reviews={"required_approving_review_count": 1})
    return tokens


def clone(sandbox: Sandbox, tmp_path: Path, token: str) -> Path:
    target = tmp_path / "work"
    git(tmp_path, "clone", "--quiet", sandbox.git_url("acme", "shop", token), str(target))
    return target


def test_clone_commit_push_to_main(sandbox: Sandbox, shop: dict[str, str], tmp_path: Path) -> None:
    seen: list[tuple[str, str | None, str | None, str | None]] = []
    sandbox.on_ref_update(lambda repo, ref, old, new, actor: seen.append((ref, old, new, actor)))
    work = clone(sandbox, tmp_path, shop["alice"])
    assert (work / "README.md").read_text() == "# shop\n"
    (work / "app.py").write_text("print('hi')\n")
    git(work, "add", "app.py")
    git(work, "commit", "--quiet", "-m", "Add app")
    pushed = git(work, "push", "origin", "main")
    head = git(work, "rev-parse", "HEAD").stdout.strip()
    repo = sandbox.app.git_repo(sandbox.repo("acme", "shop"))
    assert repo.ref("refs/heads/main") == head
    assert repo.read_file("main", "app.py") == b"print('hi')\n"
    assert seen[-1][0] == "refs/heads/main"
    assert seen[-1][2:] == (head, "alice")
    assert "main -> main" in pushed.stderr
    # a second clone sees it; fetch works too
    again = tmp_path / "again"
    git(tmp_path, "clone", "--quiet", sandbox.git_url("acme", "shop", shop["carol"]), str(again))
    assert (again / "app.py").is_file()
    git(again, "fetch", "--quiet", "origin")
    kinds = {e.kind for e in sandbox.log.entries}
    assert kinds == {"git"}  # git traffic is logged, and not checked against the REST description


def test_push_to_protected_branch_is_rejected_like_github(sandbox: Sandbox, shop: dict[str, str],
                                                           tmp_path: Path) -> None:
    work = clone(sandbox, tmp_path, shop["alice"])
    git(work, "checkout", "--quiet", "prod")
    (work / "hotfix.txt").write_text("fix\n")
    git(work, "add", "hotfix.txt")
    git(work, "commit", "--quiet", "-m", "Direct to prod")
    before = sandbox.app.git_repo(sandbox.repo("acme", "shop")).ref("refs/heads/prod")
    pushed = git(work, "push", "origin", "prod", check=False)
    assert pushed.returncode != 0
    assert "remote: error: GH006: Protected branch update failed for refs/heads/prod." in pushed.stderr
    assert "remote: error: Changes must be made through a pull request." in pushed.stderr
    assert "[remote rejected] prod -> prod" in pushed.stderr
    assert sandbox.app.git_repo(sandbox.repo("acme", "shop")).ref("refs/heads/prod") == before
    # a branch that only forbids force pushes accepts a fast-forward and refuses a rewrite
    sandbox.protect("acme", "shop", "prod")
    git(work, "push", "--quiet", "origin", "prod")
    git(work, "commit", "--quiet", "--amend", "-m", "Rewritten")
    forced = git(work, "push", "--force", "origin", "prod", check=False)
    assert forced.returncode != 0
    assert "Cannot force-push to this branch" in forced.stderr
    deleted = git(work, "push", "origin", ":prod", check=False)
    assert "Cannot delete this protected branch." in deleted.stderr


def test_push_without_token_or_write_access_is_refused(sandbox: Sandbox, shop: dict[str, str],
                                                       tmp_path: Path) -> None:
    anonymous = git(tmp_path, "clone", "--quiet", f"{sandbox.url}/acme/shop.git", str(tmp_path / "anon"),
                    check=False)
    assert anonymous.returncode != 0  # private: 401, and git has no credentials to offer
    assert "Authentication failed" in anonymous.stderr or "could not read Username" in anonymous.stderr
    assert sandbox.log.entries[0].status == 401
    work = clone(sandbox, tmp_path, shop["carol"])  # read access clones
    (work / "x.txt").write_text("x\n")
    git(work, "add", "x.txt")
    git(work, "commit", "--quiet", "-m", "X")
    refused = git(work, "push", "origin", "main", check=False)
    assert refused.returncode != 0
    assert "Permission to acme/shop.git denied to carol." in refused.stderr
    git(work, "remote", "set-url", "origin", f"{sandbox.url}/acme/shop.git")
    no_token = git(work, "push", "origin", "main", check=False)
    assert no_token.returncode != 0
    assert any(e.status == 401 and e.path == "/acme/shop.git/info/refs" for e in sandbox.log.entries)
    bad = git(work, "push", sandbox.git_url("acme", "shop", "ghp_" + "0" * 36), "main", check=False)
    assert bad.returncode != 0


def test_faults_apply_to_git_over_http(sandbox: Sandbox, shop: dict[str, str], tmp_path: Path) -> None:
    work = clone(sandbox, tmp_path, shop["alice"])
    repo = sandbox.app.git_repo(sandbox.repo("acme", "shop"))
    (work / "a.txt").write_text("a\n")
    git(work, "add", "a.txt")
    git(work, "commit", "--quiet", "-m", "A")
    head = git(work, "rev-parse", "HEAD").stdout.strip()

    sandbox.faults.error("POST", "/acme/shop.git/git-receive-pack", 502)
    refused = git(work, "push", "origin", "HEAD:refs/heads/a", check=False)
    assert refused.returncode != 0
    assert "502" in refused.stderr
    assert repo.ref("refs/heads/a") is None  # not applied

    sandbox.faults.landed_then("POST", "/acme/shop.git/git-receive-pack", 502)
    lost = git(work, "push", "origin", "HEAD:refs/heads/b", check=False)
    assert lost.returncode != 0
    assert repo.ref("refs/heads/b") == head  # applied, the answer lost

    sandbox.faults.drop("GET", "/acme/shop.git/info/refs", times=None)  # curl retries a dropped connection once
    dropped = git(work, "fetch", "--quiet", "origin", check=False)
    assert dropped.returncode != 0
    faults = [e.fault for e in sandbox.log.entries if e.kind == "git" and e.fault]
    assert faults[:2] == ["502", "landed+502"]
    assert set(faults[2:]) == {"drop"}
