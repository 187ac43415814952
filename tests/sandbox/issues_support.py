"""Shared setup for the issue, check, deployment and release tests: a seeded repository and pull requests.

`make_shop(sandbox)` creates acme/shop with alice (admin), bob (write), carol (read), dave (no access),
a GitHub App allowed to write checks, and httpx clients for each. `open_pull(...)` opens a pull request:
through POST /pulls when the sandbox serves it, otherwise (before routes/pulls.py exists) by putting a
minimal item in the `pulls` collection, which is all the issue side reads (see `pull_views`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
from sandbox.support import client

from opsgh.sandbox import Sandbox
from opsgh.sandbox.api import AppCredentials
from opsgh.sandbox.routes.issues import PULLS_COLLECTION
from opsgh.sandbox.state import Collection

CHECKS_APP_PERMISSIONS = {"checks": "write", "statuses": "write", "contents": "write", "issues": "write",
                          "pull_requests": "write", "deployments": "write", "metadata": "read"}


@dataclass
class Shop:
    sandbox: Sandbox
    admin: httpx.Client  # alice
    writer: httpx.Client  # bob
    reader: httpx.Client  # carol
    stranger: httpx.Client  # dave: signed in, no role
    anonymous: httpx.Client
    app: httpx.Client  # an installation token of the "ci" App (checks, statuses, deployments...)
    credentials: AppCredentials


def make_shop(sandbox: Sandbox) -> Shop:
    alice = sandbox.add_user("alice", email="alice@example.invalid")
    bob = sandbox.add_user("bob", email="bob@example.invalid")
    carol = sandbox.add_user("carol")
    dave = sandbox.add_user("dave")
    sandbox.create_repo("acme", "shop", collaborators={"alice": "admin", "bob": "write", "carol": "read"})
    sandbox.commit("acme", "shop", "main", {"app.py": "print(1)\n"}, "Add app", author="alice")
    credentials = sandbox.add_app("ci", "acme", permissions=CHECKS_APP_PERMISSIONS)
    app_token = sandbox.installation_token(credentials)
    return Shop(sandbox, client(sandbox, alice), client(sandbox, bob), client(sandbox, carol), client(sandbox, dave),
                client(sandbox), client(sandbox, app_token), credentials)


@dataclass
class FakePull:
    """The fields of a pull request that the issue side reads (used until routes/pulls.py exists)."""

    number: int
    id: int
    title: str
    user: str
    head_ref: str
    head_sha: str
    base_ref: str
    body: str | None = None
    state: str = "open"
    draft: bool = False
    created_at: float = 0.0
    updated_at: float = 0.0
    closed_at: float | None = None
    merged_at: float | None = None
    merge_commit_sha: str | None = None


def pulls_served(sandbox: Sandbox) -> bool:
    return any(route.operation == "POST /repos/{owner}/{repo}/pulls" for route in sandbox.app.router.routes)


@contextmanager
def pulls_available(sandbox: Sandbox) -> Iterator[None]:
    """Make sure a `pulls` collection exists for the test (a FakePull one when no module declares it)."""
    registered = PULLS_COLLECTION in Collection.registry
    if not registered:
        Collection(PULLS_COLLECTION, FakePull, key=int)
    try:
        yield
    finally:
        if not registered:
            Collection.registry.pop(PULLS_COLLECTION, None)


def open_pull(shop: Shop, head: str, base: str, title: str, *, author: httpx.Client | None = None,
              login: str = "bob") -> int:
    """Open a pull request head -> base (both branches must exist); returns its number."""
    sandbox = shop.sandbox
    if pulls_served(sandbox):
        response = (author or shop.writer).post("/repos/acme/shop/pulls",
                                                json={"title": title, "head": head, "base": base})
        assert response.status_code == 201, response.text
        return int(response.json()["number"])
    with sandbox.app.lock:
        repo = sandbox.repo("acme", "shop")
        git = sandbox.app.git_repo(repo)
        head_sha = git.resolve(head)
        assert head_sha is not None
        number = repo.next_number()
        now = sandbox.app.now()
        pulls = repo.items(Collection.registry[PULLS_COLLECTION])
        pulls[number] = FakePull(number, sandbox.state.next_id("pull"), title, login, head, head_sha, base,
                                 created_at=now, updated_at=now)
        return number


def merge_pull(shop: Shop, number: int) -> str:
    """Merge a pull request (merge commit); returns the merge commit's sha."""
    sandbox = shop.sandbox
    if pulls_served(sandbox):
        response = shop.admin.put(f"/repos/acme/shop/pulls/{number}/merge", json={"merge_method": "merge"})
        assert response.status_code == 200, response.text
        return str(response.json()["sha"])
    with sandbox.app.lock:
        repo = sandbox.repo("acme", "shop")
        pull = repo.items(Collection.registry[PULLS_COLLECTION])[number]
        assert isinstance(pull, FakePull)
        git = sandbox.app.git_repo(repo)
        base = git.ref(f"refs/heads/{pull.base_ref}")
        assert base is not None
        sha = git.merge_commit(base, pull.head_sha, f"Merge pull request #{number}", sandbox.signature("alice"))
        sandbox.app.move_ref(repo, f"refs/heads/{pull.base_ref}", sha, base)
        pull.state, pull.merged_at, pull.closed_at, pull.merge_commit_sha = "closed", sandbox.app.now(), \
            sandbox.app.now(), sha
        return sha
