"""Repository rulesets in the sandbox: normalised shapes, conditions (~DEFAULT_BRANCH, globs, excludes),
rules/branches combining rulesets, 422s, bypass actors, and pushes refused with GH013."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sandbox.support import ContractRecorder, client

from opsgh.sandbox import Sandbox
from opsgh.sandbox.gitstore import git_environment
from opsgh.sandbox.routes.rulesets import add_ruleset
from opsgh.sandbox.rules import RequiredCheck, RuleActor, effective_rules

RULESETS = "/repos/acme/shop/rulesets"
PULL_REQUEST = {"type": "pull_request", "parameters": {
    "dismiss_stale_reviews_on_push": True, "require_code_owner_review": False, "require_last_push_approval": False,
    "required_approving_review_count": 2, "required_review_thread_resolution": True}}


def status_checks(*contexts: str, strict: bool = True) -> dict[str, Any]:
    return {"type": "required_status_checks", "parameters": {
        "required_status_checks": [{"context": c} for c in contexts], "strict_required_status_checks_policy": strict}}


@dataclass
class Shop:
    admin: str
    writer: str
    api: httpx.Client  # as the admin


@pytest.fixture
def shop(sandbox: Sandbox) -> Shop:
    admin = sandbox.add_user("alice", email="alice@example.invalid")
    writer = sandbox.add_user("bob", email="bob@example.invalid")
    sandbox.create_repo("acme", "shop", collaborators={"alice": "admin", "bob": "write"})
    return Shop(admin, writer, client(sandbox, admin))


def test_create_answers_the_normalised_ruleset(sandbox: Sandbox, shop: Shop) -> None:
    created = shop.api.post(RULESETS, json={
        "name": "protect main", "enforcement": "active",
        "conditions": {"ref_name": {"include": ["~DEFAULT_BRANCH"]}},
        "bypass_actors": [{"actor_id": 5, "actor_type": "RepositoryRole"}],
        "rules": [{"type": "deletion"}, {"type": "non_fast_forward"}, PULL_REQUEST, status_checks("ci")],
    })
    assert created.status_code == 201
    data = created.json()
    assert (data["target"], data["source_type"], data["source"]) == ("branch", "Repository", "acme/shop")
    assert data["conditions"] == {"ref_name": {"exclude": [], "include": ["~DEFAULT_BRANCH"]}}
    assert data["bypass_actors"] == [{"actor_id": 5, "actor_type": "RepositoryRole", "bypass_mode": "always"}]
    assert data["current_user_can_bypass"] == "always"  # alice is an admin
    pull_request = data["rules"][2]["parameters"]
    assert pull_request["allowed_merge_methods"] == ["merge", "squash", "rebase"]  # GitHub fills it in
    assert data["rules"][3]["parameters"]["do_not_enforce_on_create"] is False
    assert data["_links"]["self"]["href"] == f"{sandbox.url}{RULESETS}/{data['id']}"
    assert shop.api.get(f"{RULESETS}/{data['id']}").json() == data
    # The list is a summary; a reader sees rules but not who may bypass them.
    listed = client(sandbox, shop.writer).get(RULESETS).json()
    assert [(r["id"], r["name"]) for r in listed] == [(data["id"], "protect main")]
    assert not {"rules", "conditions", "bypass_actors"} & set(listed[0])
    as_writer = client(sandbox, shop.writer).get(f"{RULESETS}/{data['id']}").json()
    assert "bypass_actors" not in as_writer
    assert as_writer["current_user_can_bypass"] == "never"
    assert as_writer["rules"] == data["rules"]


def test_rules_for_a_branch_combine_active_rulesets(sandbox: Sandbox, shop: Shop) -> None:
    main_id = add_ruleset(sandbox, "acme", "shop", {
        "name": "default", "enforcement": "active",
        "conditions": {"ref_name": {"include": ["~DEFAULT_BRANCH"], "exclude": []}},
        "rules": [{"type": "deletion"}, PULL_REQUEST]})
    releases_id = add_ruleset(sandbox, "acme", "shop", {
        "name": "releases and main", "enforcement": "active",
        "conditions": {"ref_name": {"include": ["refs/heads/main", "refs/heads/release/**/*"],
                                    "exclude": ["refs/heads/release/old/*"]}},
        "rules": [status_checks("ci", "e2e"), {"type": "required_linear_history"}]})
    add_ruleset(sandbox, "acme", "shop", {
        "name": "trial", "enforcement": "evaluate", "conditions": {"ref_name": {"include": ["~ALL"]}},
        "rules": [{"type": "creation"}]})
    add_ruleset(sandbox, "acme", "shop", {
        "name": "forgot the prefix", "enforcement": "active", "conditions": {"ref_name": {"include": ["main"]}},
        "rules": [{"type": "update"}]})
    reader = client(sandbox, shop.writer)
    on_main = reader.get("/repos/acme/shop/rules/branches/main").json()
    assert [(r["type"], r["ruleset_id"]) for r in on_main] == [
        ("deletion", main_id), ("pull_request", main_id),
        ("required_status_checks", releases_id), ("required_linear_history", releases_id)]
    assert {(r["ruleset_source_type"], r["ruleset_source"]) for r in on_main} == {("Repository", "acme/shop")}
    # Globs follow File.fnmatch with FNM_PATHNAME; the branch does not have to exist.
    assert [r["ruleset_id"] for r in reader.get("/repos/acme/shop/rules/branches/release/2027/01").json()] == [
        releases_id, releases_id]
    assert reader.get("/repos/acme/shop/rules/branches/release/old/1").json() == []
    assert reader.get("/repos/acme/shop/rules/branches/feature/x").json() == []
    paged = reader.get("/repos/acme/shop/rules/branches/main", params={"per_page": 3})
    assert len(paged.json()) == 3
    assert 'rel="next"' in paged.headers["link"]

    rules = effective_rules(sandbox.repo("acme", "shop"), "main")
    assert rules.ruleset_ids == (main_id, releases_id)
    assert (rules.required_approving_review_count, rules.required_conversation_resolution, rules.strict) == (
        2, True, True)
    assert rules.contexts == ("ci", "e2e")
    assert (rules.allow_deletions, rules.required_linear_history, rules.lock_branch) == (False, True, False)


def test_classic_protection_and_rulesets_combine_most_restrictive(sandbox: Sandbox, shop: Shop) -> None:
    sandbox.protect("acme", "shop", "main", required_pull_request_reviews={"required_approving_review_count": 3},
                    required_status_checks={"strict": False, "contexts": ["build"]}, allow_force_pushes=True)
    app = sandbox.add_app("ci-bot", "acme")
    add_ruleset(sandbox, "acme", "shop", {
        "name": "checks", "enforcement": "active", "conditions": {"ref_name": {"include": ["~DEFAULT_BRANCH"]}},
        "bypass_actors": [{"actor_id": app.app_id, "actor_type": "Integration", "bypass_mode": "pull_request"}],
        "rules": [{"type": "required_status_checks", "parameters": {
            "required_status_checks": [{"context": "build"}, {"context": "deploy", "integration_id": app.app_id}],
            "strict_required_status_checks_policy": True}}, {"type": "non_fast_forward"}, PULL_REQUEST]})
    repo = sandbox.repo("acme", "shop")
    rules = effective_rules(repo, "main")
    assert rules.classic
    assert rules.required_approving_review_count == 3  # the larger of 3 (classic) and 2 (ruleset)
    assert rules.required_status_checks == (RequiredCheck("build"), RequiredCheck("deploy", app.app_id))
    assert (rules.strict, rules.allow_force_pushes) == (True, False)
    # The App bypasses the ruleset when merging (bypass_mode pull_request), not when pushing.
    merging = effective_rules(repo, "main", RuleActor(role="write", app_id=app.app_id))
    assert (merging.ruleset_ids, merging.contexts, merging.allow_force_pushes) == ((), ("build",), True)
    pushing = effective_rules(repo, "main", RuleActor(role="write", app_id=app.app_id), merging=False)
    assert pushing.ruleset_ids == rules.ruleset_ids


def test_update_and_delete(sandbox: Sandbox, shop: Shop) -> None:
    created = shop.api.post(RULESETS, json={"name": "main", "enforcement": "evaluate",
                                            "conditions": {"ref_name": {"include": ["~DEFAULT_BRANCH"]}},
                                            "rules": [{"type": "deletion"}]}).json()
    assert shop.api.get("/repos/acme/shop/rules/branches/main").json() == []  # evaluate: not enforced
    updated = shop.api.put(f"{RULESETS}/{created['id']}", json={"enforcement": "active"})
    assert updated.status_code == 200
    assert (updated.json()["enforcement"], updated.json()["rules"]) == ("active", [{"type": "deletion"}])
    assert [r["type"] for r in shop.api.get("/repos/acme/shop/rules/branches/main").json()] == ["deletion"]
    writer = client(sandbox, shop.writer)
    assert writer.delete(f"{RULESETS}/{created['id']}").status_code == 404  # admin only, and hidden
    assert writer.post(RULESETS, json={"name": "x", "enforcement": "active"}).status_code == 404
    assert shop.api.delete(f"{RULESETS}/{created['id']}").status_code == 204
    assert shop.api.get(f"{RULESETS}/{created['id']}").status_code == 404
    assert shop.api.get(RULESETS).json() == []


def test_refused_rulesets_carry_githubs_messages(sandbox: Sandbox, shop: Shop,
                                                 sandbox_contract: ContractRecorder) -> None:
    operation = "POST /repos/{owner}/{repo}/rulesets"
    sandbox_contract.expect("request body", operation=operation)  # the refused requests break the schema too
    bad_enforcement = shop.api.post(RULESETS, json={"name": "x", "enforcement": "on"})
    assert bad_enforcement.status_code == 422
    assert bad_enforcement.json()["message"] == (
        "Invalid request.\n\nInvalid property /enforcement: `on` is not a possible value. "
        "Must be one of the following: disabled, active, evaluate.")
    unknown = shop.api.post(RULESETS, json={"name": "x", "enforcement": "active", "rules": [{"type": "no_pushes"}]})
    assert unknown.json()["message"] == ("Invalid request.\n\nInvalid property /rules/0: data matches no possible "
                                         "input. See `documentation_url`.")
    incomplete = shop.api.post(RULESETS, json={"name": "x", "enforcement": "active", "rules": [
        {"type": "deletion"}, {"type": "pull_request", "parameters": {"required_approving_review_count": 1}}]})
    assert "Invalid property /rules/1:" in incomplete.json()["message"]
    nameless = shop.api.post(RULESETS, json={"enforcement": "active"})
    assert nameless.json()["message"] == 'Invalid request.\n\n"name" wasn\'t supplied.'
    # Semantic refusals: "Validation Failed" with plain strings in `errors` (the description wants objects).
    sandbox_contract.expect("response body $.errors[0]", operation=operation)
    shop.api.post(RULESETS, json={"name": "main", "enforcement": "active"})
    duplicate = shop.api.post(RULESETS, json={"name": "main", "enforcement": "disabled"})
    assert (duplicate.status_code, duplicate.json()["errors"]) == (422, ["Name must be unique"])
    foreign_app = shop.api.post(RULESETS, json={"name": "checks", "enforcement": "active", "rules": [{
        "type": "required_status_checks", "parameters": {
            "required_status_checks": [{"context": "ci", "integration_id": 424242}],
            "strict_required_status_checks_policy": False}}]})
    assert "Invalid integration ids" in foreign_app.json()["errors"][0]
    assert [r["name"] for r in shop.api.get(RULESETS).json()] == ["main"]
    with pytest.raises(ValueError, match="Name must be unique"):
        add_ruleset(sandbox, "acme", "shop", {"name": "main", "enforcement": "active"})


# ------------------------------------------------------------------------------------------------ pushes


def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = git_environment({"GIT_AUTHOR_NAME": "Bob", "GIT_AUTHOR_EMAIL": "bob@example.invalid",
                           "GIT_COMMITTER_NAME": "Bob", "GIT_COMMITTER_EMAIL": "bob@example.invalid",
                           "GIT_ASKPASS": "/bin/false"})
    result = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=60)
    if check and result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed:\n{result.stderr}")
    return result


def commit(work: Path, name: str) -> None:
    (work / name).write_text(f"{name}\n")
    git(work, "add", name)
    git(work, "commit", "--quiet", "-m", f"Add {name}")


def test_pushes_refused_with_gh013_and_admins_bypass(sandbox: Sandbox, shop: Shop, tmp_path: Path) -> None:
    add_ruleset(sandbox, "acme", "shop", {
        "name": "main", "enforcement": "active", "conditions": {"ref_name": {"include": ["~DEFAULT_BRANCH"]}},
        "bypass_actors": [{"actor_id": 5, "actor_type": "RepositoryRole", "bypass_mode": "always"}],
        "rules": [{"type": "non_fast_forward"}, PULL_REQUEST, status_checks("ci")]})
    add_ruleset(sandbox, "acme", "shop", {
        "name": "releases", "enforcement": "active",
        "conditions": {"ref_name": {"include": ["refs/heads/release/*"]}},
        "rules": [{"type": "creation"}, {"type": "deletion"}]})
    work = tmp_path / "bob"
    git(tmp_path, "clone", "--quiet", sandbox.git_url("acme", "shop", shop.writer), str(work))
    commit(work, "direct.txt")
    refused = git(work, "push", "origin", "main", check=False)
    assert refused.returncode != 0
    assert "remote: error: GH013: Repository rule violations found for refs/heads/main." in refused.stderr
    assert "remote: - Changes must be made through a pull request." in refused.stderr
    assert 'remote: - Required status check "ci" is expected.' in refused.stderr
    created = git(work, "push", "origin", "HEAD:refs/heads/release/1.0", check=False)
    assert "remote: - Cannot create ref due to creations being restricted." in created.stderr
    git(work, "push", "--quiet", "origin", "HEAD:refs/heads/release/1.0/hotfix")  # `*` stops at "/"
    assert git(work, "push", "origin", "HEAD:refs/heads/feature", check=False).returncode == 0

    # An admin bypasses the first ruleset (RepositoryRole 5), not the second.
    mine = tmp_path / "alice"
    git(tmp_path, "clone", "--quiet", sandbox.git_url("acme", "shop", shop.admin), str(mine))
    commit(mine, "admin.txt")
    git(mine, "push", "--quiet", "origin", "main")
    git(mine, "commit", "--quiet", "--amend", "-m", "Rewritten by an admin")
    git(mine, "push", "--quiet", "--force", "origin", "main")
    assert "Cannot create ref" in git(mine, "push", "origin", "HEAD:refs/heads/release/2.0", check=False).stderr
    repo = sandbox.app.git_repo(sandbox.repo("acme", "shop"))
    assert repo.ref("refs/heads/main") == git(mine, "rev-parse", "HEAD").stdout.strip()
    assert repo.ref("refs/heads/release/1.0") is None


def test_rest_ref_updates_are_held_to_rulesets(sandbox: Sandbox, shop: Shop) -> None:
    add_ruleset(sandbox, "acme", "shop", {
        "name": "main", "enforcement": "active", "conditions": {"ref_name": {"include": ["~DEFAULT_BRANCH"]}},
        "rules": [{"type": "deletion"}, {"type": "update"}]})
    side = sandbox.commit("acme", "shop", "side", {"s.txt": "s\n"}, "Side")
    moved = client(sandbox, shop.writer).patch("/repos/acme/shop/git/refs/heads/main", json={"sha": side})
    assert moved.status_code == 422
    assert moved.json()["message"] == "Repository rule violations found\n\nCannot update this protected ref.\n\n"


def test_rulesets_survive_a_restart(tmp_path: Path) -> None:
    with Sandbox(state_dir=tmp_path) as first:
        first.create_repo("acme", "shop")
        ruleset_id = add_ruleset(first, "acme", "shop", {
            "name": "main", "enforcement": "active", "conditions": {"ref_name": {"include": ["~DEFAULT_BRANCH"]}},
            "rules": [PULL_REQUEST]})
    with Sandbox(state_dir=tmp_path) as second:
        rules = effective_rules(second.repo("acme", "shop"), "main")
        assert (rules.ruleset_ids, rules.required_approving_review_count) == ((ruleset_id,), 2)
