"""`opsgh demo`: the branch model walked end to end against a local sandbox, offline.

Each step prints the command a user would type and runs it for real through the CLI against the
sandbox, so what the demo shows is what opsgh does. It grows as operations land.
"""

from __future__ import annotations

import shlex
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from opsgh.sandbox import Sandbox, SeedInfo
    from opsgh.sandbox.seed import Team

Echo = Callable[[str], None]
RunCli = Callable[[list[str], dict[str, str]], int]


@dataclass(frozen=True)
class DemoStep:
    """An opsgh command (`argv`), or something the team does meanwhile (`event`, e.g. CI reporting)."""

    title: str
    argv: tuple[str, ...] = ()
    expect_exit: int = 0
    user: str = "alice"
    event: Callable[[Team], str] | None = None
    argv_of: Callable[[Team], tuple[str, ...]] | None = None  # argv known only then (e.g. a PR number)


def _new_feature(team: Team) -> str:
    number = team.merged_pull("feature/wishlist", {
        "app/wishlist.py": "def add(user, product):\n    user.wishlist.append(product)\n",
    }, "feat: add a wishlist", author="bob", labels=("enhancement",))
    return f"bob merged PR #{team.merged[-1][0]} \"feat: add a wishlist\" into main ({number[:7]})"


def _ci_and_approval(team: Team) -> str:
    tip = team.branch_tip("main")
    team.report_ci(tip)
    pull = team.release_pull()
    team.approve(pull, "bob")
    return f"CI reported `ci` success on main ({tip[:7]}); bob approved release PR #{pull}"


def _show_announcement(team: Team) -> str:
    pull = team.merged_release_pull()
    comment = team.last_comment(pull)
    return f"opsgh's comment on release PR #{pull}:\n" + "\n".join(f"  | {line}" for line in comment.splitlines())


def _relax_protection(team: Team) -> str:
    team.relax_protection("prod")
    return "alice turned off \"enforce for administrators\" on prod by hand, in the settings page"


def _green_and_approved_revert(team: Team) -> str:
    number, head = team.open_pull_into("prod")
    team.report_ci(head)
    team.approve(number, "bob")
    return f"CI reported `ci` success on revert PR #{number} ({head[:7]}); bob approved it"


def _show_rollback(team: Team) -> str:
    pull = team.merged_release_pull()
    comment = team.last_comment(pull)
    return f"opsgh's comment on release PR #{pull}, edited in place:\n" + "\n".join(
        f"  | {line}" for line in comment.splitlines())


def _fix_lands(team: Team) -> str:
    tip = team.merged_pull("fix/orders-migration", {
        "migrations/0002_add_orders.sql": "CREATE TABLE IF NOT EXISTS orders (id SERIAL PRIMARY KEY);\n",
    }, "fix(db): make the orders migration re-runnable", author="bob", labels=("bug",))
    return f"bob merged the fix PR #{team.merged[-1][0]} into main ({tip[:7]})"


def _green_reapply(team: Team) -> str:
    number, head = team.open_pull_into("main")
    team.report_ci(head)
    return f"CI reported `ci` success on re-apply PR #{number} ({head[:7]})"


def _show_reapplied(team: Team) -> str:
    pull = team.release_pull()
    body = team.pull_body(pull)
    start = body.find("### ↩️ Re-applied")
    section = body[start:body.find("\n### ", start + 1)].strip() if start != -1 else "(no re-apply section)"
    return f"release PR #{pull} says:\n" + "\n".join(f"  | {line}" for line in section.splitlines())


def _same_files(team: Team) -> str:
    prod, main = team.tree("prod"), team.tree("main")
    verdict = "the same files" if prod == main else "DIFFERENT files"
    return (f"prod's tree {prod[:7]}, main's tree {main[:7]}: {verdict} (the rolled-back release came back "
            "with the fix)")


HOTFIX = "payment-timeout"


def _fix_and_merge_hotfix(team: Team) -> str:
    number, merge = team.finish_hotfix(f"hotfix/{HOTFIX}", {
        "app/checkout.py": "def checkout(cart):\n    return {'total': cart.total(), 'timeout': 5}\n",
    }, "fix: time out payments after 5 s", author="bob", reviewer="bob")
    return (f"bob pushed the fix to hotfix/{HOTFIX} and marked #{number} ready; CI went green, it was approved and "
            f"merged into prod with a merge commit ({merge[:7]}): prod now has a fix main lacks")


def _hotfix_number(team: Team) -> str:
    return str(team.pull(f"hotfix/{HOTFIX}", "prod")["number"])


def _show_backport(team: Team) -> str:
    hotfix = team.pull(f"hotfix/{HOTFIX}", "prod")
    pull = team.pull(f"backport/{hotfix['number']}-to-main", "main")
    labels = ", ".join(label["name"] for label in pull["labels"])
    reviewers = ", ".join(user["login"] for user in pull["requested_reviewers"]) or "nobody"
    return (f"#{pull['number']} {pull['title']!r} ({pull['head']['ref']} -> main), labels: {labels}; "
            f"review requested from {reviewers}")


def demo_steps(seed: SeedInfo, verify_config: str | None = None,
               new_repository: str | None = None) -> list[DemoStep]:
    """The walk, in order: every step is an opsgh command against the seeded repository.

    `verify_config`: a local configuration file whose `verify` probes the demo shop's health endpoint
    (its port is only known at run time, so it cannot be in the seeded repository's file).
    `new_repository`: a fresh local git repository that adopts opsgh (`opsgh init`) at the end.
    """
    repo = seed.full_name
    verify = [DemoStep("Verify the deploy: probe production, judge it against the rollback tiers, mark the "
                       "deployment and report on the Release PR",
                       ("--repo", repo, "--config", verify_config, "verify", "--env", "production",
                        "--duration", "2s", "--interval", "1s"))] if verify_config else []
    init = ("init", "--dir", new_repository, "--templates", "gate") if new_repository else ()
    adopt = [
        DemoStep("Another team adopts opsgh: the starter configuration and the go/no-go workflow, with the diff",
                 init),
        DemoStep("Run it again: identical files are left alone", init),
    ] if init else []
    return [
        DemoStep("Plan branch protection for main and prod from .github/opsgh.yml (changes nothing)",
                 ("--repo", repo, "protect", "plan")),
        DemoStep("Bootstrap it: write only what differs", ("--repo", repo, "protect", "apply", "--yes")),
        DemoStep("Check for drift, as a scheduled workflow would: none", ("--repo", repo, "protect", "check")),
        DemoStep("Check the token and the repository", ("--repo", repo, "doctor")),
        DemoStep("Show the effective configuration (read from the default branch)",
                 ("--repo", repo, "config", "show")),
        DemoStep("A read-only collaborator is told what is missing", ("--repo", repo, "doctor"),
                 expect_exit=1, user="carol"),
        DemoStep("Preview the release PR main -> prod (changes nothing)", ("--repo", repo, "release", "--dry-run")),
        DemoStep("Open the release PR: changelog, risk flags, pre-deployment checklist", ("--repo", repo, "release")),
        DemoStep("Run it again: nothing moved, so nothing changes and no duplicate", ("--repo", repo, "release")),
        DemoStep("Meanwhile another feature lands on main", event=_new_feature),
        DemoStep("Refresh the release PR: the same PR is updated in place", ("--repo", repo, "release")),
        DemoStep("Go/no-go, published on the PR (sticky comment + `opsgh / go-no-go` status): NO-GO and why",
                 ("--repo", repo, "gate", "--publish"), expect_exit=4),
        DemoStep("Not yet: prod requires a green `ci` check and an approval", ("--repo", repo, "ship"),
                 expect_exit=4),
        DemoStep("CI goes green and a reviewer approves", event=_ci_and_approval),
        DemoStep("Go/no-go again: GO, the same comment edited in place", ("--repo", repo, "gate", "--publish")),
        DemoStep("Ship: go/no-go at the head SHA, merge commit, tag, GitHub Release, deployment, announcement",
                 ("--repo", repo, "ship")),
        DemoStep("What opsgh told the team", event=_show_announcement),
        *verify,
        DemoStep("Ship again: everything is done already, nothing is duplicated", ("--repo", repo, "ship")),
        DemoStep("Nothing left to release", ("--repo", repo, "release")),
        DemoStep("Errors climb in production: preview the rollback (changes nothing)",
                 ("--repo", repo, "rollback", "--dry-run")),
        DemoStep("Roll back: GitHub's Revert of the release, announced; prod's protection holds the merge",
                 ("--repo", repo, "rollback", "--reason", "checkout errors above 5% since the release"),
                 expect_exit=4),
        DemoStep("CI goes green on the revert PR and a reviewer approves", event=_green_and_approved_revert),
        DemoStep("Roll back again: merged, deployment recorded (the release's inactive), postmortem, Ops Log",
                 ("--repo", repo, "rollback")),
        DemoStep("What opsgh told the team", event=_show_rollback),
        DemoStep("Roll back once more: it happened already, nothing is created", ("--repo", repo, "rollback")),
        DemoStep("The fix lands on main", event=_fix_lands),
        DemoStep("Release: first the revert of the revert into main (main's protection holds it)",
                 ("--repo", repo, "release"), expect_exit=4),
        DemoStep("CI goes green on the re-apply PR", event=_green_reapply),
        DemoStep("Release again: re-apply merged (main's files unchanged), the release PR says what comes back",
                 ("--repo", repo, "release")),
        DemoStep("What the release PR says about it", event=_show_reapplied),
        DemoStep("CI goes green and a reviewer approves", event=_ci_and_approval),
        DemoStep("Ship the re-armed release", ("--repo", repo, "ship")),
        DemoStep("prod and main hold the same files", event=_same_files),
        DemoStep("Production breaks: start a hotfix from prod (a branch and a draft PR back into prod)",
                 ("--repo", repo, "hotfix", "start", HOTFIX)),
        DemoStep("The fix lands on prod", event=_fix_and_merge_hotfix),
        DemoStep("Back-port it to main: the change that landed, cherry-picked with -x, as a PR",
                 argv_of=lambda team: ("--repo", repo, "backport", _hotfix_number(team))),
        DemoStep("The back-port PR", event=_show_backport),
        DemoStep("Back-port again: the PR exists, nothing is duplicated",
                 argv_of=lambda team: ("--repo", repo, "backport", _hotfix_number(team))),
        DemoStep("Meanwhile someone relaxes prod's protection by hand", event=_relax_protection),
        DemoStep("The drift check notices (exit 1)", ("--repo", repo, "protect", "check"), expect_exit=1),
        DemoStep("Repair it: one write", ("--repo", repo, "protect", "apply", "--yes")),
        *adopt,
    ]


def run_demo(run_cli: RunCli, echo: Echo, *, latency_ms: float = 0, keep: bool = False,
             state_dir: str | None = None, prepare: Callable[[Sandbox], None] | None = None) -> int:
    """Start a sandbox, seed it, walk the steps; returns the exit code (0 when every step behaved).

    `prepare(sandbox)` runs before the sandbox starts (tests attach the contract validator there).
    """
    from opsgh.git import init_work_tree
    from opsgh.sandbox import Sandbox, seed_demo

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="opsgh-demo-") as scratch:
        sandbox = Sandbox(state_dir or Path(scratch) / "state", latency_ms=latency_ms)
        if prepare is not None:
            prepare(sandbox)
        sandbox.start()
        try:
            seed = seed_demo(sandbox, protect=False)  # `opsgh protect apply` protects the branches
            echo(f"sandbox: a local GitHub at {sandbox.url} (offline, real git)")
            echo(f"seeded {seed.full_name} (users: {', '.join(sorted(seed.tokens))}); merged pull requests, "
                 "each with a green `ci` check run and an approval:")
            for number, title in seed.merged_pulls:
                echo(f"  #{number} {title}")
            echo(f"prod is at the last release ({seed.release_sha[:7]}); main ({seed.staging_sha[:7]}) is "
                 f"{len(seed.merged_pulls) - 1} pull requests ahead")
            with _shop_health() as health_url:
                config_path = Path(scratch) / "opsgh-verify.yml"
                config_path.write_text(seed.config + _VERIFY_CONFIG.format(url=health_url), encoding="utf-8")
                new_repository = init_work_tree(Path(scratch) / "new-service")
                failures = _walk(demo_steps(seed, str(config_path), str(new_repository)), seed, sandbox, run_cli,
                                 echo, scratch)
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


_VERIFY_CONFIG = """\
verify:
  environments:
    production:
      baseline_p95_ms: 200
      probes:
        - name: health
          url: "{url}/healthz"
          expect: {{status: 200, json: {{status: ok, database.ok: true}}}}
          samples: 5
"""


@contextmanager
def _shop_health() -> Iterator[str]:
    """The demo shop's production health endpoint, on 127.0.0.1 for as long as the demo runs."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    body = json.dumps({"status": "ok", "database": {"ok": True}, "version": "demo"}).encode()

    class Health(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/healthz" else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _walk(steps: Sequence[DemoStep], seed: SeedInfo, sandbox: Sandbox, run_cli: RunCli, echo: Echo,
          workdir: str) -> list[str]:
    from opsgh.sandbox.seed import team

    failures = []
    people = team(sandbox, seed)
    for number, step in enumerate(steps, start=1):
        if step.event is not None:
            echo(f"\n== {number}. {step.title}")
            echo(step.event(people))
            continue
        environ = {
            "GITHUB_TOKEN": seed.tokens[step.user],
            "GITHUB_API_URL": sandbox.url,
            "GITHUB_GRAPHQL_URL": sandbox.graphql_url,
            "HOME": workdir,
        }
        argv = step.argv_of(people) if step.argv_of is not None else step.argv
        echo(f"\n== {number}. {step.title} (as {step.user})")
        echo(f"$ opsgh {shlex.join(argv)}")
        code = run_cli(list(argv), environ)
        if code != step.expect_exit:
            failures.append(f"step {number} exited {code}, expected {step.expect_exit}")
    return failures
