"""The contract hook works: a malformed response (or request) is caught, named by operation and field."""

from __future__ import annotations

import pytest
from contract.harness import get_contract_validator
from sandbox.support import ContractRecorder, client

from opsgh.clock import FakeClock
from opsgh.sandbox import Sandbox
from opsgh.sandbox.routing import Request, Response, RouteTable


def broken_tags_route() -> RouteTable:
    """A test-only route on a real GitHub operation that answers with the wrong shape."""
    table = RouteTable()

    @table.get("/repos/{owner}/{repo}/tags")
    def list_tags(request: Request) -> Response:
        request.repo("read")
        return Response(200, [{"name": 42, "commit": {"sha": "abc"}}])  # name must be a string; no urls

    return table


def test_malformed_response_is_caught_and_named(sandbox: Sandbox, sandbox_contract: ContractRecorder) -> None:
    sandbox.add_routes(broken_tags_route())
    sandbox.create_repo("acme", "shop")
    sandbox_contract.expect("response body $[0]", operation="GET /repos/{owner}/{repo}/tags")
    assert client(sandbox).get("/repos/acme/shop/tags").status_code == 200
    fields = {v.field for v, _, _ in sandbox_contract.violations}
    assert "response body $[0].name" in fields
    assert all(v.operation == "GET /repos/{owner}/{repo}/tags" for v, _, _ in sandbox_contract.violations)


def test_malformed_request_is_caught_and_named(sandbox: Sandbox, sandbox_contract: ContractRecorder) -> None:
    token = sandbox.add_user("alice")
    sandbox.create_repo("acme", "shop", collaborators={"alice": "admin"})
    sandbox_contract.expect("request body $.sha", operation="POST /repos/{owner}/{repo}/git/refs")
    refused = client(sandbox, token).post("/repos/acme/shop/git/refs", json={"ref": "refs/heads/x"})
    assert refused.status_code == 422  # GitHub refuses it too
    assert refused.json()["message"] == 'Invalid request.\n\n"sha" wasn\'t supplied.'


def test_fixture_fails_the_test_on_a_violation() -> None:
    """What the `sandbox` fixture does at teardown, without the expectation: the test fails, naming both."""
    recorder = ContractRecorder(get_contract_validator())
    with Sandbox(clock=FakeClock()) as sandbox:
        sandbox.add_observer(recorder)
        sandbox.add_routes(broken_tags_route())
        sandbox.create_repo("acme", "shop")
        client(sandbox).get("/repos/acme/shop/tags")
    with pytest.raises(AssertionError) as failure:
        recorder.check()
    assert "GET /repos/{owner}/{repo}/tags: response body $[0].name" in str(failure.value)
    unmet = ContractRecorder(get_contract_validator())
    unmet.expect("response body")
    with pytest.raises(AssertionError, match="expected contract violations did not happen"):
        unmet.check()
