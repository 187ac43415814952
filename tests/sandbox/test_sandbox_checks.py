"""Check runs and commit statuses in the sandbox, over HTTP, contract-checked."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sandbox.issues_support import Shop, make_shop, open_pull
from sandbox.support import ContractRecorder, client

from opsgh.sandbox import Sandbox

LIMIT = 65535
CREATE = "POST /repos/{owner}/{repo}/check-runs"
POST_STATUS = "POST /repos/{owner}/{repo}/statuses/{sha}"


@pytest.fixture
def shop(sandbox: Sandbox) -> Shop:
    return make_shop(sandbox)


def head(sandbox: Sandbox, branch: str = "main") -> str:
    sha = sandbox.app.git_repo(sandbox.repo("acme", "shop")).resolve(branch)
    assert sha is not None
    return sha


# ---------------------------------------------------------------------------------------------------
# Check runs


def test_only_github_apps_may_create_check_runs(sandbox: Sandbox, shop: Shop) -> None:
    sha = head(sandbox)
    refused = shop.admin.post("/repos/acme/shop/check-runs", json={"name": "gate", "head_sha": sha})
    assert refused.status_code == 403  # an admin's classic PAT: GitHub refuses every PAT and OAuth token
    assert refused.json()["message"] == "You must authenticate via a GitHub App."
    fine_grained = client(sandbox, sandbox.add_user("alice", kind="fine-grained",
                                                    permissions={"checks": "write", "contents": "write"}))
    assert fine_grained.post("/repos/acme/shop/check-runs", json={"name": "gate", "head_sha": sha}).json()[
        "message"] == "You must authenticate via a GitHub App."
    assert shop.anonymous.post("/repos/acme/shop/check-runs", json={"name": "gate", "head_sha": sha}
                               ).status_code == 401
    no_checks = sandbox.add_app("docs-bot", "acme", permissions={"contents": "read", "metadata": "read"})
    denied = client(sandbox, sandbox.installation_token(no_checks)).post(
        "/repos/acme/shop/check-runs", json={"name": "gate", "head_sha": sha})
    assert denied.status_code == 403
    assert denied.json()["message"] == "Resource not accessible by integration"
    assert denied.headers["x-accepted-github-permissions"] == "checks=write"
    actions = client(sandbox, sandbox.add_user("ci", kind="actions", repositories=("acme/shop",)))
    created = actions.post("/repos/acme/shop/check-runs", json={"name": "build", "head_sha": sha})
    assert created.status_code == 201
    assert (created.json()["app"]["slug"], created.json()["app"]["id"]) == ("github-actions", 15368)
    assert shop.admin.get(f"/repos/acme/shop/check-runs/{created.json()['id']}").status_code == 200  # reading is fine


def test_check_run_lifecycle(sandbox: Sandbox, shop: Shop) -> None:
    sha = head(sandbox)
    created = shop.app.post("/repos/acme/shop/check-runs", json={
        "name": "opsgh/gate", "head_sha": sha, "external_id": "gate-1", "details_url": "https://ci.example/1"})
    assert created.status_code == 201
    run = created.json()
    assert (run["status"], run["conclusion"], run["completed_at"]) == ("queued", None, None)
    assert run["started_at"] is not None
    assert (run["app"]["slug"], run["app"]["id"]) == ("ci", shop.credentials.app_id)
    assert run["external_id"] == "gate-1"
    url = f"/repos/acme/shop/check-runs/{run['id']}"
    running = shop.app.patch(url, json={"status": "in_progress", "output": {"title": "Evaluating",
                                                                           "summary": "3 criteria"}})
    assert running.json()["status"] == "in_progress"
    assert running.json()["output"]["title"] == "Evaluating"
    done = shop.app.patch(url, json={"conclusion": "failure", "output": {
        "title": "NO-GO", "summary": "1 criterion failed", "text": "details"}}).json()
    assert (done["status"], done["conclusion"]) == ("completed", "failure")  # a conclusion completes the run
    assert done["completed_at"] is not None
    assert shop.reader.get(url).json()["output"]["text"] == "details"
    other_app = client(sandbox, sandbox.installation_token(sandbox.add_app(
        "other", "acme", permissions={"checks": "write", "metadata": "read"})))
    stolen = other_app.patch(url, json={"conclusion": "success"})
    assert stolen.status_code == 403  # only the App that created a run may change it
    assert shop.reader.get(url).json()["conclusion"] == "failure"


def test_check_runs_for_a_ref(sandbox: Sandbox, shop: Shop) -> None:
    sha = head(sandbox)
    sandbox.commit("acme", "shop", "feature", {"f.py": "f\n"}, "Feature", author="bob")
    feature = head(sandbox, "feature")
    number = open_pull(shop, "feature", "main", "Feature")
    for name, conclusion in (("build", "failure"), ("build", "success"), ("lint", None)):
        body: dict[str, object] = {"name": name, "head_sha": feature}
        if conclusion:
            body["conclusion"] = conclusion
        assert shop.app.post("/repos/acme/shop/check-runs", json=body).status_code == 201
    assert shop.app.post("/repos/acme/shop/check-runs", json={"name": "build", "head_sha": sha}).status_code == 201
    latest = shop.reader.get("/repos/acme/shop/commits/feature/check-runs").json()
    assert latest["total_count"] == 2  # the newest run of each name
    assert sorted((r["name"], r["conclusion"]) for r in latest["check_runs"]) == [("build", "success"),
                                                                                  ("lint", None)]
    assert [p["number"] for p in latest["check_runs"][0]["pull_requests"]] == [number]
    every = shop.reader.get(f"/repos/acme/shop/commits/{feature}/check-runs", params={"filter": "all"}).json()
    assert every["total_count"] == 3
    named = shop.reader.get(f"/repos/acme/shop/commits/{feature}/check-runs",
                            params={"check_name": "build", "filter": "all", "per_page": 1})
    assert named.json()["total_count"] == 2
    assert len(named.json()["check_runs"]) == 1
    assert 'rel="next"' in named.headers["link"]
    queued = shop.reader.get(f"/repos/acme/shop/commits/{feature}/check-runs", params={"status": "queued"}).json()
    assert [r["name"] for r in queued["check_runs"]] == ["lint"]
    assert shop.reader.get("/repos/acme/shop/commits/main/check-runs").json()["total_count"] == 1


def test_check_run_output_limits(sandbox: Sandbox, shop: Shop, sandbox_contract: ContractRecorder) -> None:
    sha = head(sandbox)
    # GitHub documents none of these 422s for this operation; the description also caps the sizes.
    sandbox_contract.expect("response status", operation=CREATE)
    sandbox_contract.expect("request body $.output", operation=CREATE)
    sandbox_contract.expect("response status", operation="PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}")
    at_limit = shop.app.post("/repos/acme/shop/check-runs", json={
        "name": "big", "head_sha": sha, "output": {"title": "t", "summary": "s" * LIMIT, "text": "x" * LIMIT}})
    assert at_limit.status_code == 201
    too_long = shop.app.post("/repos/acme/shop/check-runs", json={
        "name": "big", "head_sha": sha, "output": {"title": "t", "summary": "s" * (LIMIT + 1)}})
    assert too_long.status_code == 422
    assert too_long.json()["message"] == f"Invalid request.\n\nOnly 65535 characters are allowed; {LIMIT + 1} were " \
                                         "supplied."
    wide = shop.app.post("/repos/acme/shop/check-runs", json={
        "name": "big", "head_sha": sha, "output": {"title": "t", "summary": "ok", "text": "é" * 40000}})
    assert wide.status_code == 422  # 40000 characters but 80000 bytes
    assert wide.json()["errors"] == [{"resource": "CheckRun", "field": "text", "code": "custom",
                                      "message": "text exceeds a maximum bytesize of 65535"}]
    note = {"path": "app.py", "start_line": 1, "end_line": 1, "annotation_level": "warning", "message": "m"}
    many = shop.app.post("/repos/acme/shop/check-runs", json={
        "name": "lint", "head_sha": sha, "output": {"title": "t", "summary": "s", "annotations": [note] * 51}})
    assert many.status_code == 422
    assert many.json()["message"] == "Invalid request.\n\nNo more than 50 items are allowed; 51 were supplied."
    run = shop.app.post("/repos/acme/shop/check-runs", json={
        "name": "lint", "head_sha": sha, "output": {"title": "t", "summary": "s", "annotations": [note] * 50}}).json()
    appended = shop.app.patch(f"/repos/acme/shop/check-runs/{run['id']}", json={
        "output": {"title": "t", "summary": "s", "annotations": [note] * 50}})
    assert appended.json()["output"]["annotations_count"] == 100  # annotations add up across requests
    annotations = shop.reader.get(f"/repos/acme/shop/check-runs/{run['id']}/annotations", params={"per_page": 100})
    assert len(annotations.json()) == 100
    assert annotations.json()[0]["blob_href"].endswith(f"/acme/shop/blob/{sha}/app.py")
    sandbox_contract.expect("request body $.status", operation="PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}")
    incomplete = shop.app.patch(f"/repos/acme/shop/check-runs/{run['id']}", json={"status": "completed"})
    assert incomplete.status_code == 422  # completed needs a conclusion
    assert incomplete.json()["message"] == ('Invalid request.\n\nNo subschema in "anyOf" matched.\n'
                                            '"conclusion" wasn\'t supplied.\n'
                                            'completed is not a member of ["queued", "in_progress"].')
    unknown = shop.app.post("/repos/acme/shop/check-runs", json={"name": "x", "head_sha": "0" * 40})
    assert unknown.json()["message"] == f"No commit found for SHA: {'0' * 40}"


def test_check_suites_group_the_runs_of_each_app(sandbox: Sandbox, shop: Shop) -> None:
    sha = head(sandbox)
    actions = client(sandbox, sandbox.add_user("ci", kind="actions", repositories=("acme/shop",)))
    shop.app.post("/repos/acme/shop/check-runs", json={"name": "gate", "head_sha": sha, "conclusion": "failure"})
    shop.app.post("/repos/acme/shop/check-runs", json={"name": "gate", "head_sha": sha, "conclusion": "success"})
    shop.app.post("/repos/acme/shop/check-runs", json={"name": "docs", "head_sha": sha, "conclusion": "skipped"})
    actions.post("/repos/acme/shop/check-runs", json={"name": "build", "head_sha": sha, "status": "in_progress"})
    suites = shop.reader.get("/repos/acme/shop/commits/main/check-suites").json()
    assert suites["total_count"] == 2
    summary = {s["app"]["slug"]: (s["status"], s["conclusion"], s["latest_check_runs_count"], s["head_branch"])
               for s in suites["check_suites"]}
    assert summary == {"ci": ("completed", "success", 2, "main"), "github-actions": ("in_progress", None, 1, "main")}
    only_ci = shop.reader.get(f"/repos/acme/shop/commits/{sha}/check-suites",
                              params={"app_id": shop.credentials.app_id}).json()
    assert [s["app"]["slug"] for s in only_ci["check_suites"]] == ["ci"]


# ---------------------------------------------------------------------------------------------------
# Commit statuses


def test_commit_statuses_and_the_combined_status(sandbox: Sandbox, shop: Shop) -> None:
    sha = head(sandbox)
    empty = shop.reader.get(f"/repos/acme/shop/commits/{sha}/status").json()
    assert (empty["state"], empty["total_count"], empty["statuses"]) == ("pending", 0, [])  # none: pending

    def post(state: str, context: str | None = None, api: httpx.Client | None = None) -> dict[str, Any]:
        body = {"state": state, "target_url": "https://ci.example/run", "description": f"{state}!"}
        if context is not None:
            body["context"] = context
        response = (api or shop.writer).post(f"/repos/acme/shop/statuses/{sha}", json=body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def combined(ref: str = sha) -> tuple[str, list[tuple[str, str]]]:
        data = shop.reader.get(f"/repos/acme/shop/commits/{ref}/status").json()
        assert data["total_count"] == len(data["statuses"])
        return data["state"], sorted((s["context"], s["state"]) for s in data["statuses"])

    created = post("success")
    assert created["context"] == "default"
    assert created["creator"]["login"] == "bob"
    assert combined() == ("success", [("default", "success")])
    post("pending", "ci/build")
    assert combined() == ("pending", [("ci/build", "pending"), ("default", "success")])
    post("success", "ci/build", shop.app)
    assert combined() == ("success", [("ci/build", "success"), ("default", "success")])  # newest per context
    post("error", "deploy/preview")
    post("pending", "security")
    assert combined("main")[0] == "failure"  # error or failure beats pending
    post("success", "deploy/preview")
    assert combined("main")[0] == "pending"
    post("failure", "security")
    assert combined("main")[0] == "failure"
    sandbox.app.git_repo(sandbox.repo("acme", "shop")).update_ref("refs/tags/v1", sha, None)
    assert combined("v1")[0] == "failure"  # a tag works as a ref too
    listed = shop.reader.get("/repos/acme/shop/commits/main/statuses", params={"per_page": 3})
    assert [(s["context"], s["state"]) for s in listed.json()] == [
        ("security", "failure"), ("deploy/preview", "success"), ("security", "pending")]  # newest first
    assert 'rel="last"' in listed.headers["link"]
    assert len(shop.reader.get("/repos/acme/shop/commits/main/statuses").json()) == 7


def test_commit_status_refusals(sandbox: Sandbox, shop: Shop, sandbox_contract: ContractRecorder) -> None:
    sha = head(sandbox)
    sandbox_contract.expect("response status", operation=POST_STATUS)  # GitHub documents only the 201
    assert shop.reader.post(f"/repos/acme/shop/statuses/{sha}", json={"state": "success"}).status_code == 403
    assert shop.anonymous.post(f"/repos/acme/shop/statuses/{sha}", json={"state": "success"}).status_code == 401
    wordy = shop.writer.post(f"/repos/acme/shop/statuses/{sha}", json={"state": "success", "description": "x" * 141})
    assert wordy.status_code == 422
    assert wordy.json()["errors"] == [{"resource": "Status", "field": "description", "code": "custom",
                                       "message": "description is too long (maximum is 140 characters)"}]
    assert shop.writer.post(f"/repos/acme/shop/statuses/{sha}", json={"state": "success", "description": "x" * 140}
                            ).status_code == 201
    unknown = shop.writer.post(f"/repos/acme/shop/statuses/{'a' * 40}", json={"state": "success"})
    assert unknown.status_code == 422
    assert unknown.json()["message"] == f"No commit found for SHA: {'a' * 40}"
