"""A repository with a release on `prod` and work on `main`, for `opsgh hotfix start` / `opsgh backport`.

Hotfixes land the way people land them on GitHub: a branch from `prod`, commits pushed, a pull request
into `prod`, an approving review from bob, a merge with the chosen method (merge commit, squash,
rebase) through the REST API. The back-port then runs with real git against the sandbox's git over
HTTP, like it does against GitHub.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sandbox.support import client

from opsgh.clock import FakeClock
from opsgh.config import Config, load_config
from opsgh.git import GitCheckout
from opsgh.github.gateway import GitHubGateway
from opsgh.ops.backport import BackportRequest, BackportResult, backport
from opsgh.sandbox import Sandbox

CONFIG = """\
branches: {staging: main, production: prod}
hotfix: {backport_to: [main], on_conflict: draft-pr}
"""

PAY = "def charge(amount):\n    return gateway.charge(amount, timeout=30)\n"


class HotfixRepo:
    """acme/shop: alice (admin, runs opsgh), bob and dave (write, reviewers); `prod` is the last release of
    `main`, and `main` has moved on since (a feature in another file)."""

    def __init__(self, sandbox: Sandbox, clock: FakeClock, *, config: str = CONFIG) -> None:
        self.sandbox, self.clock = sandbox, clock
        self.owner, self.name, self.full_name = "acme", "shop", "acme/shop"
        self.tokens = {login: sandbox.add_user(login, name=login.title(), scopes=("repo", "workflow"))
                       for login in ("alice", "bob", "dave")}
        sandbox.create_repo("acme", "shop", collaborators={"alice": "admin", "bob": "write", "dave": "write"},
                            initial_commit=False)
        self.first = sandbox.commit("acme", "shop", "main", {
            "README.md": "# shop\n", ".github/opsgh.yml": config, "app/pay.py": PAY,
            "app/cart.py": "def total(items):\n    return sum(i.price for i in items)\n"},
            "Initial commit", author="alice")
        sandbox.create_branch("acme", "shop", "prod", "main")
        self.feature = self.push("main", {"app/search.py": "def search(q):\n    return []\n"}, "Add search")
        self.config: Config = load_config(config)
        self._gateways: list[GitHubGateway] = []

    # ------------------------------------------------------------------ REST, git

    def call(self, method: str, path: str, body: Any = None, *, login: str = "alice", expect: int = 200,
             params: Mapping[str, Any] | None = None) -> Any:
        with client(self.sandbox, self.tokens[login], timeout=30) as api:
            answer = api.request(method, f"/repos/{self.full_name}{path}", json=body, params=params)
        assert answer.status_code == expect, f"{method} {path}: {answer.status_code} {answer.text[:300]}"
        return answer.json() if answer.content else None

    def git(self, *args: str) -> str:
        return self.sandbox.app.git_repo(self.sandbox.repo(self.owner, self.name)).run(*args).strip()

    def tip(self, branch: str) -> str | None:
        return self.sandbox.app.git_repo(self.sandbox.repo(self.owner, self.name)).ref(f"refs/heads/{branch}")

    def push(self, branch: str, files: Mapping[str, str | None], message: str, *, author: str = "bob") -> str:
        return self.sandbox.commit(self.owner, self.name, branch, files, message,
                                   author=self.sandbox.signature(author))

    def gateway(self, login: str = "alice") -> GitHubGateway:
        gateway = GitHubGateway.connect(api_url=self.sandbox.url, token=self.tokens[login], clock=self.clock,
                                        jitter=None)
        self._gateways.append(gateway)
        return gateway

    def checkout(self, gateway: GitHubGateway, directory: str | Path | None = None) -> GitCheckout:
        return GitCheckout(gateway.clone_url(self.full_name), gateway.git_token, self.clock, directory=directory)

    def close(self) -> None:
        for gateway in self._gateways:
            gateway.close()

    def env(self, login: str = "alice") -> dict[str, str]:
        """What the CLI reads, as the test runs it in-process."""
        return {"GITHUB_TOKEN": self.tokens[login], "GITHUB_API_URL": self.sandbox.url,
                "GITHUB_GRAPHQL_URL": self.sandbox.graphql_url, "GITHUB_REPOSITORY": self.full_name}

    def clone(self, where: Path, *args: str, login: str = "alice") -> Path:
        """A person's clone (`origin` = the sandbox repository, token in the URL)."""
        url = self.sandbox.git_url(self.owner, self.name, self.tokens[login])
        subprocess.run(["git", "clone", "--quiet", *args, url, str(where)], check=True, capture_output=True)
        for key, value in (("user.name", "Alice"), ("user.email", "alice@example.invalid")):
            subprocess.run(["git", "-C", str(where), "config", key, value], check=True)
        return where

    # ------------------------------------------------------------------ hotfixes

    def hotfix(self, name: str, changes: Sequence[Mapping[str, str | None]], title: str, *, method: str = "merge",
               author: str = "dave", reviewer: str = "bob", messages: Sequence[str] | None = None,
               base: str = "prod") -> dict[str, Any]:
        """Branch hotfix/NAME from `base`, one commit per mapping, a PR, bob's approval, a merge."""
        branch = f"hotfix/{name}"
        if self.tip(branch) is None:
            self.sandbox.create_branch(self.owner, self.name, branch, base)
        for index, change in enumerate(changes):
            message = messages[index] if messages else (title if len(changes) == 1 else f"{title}, part {index + 1}")
            self.push(branch, change, message, author=author)
        pull = self.open_pull(branch, title, base=base, author=author)
        self.call("POST", f"/pulls/{pull['number']}/reviews", {"event": "APPROVE"}, login=reviewer)
        merged = self.call("PUT", f"/pulls/{pull['number']}/merge", {"merge_method": method})
        pull["merge_sha"] = merged["sha"]
        return pull

    def open_pull(self, branch: str, title: str, *, base: str = "prod", author: str = "dave") -> dict[str, Any]:
        found = self.call("GET", "/pulls", params={"head": f"acme:{branch}", "base": base, "state": "open"})
        if found:
            return dict(found[0])
        return dict(self.call("POST", "/pulls", {"title": title, "head": branch, "base": base,
                                                 "body": "Fixes the payment timeout."}, login=author, expect=201))

    def backport(self, number: int, *targets: str, dry_run: bool = False, gateway: GitHubGateway | None = None,
                 git: Any = None, config: Config | None = None) -> BackportResult:
        gateway = gateway or self.gateway()
        request = BackportRequest(self.full_name, number, tuple(targets), dry_run)
        if git is not None:
            return backport(gateway, git, config or self.config, request)
        with self.checkout(gateway) as checkout:
            return backport(gateway, checkout, config or self.config, request)

    def ready(self, number: int, *, login: str = "dave") -> None:
        """"Ready for review" on a draft (GraphQL, as `gh pr ready` does; REST cannot)."""
        node = self.call("GET", f"/pulls/{number}")["node_id"]
        with client(self.sandbox, self.tokens[login], timeout=30) as api:
            answer = api.post("/graphql", json={
                "query": "mutation($id: ID!) { markPullRequestReadyForReview(input: {pullRequestId: $id}) "
                         "{ pullRequest { isDraft } } }", "variables": {"id": node}}).json()
        assert answer["data"]["markPullRequestReadyForReview"]["pullRequest"]["isDraft"] is False, answer

    # ------------------------------------------------------------------ what GitHub holds now

    def pulls(self, **params: str) -> list[dict[str, Any]]:
        return list(self.call("GET", "/pulls", params={"state": "all", "per_page": 100, **params}))

    def snapshot(self) -> dict[str, Any]:
        """Everything a back-port may change, to compare before and after."""
        pulls = self.pulls()
        return {
            "refs": self.git("for-each-ref", "--format=%(refname) %(objectname)", "refs/heads"),
            "pulls": sorted((p["number"], p["state"], p["draft"], p["title"], p["body"]) for p in pulls),
            "labels": {p["number"]: sorted(label["name"] for label in p["labels"]) for p in pulls},
            "reviewers": {p["number"]: sorted(u["login"] for u in p["requested_reviewers"]) for p in pulls},
            "comments": {p["number"]: [c["body"] for c in self.call("GET", f"/issues/{p['number']}/comments")]
                         for p in pulls},
        }


def run_git(where: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=where, capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done.stdout.strip()
