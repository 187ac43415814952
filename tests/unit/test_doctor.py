"""`opsgh doctor` end to end through the CLI: no token, a bad token, no network, a healthy repo."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from local_http import QuietHandler, base_url, serving

from opsgh.cli import run
from opsgh.errors import ExitCode

GOOD_TOKEN = "ghp_" + "G" * 36
BAD_TOKEN = "ghp_" + "B" * 36


class FakeGitHubHandler(QuietHandler):
    """A tiny GitHub on 127.0.0.1: what doctor reads, answered like GitHub does."""

    repo: ClassVar[dict[str, Any]] = {}
    branches: ClassVar[set[str]] = set()
    workflow_permissions: ClassVar[tuple[int, dict[str, Any]]] = (200, {})
    files: ClassVar[dict[str, str]] = {}
    content_refs: ClassVar[list[str]] = []

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self.send_json(status, body, headers)

    def do_GET(self) -> None:
        if self.headers.get("Authorization") != f"Bearer {GOOD_TOKEN}":
            self._send(401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest",
                             "status": "401"})
            return
        limits = {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "4990", "x-ratelimit-reset": "1900000000"}
        path = self.path.split("?")[0]
        if path == "/rate_limit":
            core = {"limit": 5000, "remaining": 4990, "reset": 1900000000, "used": 10}
            self._send(200, {"resources": {"core": core}, "rate": core}, limits)
        elif path == "/user":
            self._send(200, {"login": "octocat", "id": 1}, {**limits, "x-oauth-scopes": "repo, workflow"})
        elif path == "/repos/acme/shop":
            self._send(200, self.repo, limits)
        elif path.startswith("/repos/acme/shop/branches/"):
            name = path.rsplit("/", 1)[1]
            if name in self.branches:
                self._send(200, {"name": name, "commit": {"sha": "a" * 40, "url": ""}, "protected": name == "prod"})
            else:
                self._send(404, {"message": "Branch not found", "documentation_url": "", "status": "404"})
        elif path == "/repos/acme/shop/actions/permissions/workflow":
            status, body = self.workflow_permissions
            self._send(status, body)
        elif path.startswith("/repos/acme/shop/contents/"):
            query = dict(part.split("=", 1) for part in self.path.partition("?")[2].split("&") if "=" in part)
            self.content_refs.append(query.get("ref", ""))
            name = path.removeprefix("/repos/acme/shop/contents/")
            if name in self.files and "raw" in self.headers.get("Accept", ""):
                text = self.files[name].encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/vnd.github.raw")
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)
            elif name in self.files:
                text = self.files[name].encode()
                self._send(200, {"type": "file", "encoding": "base64", "name": name.rsplit("/", 1)[-1], "path": name,
                                 "content": base64.b64encode(text).decode(), "size": len(text), "sha": "c" * 40})
            else:
                self._send(404, {"message": "Not Found", "documentation_url": "", "status": "404"})
        else:
            self._send(404, {"message": "Not Found", "documentation_url": "", "status": "404"})


@pytest.fixture
def fake_github() -> Iterator[str]:
    FakeGitHubHandler.repo = {
        "id": 1, "name": "shop", "full_name": "acme/shop", "default_branch": "main", "private": True,
        "archived": False, "fork": False, "allow_merge_commit": True, "allow_squash_merge": True,
        "allow_rebase_merge": False, "permissions": {"admin": True, "maintain": True, "push": True, "triage": True,
                                                     "pull": True},
    }
    FakeGitHubHandler.branches = {"main", "prod"}
    FakeGitHubHandler.files = {}
    FakeGitHubHandler.content_refs = []
    FakeGitHubHandler.workflow_permissions = (200, {"default_workflow_permissions": "read",
                                                     "can_approve_pull_request_reviews": True})
    with serving(FakeGitHubHandler) as server:
        yield base_url(server)


def _doctor(environ: dict[str, str], *args: str) -> int:
    return run(["--repo", "acme/shop", "doctor", *args], environ=environ)


def test_no_token_is_a_clear_report(capsys: pytest.CaptureFixture[str], tmp_path: Any,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert _doctor({}) == ExitCode.CHECK_FAILED
    out, err = capsys.readouterr()
    assert "[FAIL] token: no token found (GITHUB_TOKEN and GH_TOKEN are unset)" in out
    assert "fix: export GITHUB_TOKEN=" in out
    assert "[skip] branches: needs a token" in out
    assert "doctor: problems found" in out
    assert "Traceback" not in out + err


def test_bad_token_is_named_and_never_printed(fake_github: str, capsys: pytest.CaptureFixture[str],
                                              tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert _doctor({"GITHUB_TOKEN": BAD_TOKEN, "GITHUB_API_URL": fake_github}) == ExitCode.CHECK_FAILED
    out, err = capsys.readouterr()
    assert "[FAIL] token: GitHub rejected the token from GITHUB_TOKEN (401 Bad credentials)" in out
    assert BAD_TOKEN not in out + err
    assert "Traceback" not in out + err


def test_no_network_is_a_clear_report(capsys: pytest.CaptureFixture[str], tmp_path: Any,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    # Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    assert _doctor({"GITHUB_TOKEN": GOOD_TOKEN, "GITHUB_API_URL": "http://127.0.0.1:9"}) == ExitCode.CHECK_FAILED
    out, err = capsys.readouterr()
    assert "[FAIL] token: cannot reach GitHub at http://127.0.0.1:9" in out
    assert "GITHUB_API_URL" in out
    assert "Traceback" not in out + err


def test_healthy_repository(fake_github: str, capsys: pytest.CaptureFixture[str], tmp_path: Any,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert _doctor({"GITHUB_TOKEN": GOOD_TOKEN, "GITHUB_API_URL": fake_github}) == ExitCode.OK
    out = capsys.readouterr().out
    assert ("[ok  ] token: a classic personal access token for octocat (from GITHUB_TOKEN); "
            "scopes: repo, workflow") in out
    assert "[ok  ] rate limit: 4990 of 5000 requests left this hour" in out
    assert "[warn] check runs: only GitHub Apps may create check runs" in out
    assert "[ok  ] branches: main and prod exist" in out
    assert "[ok  ] repository access: acme/shop, default branch main, permission admin" in out
    assert "doctor: ready" in out


def test_missing_prod_branch_and_json(fake_github: str, capsys: pytest.CaptureFixture[str], tmp_path: Any,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    FakeGitHubHandler.branches = {"main"}
    FakeGitHubHandler.workflow_permissions = (403, {"message": "Must have admin rights to Repository.",
                                                    "documentation_url": "", "status": "403"})
    assert _doctor({"GITHUB_TOKEN": GOOD_TOKEN, "GITHUB_API_URL": fake_github}, "--json") == ExitCode.CHECK_FAILED
    report = json.loads(capsys.readouterr().out)
    checks = {c["name"]: c for c in report["checks"]}
    assert report["ok"] is False
    assert checks["branches"]["status"] == "fail"
    assert checks["branches"]["detail"] == "missing branch(es): prod"
    assert "git push origin main:prod" in checks["branches"]["fix"]
    assert checks["actions may open PRs"]["status"] == "skip"


def test_merge_commits_disabled_fails(fake_github: str, capsys: pytest.CaptureFixture[str], tmp_path: Any,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    FakeGitHubHandler.repo = {**FakeGitHubHandler.repo, "allow_merge_commit": False}
    assert _doctor({"GITHUB_TOKEN": GOOD_TOKEN, "GITHUB_API_URL": fake_github}) == ExitCode.CHECK_FAILED
    assert "[FAIL] merge commits: merge commits are disabled" in capsys.readouterr().out


def test_invalid_local_config_is_reported(fake_github: str, capsys: pytest.CaptureFixture[str], tmp_path: Any,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "opsgh.yml").write_text("release:\n  titel: x\n")
    assert _doctor({"GITHUB_TOKEN": GOOD_TOKEN, "GITHUB_API_URL": fake_github}) == ExitCode.CHECK_FAILED
    out = capsys.readouterr().out
    assert "[FAIL] config: .github/opsgh.yml:2: release.titel" in out


def test_verbose_prints_the_request_ledger(fake_github: str, capsys: pytest.CaptureFixture[str], tmp_path: Any,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert run(["-v", "--repo", "acme/shop", "doctor"],
               environ={"GITHUB_TOKEN": GOOD_TOKEN, "GITHUB_API_URL": fake_github}) == ExitCode.OK
    err = capsys.readouterr().err
    assert "GET     /rate_limit" in err or "GET  /rate_limit" in err or "/rate_limit" in err
    assert "/repos/{owner}/{repo}/branches/{branch}" in err
    assert "GitHub requests: " in err
    assert GOOD_TOKEN not in err


def test_config_show_reads_the_default_branch(fake_github: str, capsys: pytest.CaptureFixture[str],
                                              tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no local .github/opsgh.yml here
    FakeGitHubHandler.files = {".github/opsgh.yml": "branches:\n  production: live\nrelease:\n  labels: [ship]\n"}
    code = run(["--repo", "acme/shop", "config", "show", "--json"],
               environ={"GITHUB_TOKEN": GOOD_TOKEN, "GITHUB_API_URL": fake_github})
    out = capsys.readouterr().out
    assert code == ExitCode.OK
    shown = json.loads(out)
    assert shown["branches"] == {"staging": "main", "production": "live"}
    assert shown["release"]["labels"] == ["ship"]
    assert FakeGitHubHandler.content_refs == ["main"]


def test_invalid_config_on_the_default_branch_names_its_source(
        fake_github: str, capsys: pytest.CaptureFixture[str], tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    FakeGitHubHandler.files = {".github/opsgh.yml": "release:\n  merge_method: squash\n"}
    code = run(["--repo", "acme/shop", "config", "show"],
               environ={"GITHUB_TOKEN": GOOD_TOKEN, "GITHUB_API_URL": fake_github})
    err = capsys.readouterr().err
    assert code == ExitCode.USAGE
    assert err.startswith("error: acme/shop@main:.github/opsgh.yml:2: release.merge_method")
