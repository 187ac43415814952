"""An organisation in the sandbox for `opsgh protect` tests and its benchmark.

acme owns repositories with `main` and `prod`; alice is admin on every one, bob has write. Protection is
read back through the sandbox's REST API as a person (or another tool) would see it.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import httpx

from opsgh.cli import run
from opsgh.clock import FakeClock
from opsgh.config import Config, load_config
from opsgh.github.gateway import GitHubGateway
from opsgh.ops import protect
from opsgh.sandbox import Sandbox

WORKFLOW = """\
name: CI
on: [pull_request]
jobs:
  ci:
    runs-on: ubuntu-latest
    steps: [{run: make test}]
  lint:
    name: Lint ${{ matrix.python }}
    strategy: {matrix: {python: ["3.11", "3.12"]}}
    runs-on: ubuntu-latest
    steps: [{run: make lint}]
"""


class Org:
    """acme/<name> repositories with main and prod (and a CI workflow producing `ci` and `Lint <version>`)."""

    def __init__(self, sandbox: Sandbox, clock: FakeClock, names: tuple[str, ...] = ("shop",), *,
                 workflow: str | None = WORKFLOW) -> None:
        self.sandbox, self.clock = sandbox, clock
        self.tokens = {login: sandbox.add_user(login, name=login.title()) for login in ("alice", "bob")}
        sandbox.add_org("acme")
        self._gateways: list[GitHubGateway] = []
        for name in names:
            self.add_repo(name, workflow=workflow)

    def add_repo(self, name: str, *, workflow: str | None = WORKFLOW, prod: bool = True) -> str:
        self.sandbox.create_repo("acme", name, collaborators={"alice": "admin", "bob": "write"}, initial_commit=False)
        files = {"README.md": f"# {name}\n"}
        if workflow is not None:
            files[".github/workflows/ci.yml"] = workflow
        self.sandbox.commit("acme", name, "main", files, "Initial commit", author="alice")
        if prod:
            self.sandbox.create_branch("acme", name, "prod", "main")
        return f"acme/{name}"

    # ------------------------------------------------------------------ GitHub, as people see it

    def call(self, method: str, path: str, body: Any = None, *, login: str = "alice", expect: int | None = 200,
             params: Mapping[str, Any] | None = None) -> Any:
        with httpx.Client(base_url=self.sandbox.url, timeout=30, headers={
                "authorization": f"Bearer {self.tokens[login]}", "accept": "application/vnd.github+json",
                "x-github-api-version": "2022-11-28"}) as client:
            answer = client.request(method, path, json=body, params=params)
        if expect is not None:
            assert answer.status_code == expect, f"{method} {path}: {answer.status_code} {answer.text[:300]}"
        return answer.json() if answer.content else None

    def protection(self, repo: str, branch: str) -> dict[str, Any] | None:
        """GET the classic protection (None when the branch is not protected)."""
        with httpx.Client(base_url=self.sandbox.url, timeout=30,
                          headers={"authorization": f"Bearer {self.tokens['alice']}"}) as client:
            answer = client.get(f"/repos/{repo}/branches/{branch}/protection")
        if answer.status_code == 404:
            assert answer.json()["message"] == "Branch not protected"
            return None
        assert answer.status_code == 200, answer.text
        data: dict[str, Any] = answer.json()
        return data

    def rulesets(self, repo: str) -> dict[str, dict[str, Any]]:
        """name -> the full ruleset."""
        listed = self.call("GET", f"/repos/{repo}/rulesets")
        return {r["name"]: self.call("GET", f"/repos/{repo}/rulesets/{r['id']}") for r in listed}

    def writes(self) -> list[str]:
        """Every write to protection or rulesets the sandbox answered, as `METHOD path` (set-up included)."""
        writes = ("POST", "PUT", "PATCH", "DELETE")
        return [f"{e.method} {e.path}" for e in self.sandbox.log.entries
                if e.method in writes and ("/protection" in e.path or "/rulesets" in e.path)]

    # ------------------------------------------------------------------ opsgh

    def gateway(self, login: str = "alice") -> GitHubGateway:
        gateway = GitHubGateway.connect(api_url=self.sandbox.url, token=self.tokens[login], clock=self.clock,
                                        jitter=None)
        gateway.pace_requests(self.clock)
        self._gateways.append(gateway)
        return gateway

    def plan(self, config: Config | str, repo: str = "acme/shop", *, login: str = "alice",
             targets: protect.Targets | None = None, mode: protect.Mode = "plan",
             gateway: GitHubGateway | None = None, concurrency: int = 4) -> protect.ProtectResult:
        chosen = load_config(config) if isinstance(config, str) else config
        return protect.plan(gateway or self.gateway(login), chosen, targets or protect.Targets(), repo, self.clock,
                            mode=mode, concurrency=concurrency)

    def apply(self, config: Config | str, repo: str = "acme/shop", *, login: str = "alice",
              targets: protect.Targets | None = None, gateway: GitHubGateway | None = None,
              concurrency: int = 4) -> protect.ProtectResult:
        gateway = gateway or self.gateway(login)
        planned = self.plan(config, repo, login=login, targets=targets, gateway=gateway, concurrency=concurrency)
        return protect.apply(gateway, planned, self.clock, concurrency=concurrency)

    def cli(self, argv: list[str], config: str | None, tmp: Path, *, login: str = "alice",
            stdin: str | None = None, current: str | None = "acme/shop",
            environ: Mapping[str, str] | None = None) -> tuple[int, str, str]:
        """Run `opsgh --config FILE ARGV...` against the sandbox (no --config for None: the configuration
        is read from GitHub), with GITHUB_REPOSITORY=`current`; (exit code, stdout, stderr)."""
        options = []
        if config is not None:
            path = tmp / "opsgh.yml"
            path.write_text(config)
            options = ["--config", str(path)]
        variables = {"GITHUB_TOKEN": self.tokens[login], "GITHUB_API_URL": self.sandbox.url,
                     "GITHUB_GRAPHQL_URL": self.sandbox.graphql_url, **(environ or {})}
        if current is not None:
            variables["GITHUB_REPOSITORY"] = current
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err), _stdin(stdin):
            code = run([*options, *argv], environ=variables)
        return code, out.getvalue(), err.getvalue()

    def close(self) -> None:
        for gateway in self._gateways:
            gateway.close()


@contextmanager
def _stdin(text: str | None) -> Iterator[None]:
    if text is None:
        yield
        return
    saved = sys.stdin
    sys.stdin = io.StringIO(text)
    try:
        yield
    finally:
        sys.stdin = saved


def fastest_schedule(writes: int, *, per_minute: int, per_hour: int) -> float:
    """Seconds from the first to the last of `writes` sent as early as GitHub's sliding windows allow
    (bursts included): the yardstick for a paced run's throughput."""
    times: list[float] = []
    for _ in range(writes):
        moment = times[-1] if times else 0.0
        if len(times) >= per_minute:
            moment = max(moment, times[-per_minute] + 60)
        if len(times) >= per_hour:
            moment = max(moment, times[-per_hour] + 3600)
        times.append(moment)
    return times[-1] - times[0]
