"""opsgh's own GitHub gateway against the sandbox: repository, branches, files, refs, token report, Apps."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from opsgh.clock import FakeClock
from opsgh.errors import NotFound
from opsgh.github.gateway import GitHubGateway
from opsgh.ports import RefInfo
from opsgh.sandbox import Sandbox


@pytest.fixture
def gateway(sandbox: Sandbox) -> Iterator[GitHubGateway]:
    token = sandbox.add_user("alice", scopes=("repo", "workflow"))
    sandbox.create_repo("acme", "shop", private=True, collaborators={"alice": "admin"})
    sandbox.commit("acme", "shop", "main", {".github/opsgh.yml": "branches: {production: prod}\n"}, "Config")
    sandbox.create_branch("acme", "shop", "prod", "main")
    sandbox.protect("acme", "shop", "prod")
    connected = GitHubGateway.connect(api_url=sandbox.url, token=token, clock=FakeClock(), jitter=None)
    yield connected
    connected.close()


def test_gateway_reads_repository_branches_and_files(sandbox: Sandbox, gateway: GitHubGateway) -> None:
    repo = gateway.get_repository("acme/shop")
    assert (repo.full_name, repo.default_branch, repo.private) == ("acme/shop", "main", True)
    assert repo.permissions is not None
    assert repo.permissions["admin"] is True
    assert repo.allow_merge_commit is True
    prod = gateway.get_branch("acme/shop", "prod")
    assert prod is not None
    assert prod.protected is True
    assert prod.sha == sandbox.app.git_repo(sandbox.repo("acme", "shop")).ref("refs/heads/prod")
    assert gateway.get_branch("acme/shop", "nope") is None
    assert gateway.get_file_text("acme/shop", ".github/opsgh.yml", "main") == "branches: {production: prod}\n"
    assert gateway.get_file_text("acme/shop", "missing.yml", "main") is None
    assert gateway.get_file_text("acme/shop", ".github", "main") is None  # a directory is not a file
    with pytest.raises(NotFound):
        gateway.get_repository("acme/nope")


def test_gateway_refs(sandbox: Sandbox, gateway: GitHubGateway) -> None:
    main = gateway.get_ref("acme/shop", "heads/main")
    assert main is not None
    created = gateway.create_ref("acme/shop", "refs/heads/release/2027-01-15", main.sha)
    assert created == RefInfo("refs/heads/release/2027-01-15", main.sha)
    newer = sandbox.commit("acme", "shop", "main", {"x.txt": "x\n"}, "More")
    assert gateway.update_ref("acme/shop", "heads/release/2027-01-15", newer).sha == newer
    assert gateway.get_ref("acme/shop", "heads/nope") is None


def test_gateway_token_report(gateway: GitHubGateway) -> None:
    report = gateway.token_report()
    assert report.login == "alice"
    assert report.kind == "classic-pat"
    assert report.scopes == ("repo", "workflow")
    assert report.rate_limit_limit == 5000


def test_gateway_retries_a_server_error(sandbox: Sandbox, gateway: GitHubGateway) -> None:
    sandbox.faults.error("GET", "/repos/acme/shop", 502, times=1)
    assert gateway.get_repository("acme/shop").full_name == "acme/shop"
    assert [e.status for e in sandbox.log.find(path="/repos/acme/shop")] == [502, 200]


def test_gateway_as_a_github_app(sandbox: Sandbox, sandbox_clock: FakeClock) -> None:
    sandbox.create_repo("acme", "shop", private=True)
    credentials = sandbox.add_app("release-bot", "acme", permissions={"contents": "write", "metadata": "read"})
    app_gateway = GitHubGateway.connect(api_url=sandbox.url, app_id=credentials.app_id,
                                        private_key=credentials.private_key, repo="acme/shop", clock=sandbox_clock,
                                        jitter=None)
    try:
        repo = app_gateway.get_repository("acme/shop")
        assert repo.full_name == "acme/shop"
        report = app_gateway.token_report()
        assert report.login is None  # GET /user is refused to installation tokens
    finally:
        app_gateway.close()
    operations = [e.operation for e in sandbox.log.entries]
    assert "GET /repos/{owner}/{repo}/installation" in operations
    assert "POST /app/installations/{installation_id}/access_tokens" in operations
