"""`opsgh verify` against the sandbox and a real health endpoint on 127.0.0.1: the deployment's statuses,
the report on the Release PR, the rollback tiers, re-runs and dry runs."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from local_http import QuietHandler, base_url, serving
from rollback_support import shipped as ship_release
from ship_support import CONFIG as SHIP_CONFIG
from ship_support import ReleaseRepo

from opsgh.cli import run
from opsgh.clock import FakeClock
from opsgh.config import load_config
from opsgh.errors import ExitCode, UsageError
from opsgh.gate.tiers import Tier
from opsgh.github.probes import HttpxProbeClient
from opsgh.ops.verify import MARKER, VerifyRequest, VerifyResult, verify
from opsgh.sandbox import Sandbox


class Health:
    """What the health endpoint answers: request n (from 1) fails when `fail(n)` says so; `delay_s` per answer."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.count = 0
        self.fail = lambda n: False
        self.delay_s = 0.0

    def next(self) -> tuple[int, bool, float]:
        with self.lock:
            self.count += 1
            return self.count, self.fail(self.count), self.delay_s


@pytest.fixture
def health() -> Iterator[tuple[Health, str]]:
    state = Health()

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            _, failing, delay = state.next()
            if delay:
                time.sleep(delay)
            if failing:
                self.send_json(500, {"status": "error", "database": {"ok": False}})
            else:
                self.send_json(200, {"status": "ok", "database": {"ok": True}})

    with serving(Handler) as server:
        yield state, base_url(server)


def verify_config(url: str, baseline_ms: int = 1000) -> str:
    """Latency is judged against a generous baseline unless a test asks: the machine may be busy."""
    return SHIP_CONFIG + f"""\
verify:
  duration: 1m
  interval: 10s
  outage_after: 30s
  environments:
    production:
      url: "https://shop.example.com"
      baseline_p95_ms: {baseline_ms}
      probes:
        - name: health
          url: "{url}/healthz"
          expect: {{status: 200, json: {{status: ok, database.ok: true}}}}
          samples: 10
          timeout_s: 5
"""


@pytest.fixture
def shipped(sandbox: Sandbox, sandbox_clock: FakeClock, health: tuple[Health, str]) -> Iterator[ReleaseRepo]:
    """A release shipped to prod: its merge commit has a production deployment, in_progress."""
    repo = ReleaseRepo(sandbox, sandbox_clock, config=verify_config(health[1]))
    repo.features("tax")
    repo.open_release_pr()
    repo.report("success")
    assert repo.ship().deployment_id is not None
    yield repo
    repo.close()


def run_verify(repo: ReleaseRepo, **request: Any) -> VerifyResult:
    client = HttpxProbeClient(repo.clock)
    try:
        return verify(repo.gateway(), repo.config, VerifyRequest(repo.full_name, **request), repo.clock, client)
    finally:
        client.close()


def deployments(repo: ReleaseRepo) -> list[dict[str, Any]]:
    return list(repo.call("GET", "/deployments", params={"environment": "production"}))


def states(repo: ReleaseRepo, deployment_id: int) -> list[str]:
    """Oldest first."""
    return [s["state"] for s in reversed(repo.call("GET", f"/deployments/{deployment_id}/statuses"))]


def reports(repo: ReleaseRepo, number: int) -> list[str]:
    return [c["body"] for c in repo.call("GET", f"/issues/{number}/comments") if MARKER in c["body"]]


def test_a_healthy_deploy_passes_and_says_so_on_the_deployment_and_the_release_pr(shipped: ReleaseRepo) -> None:
    [deployment] = deployments(shipped)
    assert deployment["sha"] == shipped.tip("prod")
    result = run_verify(shipped)
    assert result.passed
    assert (result.tier, result.rounds, result.stats.samples, result.stats.failed) == (Tier.MONITOR, 7, 70, 0)
    assert result.deployment_id == deployment["id"]
    assert [d["id"] for d in deployments(shipped)] == [deployment["id"]]  # found, not duplicated
    assert states(shipped, deployment["id"]) == ["in_progress", "in_progress", "success"]  # ship's, then ours
    latest = shipped.call("GET", f"/deployments/{deployment['id']}/statuses")[0]
    assert latest["description"].startswith("opsgh verify: monitor (0.0% errors, p95 ")
    assert latest["environment_url"] == "https://shop.example.com"
    assert result.pull_number == 1
    assert result.comment_url is not None
    assert latest["log_url"] == result.comment_url  # no workflow run here: the report is the log
    [report] = reports(shipped, 1)
    assert "production verification: **PASSED**" in report
    assert "| Error rate | 0.0% (0 of 70 samples) | 2% (urgent) |" in report
    assert "keep monitoring" in report
    assert shipped.clock.sleeps == [10.0] * 6  # rounds at T+0, 10 s ... 60 s, on the injected clock


def test_a_complete_outage_fails_at_once_and_the_deployment_says_failure(shipped: ReleaseRepo,
                                                                         health: tuple[Health, str]) -> None:
    health[0].fail = lambda n: True
    result = run_verify(shipped)
    assert not result.passed
    assert result.stopped_early
    assert (result.tier, result.rounds) == (Tier.IMMEDIATE, 4)  # T+0 .. T+30 s: outage_after reached
    assert result.assessment.reasons == ("complete outage: every sample failed for 30s (limit 30s)",)
    assert result.probes[0].problem == "status 500, expected 200"
    deployment = deployments(shipped)[0]
    assert states(shipped, deployment["id"])[-1] == "failure"
    [report] = reports(shipped, 1)
    assert "production verification: **FAILED**" in report
    assert "stopped watching early" in report
    assert 'opsgh rollback --reason "verify: immediate"' in report


@pytest.mark.parametrize(("every", "tier", "passed"), [
    (30, Tier.URGENT, False),  # 2 of 70 samples: 2.9% > 2%
    (60, Tier.EVALUATE, True),  # 1 of 70: 1.4% > 1%, below fail_on (urgent): passes with the tier said
])
def test_the_error_rate_picks_the_tier(shipped: ReleaseRepo, health: tuple[Health, str], every: int, tier: Tier,
                                       passed: bool) -> None:
    health[0].fail = lambda n: n % every == 0
    result = run_verify(shipped)
    assert (result.tier, result.passed, result.stopped_early) == (tier, passed, False)
    assert states(shipped, deployments(shipped)[0]["id"])[-1] == ("success" if passed else "failure")
    assert result.assessment.reasons[0].startswith(f"error rate {100 * (70 // every) / 70:.1f}% over")


def test_latency_over_three_times_the_baseline_is_urgent(shipped: ReleaseRepo, health: tuple[Health, str]) -> None:
    health[0].delay_s = 0.4
    config = load_config(verify_config(health[1], baseline_ms=40))
    client = HttpxProbeClient(shipped.clock)
    try:
        result = verify(shipped.gateway(), config, VerifyRequest(shipped.full_name, duration_s=10.0), shipped.clock,
                        client)
    finally:
        client.close()
    assert (result.tier, result.passed, result.stats.failed) == (Tier.URGENT, False, 0)
    assert "baseline, over 3x (urgent)" in result.assessment.reasons[0]


def test_a_rerun_edits_the_one_report_and_records_no_second_deployment(shipped: ReleaseRepo,
                                                                       health: tuple[Health, str]) -> None:
    health[0].fail = lambda n: n % 30 == 0
    first = run_verify(shipped)
    health[0].fail = lambda n: False
    again = run_verify(shipped)
    assert (first.passed, again.passed) == (False, True)
    assert len(deployments(shipped)) == 1
    [report] = reports(shipped, 1)
    assert "**PASSED**" in report
    assert again.comment_url == first.comment_url
    assert states(shipped, again.deployment_id or 0) == ["in_progress", "in_progress", "failure", "in_progress",
                                                         "success"]


def test_a_dry_run_probes_but_writes_nothing(shipped: ReleaseRepo) -> None:
    before = shipped.snapshot()
    gateway = shipped.gateway()
    client = HttpxProbeClient(shipped.clock)
    try:
        result = verify(gateway, shipped.config, VerifyRequest(shipped.full_name, dry_run=True), shipped.clock, client)
    finally:
        client.close()
    assert result.passed
    assert result.stats.samples == 70
    assert shipped.snapshot() == before
    assert not [e for e in gateway.ledger if e.method != "GET"], gateway.ledger.summary()
    assert any(line.startswith("  would set the deployment success") for line in result.lines())


def test_a_deploy_without_a_deployment_gets_one_recorded_once(sandbox: Sandbox, sandbox_clock: FakeClock,
                                                              health: tuple[Health, str]) -> None:
    repo = ReleaseRepo(sandbox, sandbox_clock, config=verify_config(health[1]))
    try:
        hotfix = repo.push({"app/fix.py": "# fix\n"}, "Fix the cart", branch="prod")  # pushed, not shipped
        for _ in range(2):
            result = run_verify(repo, duration_s=10.0)
            assert (result.passed, result.sha, result.pull_number) == (True, hotfix, None)
        [deployment] = deployments(repo)
        assert (deployment["sha"], deployment["environment"]) == (hotfix, "production")
        assert states(repo, deployment["id"]) == ["in_progress", "success", "in_progress", "success"]
    finally:
        repo.close()


def test_an_environment_without_probes_is_a_usage_error_before_any_write(shipped: ReleaseRepo) -> None:
    gateway = shipped.gateway()
    client = HttpxProbeClient(shipped.clock)
    try:
        with pytest.raises(UsageError, match="no probes to verify environment 'staging' with \\(configured: pr"):
            verify(gateway, shipped.config, VerifyRequest(shipped.full_name, "staging"), shipped.clock, client)
    finally:
        client.close()
    assert len(gateway.ledger) == 0


def _cli(repo: ReleaseRepo, tmp_path: Path, *args: str,
         capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    config = tmp_path / "opsgh.yml"
    config.write_text(verify_config(repo.config.verify.environments["production"].probes[0].url[:-len("/healthz")]))
    environ = {"GITHUB_TOKEN": repo.tokens["alice"], "GITHUB_API_URL": repo.sandbox.url,
               "GITHUB_REPOSITORY": repo.full_name}
    code = run(["--config", str(config), "verify", *args], environ=environ)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_exit_codes_and_progress(shipped: ReleaseRepo, health: tuple[Health, str], tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _cli(shipped, tmp_path, "--duration", "1s", "--interval", "1s", capsys=capsys)
    assert code == ExitCode.OK, err
    assert out.startswith("production verification PASSED at ")
    assert "T+0s: error rate 0.0% (0/10 samples)" in err
    health[0].fail = lambda n: True
    code, out, err = _cli(shipped, tmp_path, "--duration", "1s", "--interval", "1s", capsys=capsys)
    assert code == ExitCode.CHECK_FAILED
    assert "production verification FAILED" in out
    code, out, err = _cli(shipped, tmp_path, "--duration", "ten minutes", capsys=capsys)
    assert code == ExitCode.USAGE
    assert err.splitlines()[0] == "error: --duration 'ten minutes' is not a duration"
    code, out, err = _cli(shipped, tmp_path, "--env", "qa", capsys=capsys)
    assert code == ExitCode.USAGE
    assert "no probes to verify environment 'qa'" in err



def test_a_sustained_immediate_error_rate_stops_the_watch_after_immediate_after(
        sandbox: Sandbox, sandbox_clock: FakeClock, health: tuple[Health, str]) -> None:
    repo = ReleaseRepo(sandbox, sandbox_clock, config=verify_config(health[1]).replace(
        "  outage_after: 30s\n", "  outage_after: 30s\n  immediate_after: 20s\n"))
    try:
        ship_release(repo, "tax")
        health[0].fail = lambda n: n % 5 == 0  # 20 % of the samples fail: never an outage, always immediate
        result = run_verify(repo)
        assert (result.tier, result.passed, result.stopped_early, result.rounds) == (Tier.IMMEDIATE, False, True, 3)
        assert result.assessment.reasons == ("error rate 20.0% over 5% (immediate)",)
        [report] = reports(repo, 1)
        assert "stopped watching early: the immediate tier held for 20s" in report
    finally:
        repo.close()


def test_rollback_on_fail_hands_a_failed_deploy_over_to_rollback(sandbox: Sandbox, sandbox_clock: FakeClock,
                                                                 health: tuple[Health, str], tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    repo = ReleaseRepo(sandbox, sandbox_clock, config=verify_config(health[1]), required=())
    try:
        before = ship_release(repo, "tax")["prod_before"]
        health[0].fail = lambda n: True
        config = tmp_path / "opsgh.yml"
        config.write_text(verify_config(health[1]).replace("outage_after: 30s", "outage_after: 1s"))
        environ = {"GITHUB_TOKEN": repo.tokens["alice"], "GITHUB_API_URL": repo.sandbox.url,
                   "GITHUB_GRAPHQL_URL": repo.sandbox.graphql_url, "GITHUB_REPOSITORY": repo.full_name}
        code = run(["--config", str(config), "verify", "--duration", "2s", "--interval", "1s", "--rollback-on-fail"],
                   environ=environ)
        out, err = capsys.readouterr()
        assert code == ExitCode.CHECK_FAILED, err
        assert "production verification FAILED" in out
        assert "verification failed: handing over to rollback (opsgh verify: production immediate" in err
        assert repo.git("rev-parse", "prod^{tree}") == repo.git("rev-parse", f"{before}^{{tree}}")  # rolled back
        reverts = [p for p in repo.call("GET", "/pulls", params={"state": "closed", "base": "prod"})
                   if p["head"]["ref"].startswith("revert-")]
        assert len(reverts) == 1
        assert "opsgh verify: production immediate" in reverts[0]["body"]
        code = run(["--config", str(config), "verify", "--env", "staging", "--rollback-on-fail"], environ=environ)
        assert code == ExitCode.USAGE
    finally:
        repo.close()
