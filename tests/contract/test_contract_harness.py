"""The contract harness itself: it accepts what GitHub's descriptions allow and names what they do not.

If these fail, every sandbox contract check is suspect: a harness that accepts anything would let the
sandbox drift from GitHub unnoticed, one that rejects valid exchanges would make its tests useless.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from contract.harness import OPERATIONS_FILE, ContractValidator, ContractViolation

REPO_ROOT = Path(__file__).resolve().parents[2]
GRAPHQL_DIR = REPO_ROOT / "opsgh" / "github" / "graphql"
BASE = "http://127.0.0.1:8123"
JSON = {"content-type": "application/json; charset=utf-8"}


def simple_user(login: str, user_id: int) -> dict[str, Any]:
    api = f"https://api.github.com/users/{login}"
    return {
        "login": login,
        "id": user_id,
        "node_id": f"U_{user_id}",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{user_id}?v=4",
        "gravatar_id": "",
        "url": api,
        "html_url": f"https://github.com/{login}",
        "followers_url": f"{api}/followers",
        "following_url": f"{api}/following{{/other_user}}",
        "gists_url": f"{api}/gists{{/gist_id}}",
        "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{api}/subscriptions",
        "organizations_url": f"{api}/orgs",
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events{{/privacy}}",
        "received_events_url": f"{api}/received_events",
        "type": "Bot",
        "site_admin": False,
    }


def sticky_comment() -> dict[str, Any]:
    """What GitHub answers to POST /repos/acme/shop/issues/7/comments (written by hand)."""
    return {
        "id": 2001,
        "node_id": "IC_kwDOA",
        "url": "https://api.github.com/repos/acme/shop/issues/comments/2001",
        "html_url": "https://github.com/acme/shop/pull/7#issuecomment-2001",
        "issue_url": "https://api.github.com/repos/acme/shop/issues/7",
        "body": "<!-- opsgh:gate -->\n**Go** for release 2026-01-06",
        "user": simple_user("opsgh[bot]", 41898282),
        "created_at": "2026-01-06T15:00:00Z",
        "updated_at": "2026-01-06T15:00:00Z",
        "author_association": "NONE",
        "performed_via_github_app": None,
    }


def post_comment(contract: ContractValidator, response: Any, *, url: str | None = None) -> str:
    return contract.validate_exchange(
        "POST",
        url or f"{BASE}/repos/acme/shop/issues/7/comments",
        {"Content-Type": "application/json", "Authorization": "token test"},
        json.dumps({"body": "<!-- opsgh:gate -->\n**Go**"}).encode(),
        201,
        JSON | {"Location": "https://api.github.com/repos/acme/shop/issues/comments/2001"},
        json.dumps(response).encode(),
    )


def test_hand_made_exchange_passes_and_names_its_operation(contract: ContractValidator) -> None:
    operation = post_comment(contract, sticky_comment())
    assert operation == "POST /repos/{owner}/{repo}/issues/{issue_number}/comments"


def test_ghes_prefix_and_any_local_host_map_onto_the_description(contract: ContractValidator) -> None:
    operation = post_comment(
        contract, sticky_comment(), url="https://ghe.example.com/api/v3/repos/acme/shop/issues/7/comments"
    )
    assert operation == "POST /repos/{owner}/{repo}/issues/{issue_number}/comments"


def test_malformed_request_names_operation_and_field(contract: ContractValidator) -> None:
    pull = contract.minimal_response_body("POST", "/repos/{owner}/{repo}/pulls", 201)
    with pytest.raises(ContractViolation) as caught:
        contract.validate_exchange(
            "POST",
            f"{BASE}/repos/acme/shop/pulls",
            {"content-type": "application/json"},
            json.dumps({"title": "Release 2026-01-06", "base": "prod", "head": 42}).encode(),
            201,
            JSON,
            json.dumps(pull).encode(),
        )
    assert [(v.operation, v.field) for v in caught.value.violations] == [
        ("POST /repos/{owner}/{repo}/pulls", "request body $.head")
    ]
    assert "POST /repos/{owner}/{repo}/pulls: request body $.head:" in str(caught.value)


def test_missing_required_request_field_is_named(contract: ContractValidator) -> None:
    pull = contract.minimal_response_body("POST", "/repos/{owner}/{repo}/pulls", 201)
    with pytest.raises(ContractViolation) as caught:
        contract.validate_exchange(
            "POST",
            f"{BASE}/repos/acme/shop/pulls",
            {"content-type": "application/json"},
            json.dumps({"title": "Release", "base": "prod"}).encode(),
            201,
            JSON,
            json.dumps(pull).encode(),
        )
    assert (caught.value.operation, caught.value.field) == (
        "POST /repos/{owner}/{repo}/pulls",
        "request body $.head",
    )


def test_malformed_response_names_operation_and_field(contract: ContractValidator) -> None:
    pull = contract.minimal_response_body("GET", "/repos/{owner}/{repo}/pulls/{pull_number}", 200)
    contract.validate_exchange(
        "GET", f"{BASE}/repos/acme/shop/pulls/7", {}, None, 200, JSON, json.dumps(pull).encode()
    )
    pull["number"] = "7"
    with pytest.raises(ContractViolation) as caught:
        contract.validate_exchange(
            "GET", f"{BASE}/repos/acme/shop/pulls/7", {}, None, 200, JSON, json.dumps(pull).encode()
        )
    assert [(v.operation, v.field) for v in caught.value.violations] == [
        ("GET /repos/{owner}/{repo}/pulls/{pull_number}", "response body $.number")
    ]


def test_missing_nested_response_field_is_named(contract: ContractValidator) -> None:
    comment = sticky_comment()
    del comment["user"]["login"]
    with pytest.raises(ContractViolation) as caught:
        post_comment(contract, comment)
    assert caught.value.field == "response body $.user.login"


def test_undocumented_status_is_a_violation(contract: ContractValidator) -> None:
    with pytest.raises(ContractViolation) as caught:
        contract.validate_exchange("GET", f"{BASE}/repos/acme/shop/pulls/7", {}, None, 418, JSON, b"{}")
    assert caught.value.field == "response status 418"


def test_rate_limits_and_server_errors_are_allowed_on_any_operation(contract: ContractValidator) -> None:
    """GitHub answers 403/429/5xx on every endpoint; the sandbox's fault injection must be checkable too."""
    limited = json.dumps({"message": "You have exceeded a secondary rate limit.", "documentation_url": "x"})
    url = f"{BASE}/repos/acme/shop/labels/release"  # documents 200 and 404 only
    contract.validate_exchange("GET", url, {}, None, 429, JSON | {"retry-after": "60"}, limited.encode())
    contract.validate_exchange(
        "GET", url, {}, None, 502, {"content-type": "text/html"}, b"<h1>Bad gateway</h1>"
    )
    with pytest.raises(ContractViolation) as caught:
        contract.validate_exchange("GET", url, {}, None, 403, JSON, b'{"error": "forbidden"}')
    assert caught.value.field == "response body (status 403)"


def test_error_bodies_are_checked_too(contract: ContractValidator) -> None:
    not_protected = {"message": "Branch not protected", "documentation_url": "https://docs.github.com/rest"}
    contract.validate_exchange(
        "GET",
        f"{BASE}/repos/acme/shop/branches/prod/protection",
        {},
        None,
        404,
        JSON,
        json.dumps(not_protected).encode(),
    )
    with pytest.raises(ContractViolation) as caught:
        contract.validate_exchange(
            "GET",
            f"{BASE}/repos/acme/shop/branches/prod/protection",
            {},
            None,
            404,
            JSON,
            b'{"message": 404}',
        )
    assert caught.value.field == "response body $.message"


def test_query_parameters_are_checked(contract: ContractValidator) -> None:
    with pytest.raises(ContractViolation) as caught:
        contract.validate_exchange(
            "GET", f"{BASE}/repos/acme/shop/pulls?state=merged", {}, None, 200, JSON, b"[]"
        )
    assert caught.value.field == "query parameter state"


def test_unknown_route_and_unlisted_method_are_violations(contract: ContractValidator) -> None:
    with pytest.raises(ContractViolation) as unknown:
        contract.validate_exchange("GET", f"{BASE}/repos/acme/shop/wormholes", {}, None, 200, JSON, b"{}")
    assert (unknown.value.operation, unknown.value.field) == ("GET /repos/acme/shop/wormholes", "route")
    with pytest.raises(ContractViolation) as method:
        contract.validate_exchange("DELETE", f"{BASE}/repos/acme/shop/pulls/7", {}, None, 204, {}, b"")
    assert (method.value.operation, method.value.field) == (
        "DELETE /repos/{owner}/{repo}/pulls/{pull_number}",
        "route",
    )


@pytest.mark.parametrize(
    ("path", "template", "params"),
    [
        ("/repositories/1000/issues", "/repos/{owner}/{repo}/issues", {}),
        (
            "/api/v3/repos/a/b/issues/comments/5",
            "/repos/{owner}/{repo}/issues/comments/{comment_id}",
            {"comment_id": "5"},
        ),
        (
            "/repos/a/b/git/ref/heads/hotfix/pay",
            "/repos/{owner}/{repo}/git/ref/{ref}",
            {"ref": "heads/hotfix/pay"},
        ),
        (
            "/repos/a/b/contents/.github/opsgh.yml",
            "/repos/{owner}/{repo}/contents/{path}",
            {"path": ".github/opsgh.yml"},
        ),
        (
            "/repos/a/b/branches/hotfix%2Fpay/protection",
            "/repos/{owner}/{repo}/branches/{branch}/protection",
            {"branch": "hotfix/pay"},
        ),
        (
            "/repos/a/b/commits/hotfix/pay/status",
            "/repos/{owner}/{repo}/commits/{ref}/status",
            {"ref": "hotfix/pay"},
        ),
        (
            "/repos/a/b/compare/prod...main",
            "/repos/{owner}/{repo}/compare/{basehead}",
            {"basehead": "prod...main"},
        ),
        ("/repos/a/b/releases/latest", "/repos/{owner}/{repo}/releases/latest", {}),
    ],
)
def test_router_maps_concrete_paths_to_templates(
    contract: ContractValidator, path: str, template: str, params: dict[str, str]
) -> None:
    route = contract.router.match(path)
    assert route is not None
    assert route.template == template
    assert params.items() <= route.path_params.items()


def test_pagination_links_to_repositories_by_id_validate_as_repo_operations(
    contract: ContractValidator,
) -> None:
    issue = contract.minimal_response_body("GET", "/repos/{owner}/{repo}/issues/{issue_number}", 200)
    operation = contract.validate_exchange(
        "GET",
        f"{BASE}/repositories/1000/issues?page=2&per_page=3",
        {},
        None,
        200,
        JSON | {"link": f'<{BASE}/repositories/1000/issues?page=3&per_page=3>; rel="next"'},
        json.dumps([issue]).encode(),
    )
    assert operation == "GET /repos/{owner}/{repo}/issues"


def test_github_nullable_enums_accept_null(contract: ContractValidator) -> None:
    """`conclusion: null` on a running check run is what GitHub sends; the harness must not reject it."""
    run = contract.minimal_response_body("POST", "/repos/{owner}/{repo}/check-runs", 201)
    run.update(status="in_progress", conclusion=None)
    contract.validate_exchange(
        "POST",
        f"{BASE}/repos/acme/shop/check-runs",
        {"content-type": "application/json"},
        json.dumps({"name": "opsgh/gate", "head_sha": "a" * 40, "status": "in_progress"}).encode(),
        201,
        JSON,
        json.dumps(run).encode(),
    )
    run["conclusion"] = "maybe"
    with pytest.raises(ContractViolation) as caught:
        contract.validate_exchange(
            "POST",
            f"{BASE}/repos/acme/shop/check-runs",
            {"content-type": "application/json"},
            json.dumps({"name": "opsgh/gate", "head_sha": "a" * 40}).encode(),
            201,
            JSON,
            json.dumps(run).encode(),
        )
    assert caught.value.field == "response body $.conclusion"


def test_directory_listing_is_accepted_despite_githubs_discriminator(contract: ContractValidator) -> None:
    contract.validate_exchange("GET", f"{BASE}/repos/a/b/contents/migrations", {}, None, 200, JSON, b"[]")


def test_operations_list_and_trimmed_description_agree(contract: ContractValidator) -> None:
    """Editing rest_operations.txt without re-running scripts/update_github_descriptions.py fails here."""
    listed = set()
    for raw in OPERATIONS_FILE.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            method, path = line.split()
            listed.add(f"{method.upper()} {path}")
    described = {
        f"{method.upper()} {path}"
        for path, item in contract.spec["paths"].items()
        for method in item
        if method in ("get", "put", "post", "patch", "delete")
    }
    assert listed == described, "run scripts/update_github_descriptions.py"


def test_every_listed_operation_accepts_a_schema_valid_exchange(contract: ContractValidator) -> None:
    """No false positives: a minimal body built from each 2xx schema passes its own operation."""
    from contract.harness import _resolve, minimal_instance

    checked = 0
    for template, item in contract.spec["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "put", "post", "patch", "delete"):
                continue
            url = BASE + template
            # Numeric path parameters (ids, numbers) get a number; the rest keep their name as a value.
            url = re.sub(r"\{(\w+_(?:id|number))\}", "7", url)
            url = url.replace("{", "").replace("}", "") + ("?q=is:pr" if template == "/search/issues" else "")
            body = None
            if "requestBody" in operation:
                request_schema = _resolve(contract.spec, operation["requestBody"])["content"][
                    "application/json"
                ]["schema"]
                body = json.dumps(minimal_instance(contract.spec, request_schema)).encode()
            status = min(int(code) for code in operation["responses"] if code.startswith("2"))
            response = _resolve(contract.spec, operation["responses"][str(status)])
            payload = b""
            if "application/json" in response.get("content", {}):
                payload = json.dumps(contract.minimal_response_body(method, template, status)).encode()
            contract.validate_exchange(
                method,
                url,
                {"content-type": "application/json"},
                body,
                status,
                JSON if payload else {},
                payload,
            )
            checked += 1
    assert checked > 100


# -- GraphQL ------------------------------------------------------------------------------------------

RELEASE_PR = """
query ReleasePullRequest($owner: String!, $name: String!, $number: Int!) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      id number title mergeable headRefOid
      author { login ... on Bot { id } }
      reviews(first: 10) { nodes { state author { login } } }
    }
  }
}
"""
RELEASE_PR_VARIABLES = {"owner": "acme", "name": "shop", "number": 7}
RELEASE_PR_RESPONSE = {
    "data": {
        "repository": {
            "pullRequest": {
                "id": "PR_kwDO",
                "number": 7,
                "title": "Release 2026-01-06",
                "mergeable": "MERGEABLE",
                "headRefOid": "a" * 40,
                "author": {"login": "octocat"},
                "reviews": {"nodes": [{"state": "APPROVED", "author": {"login": "release-manager"}}]},
            }
        }
    }
}
REVERT = """
mutation RevertRelease($input: RevertPullRequestInput!) {
  revertPullRequest(input: $input) { revertPullRequest { number url } }
}
"""


def test_valid_graphql_document_and_variables_pass(contract: ContractValidator) -> None:
    contract.validate_graphql(RELEASE_PR, RELEASE_PR_VARIABLES)
    contract.validate_graphql(REVERT, {"input": {"pullRequestId": "PR_kwDO", "title": "Revert release"}})


def test_graphql_wrong_field_fails_with_schema_message(contract: ContractValidator) -> None:
    with pytest.raises(ContractViolation) as caught:
        contract.validate_graphql(RELEASE_PR.replace("mergeable", "mergable"))
    assert caught.value.operation == "GraphQL ReleasePullRequest"
    assert "Cannot query field 'mergable' on type 'PullRequest'" in str(caught.value)


def test_graphql_variables_are_checked_against_the_document(contract: ContractValidator) -> None:
    with pytest.raises(ContractViolation) as wrong_type:
        contract.validate_graphql(RELEASE_PR, {**RELEASE_PR_VARIABLES, "number": "7"})
    assert wrong_type.value.field == "variables"
    with pytest.raises(ContractViolation) as wrong_input:
        contract.validate_graphql(REVERT, {"input": {"pullRequest": "PR_kwDO"}})
    assert "pullRequestId" in str(wrong_input.value)


def test_graphql_response_matching_the_document_passes(contract: ContractValidator) -> None:
    contract.validate_graphql_response(RELEASE_PR, RELEASE_PR_VARIABLES, RELEASE_PR_RESPONSE)
    bot = copy.deepcopy(RELEASE_PR_RESPONSE)
    bot["data"]["repository"]["pullRequest"]["author"] = {"login": "opsgh[bot]", "id": "BOT_1"}
    contract.validate_graphql_response(RELEASE_PR, RELEASE_PR_VARIABLES, bot)
    contract.validate_graphql_response(
        REVERT,
        {"input": {"pullRequestId": "PR_kwDO"}},
        {
            "data": {
                "revertPullRequest": {
                    "revertPullRequest": {"number": 8, "url": "https://github.com/acme/shop/pull/8"}
                }
            }
        },
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda pr: pr.update(number="7"), "data.repository.pullRequest.number"),
        (lambda pr: pr.update(number=None), "data.repository.pullRequest.number"),
        (lambda pr: pr.update(mergeable="YES"), "data.repository.pullRequest.mergeable"),
        (lambda pr: pr.pop("title"), "data.repository.pullRequest.title"),
        (lambda pr: pr.update(merged=True), "data.repository.pullRequest.merged"),
        (
            lambda pr: pr["author"].update(id="U_1", __typename="User"),
            "data.repository.pullRequest.author.id",
        ),
    ],
    ids=[
        "string-for-int",
        "null-for-non-null",
        "bad-enum",
        "missing-field",
        "unselected-field",
        "fragment-of-other-type",
    ],
)
def test_graphql_response_departures_are_named(contract: ContractValidator, change: Any, field: str) -> None:
    response = copy.deepcopy(RELEASE_PR_RESPONSE)
    change(response["data"]["repository"]["pullRequest"])
    with pytest.raises(ContractViolation) as caught:
        contract.validate_graphql_response(RELEASE_PR, RELEASE_PR_VARIABLES, response)
    assert (caught.value.operation, caught.value.field) == ("GraphQL ReleasePullRequest", field)


def test_graphql_exchange_goes_through_validate_exchange(contract: ContractValidator) -> None:
    request = json.dumps({"query": RELEASE_PR, "variables": RELEASE_PR_VARIABLES}).encode()
    assert (
        contract.validate_exchange(
            "POST", f"{BASE}/api/graphql", JSON, request, 200, JSON, json.dumps(RELEASE_PR_RESPONSE).encode()
        )
        == "POST /graphql"
    )
    broken = copy.deepcopy(RELEASE_PR_RESPONSE)
    broken["data"]["repository"]["pullRequest"]["headRefOid"] = None
    with pytest.raises(ContractViolation) as caught:
        contract.validate_exchange(
            "POST", f"{BASE}/graphql", JSON, request, 200, JSON, json.dumps(broken).encode()
        )
    assert caught.value.field == "data.repository.pullRequest.headRefOid"


def test_opsgh_graphql_documents_match_githubs_schema(contract: ContractValidator) -> None:
    """Each document as opsgh sends it (with the fragments it spreads), and every fragment used."""
    from opsgh.github.graphql import load_document

    documents = sorted(GRAPHQL_DIR.glob("*.graphql"))
    if not documents:
        pytest.skip(f"no .graphql documents under {GRAPHQL_DIR.relative_to(REPO_ROOT)} yet")
    failures, checked, sent = [], [], []
    for document in documents:
        text = load_document(document.stem)
        sent.append(text)
        try:
            contract.validate_graphql(text)
            checked.append(document)
        except ContractViolation as violation:
            failures.append(f"{document.relative_to(REPO_ROOT)}:\n{violation}")
    assert not failures, "\n".join(failures)
    assert checked == documents
    for fragment in sorted((GRAPHQL_DIR / "fragments").glob("*.graphql")):
        assert any(f"...{fragment.stem}" in text for text in sent), f"{fragment.name} is spread by no document"


def test_graphql_document_without_variables(contract: ContractValidator) -> None:
    # A document that declares no variables is checked like any other (it used to crash the harness).
    contract.validate_graphql("query { viewer { login } }", {})
    with pytest.raises(ContractViolation):
        contract.validate_graphql("query { viewer { loginn } }", {})
