"""Classic branch protection in the sandbox: GitHub's normalised shapes, 404s, 422s, admin-only access,
the sub-resources, and pushes held to it through real git smart HTTP."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sandbox.support import ContractRecorder, client

from opsgh.clock import FakeClock
from opsgh.errors import NotFound
from opsgh.github.gateway import GitHubGateway
from opsgh.sandbox import Sandbox
from opsgh.sandbox.gitstore import git_environment
from opsgh.sandbox.rules import RequiredCheck, RuleActor, effective_rules

CASSETTE = Path(__file__).resolve().parent.parent / "replay" / "cassettes" / "branch-protection.yaml"
PROTECTION = "/repos/acme/shop/branches/main/protection"
NULLS = {"required_status_checks": None, "enforce_admins": None, "required_pull_request_reviews": None,
         "restrictions": None}


@dataclass
class Shop:
    admin: str
    writer: str
    api: httpx.Client  # as the admin


@pytest.fixture
def shop(sandbox: Sandbox) -> Shop:
    admin = sandbox.add_user("alice", email="alice@example.invalid")
    writer = sandbox.add_user("bob", email="bob@example.invalid")
    sandbox.add_org("acme")
    sandbox.create_repo("acme", "shop", collaborators={"alice": "admin", "bob": "write"})
    return Shop(admin, writer, client(sandbox, admin))


def _put(shop: Shop, body: dict[str, Any], path: str = PROTECTION) -> httpx.Response:
    return shop.api.put(path, json=body)


# ----------------------------------------------------------------------------------------------- reads


def test_unprotected_missing_and_forbidden_branches_answer_like_github(sandbox: Sandbox, shop: Shop) -> None:
    unprotected = shop.api.get(PROTECTION)
    assert unprotected.status_code == 404
    assert unprotected.json()["message"] == "Branch not protected"
    missing = shop.api.get("/repos/acme/shop/branches/nope/protection")
    assert (missing.status_code, missing.json()["message"]) == (404, "Branch not found")
    assert _put(shop, NULLS, "/repos/acme/shop/branches/nope/protection").status_code == 404
    _put(shop, NULLS)
    # A push collaborator is told nothing: the same 404 as a missing repository, for reads and writes.
    as_writer = client(sandbox, shop.writer)
    assert (as_writer.get(PROTECTION).status_code, as_writer.get(PROTECTION).json()["message"]) == (404, "Not Found")
    assert _put(Shop(shop.writer, shop.writer, as_writer), NULLS).status_code == 404
    anonymous = client(sandbox)
    assert anonymous.get(PROTECTION).status_code == 404
    assert anonymous.put(PROTECTION, json=NULLS).status_code == 401


def test_apps_need_the_administration_permission(sandbox: Sandbox, shop: Shop) -> None:
    _put(shop, NULLS)
    plain = sandbox.add_app("ci-bot", "acme", permissions={"contents": "write", "metadata": "read"})
    refused = client(sandbox, sandbox.installation_token(plain)).get(PROTECTION)
    assert refused.status_code == 403
    assert refused.json()["message"] == "Resource not accessible by integration"
    assert refused.headers["x-accepted-github-permissions"] == "administration=read"
    reader = sandbox.add_app("audit-bot", "acme", permissions={"administration": "read", "metadata": "read"})
    as_reader = client(sandbox, sandbox.installation_token(reader))
    assert as_reader.get(PROTECTION).status_code == 200
    denied = as_reader.put(PROTECTION, json=NULLS)
    assert denied.status_code == 403
    assert denied.headers["x-accepted-github-permissions"] == "administration=write"


def test_gateway_tells_not_protected_from_not_allowed(sandbox: Sandbox, shop: Shop) -> None:
    as_admin = GitHubGateway.connect(api_url=sandbox.url, token=shop.admin, clock=FakeClock(), jitter=None)
    as_writer = GitHubGateway.connect(api_url=sandbox.url, token=shop.writer, clock=FakeClock(), jitter=None)
    try:
        assert as_admin.get_branch_protection("acme/shop", "main") is None
        _put(shop, NULLS)
        assert as_admin.get_branch_protection("acme/shop", "main") is not None
        with pytest.raises(NotFound):
            as_writer.get_branch_protection("acme/shop", "main")
    finally:
        as_admin.close()
        as_writer.close()


# ---------------------------------------------------------------------------------------------- shapes


def test_minimal_put_answers_what_github_recorded(sandbox: Sandbox, shop: Shop) -> None:
    recorded = yaml.safe_load(CASSETTE.read_text())["interactions"][1]
    assert json.loads(recorded["request"]["body"]) == {**NULLS, "enforce_admins": False}
    real = json.loads(recorded["response"]["body"]["string"])
    answer = _put(shop, {**NULLS, "enforce_admins": False})
    assert answer.status_code == 200
    ours = answer.json()
    # The same sections (none of the disabled ones), plus the two toggles GitHub added since 2022.
    assert set(ours) == set(real) | {"lock_branch", "allow_fork_syncing"}
    for name, value in real.items():
        if isinstance(value, dict):
            assert set(ours[name]) == set(value), name
            assert ours[name]["enabled"] == value["enabled"], name
    assert ours["enforce_admins"]["url"] == f"{sandbox.url}{PROTECTION}/enforce_admins"
    assert shop.api.get(PROTECTION).json() == ours


def test_put_round_trip_is_githubs_normalised_shape(sandbox: Sandbox, shop: Shop,
                                                   sandbox_contract: ContractRecorder) -> None:
    sandbox.add_user("carol")
    body = {
        "required_status_checks": {"strict": True, "contexts": ["ci/test", "lint", "ci/test"]},
        "enforce_admins": None,
        "required_pull_request_reviews": {"dismissal_restrictions": {"users": ["carol"], "teams": ["release"]},
                                          "dismiss_stale_reviews": True},
        "restrictions": {"users": ["alice"], "teams": ["release"]},
        "required_linear_history": True,
        "allow_force_pushes": None,
        "required_conversation_resolution": True,
    }
    answer = _put(shop, body)
    assert answer.status_code == 200
    data = answer.json()
    base = f"{sandbox.url}{PROTECTION}"
    assert data["required_status_checks"] == {
        "url": f"{base}/required_status_checks", "strict": True,
        "contexts": ["ci/test", "lint"],  # order kept, the duplicate dropped
        "contexts_url": f"{base}/required_status_checks/contexts",
        "checks": [{"context": "ci/test", "app_id": None}, {"context": "lint", "app_id": None}],
    }
    reviews = data["required_pull_request_reviews"]
    assert reviews["required_approving_review_count"] == 1  # GitHub's default when omitted
    assert (reviews["dismiss_stale_reviews"], reviews["require_code_owner_reviews"],
            reviews["require_last_push_approval"]) == (True, False, False)
    assert [u["login"] for u in reviews["dismissal_restrictions"]["users"]] == ["carol"]
    assert [t["slug"] for t in reviews["dismissal_restrictions"]["teams"]] == ["release"]
    assert "bypass_pull_request_allowances" not in reviews
    assert [u["login"] for u in data["restrictions"]["users"]] == ["alice"]
    assert data["restrictions"]["apps"] == []
    assert data["enforce_admins"] == {"url": f"{base}/enforce_admins", "enabled": False}  # null reads as false
    assert data["allow_force_pushes"] == {"enabled": False}
    assert data["required_linear_history"] == {"enabled": True}
    assert data["required_conversation_resolution"] == {"enabled": True}
    assert shop.api.get(PROTECTION).json() == data
    branch = shop.api.get("/repos/acme/shop/branches/main").json()
    assert branch["protected"] is True
    assert branch["protection"]["required_status_checks"]["contexts"] == ["ci/test", "lint"]
    # Echoing `checks` as GET shows them is refused: null is not an app_id (use -1, or leave it out).
    sandbox_contract.expect("app_id", operation="PUT /repos/{owner}/{repo}/branches/{branch}/protection")
    echoed = _put(shop, {**body, "required_status_checks": {"strict": True,
                                                            "checks": data["required_status_checks"]["checks"]}})
    assert echoed.status_code == 422
    assert "For 'properties/app_id', nil is not an integer." in echoed.json()["message"]
    # Putting back what GET shows, in request form (the plan/apply round trip), changes nothing.
    again = _put(shop, {
        "required_status_checks": {"strict": True, "contexts": data["required_status_checks"]["contexts"]},
        "enforce_admins": data["enforce_admins"]["enabled"],
        "required_pull_request_reviews": {
            "dismissal_restrictions": {"users": ["carol"], "teams": ["release"]},
            **{k: reviews[k] for k in ("dismiss_stale_reviews", "require_code_owner_reviews",
                                       "required_approving_review_count", "require_last_push_approval")}},
        "restrictions": {"users": ["alice"], "teams": ["release"], "apps": []},
        **{k: data[k]["enabled"] for k in ("required_linear_history", "allow_force_pushes", "allow_deletions",
                                           "block_creations", "required_conversation_resolution", "lock_branch",
                                           "allow_fork_syncing")},
    })
    assert again.json() == data


def test_checks_carry_app_ids_and_minus_one_means_any_source(sandbox: Sandbox, shop: Shop,
                                                             sandbox_contract: ContractRecorder) -> None:
    app = sandbox.add_app("ci-bot", "acme")
    # GitHub takes `checks` without the deprecated `contexts` (its description still requires contexts:
    # tolerated in sandbox/support.py).
    answer = _put(shop, {**NULLS, "required_status_checks": {"strict": False, "checks": [
        {"context": "build", "app_id": app.app_id}, {"context": "docs", "app_id": -1}]}})
    assert answer.status_code == 200
    checks = answer.json()["required_status_checks"]
    assert checks["checks"] == [{"context": "build", "app_id": app.app_id}, {"context": "docs", "app_id": None}]
    assert checks["contexts"] == ["build", "docs"]
    assert effective_rules(sandbox.repo("acme", "shop"), "main").required_status_checks == (
        RequiredCheck("build", app.app_id), RequiredCheck("docs", None))


def test_unqualified_checks_are_tied_to_the_app_that_last_reported_them(sandbox: Sandbox, shop: Shop) -> None:
    # What makes a plan/apply tool diff forever: it asks for "build", GitHub answers with the App too.
    app = sandbox.add_app("ci-bot", "acme", permissions={"checks": "write", "metadata": "read"})
    sha = sandbox.app.git_repo(sandbox.repo("acme", "shop")).ref("refs/heads/main")
    reported = client(sandbox, sandbox.installation_token(app)).post(
        "/repos/acme/shop/check-runs", json={"name": "build", "head_sha": sha})
    assert reported.status_code == 201
    answer = _put(shop, {**NULLS, "required_status_checks": {"strict": True, "contexts": ["build", "lint"]}})
    assert answer.json()["required_status_checks"]["checks"] == [
        {"context": "build", "app_id": app.app_id}, {"context": "lint", "app_id": None}]


def test_put_refusals_carry_githubs_messages(sandbox: Sandbox, shop: Shop, sandbox_contract: ContractRecorder) -> None:
    operation = "PUT /repos/{owner}/{repo}/branches/{branch}/protection"
    sandbox_contract.expect("request body", operation=operation)  # the refused requests lack keys
    missing = _put(shop, {"enforce_admins": True})
    assert missing.status_code == 422
    assert missing.json()["message"] == ('Invalid request.\n\n"required_pull_request_reviews", '
                                         '"required_status_checks", "restrictions" weren\'t supplied.')
    assert _put(shop, {k: v for k, v in NULLS.items() if k != "enforce_admins"}).json()["message"] == (
        'Invalid request.\n\n"enforce_admins" wasn\'t supplied.')
    too_many = _put(shop, {**NULLS, "required_pull_request_reviews": {"required_approving_review_count": 7}})
    assert too_many.status_code == 422
    assert "7 must be less than or equal to 6." in too_many.json()["message"]
    both = _put(shop, {**NULLS, "required_status_checks": {"strict": True, "contexts": ["a"],
                                                           "checks": [{"context": "a"}]}})
    assert both.status_code == 422
    assert 'More than one subschema in "oneOf" matched.' in both.json()["message"]
    no_strict = _put(shop, {**NULLS, "required_status_checks": {"contexts": ["a"]}})
    assert no_strict.status_code == 422
    assert '"strict" wasn\'t supplied.' in no_strict.json()["message"]
    assert shop.api.get(PROTECTION).status_code == 404  # nothing was stored
    # Restrictions need an organization.
    sandbox.create_repo("alice", "notes", collaborators={})
    personal = _put(shop, {**NULLS, "restrictions": {"users": ["alice"], "teams": []}},
                    "/repos/alice/notes/branches/main/protection")
    assert personal.status_code == 422
    assert personal.json()["message"] == "Only organization repositories can have users and team restrictions"
    assert _put(shop, NULLS, "/repos/alice/notes/branches/main/protection").status_code == 200


# ----------------------------------------------------------------------------------------- sub-resources


def test_sub_resources_change_one_part(sandbox: Sandbox, shop: Shop) -> None:
    _put(shop, {**NULLS, "required_status_checks": {"strict": True, "contexts": ["ci"]},
                "required_pull_request_reviews": {"required_approving_review_count": 2}})
    base = PROTECTION
    enforced = shop.api.post(f"{base}/enforce_admins")
    assert enforced.json() == {"url": f"{sandbox.url}{base}/enforce_admins", "enabled": True}
    assert shop.api.get(f"{base}/enforce_admins").json()["enabled"] is True
    assert shop.api.delete(f"{base}/enforce_admins").status_code == 204
    assert shop.api.get(base).json()["enforce_admins"]["enabled"] is False
    assert shop.api.post(f"{base}/required_signatures").json()["enabled"] is True
    assert shop.api.get(base).json()["required_signatures"]["enabled"] is True
    assert shop.api.delete(f"{base}/required_signatures").status_code == 204

    patched = shop.api.patch(f"{base}/required_status_checks", json={"contexts": ["ci", "e2e"]})
    assert (patched.json()["strict"], patched.json()["contexts"]) == (True, ["ci", "e2e"])  # strict kept
    assert shop.api.get(f"{base}/required_status_checks").json() == patched.json()
    reviews = shop.api.patch(f"{base}/required_pull_request_reviews", json={"require_code_owner_reviews": True})
    assert reviews.json()["required_approving_review_count"] == 2  # the count is kept
    assert reviews.json()["require_code_owner_reviews"] is True
    assert shop.api.get(f"{base}/required_pull_request_reviews").json() == reviews.json()

    assert shop.api.delete(f"{base}/required_status_checks").status_code == 204
    assert "required_status_checks" not in shop.api.get(base).json()
    gone = shop.api.get(f"{base}/required_status_checks")
    assert (gone.status_code, gone.json()["message"]) == (404, "Required status checks not enabled")
    assert shop.api.delete(f"{base}/required_pull_request_reviews").status_code == 204
    assert "required_pull_request_reviews" not in shop.api.get(base).json()
    assert shop.api.get(f"{base}/restrictions").status_code == 404
    assert shop.api.delete(base).status_code == 204
    assert shop.api.get(base).json()["message"] == "Branch not protected"
    assert shop.api.get(f"{base}/enforce_admins").json()["message"] == "Branch not protected"


def test_restrictions_read_and_removed(sandbox: Sandbox, shop: Shop) -> None:
    _put(shop, {**NULLS, "restrictions": {"users": ["alice"], "teams": ["ops"], "apps": []}, "block_creations": True})
    restrictions = shop.api.get(f"{PROTECTION}/restrictions").json()
    assert [u["login"] for u in restrictions["users"]] == ["alice"]
    assert restrictions["apps_url"] == f"{sandbox.url}{PROTECTION}/restrictions/apps"
    rules = effective_rules(sandbox.repo("acme", "shop"), "main")
    assert rules.restrictions is not None
    assert rules.restrictions.allows("alice")
    assert not rules.restrictions.allows("bob")
    assert rules.restrictions.allows("carol", team_slugs=["ops"])
    assert shop.api.delete(f"{PROTECTION}/restrictions").status_code == 204
    assert "restrictions" not in shop.api.get(PROTECTION).json()


def test_effective_rules_admin_bypass_follows_enforce_admins(sandbox: Sandbox, shop: Shop) -> None:
    _put(shop, {**NULLS, "required_pull_request_reviews": {"required_approving_review_count": 2,
                                                           "require_last_push_approval": True}})
    repo = sandbox.repo("acme", "shop")
    everyone = effective_rules(repo, "main")
    assert (everyone.classic, everyone.requires_pull_request, everyone.required_approving_review_count,
            everyone.require_last_push_approval) == (True, True, 2, True)
    assert effective_rules(repo, "main", RuleActor(role="admin")).protected is False
    assert effective_rules(repo, "main", RuleActor(role="write")).required_approving_review_count == 2
    shop.api.post(f"{PROTECTION}/enforce_admins")
    held = effective_rules(repo, "main", RuleActor(role="admin"))
    assert (held.enforce_admins, held.required_approving_review_count) == (True, 2)
    assert effective_rules(repo, "other").protected is False


# ------------------------------------------------------------------------------------------------ pushes


def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = git_environment({"GIT_AUTHOR_NAME": "Alice", "GIT_AUTHOR_EMAIL": "alice@example.invalid",
                           "GIT_COMMITTER_NAME": "Alice", "GIT_COMMITTER_EMAIL": "alice@example.invalid",
                           "GIT_ASKPASS": "/bin/false"})
    result = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=60)
    if check and result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed:\n{result.stderr}")
    return result


def clone(sandbox: Sandbox, tmp_path: Path, token: str, name: str = "work") -> Path:
    target = tmp_path / name
    git(tmp_path, "clone", "--quiet", sandbox.git_url("acme", "shop", token), str(target))
    return target


def commit(work: Path, name: str) -> None:
    (work / name).write_text(f"{name}\n")
    git(work, "add", name)
    git(work, "commit", "--quiet", "-m", f"Add {name}")


def test_pushes_are_held_to_enforce_admins_restrictions_and_linear_history(sandbox: Sandbox, shop: Shop,
                                                                           tmp_path: Path) -> None:
    _put(shop, {**NULLS, "required_pull_request_reviews": {"required_approving_review_count": 1}})
    work = clone(sandbox, tmp_path, shop.admin)
    commit(work, "admin.txt")
    git(work, "push", "--quiet", "origin", "main")  # admins bypass unless enforce_admins
    shop.api.post(f"{PROTECTION}/enforce_admins")
    commit(work, "again.txt")
    refused = git(work, "push", "origin", "main", check=False)
    assert refused.returncode != 0
    assert "remote: error: GH006: Protected branch update failed for refs/heads/main." in refused.stderr
    assert "remote: error: Changes must be made through a pull request." in refused.stderr
    git(work, "reset", "--quiet", "--hard", "origin/main")

    # Only listed users may push; GitHub names the rule.
    _put(shop, {**NULLS, "restrictions": {"users": ["alice"], "teams": []}, "required_linear_history": True})
    theirs = clone(sandbox, tmp_path, shop.writer, "theirs")
    commit(theirs, "bob.txt")
    denied = git(theirs, "push", "origin", "main", check=False)
    assert "You're not authorized to push to this branch." in denied.stderr
    # A merge commit breaks linear history even for an allowed pusher (enforce_admins is off: alice is
    # admin, so she bypasses; bob is allowed once listed).
    _put(shop, {**NULLS, "restrictions": {"users": ["alice", "bob"], "teams": []}, "required_linear_history": True})
    git(theirs, "checkout", "--quiet", "-b", "side", "origin/main")
    commit(theirs, "side.txt")
    git(theirs, "checkout", "--quiet", "main")
    git(theirs, "merge", "--quiet", "--no-ff", "-m", "Merge side", "side")
    merged = git(theirs, "push", "origin", "main", check=False)
    assert merged.returncode != 0
    assert "remote: error: This branch must not contain merge commits." in merged.stderr
    assert "Found 1 violation" in merged.stderr
    git(theirs, "reset", "--quiet", "--hard", "HEAD~1")
    git(theirs, "push", "--quiet", "origin", "main")  # the linear history goes through
    assert sandbox.app.git_repo(sandbox.repo("acme", "shop")).read_file("main", "bob.txt") == b"bob.txt\n"


def test_rest_ref_updates_are_held_to_protection(sandbox: Sandbox, shop: Shop) -> None:
    main = sandbox.app.git_repo(sandbox.repo("acme", "shop")).ref("refs/heads/main")
    side = sandbox.commit("acme", "shop", "side", {"s.txt": "s\n"}, "Side")
    _put(shop, {**NULLS, "required_pull_request_reviews": {"required_approving_review_count": 1},
                "enforce_admins": True})
    moved = shop.api.patch("/repos/acme/shop/git/refs/heads/main", json={"sha": side})
    assert moved.status_code == 422
    assert moved.json()["message"] == ("Protected branch update failed for refs/heads/main. "
                                       "Changes must be made through a pull request.")
    deleted = client(sandbox, shop.writer).delete("/repos/acme/shop/git/refs/heads/side")
    assert deleted.status_code == 204  # an unprotected branch
    assert sandbox.app.git_repo(sandbox.repo("acme", "shop")).ref("refs/heads/main") == main
