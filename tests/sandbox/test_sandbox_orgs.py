"""GET /orgs/{org}/repos: what each caller may see, GitHub's filters, sort orders and pages."""

from __future__ import annotations

import pytest
from sandbox.support import ContractRecorder, client

from opsgh.clock import FakeClock
from opsgh.sandbox import Sandbox

REPOS = "/orgs/acme/repos"


@pytest.fixture
def tokens(sandbox: Sandbox, sandbox_clock: FakeClock) -> dict[str, str]:
    people = {login: sandbox.add_user(login) for login in ("alice", "dave")}
    sandbox.add_org("acme")
    for name, private in (("web", False), ("api", True), ("docs", False), ("vault", True)):
        sandbox.create_repo("acme", name, private=private, collaborators={"alice": "admin"} if name != "vault" else {})
        sandbox_clock.advance(60)  # created one after the other
    with sandbox.app.lock:
        sandbox.repo("acme", "docs").fork = True
        sandbox.repo("acme", "web").topics = ["production", "frontend"]
        sandbox.repo("acme", "api").archived = True
    return people


def names(answer: object) -> list[str]:
    assert isinstance(answer, list)
    return [repo["name"] for repo in answer]


def test_callers_see_public_repositories_and_the_private_ones_they_may_read(sandbox: Sandbox,
                                                                            tokens: dict[str, str]) -> None:
    as_alice = client(sandbox, tokens["alice"]).get(REPOS).json()
    assert names(as_alice) == ["docs", "api", "web"]  # newest first; vault is private and alice is no collaborator
    web = as_alice[2]
    assert (web["topics"], web["archived"], web["fork"]) == (["production", "frontend"], False, False)
    assert as_alice[1]["archived"] is True
    assert as_alice[0]["fork"] is True
    assert web["permissions"]["admin"] is True
    assert names(client(sandbox, tokens["dave"]).get(REPOS).json()) == ["docs", "web"]
    assert names(client(sandbox).get(REPOS).json()) == ["docs", "web"]


def test_type_sort_and_pages(sandbox: Sandbox, tokens: dict[str, str]) -> None:
    api = client(sandbox, tokens["alice"])
    assert names(api.get(REPOS, params={"type": "forks"}).json()) == ["docs"]
    assert names(api.get(REPOS, params={"type": "sources"}).json()) == ["api", "web"]
    assert names(api.get(REPOS, params={"type": "private"}).json()) == ["api"]
    assert names(api.get(REPOS, params={"type": "public"}).json()) == ["docs", "web"]
    assert names(api.get(REPOS, params={"type": "member"}).json()) == ["docs", "api", "web"]
    assert names(api.get(REPOS, params={"sort": "full_name"}).json()) == ["api", "docs", "web"]
    assert names(api.get(REPOS, params={"sort": "full_name", "direction": "desc"}).json()) == ["web", "docs", "api"]
    first = api.get(REPOS, params={"sort": "full_name", "per_page": 2})
    assert names(first.json()) == ["api", "docs"]
    assert first.links["next"]["url"].endswith("/orgs/acme/repos?sort=full_name&per_page=2&page=2")
    assert names(api.get(first.links["next"]["url"]).json()) == ["web"]


def test_an_app_sees_the_private_repositories_it_is_installed_on(sandbox: Sandbox, tokens: dict[str, str]) -> None:
    app = sandbox.add_app("auditor", "acme", permissions={"metadata": "read"}, repositories=("vault", "web"))
    # vault (private, selected) but not api (private, not selected); public ones are visible to anyone.
    assert names(client(sandbox, sandbox.installation_token(app)).get(REPOS).json()) == ["vault", "docs", "web"]


def test_users_and_unknown_logins_are_not_organisations(sandbox: Sandbox, tokens: dict[str, str],
                                                        sandbox_contract: ContractRecorder) -> None:
    # GitHub answers 404 here; its description lists only 200 for this operation.
    sandbox_contract.expect("response status 404", operation="GET /orgs/{org}/repos")
    api = client(sandbox, tokens["alice"])
    assert api.get("/orgs/alice/repos").status_code == 404
    assert api.get("/orgs/nobody/repos").json()["message"] == "Not Found"
