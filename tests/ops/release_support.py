"""A repository with a release history in the sandbox, for `opsgh release` tests and the benchmark.

`Shop` lands changes the way people do on GitHub (a branch, a pull request through the REST API, a
merge with the chosen method) or pushes straight to a branch. `seed_history` builds long histories
fast: the commits through one `git fast-import` (merge commits included), the merged pull requests
written into the sandbox state directly (creating 1,000 pull requests through the API would take
minutes).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from opsgh.clock import FakeClock
from opsgh.config import Config, load_config
from opsgh.github.gateway import GitHubGateway
from opsgh.ops.release import ReleaseResult, release
from opsgh.sandbox import Sandbox
from opsgh.sandbox.gitstore import Signature

CONFIG = """\
branches: {staging: main, production: prod}
release: {title: "Release {date}", labels: [release], timezone: Europe/Berlin}
gate:
  migrations: {paths: ["migrations/**"], allow_label: destructive-migration-approved}
"""


class Shop:
    """acme/shop: alice (admin, release manager) and bob (write); `prod` cut from the first commit."""

    def __init__(self, sandbox: Sandbox, clock: FakeClock, *, owner: str = "acme", name: str = "shop",
                 config: str = CONFIG) -> None:
        self.sandbox, self.clock, self.owner, self.name = sandbox, clock, owner, name
        self.full_name = f"{owner}/{name}"
        self.tokens = {login: sandbox.add_user(login, name=login.title(), scopes=("repo", "workflow"))
                       for login in ("alice", "bob")}
        sandbox.create_repo(owner, name, collaborators={"alice": "admin", "bob": "write"}, initial_commit=False)
        self.release_sha = sandbox.commit(owner, name, "main", {
            "README.md": "# shop\n", ".github/opsgh.yml": config,
            "app/cart.py": "def total(items):\n    return sum(i.price for i in items)\n",
        }, "Initial commit", author="alice")
        sandbox.create_branch(owner, name, "prod", "main")
        self.config: Config = load_config(config)
        self._gateways: list[GitHubGateway] = []

    # ------------------------------------------------------------------ talking to the sandbox

    def http(self, login: str = "alice") -> httpx.Client:
        return httpx.Client(base_url=self.sandbox.url, timeout=30, headers={
            "authorization": f"Bearer {self.tokens[login]}", "accept": "application/vnd.github+json",
            "x-github-api-version": "2022-11-28"})

    def call(self, method: str, path: str, body: Any = None, *, login: str = "alice", expect: int = 200) -> Any:
        with self.http(login) as client:
            answer = client.request(method, f"/repos/{self.full_name}{path}", json=body)
        assert answer.status_code == expect, f"{method} {path}: {answer.status_code} {answer.text[:300]}"
        return answer.json() if answer.content else None

    def gateway(self, login: str = "alice", token: str | None = None) -> GitHubGateway:
        gateway = GitHubGateway.connect(api_url=self.sandbox.url, token=token or self.tokens[login],
                                        clock=self.clock, jitter=None)
        self._gateways.append(gateway)
        return gateway

    def close(self) -> None:
        for gateway in self._gateways:
            gateway.close()

    def release(self, gateway: GitHubGateway | None = None, **options: Any) -> ReleaseResult:
        return release(gateway or self.gateway(), self.full_name, self.config, self.clock, **options)

    # ------------------------------------------------------------------ state

    def tip(self, branch: str) -> str:
        sha = self.sandbox.app.git_repo(self.sandbox.repo(self.owner, self.name)).ref(f"refs/heads/{branch}")
        assert sha is not None
        return sha

    def pulls(self, state: str = "all", **params: str) -> list[dict[str, Any]]:
        with self.http() as client:
            answer = client.get(f"/repos/{self.full_name}/pulls", params={"state": state, "per_page": 100, **params})
        answer.raise_for_status()
        result: list[dict[str, Any]] = answer.json()
        return result

    def release_pulls(self, state: str = "all") -> list[dict[str, Any]]:
        return self.pulls(state, head=f"{self.owner}:main", base="prod")

    # ------------------------------------------------------------------ changes

    def push(self, branch: str, files: Mapping[str, str | None], message: str, *, author: str = "bob") -> str:
        """A direct push (no pull request)."""
        return self.sandbox.commit(self.owner, self.name, branch, files, message,
                                   author=self.sandbox.signature(author))

    def land(self, branch: str, files: Mapping[str, str | None] | Sequence[Mapping[str, str | None]], title: str, *,
             author: str = "bob", labels: Sequence[str] = (), method: str = "squash", base: str = "main",
             messages: Sequence[str] | None = None) -> dict[str, Any]:
        """Branch from `base`, commit (one commit per mapping), open a PR, merge it with `method`."""
        series = [files] if isinstance(files, Mapping) else list(files)
        self.sandbox.create_branch(self.owner, self.name, branch, base)
        for index, change in enumerate(series):
            message = messages[index] if messages else (title if len(series) == 1 else f"{title} (part {index + 1})")
            self.push(branch, change, message, author=author)
        pull = self.call("POST", "/pulls", {"title": title, "head": branch, "base": base, "body": "Tested."},
                         login=author, expect=201)
        if labels:
            self.call("POST", f"/issues/{pull['number']}/labels", {"labels": list(labels)}, login=author)
        merged = self.call("PUT", f"/pulls/{pull['number']}/merge", {"merge_method": method})
        pull["merge_sha"] = merged["sha"]
        return pull


# ----------------------------------------------------------------------------- long histories


@dataclass(frozen=True)
class History:
    pulls: int
    commits: int  # commits main has that prod lacks
    tip: str


def seed_history(sandbox: Sandbox, owner: str, name: str, *, pulls: int, commits_per_pull: int = 4,
                 files: int = 120, authors: Sequence[str] = ("alice", "bob"), start: float | None = None) -> History:
    """`pulls` merged pull requests on `main`, each `commits_per_pull` commits on its own branch plus
    GitHub's merge commit, written with one `git fast-import`; the pull requests (titles in
    conventional-commit style, some labelled) go into the sandbox state directly."""
    from opsgh.sandbox.routes.issues import ISSUES, LABELS, Issue, Label
    from opsgh.sandbox.routes.pulls import PullRequest, pulls_of

    with sandbox.app.lock:
        repo = sandbox.repo(owner, name)
        git = sandbox.app.git_repo(repo)
        base = git.ref("refs/heads/main")
        assert base is not None
        when = int(start if start is not None else sandbox.clock.now() - 30 * 86400)
        people = {login: sandbox.app.signature(login) for login in authors}
        web_flow = sandbox.app.signature()
        scratch = "refs/opsgh-import/history"
        stream = bytearray()
        mark = 0
        merges: list[tuple[int, int, int, str, str]] = []  # (merge mark, branch tip mark, time, title, author)
        kinds = ("feat", "fix", "perf", "refactor", "docs", "chore")

        def who(signature: Signature, at: int) -> str:
            return f"{signature.name} <{signature.email}> {at} +0000"

        def blob(text: str) -> bytes:
            data = text.encode()
            return b"data %d\n%s\n" % (len(data), data)

        mainline = f"{base}"  # the previous mainline commit, as a sha or a mark
        for number in range(pulls):
            author = authors[number % len(authors)]
            kind = kinds[number % len(kinds)]
            title = f"{kind}(module {number % 20}): change number {number} of the history, as long as real titles are"
            parent = mainline
            for step in range(commits_per_pull):
                mark += 1
                when += 1
                message = f"{title}, step {step}"
                stream += f"commit {scratch}\nmark :{mark}\nauthor {who(people[author], when)}\n".encode()
                stream += f"committer {who(people[author], when)}\n".encode() + blob(message)
                stream += f"from {parent}\n".encode()
                path = f"src/module_{(number * commits_per_pull + step) % files}.py"
                stream += f"M 100644 inline {path}\n".encode() + blob(f"VALUE = {number}.{step}\n") + b"\n"
                parent = f":{mark}"
            mark += 1
            when += 1
            tip_mark = mark - 1
            stream += f"commit {scratch}\nmark :{mark}\nauthor {who(people[author], when)}\n".encode()
            stream += f"committer {who(web_flow, when)}\n".encode()
            stream += blob(f"Merge pull request from {owner}/feature-{number}\n\n{title}")
            stream += f"from {mainline}\nmerge :{tip_mark}\n\n".encode()
            merges.append((mark, tip_mark, when, title, author))
            mainline = f":{mark}"
        stream += b"done\n"
        import tempfile
        from pathlib import Path
        with tempfile.TemporaryDirectory(prefix="opsgh-history-") as tmp:
            marks_file = Path(tmp) / "marks"
            git.run_bytes("update-ref", "-d", scratch, ok=(0, 1, 128))
            git.run_bytes("fast-import", "--quiet", "--done", "--force", f"--export-marks={marks_file}",
                          input=bytes(stream))
            by_mark = dict(line.split() for line in marks_file.read_text().splitlines())
        git.delete_ref(scratch)
        tip = by_mark[f":{merges[-1][0]}"]
        labels = repo.items(LABELS)
        labels.setdefault("security", Label(sandbox.state.next_id("label"), "security", "b60205", "Security fixes"))
        issues = repo.items(ISSUES)
        previous_main = base
        for index, (merge_mark, tip_mark, at, title, author) in enumerate(merges):
            number = repo.next_number()
            merge_sha = by_mark[f":{merge_mark}"]
            pull = PullRequest(number, sandbox.state.next_id("pull"), title, author, f"feature-{index}", "main",
                               by_mark[f":{tip_mark}"], previous_main, "Part of the history.", state="closed",
                               created_at=float(at - 100), updated_at=float(at), closed_at=float(at),
                               merged_at=float(at), merged_by="alice", merge_commit_sha=merge_sha,
                               merge_method="merge")
            pulls_of(repo)[number] = pull
            if index % 7 == 0:
                issues[number] = Issue(number, sandbox.state.next_id("issue"), is_pull=True, created_at=float(at),
                                       updated_at=float(at), label_ids=[labels["security"].id])
            previous_main = merge_sha
        # Move main last, through the app, so that ref listeners see one push.
        sandbox.app.move_ref(repo, "refs/heads/main", tip, base, "alice")
        sandbox.app.persist()
    return History(pulls, pulls * (commits_per_pull + 1), tip)

