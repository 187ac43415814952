"""Who may do what: roles, private repositories, token kinds and scopes, answered the way GitHub does."""

from __future__ import annotations

import pytest
from sandbox.support import ContractRecorder, client

from opsgh.sandbox import Sandbox


@pytest.fixture
def secret(sandbox: Sandbox) -> str:
    """A private repository acme/secret; returns the sha of main."""
    for login in ("alice", "bob", "carol", "mallory"):
        sandbox.add_user(login)
    sandbox.create_repo("acme", "secret", private=True,
                        collaborators={"alice": "admin", "bob": "write", "carol": "read"})
    return sandbox.app.git_repo(sandbox.repo("acme", "secret")).ref("refs/heads/main") or ""


def new_branch(sandbox: Sandbox, token: str, sha: str, name: str) -> int:
    return client(sandbox, token).post("/repos/acme/secret/git/refs",
                                       json={"ref": f"refs/heads/{name}", "sha": sha}).status_code




def test_roles_on_a_private_repository(sandbox: Sandbox, secret: str, sandbox_contract: ContractRecorder) -> None:
    tokens = {login: sandbox.add_user(login) for login in ("alice", "bob", "carol", "mallory")}
    # no access at all: the repository does not exist as far as the caller can tell
    assert client(sandbox, tokens["mallory"]).get("/repos/acme/secret").status_code == 404
    assert client(sandbox).get("/repos/acme/secret").status_code == 404
    # read: can read, cannot write
    assert client(sandbox, tokens["carol"]).get("/repos/acme/secret/branches").status_code == 200
    refused = client(sandbox, tokens["carol"]).post("/repos/acme/secret/git/refs",
                                                     json={"ref": "refs/heads/c", "sha": secret})
    assert refused.status_code == 403
    assert refused.json()["message"] == "Must have push access to repository."
    # write and admin can
    assert new_branch(sandbox, tokens["bob"], secret, "b") == 201
    assert new_branch(sandbox, tokens["alice"], secret, "a") == 201
    assert new_branch(sandbox, tokens["mallory"], secret, "m") == 404


def test_public_repository_reads_are_open_writes_are_not(sandbox: Sandbox,
                                                         sandbox_contract: ContractRecorder) -> None:
    outsider = sandbox.add_user("mallory")
    sandbox.create_repo("acme", "open")
    anonymous = client(sandbox)
    assert anonymous.get("/repos/acme/open/contents/README.md").status_code == 200
    sha = anonymous.get("/repos/acme/open/git/ref/heads/main").json()["object"]["sha"]
    assert anonymous.post("/repos/acme/open/git/refs", json={"ref": "refs/heads/x", "sha": sha}).status_code == 401
    assert client(sandbox, outsider).post("/repos/acme/open/git/refs",
                                          json={"ref": "refs/heads/x", "sha": sha}).status_code == 404


def test_classic_pat_scopes(sandbox: Sandbox, secret: str) -> None:
    no_repo_scope = sandbox.add_user("alice", scopes=("read:org",))
    answer = client(sandbox, no_repo_scope).get("/repos/acme/secret")
    assert answer.status_code == 404  # a private repository needs the repo scope
    assert answer.headers["x-oauth-scopes"] == "read:org"


def test_actions_token_is_bound_to_its_repository_and_permissions(sandbox: Sandbox, secret: str) -> None:
    sandbox.create_repo("acme", "other", private=True)
    read_only = sandbox.add_user("ignored", kind="actions", repositories=("acme/secret",),
                                 permissions={"contents": "read", "metadata": "read"})
    api = client(sandbox, read_only)
    assert api.get("/repos/acme/secret").status_code == 200
    assert api.get("/repos/acme/other").status_code == 404  # another repository
    refused = api.post("/repos/acme/secret/git/refs", json={"ref": "refs/heads/x", "sha": secret})
    assert refused.status_code == 403
    assert refused.json()["message"] == "Resource not accessible by integration"
    assert refused.headers["x-accepted-github-permissions"] == "contents=write"
    writer = sandbox.add_user("ignored", kind="actions", repositories=("acme/secret",))
    assert new_branch(sandbox, writer, secret, "from-actions") == 201
    assert sandbox.state.tokens[writer].triggers_workflows is False  # GITHUB_TOKEN events start no workflows
    me = client(sandbox, writer).get("/user")
    assert me.status_code == 403


def test_fine_grained_token(sandbox: Sandbox, secret: str) -> None:
    token = sandbox.add_user("bob", kind="fine-grained", permissions={"contents": "read", "metadata": "read"},
                             repositories=("acme/secret",))
    assert token.startswith("github_pat_")
    api = client(sandbox, token)
    assert api.get("/repos/acme/secret/branches").status_code == 200
    refused = api.post("/repos/acme/secret/git/refs", json={"ref": "refs/heads/x", "sha": secret})
    assert refused.status_code == 403
    assert refused.json()["message"] == "Resource not accessible by personal access token"
    assert refused.headers["x-accepted-github-permissions"] == "contents=write"
    # the permission alone is not enough: the user's role still counts
    carol = sandbox.add_user("carol", kind="fine-grained", permissions={"contents": "write"},
                             repositories=("acme/secret",))
    assert new_branch(sandbox, carol, secret, "c") == 403


def test_app_installation_limited_to_selected_repositories(sandbox: Sandbox, secret: str) -> None:
    sandbox.create_repo("acme", "other", private=True)
    credentials = sandbox.add_app("release-bot", "acme", repositories=("secret",),
                                  permissions={"contents": "write", "metadata": "read"})
    token = sandbox.installation_token(credentials)
    assert client(sandbox, token).get("/repos/acme/secret").status_code == 200
    assert client(sandbox, token).get("/repos/acme/other").status_code == 404
    assert new_branch(sandbox, token, secret, "from-app") == 201


def test_archived_repository_is_read_only(sandbox: Sandbox, secret: str) -> None:
    token = sandbox.add_user("alice")
    sandbox.repo("acme", "secret").archived = True
    answer = client(sandbox, token).post("/repos/acme/secret/git/refs", json={"ref": "refs/heads/x", "sha": secret})
    assert (answer.status_code, answer.json()["message"]) == (403, "Repository was archived so is read-only.")


def test_admin_level_refusal_message(sandbox: Sandbox, secret: str) -> None:
    from opsgh.sandbox.routing import ApiError, Auth, Request

    writer = sandbox.state.tokens[sandbox.add_user("bob")]
    request = Request(sandbox.app, "GET", "/", {}, {}, b"", Auth(writer, sandbox.state.user("bob")), "id")
    with pytest.raises(ApiError) as refused:
        request.require(sandbox.repo("acme", "secret"), "admin", permission="administration")
    assert (refused.value.status, refused.value.message) == (403, "Must have admin rights to Repository.")
    checks = sandbox.state.tokens[sandbox.add_user("alice")]
    request.auth = Auth(checks, sandbox.state.user("alice"))
    with pytest.raises(ApiError) as pat:
        request.require(sandbox.repo("acme", "secret"), "write", permission="checks", integration_only=True)
    assert (pat.value.status, pat.value.message) == (403, "Resource not accessible by personal access token")
