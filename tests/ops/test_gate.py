"""`opsgh gate` end to end against the sandbox: NO-GO with the right reasons, then GO after the fix."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from ship_support import ReleaseRepo

from opsgh.cli import run
from opsgh.clock import FakeClock
from opsgh.errors import ExitCode, PreconditionFailed
from opsgh.gate.verdict import Outcome, VerdictState
from opsgh.ops.gate import gate
from opsgh.sandbox import Sandbox

CONFIG = """\
branches: {staging: main, production: prod}
release: {title: "Release {date}", tag: "v{date}", timezone: America/New_York}
gate:
  approvals: {min: 1}
  blocking_issue_labels: [P0]
"""

BODY = """\
## Release 2027-01-15

## Pre-deployment checklist
- [x] Migrations reviewed
- [x] Rollback plan confirmed
"""


@pytest.fixture
def shop(sandbox: Sandbox, sandbox_clock: FakeClock) -> Iterator[ReleaseRepo]:
    repo = ReleaseRepo(sandbox, sandbox_clock, config=CONFIG)
    yield repo
    repo.close()


def test_no_go_with_its_reasons_then_go_after_the_fix(shop: ReleaseRepo) -> None:
    shop.features("tax")
    number = shop.open_release_pr(body=BODY)["number"]
    shop.report("failure")

    verdict = gate(shop.gateway(), shop.full_name, shop.config, shop.clock)

    assert verdict.state is VerdictState.NO_GO
    assert verdict.sha == shop.tip("main")
    outcomes = {r.key: r.outcome for r in verdict.results}
    assert outcomes["checks"] is Outcome.FAIL
    assert outcomes["approvals"] is Outcome.FAIL
    assert outcomes["checklist"] is Outcome.PASS
    assert outcomes["blocking_issue_labels"] is Outcome.PASS
    assert any("required check 'ci' failed" in r for r in verdict.reasons), verdict.reasons
    assert any("0 of 1 approvals" in r for r in verdict.reasons), verdict.reasons

    shop.report("success")
    shop.call("POST", f"/pulls/{number}/reviews", {"event": "APPROVE"}, login="bob")

    verdict = gate(shop.gateway(), shop.full_name, shop.config, shop.clock, number)
    assert verdict.state is VerdictState.GO, verdict.reasons
    assert {r.key: r.outcome for r in verdict.results}["approvals"] is Outcome.PASS


def test_a_running_check_is_pending_and_a_p0_issue_blocks(shop: ReleaseRepo) -> None:
    shop.features("tax")
    number = shop.open_release_pr(body=BODY)["number"]
    shop.call("POST", f"/pulls/{number}/reviews", {"event": "APPROVE"}, login="bob")
    shop.report("pending")

    verdict = gate(shop.gateway(), shop.full_name, shop.config, shop.clock)
    assert verdict.state is VerdictState.PENDING
    assert verdict.reasons == (f"Required checks: required check 'ci' is still running on {verdict.sha[:7]} (pending)",)

    shop.report("success")
    shop.call("POST", "/labels", {"name": "P0", "color": "b60205", "description": "Outage"}, expect=201)
    issue = shop.call("POST", "/issues", {"title": "Checkout down", "labels": ["P0"]}, expect=201)
    verdict = gate(shop.gateway(), shop.full_name, shop.config, shop.clock)
    assert verdict.state is VerdictState.NO_GO
    assert verdict.reasons == (f"Blocking issues: 1 open: #{issue['number']}",)


def test_no_release_pr_is_a_precondition(shop: ReleaseRepo) -> None:
    with pytest.raises(PreconditionFailed, match="no open Release PR"):
        gate(shop.gateway(), shop.full_name, shop.config, shop.clock)


def test_cli_exit_codes_and_json(shop: ReleaseRepo, capsys: pytest.CaptureFixture[str]) -> None:
    shop.features("tax")
    number = shop.open_release_pr(body=BODY)["number"]
    shop.report("pending")
    shop.call("POST", f"/pulls/{number}/reviews", {"event": "APPROVE"}, login="bob")
    environ = {"GITHUB_TOKEN": shop.tokens["alice"], "GITHUB_API_URL": shop.sandbox.url,
               "GITHUB_GRAPHQL_URL": shop.sandbox.graphql_url, "GITHUB_REPOSITORY": shop.full_name}

    assert run(["gate"], environ=environ) == ExitCode.PENDING
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("PENDING at ")
    assert any("Required checks" in line and "'ci' is still running" in line for line in out[1:])

    shop.report("failure")
    assert run(["gate", str(number), "--json"], environ=environ) == ExitCode.PRECONDITION
    document = json.loads(capsys.readouterr().out)
    assert document["verdict"] == "NO-GO"
    assert document["reasons"] == [f"Required checks: required check 'ci' failed on {document['sha'][:7]} (failure)"]

    shop.report("success")
    assert run(["gate"], environ=environ) == ExitCode.OK
    assert capsys.readouterr().out.startswith("GO at ")


SECURITY = CONFIG + "  security: {dependabot: high, code_scanning: high}\n  approvals: {min: 0}\n"


def test_security_alerts_block_and_a_disabled_feature_is_skipped(sandbox: Sandbox, sandbox_clock: FakeClock) -> None:
    from opsgh.sandbox.routes.security import add_dependabot_alert, set_security_features

    shop = ReleaseRepo(sandbox, sandbox_clock, config=SECURITY.replace("  approvals: {min: 1}\n", ""))
    try:
        shop.features("tax")
        shop.open_release_pr(body=BODY)
        shop.report("success")
        add_dependabot_alert(sandbox, "acme", "shop", severity="medium", package="left-pad", ecosystem="npm")
        verdict = gate(shop.gateway(), shop.full_name, shop.config, shop.clock)
        security = {r.key: r for r in verdict.results}["security"]
        # code scanning has no analysis yet (GitHub's 404): not read, said so; medium is below high.
        assert security.outcome is Outcome.PASS, security
        assert "not read: code_scanning" in security.summary
        assert verdict.state is VerdictState.GO, verdict.reasons

        add_dependabot_alert(sandbox, "acme", "shop", severity="critical", package="log4j", ecosystem="maven")
        verdict = gate(shop.gateway(), shop.full_name, shop.config, shop.clock)
        assert verdict.state is VerdictState.NO_GO
        assert verdict.reasons == ("Security alerts: open alerts: 1 dependabot (>= high)",)

        set_security_features(sandbox, "acme", "shop", dependabot_alerts=False)
        verdict = gate(shop.gateway(), shop.full_name, shop.config, shop.clock)
        security = {r.key: r for r in verdict.results}["security"]
        assert security.outcome is Outcome.SKIP
        assert "disabled" in security.summary
        assert verdict.state is VerdictState.GO
    finally:
        shop.close()


MIGRATIONS = CONFIG + ('  migrations: {paths: ["db/migrations/**"], allow_label: destructive-ok}\n'
                       "  security: {dependabot: high}\n")


def test_a_destructive_migration_needs_the_label_and_the_requests_stay_few(sandbox: Sandbox,
                                                                          sandbox_clock: FakeClock) -> None:
    shop = ReleaseRepo(sandbox, sandbox_clock, config=MIGRATIONS)
    try:
        shop.push({"db/migrations/0042_drop_legacy.sql": "ALTER TABLE users DROP COLUMN legacy_id;\n"},
                  "Drop legacy ids")
        number = shop.open_release_pr(body=BODY)["number"]
        shop.report("success")
        shop.call("POST", f"/pulls/{number}/reviews", {"event": "APPROVE"}, login="bob")
        gateway = shop.gateway()
        verdict = gate(gateway, shop.full_name, shop.config, shop.clock, number)
        assert verdict.state is VerdictState.NO_GO
        assert len(verdict.reasons) == 1
        assert verdict.reasons[0].startswith("Migrations: 1 destructive statement(s) in migrations; add the label "
                                             "'destructive-ok'")
        # PR state + labels + reviews + checks + base rules (GraphQL), branch, P0 issues, compare, Dependabot alerts.
        assert len(gateway.ledger) == 5, gateway.ledger.summary()

        shop.call("POST", "/labels", {"name": "destructive-ok", "color": "b60205", "description": "Approved"},
                  expect=201)
        shop.call("POST", f"/issues/{number}/labels", {"labels": ["destructive-ok"]})
        verdict = gate(shop.gateway(), shop.full_name, shop.config, shop.clock, number)
        assert verdict.state is VerdictState.GO, verdict.reasons
        assert "allowed by the label" in {r.key: r for r in verdict.results}["migrations"].summary
    finally:
        shop.close()


class _Health:
    """A health endpoint on 127.0.0.1 whose answer the test switches."""

    def __init__(self) -> None:
        from contextlib import ExitStack

        from local_http import QuietHandler, base_url, serving

        self.status, self.body = 503, b'{"database": {"ok": false}}'
        health = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                self.send_response(health.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(health.body)))
                self.end_headers()
                self.wfile.write(health.body)

        self._stack = ExitStack()
        self.url = f"{base_url(self._stack.enter_context(serving(Handler)))}/healthz"

    def close(self) -> None:
        self._stack.close()


def test_probes_and_commands_join_the_verdict(sandbox: Sandbox, sandbox_clock: FakeClock) -> None:
    from opsgh.github.probes import HttpxProbeClient
    from opsgh.shell import SubprocessCommandRunner

    health = _Health()
    config = CONFIG + (f'  probes: [{{name: staging health, url: "{health.url}", samples: 2,\n'
                       "            expect: {status: 200, json: {database.ok: true}}}]\n"
                       '  commands: [{name: smoke, run: "echo smoke ok", expect_output: "smoke ok"}]\n')
    shop = ReleaseRepo(sandbox, sandbox_clock, config=config)
    client = HttpxProbeClient()
    try:
        shop.features("tax")
        number = shop.open_release_pr(body=BODY)["number"]
        shop.report("success")
        shop.call("POST", f"/pulls/{number}/reviews", {"event": "APPROVE"}, login="bob")
        runner = SubprocessCommandRunner()
        verdict = gate(shop.gateway(), shop.full_name, shop.config, shop.clock, probe_client=client,
                       command_runner=runner)
        outcomes = {r.key: r.outcome for r in verdict.results}
        assert verdict.state is VerdictState.NO_GO
        assert outcomes["probes"] is Outcome.FAIL
        assert outcomes["commands"] is Outcome.PASS
        assert [r.split(":")[0] for r in verdict.reasons] == [r.title for r in verdict.results
                                                              if r.key == "probes"]

        health.status, health.body = 200, b'{"database": {"ok": true}}'
        verdict = gate(shop.gateway(), shop.full_name, shop.config, shop.clock, probe_client=client,
                       command_runner=runner)
        assert verdict.state is VerdictState.GO, verdict.reasons
    finally:
        client.close()
        health.close()
        shop.close()


def test_a_gate_without_issues_migrations_or_alerts_costs_two_requests(sandbox: Sandbox,
                                                                         sandbox_clock: FakeClock) -> None:
    shop = ReleaseRepo(sandbox, sandbox_clock)
    try:
        shop.features("tax")
        number = shop.open_release_pr(body=BODY)["number"]
        shop.report("success")
        gateway = shop.gateway()
        gate(gateway, shop.full_name, shop.config, shop.clock, number)
        # the PR state with its labels, latest reviews, checks and its base's ruleset rules (GraphQL), the branch
        assert len(gateway.ledger) == 2, gateway.ledger.summary()
    finally:
        shop.close()
