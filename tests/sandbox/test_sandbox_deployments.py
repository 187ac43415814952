"""Deployments and deployment statuses in the sandbox, over HTTP, contract-checked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sandbox.issues_support import Shop, make_shop
from sandbox.support import ContractRecorder, client

from opsgh.clock import FakeClock
from opsgh.sandbox import Sandbox

CREATE = "POST /repos/{owner}/{repo}/deployments"


@pytest.fixture
def shop(sandbox: Sandbox) -> Shop:
    return make_shop(sandbox)


def deploy(shop: Shop, ref: str = "main", environment: str = "production", **fields: Any) -> dict[str, Any]:
    body = {"ref": ref, "environment": environment, "auto_merge": False, "required_contexts": [], **fields}
    response = shop.app.post("/repos/acme/shop/deployments", json=body)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def set_status(shop: Shop, deployment: dict[str, Any], state: str, **fields: Any) -> dict[str, Any]:
    response = shop.app.post(f"/repos/acme/shop/deployments/{deployment['id']}/statuses",
                             json={"state": state, **fields})
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def states(shop: Shop, deployment: dict[str, Any]) -> list[str]:
    return [s["state"] for s in shop.reader.get(f"/repos/acme/shop/deployments/{deployment['id']}/statuses").json()]


def test_deployment_lifecycle(sandbox: Sandbox, shop: Shop) -> None:
    main = sandbox.app.git_repo(sandbox.repo("acme", "shop")).resolve("main")
    created = deploy(shop, "main", "staging", payload={"version": "1.2"}, description="Deploy 1.2", task="deploy")
    assert created["sha"] == main  # the ref, resolved
    assert (created["ref"], created["environment"], created["original_environment"]) == ("main", "staging",
                                                                                          "staging")
    assert created["production_environment"] is False
    assert created["payload"] == {"version": "1.2"}
    assert created["creator"]["login"] == "ci[bot]"
    assert created["performed_via_github_app"]["slug"] == "ci"
    assert deploy(shop)["production_environment"] is True  # "production" is a production environment
    url = f"/repos/acme/shop/deployments/{created['id']}"
    assert shop.reader.get(url).json()["description"] == "Deploy 1.2"
    set_status(shop, created, "in_progress", log_url="https://ci.example/logs/1")
    done = set_status(shop, created, "success", environment_url="https://staging.example.com",
                      description="Deployed")
    assert (done["environment_url"], done["log_url"]) == ("https://staging.example.com", "")
    assert done["deployment_url"].endswith(url)
    assert states(shop, created) == ["success", "in_progress"]  # newest first
    assert shop.reader.get(f"{url}/statuses/{done['id']}").json()["description"] == "Deployed"
    listed = shop.reader.get("/repos/acme/shop/deployments", params={"environment": "staging"}).json()
    assert [d["id"] for d in listed] == [created["id"]]
    assert len(shop.reader.get("/repos/acme/shop/deployments", params={"sha": main}).json()) == 2
    assert shop.reader.get("/repos/acme/shop/deployments", params={"ref": "prod"}).json() == []
    assert shop.reader.post("/repos/acme/shop/deployments", json={"ref": "main"}).status_code == 403
    unknown = shop.app.post("/repos/acme/shop/deployments", json={"ref": "nope", "required_contexts": []})
    assert unknown.status_code == 422
    assert unknown.json()["message"] == "No ref found for: nope"


def test_only_inactive_deployments_can_be_deleted(sandbox: Sandbox, shop: Shop) -> None:
    first = deploy(shop)
    second = deploy(shop)
    refused = shop.admin.delete(f"/repos/acme/shop/deployments/{first['id']}")
    assert refused.status_code == 422
    assert refused.json()["message"].startswith("We cannot delete an active deployment")
    set_status(shop, first, "inactive")
    assert shop.admin.delete(f"/repos/acme/shop/deployments/{first['id']}").status_code == 204
    assert shop.reader.get(f"/repos/acme/shop/deployments/{first['id']}").status_code == 404
    # the last deployment of an environment may go whatever its state
    assert shop.admin.delete(f"/repos/acme/shop/deployments/{second['id']}").status_code == 204


def test_required_contexts_must_pass(sandbox: Sandbox, shop: Shop) -> None:
    sha = sandbox.app.git_repo(sandbox.repo("acme", "shop")).resolve("main")
    shop.app.post(f"/repos/acme/shop/statuses/{sha}", json={"state": "success", "context": "ci/build"})
    shop.app.post(f"/repos/acme/shop/statuses/{sha}", json={"state": "failure", "context": "security"})
    shop.app.post("/repos/acme/shop/check-runs", json={"name": "tests", "head_sha": sha, "conclusion": "success"})

    def attempt(**fields: Any) -> Any:
        return shop.app.post("/repos/acme/shop/deployments", json={"ref": "main", "auto_merge": False, **fields})

    every = attempt()  # by default every context on the commit must be green
    assert every.status_code == 409
    assert every.json()["message"] == "Conflict: Commit status checks failed for main."
    error = every.json()["errors"][0]
    assert (error["resource"], error["field"], error["code"]) == ("Deployment", "required_contexts", "invalid")
    assert sorted((c["context"], c["state"]) for c in error["contexts"]) == [
        ("ci/build", "success"), ("security", "failure"), ("tests", "success")]
    assert attempt(required_contexts=["security"]).status_code == 409
    assert attempt(required_contexts=["ci/build", "tests"]).status_code == 201  # check runs count too
    missing = attempt(required_contexts=["ci/build", "e2e"])
    assert missing.status_code == 409
    assert {"context": "e2e", "state": "pending"} in missing.json()["errors"][0]["contexts"]
    assert attempt(required_contexts=[]).status_code == 201  # [] skips the check
    shop.app.post(f"/repos/acme/shop/statuses/{sha}", json={"state": "success", "context": "security"})
    assert attempt().status_code == 201


def test_auto_merge_refuses_a_ref_behind_the_default_branch(sandbox: Sandbox, shop: Shop) -> None:
    sandbox.create_branch("acme", "shop", "prod", "main")
    sandbox.commit("acme", "shop", "main", {"new.py": "n\n"}, "Newer", author="bob")
    behind = shop.app.post("/repos/acme/shop/deployments", json={"ref": "prod", "required_contexts": []})
    assert behind.status_code == 409  # auto_merge defaults to true: GitHub would merge main into prod first
    assert behind.json()["message"] == "Conflict merging main into prod."
    assert shop.app.post("/repos/acme/shop/deployments", json={"ref": "prod", "required_contexts": [],
                                                              "auto_merge": False}).status_code == 201
    assert shop.app.post("/repos/acme/shop/deployments", json={"ref": "main", "required_contexts": []}
                         ).status_code == 201  # nothing to merge


def test_success_marks_earlier_deployments_of_the_environment_inactive(sandbox: Sandbox, shop: Shop) -> None:
    old = deploy(shop)
    set_status(shop, old, "success")
    staging = deploy(shop, environment="staging")
    set_status(shop, staging, "success")
    failed = deploy(shop)
    set_status(shop, failed, "failure")
    new = deploy(shop)
    set_status(shop, new, "in_progress")
    assert states(shop, old) == ["success"]  # only a success retires the others
    set_status(shop, new, "success")
    assert states(shop, old) == ["inactive", "success"]
    assert states(shop, failed) == ["failure"]  # never successful: left alone
    assert states(shop, staging) == ["success"]  # another environment
    newest = deploy(shop)
    set_status(shop, newest, "success", auto_inactive=False)
    assert states(shop, new) == ["success", "in_progress"]


def test_deployment_status_refusals(sandbox: Sandbox, shop: Shop, sandbox_contract: ContractRecorder) -> None:
    deployment = deploy(shop)
    url = f"/repos/acme/shop/deployments/{deployment['id']}/statuses"
    sandbox_contract.expect("request body $.state")
    assert shop.app.post(url, json={"state": "done"}).status_code == 422
    long = shop.app.post(url, json={"state": "success", "description": "x" * 141})
    assert long.status_code == 422
    assert long.json()["errors"][0]["message"] == "description is too long (maximum is 140 characters)"
    assert shop.reader.post(url, json={"state": "success"}).status_code == 403


def test_everything_survives_a_restart(tmp_path: Path) -> None:
    """Issues, comments, check runs, statuses, deployments and releases are saved with the state."""
    with Sandbox(tmp_path, clock=FakeClock()) as first:
        shop = make_shop(first)
        sha = first.app.git_repo(first.repo("acme", "shop")).resolve("main")
        issue = shop.writer.post("/repos/acme/shop/issues", json={"title": "Keep me", "labels": ["P0"]}).json()
        shop.writer.post(f"/repos/acme/shop/issues/{issue['number']}/comments", json={"body": "noted"})
        run = shop.app.post("/repos/acme/shop/check-runs", json={
            "name": "gate", "head_sha": sha, "conclusion": "success",
            "output": {"title": "GO", "summary": "all green"}}).json()
        shop.app.post(f"/repos/acme/shop/statuses/{sha}", json={"state": "success", "context": "ci"})
        deployment = deploy(shop)
        set_status(shop, deployment, "success")
        shop.writer.post("/repos/acme/shop/releases", json={"tag_name": "v1", "body": "First"})
    with Sandbox(tmp_path, clock=FakeClock()) as second:
        api = client(second, second.add_user("alice"))
        assert api.get("/repos/acme/shop/issues/1").json()["labels"][0]["name"] == "P0"
        assert api.get("/repos/acme/shop/issues/1/comments").json()[0]["body"] == "noted"
        restored = api.get(f"/repos/acme/shop/check-runs/{run['id']}").json()
        assert (restored["conclusion"], restored["output"]["summary"]) == ("success", "all green")
        assert api.get(f"/repos/acme/shop/commits/{sha}/status").json()["state"] == "success"
        assert [s["state"] for s in api.get(f"/repos/acme/shop/deployments/{deployment['id']}/statuses").json()
                ] == ["success"]
        assert api.get("/repos/acme/shop/releases/latest").json()["body"] == "First"
