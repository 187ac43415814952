"""Branch protection as comparable values: GitHub's normalisations are no change, real differences are
named in the configuration's words, and request bodies keep what the configuration does not manage."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from opsgh.config import load_config
from opsgh.ops.protect_model import (
    UNPROTECTED,
    classic_body,
    classic_rules,
    desired_rules,
    diff,
    ruleset_body,
    ruleset_rules,
)

CASSETTE = Path(__file__).resolve().parents[1] / "replay" / "cassettes" / "branch-protection.yaml"


def rule(text: str, branch: str = "main") -> Any:
    return load_config(text).protection[branch]


def recorded_answer() -> dict[str, Any]:
    """GitHub's real answer to a PUT of classic protection (octokit fixtures, 2022)."""
    interaction = yaml.safe_load(CASSETTE.read_text())["interactions"][2]
    assert interaction["request"]["method"] == "PUT"
    data: dict[str, Any] = json.loads(interaction["response"]["body"]["string"])
    return data


def test_githubs_recorded_answer_reads_back_as_the_configuration_that_asked_for_it() -> None:
    # The request was: checks foo/bar (strict), reviews dismissing stale ones, restrictions user-a and
    # a-team, enforce admins. GitHub answered with objects, `{enabled}` toggles, checks with app_id null
    # and no `apps` key sent but `apps: []` answered.
    wanted = rule("""\
protection:
  main:
    required_checks: {strict: true, contexts: [foo/bar]}
    required_reviews: {count: 1, dismiss_stale: true}
    restrictions: {users: [Octokit-Fixture-User-A], teams: [a-team]}
    enforce_admins: true
""")
    current = classic_rules(recorded_answer())
    assert diff(current, desired_rules("main", wanted), "classic") == ()
    # Re-sending it keeps what the configuration has no key for: the dismissal restrictions.
    body = classic_body(desired_rules("main", wanted), recorded_answer())
    assert body["required_pull_request_reviews"]["dismissal_restrictions"] == {"users": ["octokit-fixture-user-a"],
                                                                               "teams": []}
    assert body["required_status_checks"] == {"strict": True, "checks": [{"context": "foo/bar", "app_id": -1}]}
    assert body["restrictions"] == {"users": ["octokit-fixture-user-a"], "teams": ["a-team"], "apps": []}


def test_an_unpinned_check_accepts_the_app_github_chose_and_a_pin_does_not() -> None:
    held = {"required_status_checks": {"strict": False, "contexts": ["b", "a"],
                                       "checks": [{"context": "b", "app_id": 42}, {"context": "a", "app_id": None}]}}
    current = classic_rules(held)
    assert diff(current, desired_rules("main", rule("protection: {main: {required_checks: {contexts: [a, b]}}}")),
                "classic") == ()
    pinned = rule("protection: {main: {required_checks: {contexts: [a, {context: b, app_id: 15368}]}}}")
    assert [c.line() for c in diff(current, desired_rules("main", pinned), "classic")] == [
        "required_checks.contexts[b].app_id: app 42 -> app 15368"]
    # An unpinned check keeps the App GitHub holds; a new one lets GitHub choose.
    grown = rule("protection: {main: {required_checks: {contexts: [a, b, c]}}}")
    assert classic_body(desired_rules("main", grown), held)["required_status_checks"]["checks"] == [
        {"context": "a", "app_id": -1}, {"context": "b", "app_id": 42}, {"context": "c"}]


def test_no_check_and_not_strict_is_no_requirement_at_all() -> None:
    empty = classic_rules({"required_status_checks": {"strict": False, "contexts": [], "checks": []}})
    assert empty.checks is None
    assert diff(empty, desired_rules("main", rule("protection: {main: {required_checks: null}}")), "classic") == ()
    strict = classic_rules({"required_status_checks": {"strict": True, "contexts": [], "checks": []}})
    assert strict.checks is not None


def test_an_unprotected_branch_allows_force_pushes_and_deletion() -> None:
    assert classic_rules(None) == UNPROTECTED
    changes = diff(UNPROTECTED, desired_rules("main", rule("protection: {main: {}}")), "classic")
    assert [c.line() for c in changes] == ["allow_force_pushes: true -> false", "allow_deletions: true -> false"]


def test_bypass_actors_compare_as_github_answers_them() -> None:
    wanted = desired_rules("prod", rule("""\
protection:
  prod:
    backend: ruleset
    bypass_actors: [{actor_type: RepositoryRole, actor_id: 5}, {actor_type: OrganizationAdmin}]
""", "prod"))
    answered = {"enforcement": "active", "conditions": {"ref_name": {"include": ["refs/heads/prod"], "exclude": []}},
                "rules": [{"type": "deletion"}, {"type": "non_fast_forward"}],
                "bypass_actors": [{"actor_id": 0, "actor_type": "OrganizationAdmin", "bypass_mode": "always"},
                                  {"actor_id": 5, "actor_type": "RepositoryRole"}]}
    assert diff(ruleset_rules(answered), wanted, "ruleset") == ()
    answered["bypass_actors"][1]["bypass_mode"] = "pull_request"
    assert [c.line() for c in diff(ruleset_rules(answered), wanted, "ruleset")] == [
        "bypass_actors: OrganizationAdmin, RepositoryRole 5 (pull_request) -> OrganizationAdmin, RepositoryRole 5 "
        "(+RepositoryRole 5, -RepositoryRole 5 (pull_request))"]


def test_a_ruleset_update_keeps_parameters_opsgh_does_not_manage() -> None:
    current = {"rules": [
        {"type": "pull_request", "parameters": {"required_approving_review_count": 1,
                                                "dismiss_stale_reviews_on_push": False,
                                                "require_code_owner_review": False, "require_last_push_approval": False,
                                                "required_review_thread_resolution": False,
                                                "allowed_merge_methods": ["merge"]}},
        {"type": "required_status_checks", "parameters": {
            "strict_required_status_checks_policy": False, "do_not_enforce_on_create": True,
            "required_status_checks": [{"context": "ci", "integration_id": 15368}]}},
        {"type": "creation"}]}
    wanted = desired_rules("prod", rule(
        "protection: {prod: {backend: ruleset, required_reviews: {count: 2}, required_checks: {contexts: [ci, e2e]}}}",
        "prod"))
    assert [c.setting for c in diff(ruleset_rules(current), wanted, "ruleset")] == [
        "required_reviews.count", "required_checks.contexts", "allow_force_pushes", "allow_deletions",
        "conditions.ref_name", "rules"]
    body = ruleset_body("prod", wanted, current)
    rules = {r["type"]: r.get("parameters") for r in body["rules"]}
    assert set(rules) == {"deletion", "non_fast_forward", "pull_request", "required_status_checks"}
    assert rules["pull_request"]["allowed_merge_methods"] == ["merge"]
    assert rules["pull_request"]["required_approving_review_count"] == 2
    assert rules["required_status_checks"]["do_not_enforce_on_create"] is True
    assert rules["required_status_checks"]["required_status_checks"] == [
        {"context": "ci", "integration_id": 15368}, {"context": "e2e"}]
    assert body["conditions"] == {"ref_name": {"include": ["refs/heads/prod"], "exclude": []}}
    assert body["name"] == "opsgh: prod"
