"""`seed_demo`: a small, realistic repository to try opsgh on (`opsgh sandbox seed`, `opsgh demo`).

acme/webshop with `main` (staging) ahead of `prod` (production) by three merged feature PRs (green
CI check runs, approvals, labels, a migration and a changed `.env.example`), both branches protected,
and three people: alice (admin, release manager), bob (write), carol (read).
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from typing import Any

import httpx

from opsgh.sandbox.api import Sandbox

DAY = 86400


@dataclass(frozen=True)
class SeedInfo:
    owner: str
    repo: str
    api_url: str
    graphql_url: str
    git_url: str
    tokens: dict[str, str] = field(default_factory=dict)  # login -> token (classic PAT)
    actions_token: str = ""  # the workflow GITHUB_TOKEN of the repository
    release_sha: str = ""  # prod's tip: the last release
    staging_sha: str = ""  # main's tip
    merged_pulls: tuple[tuple[int, str], ...] = ()  # (number, title) of the feature PRs, oldest first
    ci_token: str = ""  # installation token of the `acme-ci` App that reports the `ci` check run
    config: str = ""  # the .github/opsgh.yml committed to main

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.repo}"


def seed_demo(sandbox: Sandbox, owner: str = "acme", repo: str = "webshop", *, protect: bool = True) -> SeedInfo:
    """Create the demo repository through the sandbox's own REST API (the sandbox must be started).

    Every feature lands the way it does on GitHub: a branch, a pull request, a green `ci` check run
    from the CI App, an approval, a squash merge. `prod` is cut after the first feature (the last
    release); three more are merged to `main` since, so there is something to release. With `protect`,
    both branches end up protected as the configuration's `protection:` declares (`opsgh demo` passes
    False and lets `opsgh protect apply` do it).
    """
    people = {"alice": "admin", "bob": "write", "carol": "read"}
    sandbox.add_org(owner)
    tokens = {login: sandbox.add_user(login, name=login.title(), scopes=("repo", "workflow"))
              for login in people}
    sandbox.create_repo(owner, repo, description="The Acme web shop", collaborators=people,
                        initial_commit=False)
    full_name = f"{owner}/{repo}"
    ci_app = sandbox.add_app("acme-ci", owner, permissions={"checks": "write", "contents": "read",
                                                            "metadata": "read"}, repositories=(repo,))
    ci_token = sandbox.installation_token(ci_app)
    start = sandbox.clock.now() - 14 * DAY
    sandbox.commit(owner, repo, "main", {
        "README.md": "# webshop\n\nThe Acme web shop.\n",
        "app/__init__.py": "",
        "app/cart.py": "def total(items):\n    return sum(item.price for item in items)\n",
        ".github/opsgh.yml": demo_config(ci_app.app_id),
    }, "Initial commit", author=sandbox.signature("alice", at=start))
    shop = Team(sandbox, owner, repo, tokens, ci_token)
    release_sha = shop.merged_pull("feature/checkout", {
        "app/checkout.py": "def checkout(cart):\n    return {'total': cart.total()}\n",
    }, "feat: add checkout", author="bob", labels=("enhancement",))
    sandbox.create_branch(owner, repo, "prod", release_sha)
    shop.merged_pull("feature/search", {
        "app/search.py": "def search(q):\n    return [p for p in PRODUCTS if q in p.name]\n",
    }, "feat: add product search", author="bob", labels=("enhancement",))
    shop.merged_pull("fix/cart-quantities", {
        "app/cart.py": "def total(items):\n    return round(sum(i.price * i.qty for i in items), 2)\n",
    }, "fix: count quantities in the cart total", author="alice", labels=("bug",), reviewer="bob")
    staging_sha = shop.merged_pull("feature/orders", {
        "migrations/0002_add_orders.sql": "CREATE TABLE orders (id SERIAL PRIMARY KEY);\n",
        ".env.example": "DATABASE_URL=postgres://localhost/webshop\nPAYMENT_API_KEY=\n",
    }, "feat(db): add the orders table", author="bob")
    if protect:  # what DEMO_CONFIG's `protection:` declares
        ci = {"strict": False, "checks": [{"context": "ci", "app_id": ci_app.app_id}]}
        sandbox.protect(owner, repo, "prod", required_status_checks=ci, enforce_admins=True,
                        required_conversation_resolution=True,
                        required_pull_request_reviews={"required_approving_review_count": 1,
                                                       "dismiss_stale_reviews": True})
        sandbox.protect(owner, repo, "main", required_status_checks=ci)
    actions_token = sandbox.add_user("github-actions[bot]", kind="actions", repositories=(full_name,))
    return SeedInfo(owner, repo, sandbox.url, sandbox.graphql_url, sandbox.git_url(owner, repo), tokens,
                    actions_token, release_sha, staging_sha, tuple(shop.merged), ci_token,
                    demo_config(ci_app.app_id))


DEMO_CONFIG = """\
# opsgh configuration of the demo shop (see docs/CONFIG.md)
branches: {staging: main, production: prod}
release:
  title: "Release {date}"
  labels: [release]
gate:
  approvals: {min: 1}
  migrations: {paths: ["migrations/**"], allow_label: destructive-migration-approved}
  checklist: advisory  # the demo ticks no boxes: listed as a warning, not a NO-GO
protection:
  main:
    required_checks: {contexts: [{context: ci, app_id: $ci_app_id}]}  # reported by the acme-ci App
  prod:
    required_reviews: {count: 1, dismiss_stale: true}
    required_checks: {contexts: [{context: ci, app_id: $ci_app_id}]}
    enforce_admins: true
    required_conversation_resolution: true
"""


def demo_config(ci_app_id: int) -> str:
    """DEMO_CONFIG with the id of the App that reports `ci` (required checks are pinned to it)."""
    return string.Template(DEMO_CONFIG).substitute(ci_app_id=ci_app_id)


def team(sandbox: Sandbox, seed: SeedInfo) -> Team:
    """The seeded team, to act between opsgh commands (the demo, tests): CI, reviews, new features."""
    return Team(sandbox, seed.owner, seed.repo, seed.tokens, seed.ci_token)


class Team:
    """Lands features through the REST API, as people and CI would."""

    def __init__(self, sandbox: Sandbox, owner: str, repo: str, tokens: dict[str, str], ci_token: str) -> None:
        self.sandbox, self.owner, self.repo = sandbox, owner, repo
        self.tokens, self.ci_token = tokens, ci_token
        self.api = f"/repos/{owner}/{repo}"
        self.merged: list[tuple[int, str]] = []

    def _call(self, token: str, method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        answer = httpx.request(method, self.sandbox.url + path, json=body, timeout=30,
                               headers={"Authorization": f"Bearer {token}",
                                        "Accept": "application/vnd.github+json"})
        if answer.status_code >= 300:
            raise RuntimeError(f"seeding: {method} {path} answered {answer.status_code}: {answer.text[:200]}")
        data: dict[str, Any] = answer.json()
        return data

    def merged_pull(self, branch: str, files: dict[str, str], title: str, *, author: str,
                    labels: tuple[str, ...] = (), reviewer: str = "alice") -> str:
        """Branch, commit, PR, green CI, approval, squash merge; returns main's new tip."""
        self.sandbox.create_branch(self.owner, self.repo, branch, "main")
        head = self.sandbox.commit(self.owner, self.repo, branch, files, title,
                                   author=self.sandbox.signature(author))
        pull = self._call(self.tokens[author], "POST", f"{self.api}/pulls",
                          {"title": title, "head": branch, "base": "main",
                           "body": f"{title}.\n\nTested locally and in CI."})
        number = pull["number"]
        if labels:
            self._call(self.tokens[author], "POST", f"{self.api}/issues/{number}/labels", {"labels": list(labels)})
        self.report_ci(head)
        self.approve(number, reviewer)
        merged = self._call(self.tokens["alice"], "PUT", f"{self.api}/pulls/{number}/merge",
                            {"merge_method": "squash", "sha": head, "commit_title": f"{title} (#{number})"})
        # The "Delete branch" button after the merge, as most teams do.
        answer = httpx.delete(f"{self.sandbox.url}{self.api}/git/refs/heads/{branch}", timeout=30,
                              headers={"Authorization": f"Bearer {self.tokens['alice']}"})
        if answer.status_code != 204:
            raise RuntimeError(f"seeding: deleting {branch} answered {answer.status_code}: {answer.text[:200]}")
        self.merged.append((number, title))
        return str(merged["sha"])

    def report_ci(self, sha: str, conclusion: str = "success") -> None:
        """The CI App reports the `ci` check run on `sha`."""
        self._call(self.ci_token, "POST", f"{self.api}/check-runs",
                   {"name": "ci", "head_sha": sha, "status": "completed", "conclusion": conclusion})

    def relax_protection(self, branch: str) -> None:
        """An admin turns off "enforce for administrators" on `branch` by hand, in the settings page."""
        answer = httpx.delete(f"{self.sandbox.url}{self.api}/branches/{branch}/protection/enforce_admins", timeout=30,
                              headers={"Authorization": f"Bearer {self.tokens['alice']}"})
        if answer.status_code != 204:
            raise RuntimeError(f"relaxing {branch} answered {answer.status_code}: {answer.text[:200]}")

    def approve(self, number: int, reviewer: str) -> None:
        self._call(self.tokens[reviewer], "POST", f"{self.api}/pulls/{number}/reviews", {"event": "APPROVE"})

    def branch_tip(self, branch: str) -> str:
        return str(self._call(self.tokens["alice"], "GET", f"{self.api}/branches/{branch}", None)["commit"]["sha"])

    def release_pull(self) -> int:
        """The open release PR main -> prod."""
        answer = httpx.get(f"{self.sandbox.url}{self.api}/pulls", timeout=30,
                           params={"head": f"{self.owner}:main", "base": "prod", "state": "open"},
                           headers={"Authorization": f"Bearer {self.tokens['alice']}"})
        return int(answer.json()[0]["number"])

    def merged_release_pull(self) -> int:
        answer = httpx.get(f"{self.sandbox.url}{self.api}/pulls", timeout=30,
                           params={"head": f"{self.owner}:main", "base": "prod", "state": "closed"},
                           headers={"Authorization": f"Bearer {self.tokens['alice']}"})
        return int(next(p for p in answer.json() if p["merged_at"])["number"])

    def open_pull_into(self, base: str) -> tuple[int, str]:
        """The newest open pull request into `base`: (number, head sha)."""
        answer = httpx.get(f"{self.sandbox.url}{self.api}/pulls", timeout=30,
                           params={"base": base, "state": "open", "sort": "created", "direction": "desc"},
                           headers={"Authorization": f"Bearer {self.tokens['alice']}"})
        pull = answer.json()[0]
        return int(pull["number"]), str(pull["head"]["sha"])

    def tree(self, branch: str) -> str:
        """The tree (the files) of `branch`'s tip."""
        git = self.sandbox.app.git_repo(self.sandbox.repo(self.owner, self.repo))
        return git.tree_of(f"refs/heads/{branch}")

    def pull_body(self, number: int) -> str:
        return str(self._call(self.tokens["alice"], "GET", f"{self.api}/pulls/{number}", None)["body"] or "")

    def pull(self, head: str, base: str) -> dict[str, Any]:
        """The newest pull request head -> base, any state."""
        answer = httpx.get(f"{self.sandbox.url}{self.api}/pulls", timeout=30,
                           params={"head": f"{self.owner}:{head}", "base": base, "state": "all"},
                           headers={"Authorization": f"Bearer {self.tokens['alice']}"})
        return dict(answer.json()[0])

    def finish_hotfix(self, branch: str, files: dict[str, str], message: str, *, author: str,
                      reviewer: str) -> tuple[int, str]:
        """A hotfix PR into prod, as the team finishes it: the fix pushed, "Ready for review", green CI,
        an approval, merged with a merge commit. Returns (number, merge sha)."""
        head = self.sandbox.commit(self.owner, self.repo, branch, files, message,
                                   author=self.sandbox.signature(author))
        pull = self.pull(branch, "prod")
        self._call(self.tokens[author], "POST", "/graphql", {
            "query": "mutation($id: ID!) { markPullRequestReadyForReview(input: {pullRequestId: $id}) "
                     "{ pullRequest { isDraft } } }", "variables": {"id": pull["node_id"]}})
        self.report_ci(head)
        self.approve(pull["number"], reviewer)
        merged = self._call(self.tokens["alice"], "PUT", f"{self.api}/pulls/{pull['number']}/merge",
                            {"merge_method": "merge", "sha": head})
        return int(pull["number"]), str(merged["sha"])

    def last_comment(self, number: int) -> str:
        answer = httpx.get(f"{self.sandbox.url}{self.api}/issues/{number}/comments", timeout=30,
                           headers={"Authorization": f"Bearer {self.tokens['alice']}"})
        return str(answer.json()[-1]["body"])
