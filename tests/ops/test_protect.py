"""`opsgh protect plan|apply|check` end to end against the sandbox: the protection and rulesets GitHub
holds afterwards, what the plan says, exit codes, and the requests sent (no churn, paced writes)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from protect_support import Org, fastest_schedule
from sandbox.support import ContractRecorder

from opsgh.cli import run
from opsgh.clock import FakeClock
from opsgh.config import load_config
from opsgh.errors import ExitCode
from opsgh.github.gateway import GitHubGateway
from opsgh.ops import protect
from opsgh.sandbox import Sandbox, seed_demo
from opsgh.sandbox.api import AppCredentials

CLASSIC = """\
protection:
  main:
    required_checks: {{contexts: [ci]}}
  prod:
    required_reviews: {{count: 2, dismiss_stale: true, code_owners: true}}
    required_checks:
      strict: false
      contexts: [{{context: deploy-preview, app_id: {app}}}, ci, {{context: Lint 3.12, app_id: -1}}]
    enforce_admins: true
    required_conversation_resolution: true
    required_signatures: true
    restrictions: {{users: [Alice], teams: [release-managers]}}
"""

RULESET = """\
protection:
  main:
    backend: ruleset
    required_checks: {{contexts: [ci]}}
    required_linear_history: true
  prod:
    backend: ruleset
    required_reviews: {{count: 1, require_last_push_approval: true}}
    required_checks: {{contexts: [ci, {{context: deploy-preview, app_id: {app}}}]}}
    required_conversation_resolution: true
    bypass_actors:
      - {{actor_type: Integration, actor_id: {app}}}
      - {{actor_type: OrganizationAdmin}}
      - {{actor_type: RepositoryRole, actor_id: 5, bypass_mode: pull_request}}
"""


@pytest.fixture
def org(sandbox: Sandbox, sandbox_clock: FakeClock) -> Iterator[Org]:
    acme = Org(sandbox, sandbox_clock)
    yield acme
    acme.close()


@pytest.fixture
def ci_app(sandbox: Sandbox) -> AppCredentials:
    return sandbox.add_app("acme-ci", "acme", permissions={"checks": "write", "metadata": "read"})


def report_check(sandbox: Sandbox, app: AppCredentials, repo: str, branch: str, name: str) -> None:
    """The CI App reports a green check run on the branch's tip (GitHub then ties unpinned checks to it)."""
    token = sandbox.installation_token(app)
    headers = {"authorization": f"Bearer {token}", "accept": "application/vnd.github+json"}
    tip = httpx.get(f"{sandbox.url}/repos/{repo}/branches/{branch}", headers=headers).json()["commit"]["sha"]
    answer = httpx.post(f"{sandbox.url}/repos/{repo}/check-runs", headers=headers, json={
        "name": name, "head_sha": tip, "status": "completed", "conclusion": "success"})
    assert answer.status_code == 201, answer.text


def actions(result: protect.ProtectResult) -> list[tuple[str, str, str]]:
    return [(repo.repo, branch.branch, branch.action) for repo in result.repos for branch in repo.branches]


# ----------------------------------------------------------------------------- zero churn


def test_classic_plan_apply_plan_changes_nothing_the_second_time(org: Org, sandbox: Sandbox,
                                                                 ci_app: AppCredentials) -> None:
    report_check(sandbox, ci_app, "acme/shop", "prod", "ci")  # GitHub will pin the unpinned `ci` to this App
    config = CLASSIC.format(app=ci_app.app_id)

    planned = org.plan(config)
    assert actions(planned) == [("acme/shop", "main", "create"), ("acme/shop", "prod", "create")]
    prod_changes = {c.setting: c.desired for c in planned.repos[0].branches[1].changes}
    assert prod_changes["required_reviews"] == "2 approvals, code owners, dismiss stale"
    assert prod_changes["required_signatures"] == "true"
    assert org.writes() == []  # a plan writes nothing

    applied = org.apply(config)
    assert applied.repos[0].status == "applied"
    assert applied.exit_code == ExitCode.OK
    prod = org.protection("acme/shop", "prod")
    assert prod is not None
    assert prod["required_pull_request_reviews"]["required_approving_review_count"] == 2
    assert prod["required_pull_request_reviews"]["dismiss_stale_reviews"] is True
    assert prod["required_pull_request_reviews"]["require_code_owner_reviews"] is True
    # GitHub ties the unpinned `ci` to the App that reported it and shows "any source" (-1) as null.
    assert {c["context"]: c["app_id"] for c in prod["required_status_checks"]["checks"]} == {
        "ci": ci_app.app_id, "deploy-preview": ci_app.app_id, "Lint 3.12": None}
    assert prod["enforce_admins"]["enabled"] is True
    assert prod["required_signatures"]["enabled"] is True
    assert prod["required_conversation_resolution"]["enabled"] is True
    assert (prod["allow_force_pushes"]["enabled"], prod["allow_deletions"]["enabled"]) == (False, False)
    assert [u["login"] for u in prod["restrictions"]["users"]] == ["alice"]
    assert [t["slug"] for t in prod["restrictions"]["teams"]] == ["release-managers"]
    main = org.protection("acme/shop", "main")
    assert main is not None
    assert main["required_status_checks"]["contexts"] == ["ci"]
    assert "required_pull_request_reviews" not in main

    writes = len(org.writes())
    assert writes == 3  # PUT main, PUT prod, POST prod's required_signatures
    again = org.plan(config, mode="check")
    assert actions(again) == [("acme/shop", "main", "unchanged"), ("acme/shop", "prod", "unchanged")]
    assert again.exit_code == ExitCode.OK
    assert org.apply(config).counts()["writes"] == 0
    assert len(org.writes()) == writes


def test_ruleset_plan_apply_plan_changes_nothing_the_second_time(org: Org, ci_app: AppCredentials) -> None:
    config = RULESET.format(app=ci_app.app_id)
    planned = org.plan(config)
    assert actions(planned) == [("acme/shop", "main", "create"), ("acme/shop", "prod", "create")]

    applied = org.apply(config)
    assert applied.repos[0].status == "applied"
    rulesets = org.rulesets("acme/shop")
    assert sorted(rulesets) == ["opsgh: main", "opsgh: prod"]
    prod = rulesets["opsgh: prod"]
    assert prod["enforcement"] == "active"
    assert prod["conditions"]["ref_name"] == {"include": ["refs/heads/prod"], "exclude": []}
    rules = {rule["type"]: rule.get("parameters") for rule in prod["rules"]}
    assert set(rules) == {"deletion", "non_fast_forward", "pull_request", "required_status_checks"}
    assert rules["pull_request"]["required_approving_review_count"] == 1
    assert rules["pull_request"]["require_last_push_approval"] is True
    assert rules["pull_request"]["required_review_thread_resolution"] is True
    assert rules["pull_request"]["allowed_merge_methods"] == ["merge", "squash", "rebase"]  # GitHub's default
    assert rules["required_status_checks"]["required_status_checks"] == [
        {"context": "ci"}, {"context": "deploy-preview", "integration_id": ci_app.app_id}]
    assert {(a["actor_type"], a["bypass_mode"]) for a in prod["bypass_actors"]} == {
        ("Integration", "always"), ("OrganizationAdmin", "always"), ("RepositoryRole", "pull_request")}
    main_rules = {rule["type"] for rule in rulesets["opsgh: main"]["rules"]}
    assert main_rules == {"deletion", "non_fast_forward", "required_linear_history", "required_status_checks"}
    assert org.protection("acme/shop", "prod") is None  # no classic protection besides

    writes = len(org.writes())
    again = org.plan(config, mode="check")
    assert actions(again) == [("acme/shop", "main", "unchanged"), ("acme/shop", "prod", "unchanged")]
    assert org.apply(config).counts()["writes"] == 0
    assert len(org.writes()) == writes


def test_what_github_normalises_is_no_change(org: Org, sandbox: Sandbox, ci_app: AppCredentials) -> None:
    """Protection set by hand in GitHub's other spellings of the same thing: no plan line, no write."""
    report_check(sandbox, ci_app, "acme/shop", "main", "lint")
    org.call("PUT", "/repos/acme/shop/branches/main/protection", {
        # contexts in another order, the deprecated `contexts` (GitHub ties lint to the App that reported it)
        "required_status_checks": {"strict": False, "contexts": ["lint", "ci"]},
        "enforce_admins": None,
        "required_pull_request_reviews": {"required_approving_review_count": 1},
        "restrictions": {"users": [], "teams": ["Release-Managers"]},  # no `apps`: GitHub reads it as []
        "allow_force_pushes": False,
    })
    # An empty check list where the configuration says none is the same requirement: nothing.
    org.call("PUT", "/repos/acme/shop/branches/prod/protection", {
        "required_status_checks": {"strict": False, "contexts": []}, "enforce_admins": False,
        "required_pull_request_reviews": None, "restrictions": None})
    config = """\
protection:
  main:
    required_checks: {contexts: [ci, lint]}
    required_reviews: {count: 1}
    restrictions: {teams: [release-managers]}
  prod:
    required_reviews: null
    required_checks: null
"""
    result = org.plan(config)
    assert actions(result) == [("acme/shop", "main", "unchanged"), ("acme/shop", "prod", "unchanged")]
    # The same for a ruleset GitHub answers with defaults added and the organisation admin's id as 0.
    org.call("POST", "/repos/acme/shop/rulesets", {
        "name": "opsgh: main", "enforcement": "active", "target": "branch",
        "bypass_actors": [{"actor_type": "OrganizationAdmin", "actor_id": 0}],
        "conditions": {"ref_name": {"include": ["refs/heads/main"]}},
        "rules": [{"type": "non_fast_forward"}, {"type": "deletion"},
                  {"type": "required_status_checks", "parameters": {
                      "strict_required_status_checks_policy": False,
                      "required_status_checks": [{"context": "lint"}, {"context": "ci"}]}}]}, expect=201)
    org.call("DELETE", "/repos/acme/shop/branches/main/protection", expect=204)
    ruleset = """\
protection:
  main:
    backend: ruleset
    required_checks: {contexts: [ci, lint]}
    bypass_actors: [{actor_type: OrganizationAdmin, bypass_mode: always}]
"""
    assert actions(org.plan(ruleset)) == [("acme/shop", "main", "unchanged")]


# ----------------------------------------------------------------------------- drift


def test_drift_made_by_hand_is_reported_by_check_and_repaired_by_apply(org: Org, ci_app: AppCredentials,
                                                                      tmp_path: Path) -> None:
    config = CLASSIC.format(app=ci_app.app_id)
    code, out, err = org.cli(["protect", "apply", "--yes"], config, tmp_path)
    assert code == ExitCode.OK, out + err
    assert org.cli(["protect", "check"], config, tmp_path)[0] == ExitCode.OK

    base = "/repos/acme/shop/branches/prod/protection"
    org.call("DELETE", f"{base}/enforce_admins", expect=204)
    org.call("DELETE", f"{base}/required_pull_request_reviews", expect=204)
    org.call("PATCH", f"{base}/required_status_checks", {"contexts": ["ci", "lint", "deploy-preview"]})
    code, out, err = org.cli(["protect", "check"], config, tmp_path)
    assert code == ExitCode.CHECK_FAILED, out + err
    assert "  prod (classic): update" in out
    assert "~ enforce_admins: false -> true" in out
    assert "~ required_reviews: off -> 2 approvals, code owners, dismiss stale" in out
    assert "~ required_checks.contexts: ci, deploy-preview, lint -> ci, deploy-preview, Lint 3.12 (+Lint 3.12, -lint)" \
        in out
    # Listing contexts by hand (the deprecated way) let GitHub tie deploy-preview to no App in particular.
    assert "~ required_checks.contexts[deploy-preview].app_id: any source -> app 1" in out
    assert "Drift: 1 branch differs from the configuration in 1 repository" in out
    assert "main (classic): up to date" in out

    code, out, err = org.cli(["protect", "apply", "--yes"], config, tmp_path)
    assert code == ExitCode.OK, out + err
    assert "Applied: 1 branch changed with 1 write" in out
    prod = org.protection("acme/shop", "prod")
    assert prod is not None
    assert prod["enforce_admins"]["enabled"] is True
    assert prod["required_pull_request_reviews"]["required_approving_review_count"] == 2
    assert prod["required_status_checks"]["contexts"] == ["ci", "deploy-preview", "Lint 3.12"]
    code, out, _ = org.cli(["protect", "check"], config, tmp_path)
    assert code == ExitCode.OK
    assert "No drift: every branch matches the configuration in 1 repository" in out


def test_ruleset_drift_is_reported_and_repaired(org: Org, ci_app: AppCredentials, tmp_path: Path) -> None:
    config = RULESET.format(app=ci_app.app_id)
    assert org.cli(["protect", "apply", "--yes"], config, tmp_path)[0] == ExitCode.OK
    ruleset = org.rulesets("acme/shop")["opsgh: prod"]
    org.call("PUT", f"/repos/acme/shop/rulesets/{ruleset['id']}", {
        "enforcement": "evaluate", "rules": [*ruleset["rules"], {"type": "creation"}],
        "bypass_actors": [a for a in ruleset["bypass_actors"] if a["actor_type"] != "OrganizationAdmin"]})
    code, out, err = org.cli(["protect", "check", "--json"], config, tmp_path)
    assert code == ExitCode.CHECK_FAILED, err
    report = json.loads(out)
    assert report["drift"] is True
    prod = report["repositories"][0]["branches"][1]
    assert prod["action"] == "update"
    assert {c["setting"]: (c["current"], c["desired"]) for c in prod["changes"]} == {
        "bypass_actors": (f"Integration {ci_app.app_id}, RepositoryRole 5 (pull_request)",
                          f"Integration {ci_app.app_id}, OrganizationAdmin, RepositoryRole 5 (pull_request) "
                          "(+OrganizationAdmin)"),
        "enforcement": ("evaluate", "active"),
        "rules": ("creation (not in the configuration)", "removed"),
    }
    assert org.cli(["protect", "apply", "--yes"], config, tmp_path)[0] == ExitCode.OK
    repaired = org.rulesets("acme/shop")["opsgh: prod"]
    assert repaired["id"] == ruleset["id"]  # updated in place, not a second ruleset
    assert repaired["enforcement"] == "active"
    assert "creation" not in {rule["type"] for rule in repaired["rules"]}
    assert org.cli(["protect", "check"], config, tmp_path)[0] == ExitCode.OK


def test_settings_without_a_configuration_key_survive_an_apply(org: Org) -> None:
    org.call("PUT", "/repos/acme/shop/branches/prod/protection", {
        "required_status_checks": None, "enforce_admins": False, "restrictions": None, "lock_branch": True,
        "required_pull_request_reviews": {"required_approving_review_count": 1,
                                          "dismissal_restrictions": {"users": ["alice"], "teams": []}}})
    result = org.apply("protection: {prod: {required_reviews: {count: 2}}}")
    assert result.repos[0].status == "applied"
    prod = org.protection("acme/shop", "prod")
    assert prod is not None
    assert prod["required_pull_request_reviews"]["required_approving_review_count"] == 2
    assert prod["lock_branch"]["enabled"] is True
    assert [u["login"] for u in prod["required_pull_request_reviews"]["dismissal_restrictions"]["users"]] == ["alice"]


def test_switching_the_backend_replaces_one_protection_with_the_other(org: Org) -> None:
    classic = "protection: {prod: {required_reviews: {count: 1}}}"
    ruleset = "protection: {prod: {backend: ruleset, required_reviews: {count: 1}}}"
    org.apply(classic)
    planned = org.plan(ruleset)
    prod = planned.repos[0].branches[0]
    assert (prod.action, prod.cleanup) == ("create", ("delete classic protection (the backend is ruleset)",))
    org.apply(ruleset)
    assert org.protection("acme/shop", "prod") is None
    assert list(org.rulesets("acme/shop")) == ["opsgh: prod"]
    writes = org.writes()
    # The ruleset is in place before the classic protection goes: the branch is never unprotected.
    assert writes[-2:] == ["POST /repos/acme/shop/rulesets", "DELETE /repos/acme/shop/branches/prod/protection"]
    org.apply(classic)
    assert org.rulesets("acme/shop") == {}
    assert org.protection("acme/shop", "prod") is not None
    assert actions(org.plan(classic)) == [("acme/shop", "prod", "unchanged")]


# ----------------------------------------------------------------------------- refusals and failures


def test_missing_admin_rights_are_explained(org: Org, tmp_path: Path) -> None:
    code, out, err = org.cli(["protect", "plan"], "protection: {prod: {required_reviews: {count: 1}}}", tmp_path,
                             login="bob")
    assert code == ExitCode.GITHUB
    assert ("error: no admin rights on acme/shop (the token has the write role): GitHub answers 404 to anyone "
            "without admin rights who reads or changes branch protection") in out
    assert "hint: ask an owner for the admin role" in out
    assert "Traceback" not in err


def test_an_app_without_administration_write_may_plan_but_not_apply(org: Org, sandbox: Sandbox) -> None:
    reader = sandbox.add_app("auditor", "acme", permissions={"administration": "read", "metadata": "read",
                                                             "contents": "read"})
    as_app = GitHubGateway.connect(api_url=sandbox.url, token=sandbox.installation_token(reader), clock=org.clock,
                                   jitter=None)
    try:
        config = load_config("protection: {prod: {required_reviews: {count: 1}}}")
        planned = protect.plan(as_app, config, protect.Targets(), "acme/shop", org.clock)
        assert actions(planned) == [("acme/shop", "prod", "create")]
        applied = protect.apply(as_app, planned, org.clock)
    finally:
        as_app.close()
    failed = applied.repos[0]
    assert failed.status == "failed"
    assert failed.error is not None
    assert failed.error == ("the token may not manage branch protection on acme/shop: it lacks the Administration "
                            "permission (GitHub: Resource not accessible by integration)")
    assert org.protection("acme/shop", "prod") is None


def test_github_dropping_a_setting_is_a_failure_not_a_perpetual_diff(org: Org) -> None:
    result = org.apply("protection: {prod: {restrictions: {users: [alice], apps: [no-such-app]}}}")
    repo = result.repos[0]
    assert repo.status == "failed"
    assert repo.error == "prod: GitHub did not keep restrictions.apps: none -> no-such-app"
    assert result.exit_code == ExitCode.GITHUB


def test_a_missing_branch_fails_for_classic_but_not_for_a_ruleset(org: Org) -> None:
    org.add_repo("api", prod=False)
    classic = org.apply("protection: {main: {required_reviews: {count: 1}}, prod: {required_reviews: {count: 1}}}",
                        "acme/api")
    repo = classic.repos[0]
    assert repo.status == "failed"
    assert repo.error == "branch prod of acme/api does not exist: classic protection needs the branch"
    assert org.protection("acme/api", "main") is not None  # the other branch is protected all the same
    ruleset = org.apply("protection: {prod: {backend: ruleset, required_reviews: {count: 1}}}", "acme/api")
    assert ruleset.repos[0].status == "applied"
    assert ruleset.repos[0].branches[0].note == "the branch does not exist yet: the ruleset applies once it is created"
    assert list(org.rulesets("acme/api")) == ["opsgh: prod"]


def test_a_lost_ruleset_create_is_read_back_not_repeated(org: Org, sandbox: Sandbox) -> None:
    sandbox.faults.landed_then("POST", "/repos/acme/shop/rulesets", 502)
    result = org.apply("protection: {prod: {backend: ruleset, required_reviews: {count: 1}}}")
    assert result.repos[0].status == "applied"
    assert list(org.rulesets("acme/shop")) == ["opsgh: prod"]
    assert org.writes() == ["POST /repos/acme/shop/rulesets", "PUT /repos/acme/shop/rulesets/1"]


def test_configuration_contradictions_stop_before_any_request(org: Org, tmp_path: Path) -> None:
    config = "protection:\n  prod:\n    backend: ruleset\n    required_conversation_resolution: true\n"
    code, _, err = org.cli(["protect", "plan"], config, tmp_path)
    assert code == ExitCode.USAGE
    assert "protection.prod.required_conversation_resolution: needs required_reviews with backend: ruleset" in err
    linear = "protection:\n  prod:\n    required_linear_history: true\n"
    code, _, err = org.cli(["protect", "plan"], linear, tmp_path)
    assert code == ExitCode.USAGE
    assert "contradicts release.merge_method: merge" in err
    code, _, err = org.cli(["protect", "plan"], "release: {title: x}\n", tmp_path)
    assert code == ExitCode.USAGE
    assert f"error: no branch protection declared in {tmp_path / 'opsgh.yml'}: nothing to plan" in err
    assert org.sandbox.log.entries == []


def test_warnings_name_required_checks_nothing_produces(org: Org, sandbox: Sandbox, ci_app: AppCredentials) -> None:
    report_check(sandbox, ci_app, "acme/shop", "main", "e2e")  # reported by an App: no warning
    config = """\
protection:
  main:
    required_reviews: {count: 1}
    required_checks: {contexts: [ci, Lint 3.11, e2e, ci-typo]}
  prod:
    required_checks: {strict: true, contexts: [ci]}
"""
    result = org.plan(config)
    assert result.repos[0].warnings == [
        "main: required check `ci-typo` comes from no workflow in .github/workflows and was never reported on main: "
        "pull requests would wait for it forever (a check from another App or CI: pin its app_id)"]
    assert result.warnings == (
        "prod: no required_reviews, so direct pushes are allowed; the branch model changes production only through "
        "pull requests (count: 0 requires a pull request without approvals)",
        "prod: strict required checks on the production branch: the merge commit of each release is not on the "
        "staging branch, so every release PR will first need production merged back into staging")


# ----------------------------------------------------------------------------- the command line


def test_apply_asks_first_and_needs_yes_without_a_terminal(org: Org, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    config = "protection: {prod: {required_reviews: {count: 1}}}"
    code, out, err = org.cli(["protect", "apply"], config, tmp_path)
    assert code == ExitCode.USAGE
    assert "prod (classic): create" in out  # the plan is shown first
    assert "error: refusing to apply without --yes: there is no terminal to confirm on" in err
    code, out, _ = org.cli(["protect", "apply", "--dry-run"], config, tmp_path)
    assert code == ExitCode.OK
    assert out.rstrip().endswith("dry run: nothing was changed")
    assert org.writes() == []

    monkeypatch.setattr("opsgh.cli._interactive", lambda: True)
    code, _, err = org.cli(["protect", "apply"], config, tmp_path, stdin="n\n")
    assert code == ExitCode.OK
    assert "Apply: 1 to create, 0 to update? [y/N]" in err
    assert "nothing was changed" in err
    assert org.writes() == []
    code, out, _ = org.cli(["protect", "apply"], config, tmp_path, stdin="y\n")
    assert code == ExitCode.OK
    assert "Applied: 1 branch changed with 1 write" in out
    assert org.protection("acme/shop", "prod") is not None


def test_repo_options_and_json(org: Org, tmp_path: Path) -> None:
    org.add_repo("api")
    config = "protection: {prod: {required_reviews: {count: 1}}}"
    code, out, err = org.cli(["protect", "plan", "--repo", "acme/shop", "--repo", "acme/api", "--json"], config,
                             tmp_path)
    assert code == ExitCode.OK, err
    report = json.loads(out)
    assert [r["repo"] for r in report["repositories"]] == ["acme/shop", "acme/api"]
    assert report["summary"] == {"repositories": 2, "create": 2, "update": 0, "unchanged": 0, "failed": 0,
                                 "skipped": 0, "writes": 0}
    code, _, err = org.cli(["protect", "plan", "--repo", "not a repo"], config, tmp_path)
    assert code == ExitCode.USAGE
    assert "error: --repo 'not a repo' is not OWNER/NAME" in err
    code, _, err = org.cli(["protect", "plan", "--match", "shop-*"], config, tmp_path)
    assert code == ExitCode.USAGE
    assert "filter an organisation" in err


def test_the_configuration_comes_from_the_repository_named(org: Org, sandbox: Sandbox, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no ./.github/opsgh.yml, no origin remote
    org.add_repo("api")
    sandbox.commit("acme", "api", "main", {".github/opsgh.yml": "protection: {prod: {required_reviews: {count: 1}}}\n"},
                   "Declare protection", author="alice")
    code, out, err = org.cli(["protect", "plan", "--repo", "acme/api"], None, tmp_path, current=None)
    assert code == ExitCode.OK, err
    assert "prod (classic): create" in out
    # Several repositories and no current one: nothing says which configuration to use.
    code, _, err = org.cli(["protect", "plan", "--repo", "acme/api", "--repo", "acme/shop"], None, tmp_path,
                           current=None)
    assert code == ExitCode.USAGE
    assert "error: no branch protection declared in the defaults (no configuration file and no current " \
           "repository): nothing to plan" in err
    assert "the repository named by the global --repo" in err


def test_a_progress_bar_on_a_terminal(org: Org, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    org.add_repo("api")
    monkeypatch.setattr("opsgh.cli._terminal", lambda: True)
    code, _, err = org.cli(["protect", "plan", "--org", "acme"], "protection: {prod: {}}", tmp_path)
    assert code == ExitCode.OK
    assert "reading 2 repositories" in err
    code, _, err = org.cli(["protect", "plan", "--org", "acme", "--json"], "protection: {prod: {}}", tmp_path)
    assert err == ""  # JSON output: nothing on stderr but errors


def test_check_in_github_actions_writes_a_job_summary_and_outputs(org: Org, tmp_path: Path) -> None:
    org.add_repo("api")
    summary, outputs = tmp_path / "summary.md", tmp_path / "outputs"
    actions_env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(outputs)}
    config = "protection: {prod: {required_reviews: {count: 1}}}"
    org.apply(config, "acme/api")
    code, _, err = org.cli(["protect", "check", "--org", "acme"], config, tmp_path, environ=actions_env)
    assert code == ExitCode.CHECK_FAILED, err
    text = summary.read_text()
    assert text.startswith("## opsgh protect check: Drift: 1 branch differs from the configuration in 2 "
                           "repositories")
    assert "| `acme/api` | up to date |  |" in text
    assert "| `acme/shop` | drift | prod: create |" in text
    assert "- `prod` (classic): create\n  - required_reviews: off -&gt; 1 approval\n" in text  # Markdown: &gt; shows >
    assert "drift<<ghadelimiter_" in outputs.read_text()
    assert "\ntrue\n" in outputs.read_text()


# ----------------------------------------------------------------------------- organisations


def test_org_filters_and_one_failure_does_not_stop_the_others(org: Org, sandbox: Sandbox, tmp_path: Path,
                                                              sandbox_contract: ContractRecorder) -> None:
    for name in ("api", "web", "old", "shop-fork", "docs"):
        org.add_repo(name)
    org.add_repo("broken", prod=False)
    with sandbox.app.lock:
        for name in ("shop", "api", "web", "broken", "old", "shop-fork"):
            sandbox.repo("acme", name).topics = ["production"]
        sandbox.repo("acme", "old").archived = True
        sandbox.repo("acme", "shop-fork").fork = True
    config = "protection: {prod: {required_reviews: {count: 1}}}"
    code, out, err = org.cli(["protect", "apply", "--yes", "--org", "acme", "--topic", "production"], config,
                             tmp_path)
    assert code == ExitCode.GITHUB, out + err
    table = out[out.rindex("REPOSITORY"):].splitlines()  # the second table: after the apply
    assert [line.split()[:2] for line in table[1:5]] == [
        ["acme/api", "applied"], ["acme/broken", "FAILED"], ["acme/shop", "applied"], ["acme/web", "applied"]]
    assert "branch prod of acme/broken does not exist" in table[2]
    assert ("Applied: 3 branches changed with 3 writes, 0 up to date in 4 repositories; 1 failed; left out: "
            "1 archived, 1 forks, 1 without the topics") in out
    for name in ("api", "shop", "web"):
        assert org.protection(f"acme/{name}", "prod") is not None
    for name in ("docs", "old", "shop-fork"):
        assert org.protection(f"acme/{name}", "prod") is None
    code, out, _ = org.cli(["protect", "check", "--org", "acme", "--match", "w*"], config, tmp_path)
    assert code == ExitCode.OK
    assert "No drift: every branch matches the configuration in 1 repository; left out:" in out
    # GitHub answers 404 for an unknown organisation; its description lists only 200 for this operation.
    sandbox_contract.expect("response status 404", operation="GET /orgs/{org}/repos")
    code, _, err = org.cli(["protect", "plan", "--org", "nobody"], config, tmp_path)
    assert code == ExitCode.GITHUB
    assert "error: GitHub: no organisation nobody visible to this token" in err


def test_org_apply_stays_under_the_secondary_limit_at_full_speed(sandbox: Sandbox, sandbox_clock: FakeClock) -> None:
    """24 repositories, 48 writes, GitHub's limits scaled down to 6 writes a minute, 30 an hour and 60 points
    a minute: no refusal, and the last write lands within 10% of the earliest moment the limits allow."""
    acme = Org(sandbox, sandbox_clock, tuple(f"svc-{n:02d}" for n in range(24)), workflow=None)
    try:
        sandbox.rate_limits.enable_secondary(per_minute=6, per_hour=30, points_per_minute=60)
        gateway = acme.gateway()
        gateway.pace_requests(sandbox_clock, per_minute=6, per_hour=30, points_per_minute=60)
        config = "protection: {main: {allow_deletions: false}, prod: {required_reviews: {count: 1}}}"
        result = acme.apply(config, None, targets=protect.Targets(org="acme"), gateway=gateway, concurrency=8)
    finally:
        acme.close()
    assert [r.status for r in result.repos] == ["applied"] * 24
    writes = [e for e in sandbox.log.entries if e.method == "PUT"]
    assert len(writes) == 48
    assert [e for e in sandbox.log.entries if e.status in (403, 429)] == []
    spent = writes[-1].time - writes[0].time
    fastest = fastest_schedule(48, per_minute=6, per_hour=30)
    assert fastest / spent >= 0.9, (fastest, spent)


def test_retry_after_holds_every_write(org: Org, sandbox: Sandbox) -> None:
    sandbox.faults.rate_limited("PUT", "/repos/acme/shop/branches/main/protection", "secondary", retry_after=30)
    result = org.apply("protection: {main: {required_reviews: {count: 1}}, prod: {required_reviews: {count: 1}}}",
                       concurrency=1)
    assert result.repos[0].status == "applied"
    puts = [e for e in sandbox.log.entries if e.method == "PUT"]
    assert [(e.path.rsplit("/", 2)[-2], e.status) for e in puts] == [("main", 403), ("main", 200), ("prod", 200)]
    assert puts[1].time - puts[0].time >= 30
    assert puts[2].time - puts[0].time >= 30


def test_the_seeded_demo_repository_is_protected_as_its_configuration_says(sandbox: Sandbox, tmp_path: Path) -> None:
    """`opsgh sandbox serve --seed`: the hand-made protection and DEMO_CONFIG's `protection:` agree."""
    seed = seed_demo(sandbox)
    environ = {"GITHUB_TOKEN": seed.tokens["alice"], "GITHUB_API_URL": sandbox.url,
               "GITHUB_GRAPHQL_URL": sandbox.graphql_url, "HOME": str(tmp_path)}
    assert run(["--repo", seed.full_name, "protect", "check"], environ=environ) == ExitCode.OK
