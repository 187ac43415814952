"""A repository with an open Release PR in the sandbox, for `opsgh ship` tests and its benchmark.

Everything is set up through the sandbox's REST API the way people and CI would (no `opsgh release`):
`prod` is protected and requires the `ci` status; features land on `main`; the Release PR main -> prod
carries a changelog between opsgh's markers and a checklist; CI reports `ci` on main's head.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from opsgh.clock import FakeClock
from opsgh.config import Config, load_config
from opsgh.github.gateway import GitHubGateway
from opsgh.ops.ship import ShipRequest, ShipResult, ship
from opsgh.sandbox import Sandbox

CONFIG = """\
branches: {staging: main, production: prod}
release: {title: "Release {date}", tag: "v{date}", timezone: America/New_York}
notify: {slack_webhook_env: SLACK_WEBHOOK_URL}
ops_log: {issue: Ops Log}
# what ship itself is tested for: checks and mergeability (approvals and the checklist: tests/ops/test_gate.py)
gate: {approvals: {min: 0}, checklist: "off"}
"""

BODY = """\
## Release 2027-01-15

<!-- opsgh:changelog:start -->
### Features
- Cart totals include tax (#{n1}) @bob
- Faster checkout (#{n2}) @bob
<!-- opsgh:changelog:end -->

## Pre-deployment checklist
- [ ] Migrations reviewed
- [ ] Rollback plan confirmed
"""


class ReleaseRepo:
    """acme/shop with alice (admin, release manager) and bob (write); `prod` protected, requiring `ci`."""

    def __init__(self, sandbox: Sandbox, clock: FakeClock, *, config: str = CONFIG,
                 required: tuple[str, ...] = ("ci",)) -> None:
        self.sandbox, self.clock = sandbox, clock
        self.owner, self.name, self.full_name = "acme", "shop", "acme/shop"
        self.tokens = {login: sandbox.add_user(login, name=login.title(), scopes=("repo", "workflow"))
                       for login in ("alice", "bob")}
        sandbox.create_repo("acme", "shop", collaborators={"alice": "admin", "bob": "write"}, initial_commit=False)
        self.first = sandbox.commit("acme", "shop", "main", {"README.md": "# shop\n", ".github/opsgh.yml": config},
                                    "Initial commit", author="alice")
        sandbox.create_branch("acme", "shop", "prod", "main")
        sandbox.protect("acme", "shop", "prod",
                        required_status_checks={"strict": False, "contexts": list(required)} if required else None)
        self.config: Config = load_config(config)
        self._gateways: list[GitHubGateway] = []

    # ------------------------------------------------------------------ REST, git

    def call(self, method: str, path: str, body: Any = None, *, login: str = "alice", expect: int = 200,
             params: Mapping[str, Any] | None = None) -> Any:
        with httpx.Client(base_url=self.sandbox.url, timeout=30, headers={
                "authorization": f"Bearer {self.tokens[login]}", "accept": "application/vnd.github+json",
                "x-github-api-version": "2022-11-28"}) as client:
            answer = client.request(method, f"/repos/{self.full_name}{path}", json=body, params=params)
        assert answer.status_code == expect, f"{method} {path}: {answer.status_code} {answer.text[:300]}"
        return answer.json() if answer.content else None

    def git(self, *args: str) -> str:
        return self.sandbox.app.git_repo(self.sandbox.repo(self.owner, self.name)).run(*args).strip()

    def tip(self, branch: str) -> str:
        return self.git("rev-parse", f"refs/heads/{branch}")

    def gateway(self, login: str = "alice") -> GitHubGateway:
        gateway = GitHubGateway.connect(api_url=self.sandbox.url, token=self.tokens[login], clock=self.clock,
                                        jitter=None)
        self._gateways.append(gateway)
        return gateway

    def close(self) -> None:
        for gateway in self._gateways:
            gateway.close()

    # ------------------------------------------------------------------ the release

    def push(self, files: Mapping[str, str | None], message: str, *, branch: str = "main") -> str:
        return self.sandbox.commit(self.owner, self.name, branch, files, message, author="bob")

    def features(self, *names: str) -> list[str]:
        return [self.push({f"app/{name}.py": f"# {name}\n"}, f"Add {name}") for name in names]

    def open_release_pr(self, *, title: str = "Release 2027-01-15", body: str | None = None) -> dict[str, Any]:
        pull = self.call("POST", "/pulls", {"title": title, "head": "main", "base": "prod",
                                            "body": body if body is not None else BODY.format(n1=1, n2=2)},
                         expect=201)
        # A label with a description: the sandbox lists a description-less label as null in pull request
        # lists, which GitHub's description types as a string (reported as a sandbox gap).
        if "release" not in [label["name"] for label in self.call("GET", "/labels")]:
            self.call("POST", "/labels", {"name": "release", "color": "0e8a16", "description": "Release train"},
                      expect=201)
        self.call("POST", f"/issues/{pull['number']}/labels", {"labels": ["release"]})
        return dict(pull)

    def report(self, state: str = "success", context: str = "ci", sha: str | None = None) -> None:
        """CI reports a commit status on main's head (or `sha`)."""
        self.call("POST", f"/statuses/{sha or self.tip('main')}", {"state": state, "context": context,
                                                                   "description": f"CI {state}"}, expect=201)

    def ship(self, pr: int | None = None, *, dry_run: bool = False, notify: Any = None,
             gateway: Any = None) -> ShipResult:
        return ship(gateway or self.gateway(), self.config, ShipRequest(self.full_name, pr, dry_run), self.clock,
                    notify=notify)

    # ------------------------------------------------------------------ what GitHub holds now

    def snapshot(self) -> dict[str, Any]:
        """Everything ship may change, to compare before and after."""
        release_pulls = self.call("GET", "/pulls", params={"state": "all", "head": "acme:main", "base": "prod"})
        issues = self.call("GET", "/issues", params={"state": "all", "per_page": 100})
        comments = {i["number"]: [c["body"] for c in self.call("GET", f"/issues/{i['number']}/comments")]
                    for i in issues}
        deployments = self.call("GET", "/deployments")
        return {
            "refs": self.git("for-each-ref", "--format=%(refname) %(objectname)", "refs/heads", "refs/tags"),
            "pulls": [(p["number"], p["state"], p["merged_at"]) for p in release_pulls],
            "releases": [(r["tag_name"], r["name"]) for r in self.call("GET", "/releases")],
            "deployments": [(d["id"], d["sha"], d["environment"]) for d in deployments],
            "deployment_states": {d["id"]: [s["state"] for s in self.call("GET", f"/deployments/{d['id']}/statuses")]
                                  for d in deployments},
            "issues": [(i["number"], i["title"]) for i in issues],
            "comments": comments,
        }
