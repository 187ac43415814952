"""`opsgh demo`: the branch model walked end to end against a local sandbox, offline.

Each step prints the command a user would type and runs it for real through the CLI against the
sandbox, so what the demo shows is what opsgh does. It grows as operations land.
"""

from __future__ import annotations

import shlex
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from opsgh.sandbox import Sandbox, SeedInfo

Echo = Callable[[str], None]
RunCli = Callable[[list[str], dict[str, str]], int]


@dataclass(frozen=True)
class DemoStep:
    title: str
    argv: tuple[str, ...]
    expect_exit: int = 0
    user: str = "alice"


def demo_steps(seed: SeedInfo) -> list[DemoStep]:
    """The walk, in order: every step is an opsgh command against the seeded repository."""
    repo = seed.full_name
    return [
        DemoStep("Check the token and the repository", ("--repo", repo, "doctor")),
        DemoStep("Show the effective configuration (read from the default branch)",
                 ("--repo", repo, "config", "show")),
        DemoStep("A read-only collaborator is told what is missing", ("--repo", repo, "doctor"),
                 expect_exit=1, user="carol"),
        DemoStep("Preview the release PR main -> prod (changes nothing)", ("--repo", repo, "release", "--dry-run")),
        DemoStep("Open the release PR: changelog, risk flags, pre-deployment checklist", ("--repo", repo, "release")),
        DemoStep("Run it again: nothing moved, so nothing changes and no duplicate", ("--repo", repo, "release")),
    ]


def run_demo(run_cli: RunCli, echo: Echo, *, latency_ms: float = 0, keep: bool = False,
             state_dir: str | None = None, prepare: Callable[[Sandbox], None] | None = None) -> int:
    """Start a sandbox, seed it, walk the steps; returns the exit code (0 when every step behaved).

    `prepare(sandbox)` runs before the sandbox starts (tests attach the contract validator there).
    """
    from opsgh.sandbox import Sandbox, seed_demo

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="opsgh-demo-") as scratch:
        sandbox = Sandbox(state_dir or Path(scratch) / "state", latency_ms=latency_ms)
        if prepare is not None:
            prepare(sandbox)
        sandbox.start()
        try:
            seed = seed_demo(sandbox)
            echo(f"sandbox: a local GitHub at {sandbox.url} (offline, real git)")
            echo(f"seeded {seed.full_name} (users: {', '.join(sorted(seed.tokens))}); merged pull requests, "
                 "each with a green `ci` check run and an approval:")
            for number, title in seed.merged_pulls:
                echo(f"  #{number} {title}")
            echo(f"prod is at the last release ({seed.release_sha[:7]}); main ({seed.staging_sha[:7]}) is "
                 f"{len(seed.merged_pulls) - 1} pull requests ahead")
            failures = _walk(demo_steps(seed), seed, sandbox, run_cli, echo, scratch)
            elapsed = time.monotonic() - started
            if failures:
                echo(f"\ndemo: {len(failures)} step(s) did not behave: {', '.join(failures)} ({elapsed:.1f} s)")
                return 1
            echo(f"\ndemo: every step behaved ({elapsed:.1f} s, {len(sandbox.log.entries)} requests to the sandbox)")
            if keep:
                echo(f"the sandbox keeps running at {sandbox.url}; press Ctrl-C to stop")
                for login, token in sorted(seed.tokens.items()):
                    echo(f"  {login}: GITHUB_TOKEN={token}")
                sandbox.serve_forever()
            return 0
        finally:
            sandbox.stop()


def _walk(steps: Sequence[DemoStep], seed: SeedInfo, sandbox: Sandbox, run_cli: RunCli, echo: Echo,
          workdir: str) -> list[str]:
    failures = []
    for number, step in enumerate(steps, start=1):
        environ = {
            "GITHUB_TOKEN": seed.tokens[step.user],
            "GITHUB_API_URL": sandbox.url,
            "GITHUB_GRAPHQL_URL": sandbox.graphql_url,
            "HOME": workdir,
        }
        echo(f"\n== {number}. {step.title} (as {step.user})")
        echo(f"$ opsgh {shlex.join(step.argv)}")
        code = run_cli(list(step.argv), environ)
        if code != step.expect_exit:
            failures.append(f"step {number} exited {code}, expected {step.expect_exit}")
    return failures
