"""The sandbox refuses request bodies GitHub refuses, with GitHub's 422 (opsgh/sandbox/shapes.py).

The wording is GitHub's (its `json_schema` validator), as recorded from the real API, e.g. creating an
issue without a title answers `Invalid request.\\n\\n"title" wasn't supplied.` and without a body
`Invalid request.\\n\\nFor 'links/0/schema', nil is not an object.`
"""

from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path
from types import ModuleType

import pytest
from sandbox.issues_support import Shop, make_shop
from sandbox.support import ContractRecorder

from opsgh.sandbox import Sandbox
from opsgh.sandbox.app import SandboxApp
from opsgh.sandbox.routes import discover
from opsgh.sandbox.routing import Request, Response, Router, RouteTable
from opsgh.sandbox.shapes import LENIENT, RequestShapes, operation_of, shared

REPO_ROOT = Path(__file__).resolve().parents[2]
CREATE_ISSUE = "POST /repos/{owner}/{repo}/issues"
UPDATE_ISSUE = "PATCH /repos/{owner}/{repo}/issues/{issue_number}"
CREATE_ISSUE_DOCS = "https://docs.github.com/rest/issues/issues#create-an-issue"


@pytest.fixture
def shop(sandbox: Sandbox) -> Shop:
    return make_shop(sandbox)


def _issue_titles(shop: Shop) -> list[str]:
    return [issue["title"] for issue in shop.reader.get("/repos/acme/shop/issues", params={"state": "all"}).json()]


def test_labels_as_a_string_are_refused_like_github(shop: Shop, sandbox_contract: ContractRecorder) -> None:
    sandbox_contract.expect("request body $.labels", operation=CREATE_ISSUE)
    refused = shop.writer.post("/repos/acme/shop/issues", json={"title": "t", "labels": "bug"})
    assert refused.status_code == 422
    assert refused.json() == {"message": "Invalid request.\n\nFor 'properties/labels', \"bug\" is not an array.",
                              "documentation_url": CREATE_ISSUE_DOCS, "status": "422"}
    assert _issue_titles(shop) == []  # nothing was created


def test_missing_required_keys_and_bodies(shop: Shop, sandbox_contract: ContractRecorder) -> None:
    sandbox_contract.expect("request body", operation=CREATE_ISSUE)
    no_title = shop.writer.post("/repos/acme/shop/issues", json={"body": "no title"})
    assert (no_title.status_code, no_title.json()["message"]) == (422, "Invalid request.\n\n\"title\" wasn't supplied.")
    no_body = shop.writer.post("/repos/acme/shop/issues")
    assert no_body.json()["message"] == "Invalid request.\n\nFor 'links/0/schema', nil is not an object."
    both = shop.writer.post("/repos/acme/shop/issues", json={"labels": "bug", "assignees": "alice"})
    assert both.json()["message"] == ("Invalid request.\n\nFor 'properties/assignees', \"alice\" is not an array.\n"
                                      "For 'properties/labels', \"bug\" is not an array.\n"
                                      "\"title\" wasn't supplied.")  # one problem a line, in GitHub's order
    assert _issue_titles(shop) == []


def test_a_value_outside_an_enum(shop: Shop, sandbox_contract: ContractRecorder) -> None:
    assert shop.writer.post("/repos/acme/shop/issues", json={"title": "Checkout fails"}).status_code == 201
    sandbox_contract.expect("request body $.state", operation=UPDATE_ISSUE)
    refused = shop.writer.patch("/repos/acme/shop/issues/1", json={"state": "great", "title": "Renamed"})
    assert refused.status_code == 422
    assert refused.json()["message"] == 'Invalid request.\n\ngreat is not a member of ["open", "closed"].'
    assert refused.json()["documentation_url"] == "https://docs.github.com/rest/issues/issues#update-an-issue"
    issue = shop.reader.get("/repos/acme/shop/issues/1").json()
    assert (issue["state"], issue["title"]) == ("open", "Checkout fails")  # the refused update changed nothing


def test_invalid_json_is_a_400(shop: Shop, sandbox_contract: ContractRecorder) -> None:
    sandbox_contract.expect("request body", operation=CREATE_ISSUE)
    broken = shop.writer.post("/repos/acme/shop/issues", content=b'{"title": "t",',
                              headers={"content-type": "application/json"})
    assert broken.status_code == 400
    assert broken.json() == {"message": "Problems parsing JSON", "documentation_url": CREATE_ISSUE_DOCS,
                             "status": "400"}


def test_valid_requests_still_work(shop: Shop, sandbox_contract: ContractRecorder) -> None:
    created = shop.writer.post("/repos/acme/shop/issues", json={
        "title": "Checkout fails", "body": "Steps", "labels": ["bug", {"name": "P1"}], "assignees": ["alice"]})
    assert created.status_code == 201, created.text
    assert [label["name"] for label in created.json()["labels"]] == ["bug", "P1"]
    closed = shop.writer.patch("/repos/acme/shop/issues/1", json={"state": "closed", "state_reason": None})
    assert closed.json()["state"] == "closed"
    # GitHub takes what its description does not list (LENIENT): a bare array of label names.
    sandbox_contract.expect("request body $", operation="POST /repos/{owner}/{repo}/issues/{issue_number}/labels")
    labelled = shop.writer.post("/repos/acme/shop/issues/1/labels", json=["release"])
    assert [label["name"] for label in labelled.json()] == ["bug", "P1", "release"]


def test_permissions_are_checked_before_the_body(sandbox: Sandbox, shop: Shop,
                                                 sandbox_contract: ContractRecorder) -> None:
    sandbox_contract.expect("request body", operation=CREATE_ISSUE)
    sandbox_contract.expect("request body", operation=UPDATE_ISSUE)
    assert shop.writer.post("/repos/acme/shop/issues", json={"title": "Bob's issue"}).status_code == 201
    # carol may read but not edit bob's issue: GitHub says 403 before it looks at the body
    assert shop.reader.patch("/repos/acme/shop/issues/1", json={"state": "great"}).status_code == 403
    sandbox.create_repo("acme", "private", private=True, collaborators={"alice": "admin"})
    hidden = shop.stranger.post("/repos/acme/private/issues", json={"labels": "bug"})
    assert hidden.status_code == 404  # a private repository stays hidden, whatever the body


def test_a_route_that_ignores_a_refused_body_is_a_sandbox_bug() -> None:
    table = RouteTable()

    @table.post("/repos/{owner}/{repo}/issues")
    def careless(request: Request) -> Response:
        return Response(201, {})

    app = SandboxApp(router=Router([table]))
    try:
        answer = app.handle("POST", "/repos/acme/shop/issues", {"content-type": "application/json"}, b'{"body": 1}')
        assert answer.status == 201
        assert len(app.errors) == 1
        assert "accepted a request body GitHub refuses" in app.errors[0]
    finally:
        app.close()


# ---------------------------------------------------------------------------------------------------
# The shipped description


def _update_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("update_github_descriptions",
                                                  REPO_ROOT / "scripts" / "update_github_descriptions.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_shipped_request_schemas_match_the_contract_description() -> None:
    script = _update_script()
    shipped = json.loads((REPO_ROOT / "opsgh" / "sandbox" / "data" / "github-request-schemas.json").read_text())
    trimmed = json.loads((REPO_ROOT / "tests" / "contract" / "data" / "api.github.com.trimmed.json").read_text())
    expected = script.request_schemas(trimmed, shipped["source"])
    assert sorted(shipped["operations"]) == sorted(expected["operations"])  # same operations
    assert shipped == expected, "regenerate with scripts/update_github_descriptions.py"
    versions = (REPO_ROOT / "tests" / "contract" / "data" / "VERSIONS").read_text().splitlines()
    pinned = next(line.split()[0] for line in versions if line.startswith("@octokit/openapi@"))
    assert shipped["source"].startswith(pinned + " ")


def test_every_sandbox_route_is_a_described_operation() -> None:
    shapes = shared()
    undescribed = [route.operation for route in Router(discover()).routes
                   if route.resource != "graphql" and operation_of(route) not in shapes.operations]
    assert undescribed == []
    assert {leniency.operation for leniency in LENIENT} <= set(shapes.operations)
    with pytest.raises(ValueError, match="LENIENT names operations"):
        RequestShapes({"operations": {}})


def test_a_check_costs_little() -> None:
    timed_shapes = RequestShapes.load()
    body = json.dumps({"title": "Release 2026-01-05", "body": "x" * 2000, "labels": ["release", "P1"],
                       "assignees": ["alice", "bob"]}).encode()
    started = time.perf_counter()
    assert timed_shapes.problem(CREATE_ISSUE, body) is None  # first use builds the validator
    first = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(200):
        assert timed_shapes.problem(CREATE_ISSUE, body) is None
    each = (time.perf_counter() - started) / 200
    assert first < 0.5, first  # typically ~2 ms
    assert each < 0.005, each  # typically ~0.1 ms
