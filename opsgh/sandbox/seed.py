"""`seed_demo`: a small, realistic repository to try opsgh on (`opsgh sandbox seed`, `opsgh demo`).

acme/webshop with `main` (staging) ahead of `prod` (production) by a few merged features, both
protected, and three people: alice (admin, release manager), bob (write), carol (read). The demo and
later seeding (pull requests, check runs, reviews) build on top of this.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.repo}"


def seed_demo(sandbox: Sandbox, owner: str = "acme", repo: str = "webshop") -> SeedInfo:
    """Create the demo repository and return how to reach it (URLs are empty when the sandbox is not
    started: `opsgh sandbox seed --state DIR` seeds without serving)."""
    people = {"alice": "admin", "bob": "write", "carol": "read"}
    sandbox.add_org(owner)
    tokens = {login: sandbox.add_user(login, name=login.title(), scopes=("repo", "workflow"))
              for login in people}
    sandbox.create_repo(owner, repo, description="The Acme web shop", collaborators=people,
                        initial_commit=False)
    start = sandbox.clock.now() - 14 * DAY
    sandbox.commit(owner, repo, "main", {
        "README.md": "# webshop\n\nThe Acme web shop.\n",
        "app/__init__.py": "",
        "app/cart.py": "def total(items):\n    return sum(item.price for item in items)\n",
        ".github/opsgh.yml": "branches: {staging: main, production: prod}\n",
    }, "Initial commit", author=sandbox.signature("alice", at=start))
    release_sha = sandbox.commit(owner, repo, "main", {
        "app/checkout.py": "def checkout(cart):\n    return {'total': cart.total()}\n",
    }, "Add checkout (#1)", author=sandbox.signature("bob", at=start + DAY))
    sandbox.create_branch(owner, repo, "prod", release_sha)
    staging_sha = release_sha
    features = [
        ("app/search.py", "def search(q):\n    return [p for p in PRODUCTS if q in p.name]\n",
         "Add product search (#2)"),
        ("app/cart.py", "def total(items):\n    return round(sum(i.price * i.qty for i in items), 2)\n",
         "Count quantities in the cart total (#3)"),
        ("migrations/0002_add_orders.sql", "CREATE TABLE orders (id SERIAL PRIMARY KEY);\n",
         "Add the orders table (#4)"),
    ]
    for day, (path, content, message) in enumerate(features, start=3):
        staging_sha = sandbox.commit(owner, repo, "main", {path: content}, message,
                                     author=sandbox.signature("bob" if day % 2 else "alice", at=start + day * DAY))
    sandbox.protect(owner, repo, "prod", required_pull_request_reviews={"required_approving_review_count": 1},
                    required_status_checks={"strict": False, "contexts": ["ci"]})
    sandbox.protect(owner, repo, "main", required_status_checks={"strict": False, "contexts": ["ci"]})
    actions_token = sandbox.add_user("github-actions[bot]", kind="actions", repositories=(f"{owner}/{repo}",))
    started = sandbox.started
    return SeedInfo(owner, repo, sandbox.url if started else "", sandbox.graphql_url if started else "",
                    sandbox.git_url(owner, repo) if started else "", tokens, actions_token, release_sha,
                    staging_sha)
