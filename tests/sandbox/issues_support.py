"""Shared setup for the issue, check, deployment and release tests: a seeded repository and pull requests.

`make_shop(sandbox)` creates acme/shop with alice (admin), bob (write), carol (read), dave (no access),
a GitHub App allowed to write checks, and httpx clients for each. `open_pull(...)` and `merge_pull(...)`
go through the pull request routes.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from sandbox.support import client

from opsgh.sandbox import Sandbox
from opsgh.sandbox.api import AppCredentials

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


def open_pull(shop: Shop, head: str, base: str, title: str, *, author: httpx.Client | None = None) -> int:
    """Open a pull request head -> base (both branches must exist) as bob; returns its number."""
    response = (author or shop.writer).post("/repos/acme/shop/pulls", json={"title": title, "head": head,
                                                                          "base": base})
    assert response.status_code == 201, response.text
    return int(response.json()["number"])


def merge_pull(shop: Shop, number: int) -> str:
    """Merge a pull request (merge commit) as alice; returns the merge commit's sha."""
    response = shop.admin.put(f"/repos/acme/shop/pulls/{number}/merge", json={"merge_method": "merge"})
    assert response.status_code == 200, response.text
    return str(response.json()["sha"])
