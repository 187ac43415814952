"""The world a fault-matrix cell runs in: acme/shop in the sandbox, opsgh run as a person or a workflow
would (the command line, or the Action on a real delivery), and what GitHub holds afterwards as facts.

`World` builds on tests/ops/ship_support.ReleaseRepo. opsgh runs in-process through `opsgh.cli.run` /
`opsgh.action.main` with the sandbox's FakeClock, so retries and rate-limit waits cost no real time,
and with a GitHub App installation token minted for each run (as the workflow templates do).

`facts()` is GitHub's state reduced to what identifies each thing opsgh may create (key) and the state
it is in (value): pull requests, issues, comments (by opsgh's hidden marker), reactions, labels,
branches, tags, releases, deployments and their statuses, check runs, commit statuses, protection.
A duplicate is a key that appears more often than expected; a lost write is a key that is missing.
"""

from __future__ import annotations

import io
import json
import re
import threading
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from action_support import read_outputs
from local_http import QuietHandler, base_url, serving
from ship_support import ReleaseRepo

from opsgh.action import main as action_main
from opsgh.cli import run
from opsgh.clock import FakeClock
from opsgh.sandbox import Sandbox

# Everything the workflow templates give opsgh's App (workflows-templates/README.md).
APP_PERMISSIONS = {"checks": "write", "issues": "write", "pull_requests": "write", "statuses": "write",
                   "contents": "write", "deployments": "write", "administration": "write", "metadata": "read"}

Fact = tuple[str, str]


@dataclass(frozen=True)
class Outcome:
    """One run of opsgh: its exit code and what it printed (stdout, stderr; the Action's log in `out`)."""

    code: int
    out: str
    err: str
    outputs: Mapping[str, str]


class Health:
    """A health endpoint on 127.0.0.1 for `opsgh verify`: always healthy."""

    def __init__(self) -> None:
        self.requests = 0
        self._lock = threading.Lock()

    @contextmanager
    def serving(self) -> Iterator[str]:
        state = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                with state._lock:
                    state.requests += 1
                self.send_json(200, {"status": "ok"})

        with serving(Handler) as server:
            yield base_url(server)


class World(ReleaseRepo):
    """acme/shop with alice (admin) and bob (write), and opsgh's App installed on acme."""

    def __init__(self, sandbox: Sandbox, clock: FakeClock, workdir: Path, config: str) -> None:
        super().__init__(sandbox, clock, config=config, required=())
        self.workdir = workdir
        self.config_text = config
        self.config_file = workdir / "opsgh.yml"
        self.config_file.write_text(config, encoding="utf-8")
        self.apps = {"full": sandbox.add_app("opsgh", "acme", permissions=APP_PERMISSIONS)}
        self.runs = 0
        self._clients: dict[str, httpx.Client] = {}

    def app_token(self, lacking: tuple[str, ...] = ()) -> str:
        """A fresh installation token (each workflow job mints one); `lacking`: the App has these
        permissions at read level only (an App installed before they were added)."""
        key = "-".join(lacking) or "full"
        if key not in self.apps:
            self.apps[key] = self.sandbox.add_app(f"opsgh-without-{key}".replace("_", "-"), "acme",
                                                  permissions={**APP_PERMISSIONS, **dict.fromkeys(lacking, "read")})
        return self.sandbox.installation_token(self.apps[key])

    def grant(self, lacking: tuple[str, ...]) -> str:
        """The owner accepts the permissions the App asks for (GitHub: "review request"); the App's next
        token has them."""
        credentials = self.apps["-".join(lacking)]
        with self.sandbox.app.lock:
            self.sandbox.state.apps[credentials.app_id].permissions.update(dict.fromkeys(lacking, "write"))
            self.sandbox.state.installations[credentials.installation_id].permissions.update(
                dict.fromkeys(lacking, "write"))
        return self.sandbox.installation_token(credentials)

    def environ(self, token: str) -> dict[str, str]:
        return {"GITHUB_TOKEN": token, "GITHUB_API_URL": self.sandbox.url,
                "GITHUB_GRAPHQL_URL": self.sandbox.graphql_url, "GITHUB_REPOSITORY": self.full_name}

    # ------------------------------------------------------------------ running opsgh

    def cli(self, argv: Sequence[str], *, token: str | None = None, timeout: float | None = None) -> Outcome:
        """`opsgh --config FILE ARGV...` with an App token, on the sandbox's clock."""
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = run(["--config", str(self.config_file), *argv], environ=self.environ(token or self.app_token()),
                       clock=self.clock, timeout=timeout)
        return Outcome(code, out.getvalue(), err.getvalue(), {})

    def action(self, event_name: str, payload: Mapping[str, Any], *, token: str | None = None,
               timeout: float | None = None) -> Outcome:
        """`opsgh action` as the runner starts it: an event file, GITHUB_* variables, output files."""
        self.runs += 1
        run_dir = self.workdir / f"run{self.runs}"
        run_dir.mkdir()
        event_path = run_dir / "event.json"
        event_path.write_text(json.dumps(payload), encoding="utf-8")
        env = {**self.environ(token or self.app_token()), "GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": event_name,
               "GITHUB_EVENT_PATH": str(event_path), "GITHUB_SERVER_URL": "https://github.com",
               "GITHUB_RUN_ID": str(1000 + self.runs), "GITHUB_ACTOR": "alice",
               "GITHUB_OUTPUT": str(run_dir / "output"), "GITHUB_STEP_SUMMARY": str(run_dir / "summary")}
        stream = io.StringIO()
        code = action_main(env, stream, run_cli=lambda argv, environ: run(argv, environ, clock=self.clock,
                                                                          timeout=timeout),
                           clock=self.clock, timeout=timeout)
        return Outcome(code, stream.getvalue(), "", read_outputs(run_dir / "output"))

    # ------------------------------------------------------------------ what GitHub holds

    def client(self, login: str = "alice") -> httpx.Client:
        """One client per person for the whole cell (building an httpx client costs ~20 ms)."""
        if login not in self._clients:
            self._clients[login] = httpx.Client(base_url=self.sandbox.url, timeout=30, headers={
                "authorization": f"Bearer {self.tokens[login]}", "accept": "application/vnd.github+json",
                "x-github-api-version": "2022-11-28"})
        return self._clients[login]

    def call(self, method: str, path: str, body: Any = None, *, login: str = "alice", expect: int = 200,
             params: Mapping[str, Any] | None = None) -> Any:
        answer = self.client(login).request(method, f"/repos/{self.full_name}{path}", json=body, params=params)
        assert answer.status_code == expect, f"{method} {path}: {answer.status_code} {answer.text[:300]}"
        return answer.json() if answer.content else None

    def close(self) -> None:
        super().close()
        for client in self._clients.values():
            client.close()

    def get(self, path: str, **params: Any) -> Any:
        return self.call("GET", path, params={"per_page": 100, **params})

    def facts(self) -> list[Fact]:
        """GitHub's state as (key, value) facts, sorted (see the module docstring)."""
        tips = {branch: self.tip(branch) for branch in ("main", "prod")}
        trees = {self.git("rev-parse", f"{sha}^{{tree}}"): branch for branch, sha in tips.items()}

        def where(sha: str | None) -> str:
            if sha is None:
                return "none"
            return next((f"@{b}" for b, tip in tips.items() if tip == sha), "@other")

        found: list[Fact] = []
        for ref in self.git("for-each-ref", "--format=%(refname)", "refs/heads", "refs/tags").split():
            sha = self.git("rev-parse", f"{ref}^{{commit}}")
            if ref.startswith("refs/heads/"):
                name = ref.removeprefix("refs/heads/")
                tree = self.git("rev-parse", f"{sha}^{{tree}}")
                found.append((f"branch {_revert_branch(name)}",
                              "" if name in tips else f"tree of {trees.get(tree, 'other')}"))
            else:
                found.append((f"tag {ref.removeprefix('refs/tags/')}", where(sha)))
        for pull in self.get("/pulls", state="all"):
            state = "merged" if pull["merged_at"] else pull["state"]
            labels = ",".join(sorted(label["name"] for label in pull["labels"]))
            found.append((f"pull {_revert_branch(pull['head']['ref'])}->{pull['base']['ref']} {pull['title']!r}",
                          f"{state} labels=[{labels}]"))
        for issue in self.get("/issues", state="all"):
            number = issue["number"]
            if "pull_request" not in issue:
                labels = ",".join(sorted(label["name"] for label in issue["labels"]))
                found.append((f"issue {issue['title']!r}", f"{issue['state']} labels=[{labels}]"))
            for comment in self.get(f"/issues/{number}/comments"):
                kind = comment_kind(comment["body"])
                found.append((f"comment on #{number}: {kind}", ""))
                reactions = [r["content"] for r in self.get(f"/issues/comments/{comment['id']}/reactions")]
                if reactions:
                    found.append((f"reactions on #{number}: {kind}", ",".join(sorted(reactions))))
        for release in self.get("/releases"):
            found.append((f"release {release['tag_name']}", "draft" if release["draft"] else "published"))
        for deployment in self.get("/deployments"):
            states = [s["state"] for s in reversed(self.get(f"/deployments/{deployment['id']}/statuses"))]
            found.append((f"deployment {deployment['environment']} {where(deployment['sha'])}", ",".join(states)))
        for branch, sha in tips.items():
            for check in self.get(f"/commits/{sha}/check-runs", filter="all")["check_runs"]:
                found.append((f"check-run {check['name']!r} @{branch}", f"{check['status']}/{check['conclusion']}"))
            for status in self.get(f"/commits/{sha}/status")["statuses"]:
                found.append((f"status {status['context']!r} @{branch}", status["state"]))
        for branch in ("main", "prod"):
            answer = self.sandbox_get(f"/repos/{self.full_name}/branches/{branch}/protection")
            if answer is not None:
                found.append((f"protection {branch}", protection_digest(answer)))
        for ruleset in self.get("/rulesets"):
            found.append((f"ruleset {ruleset['name']!r}", ruleset["enforcement"]))
        return sorted(found)

    def sandbox_get(self, path: str) -> Any:
        """GET `path` as alice; None for a 404."""
        answer = self.client().get(path)
        if answer.status_code == 404:
            return None
        assert answer.status_code == 200, answer.text
        return answer.json()


_MARKER = re.compile(r"<!-- (opsgh:[\w-]+)(?: (ship|rollback)\b)?")


def comment_kind(body: str) -> str:
    """opsgh's first hidden marker (`opsgh:gate`, `opsgh:ops-log ship`), else the first line."""
    found = _MARKER.search(body)
    if found is not None:
        return " ".join(part for part in found.groups() if part)
    return repr(body.strip().splitlines()[0][:60] if body.strip() else "")


def _revert_branch(name: str) -> str:
    """GitHub names a revert branch after the pull request and a random suffix."""
    return re.sub(r"^(revert-\d+-).*$", r"\1…", name)


def protection_digest(protection: Mapping[str, Any]) -> str:
    """The settings of a classic protection that opsgh manages, as one line."""
    checks = protection.get("required_status_checks") or {}
    reviews = protection.get("required_pull_request_reviews") or {}
    parts = {
        "checks": sorted(checks.get("contexts") or []) if checks else None,
        "strict": checks.get("strict") if checks else None,
        "reviews": reviews.get("required_approving_review_count") if reviews else None,
        "admins": (protection.get("enforce_admins") or {}).get("enabled"),
        "force_pushes": (protection.get("allow_force_pushes") or {}).get("enabled"),
        "deletions": (protection.get("allow_deletions") or {}).get("enabled"),
    }
    return json.dumps(parts, sort_keys=True)


def duplicates(facts: Sequence[Fact]) -> list[str]:
    """Keys that appear more than once."""
    return sorted(key for key, count in Counter(key for key, _ in facts).items() if count > 1)


def extra_keys(facts: Sequence[Fact], allowed: Sequence[Fact]) -> list[str]:
    """Keys in `facts` beyond what `allowed` has (counted): a duplicate or something unexpected."""
    extra = Counter(key for key, _ in facts) - Counter(key for key, _ in allowed)
    return sorted(extra.elements())
