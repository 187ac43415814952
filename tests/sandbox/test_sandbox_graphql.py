"""The sandbox's GraphQL endpoint: a subset of GitHub's schema, executed for real.

Every document sent here is first validated against GitHub's official schema (`run`), and the sandbox
fixture checks every response against it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from contract.harness import get_contract_validator
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLUnionType,
    build_schema,
)
from sandbox.support import ContractRecorder, client

from opsgh.clock import FakeClock
from opsgh.github.gateway import GitHubGateway
from opsgh.sandbox import Sandbox
from opsgh.sandbox.gitstore import GitRepo
from opsgh.sandbox.graphql.schema import SDL
from opsgh.sandbox.routes.actions_settings import set_actions_settings

STATE = """
query State($owner: String!, $name: String!, $number: Int!) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      number title state isDraft merged mergeable mergeStateStatus reviewDecision
      headRefName headRefOid baseRefName baseRefOid url id
      author { login __typename }
      labels(first: 10) { nodes { name } }
      reviews(last: 10, states: [APPROVED, CHANGES_REQUESTED]) {
        nodes { state author { login } submittedAt commit { oid } }
      }
      commits(last: 1) {
        nodes {
          commit {
            oid
            statusCheckRollup {
              state
              contexts(first: 20) {
                nodes {
                  ... on CheckRun { name status conclusion }
                  ... on StatusContext { context state }
                }
              }
            }
          }
        }
      }
      mergeCommit { oid }
      mergedAt
    }
  }
}
"""

REVERT = """
mutation Revert($id: ID!, $title: String, $draft: Boolean) {
  revertPullRequest(input: {pullRequestId: $id, title: $title, draft: $draft}) {
    revertPullRequest { number url id headRefName isDraft title baseRefName }
    pullRequest { number }
  }
}
"""

VARIABLES = {"owner": "acme", "name": "shop", "number": 1}


@dataclass
class Shop:
    sandbox: Sandbox
    admin: httpx.Client  # alice
    writer: httpx.Client  # bob, opens pull requests
    reader: httpx.Client  # carol
    git: GitRepo

    def tip(self, branch: str) -> str:
        sha = self.git.ref(f"refs/heads/{branch}")
        assert sha is not None
        return sha

    def open(self, head: str = "feature", base: str = "main") -> dict[str, Any]:
        response = self.writer.post("/repos/acme/shop/pulls", json={"title": f"Merge {head}", "head": head,
                                                                    "base": base})
        assert response.status_code == 201, response.text
        data: dict[str, Any] = response.json()
        return data


@pytest.fixture
def shop(sandbox: Sandbox) -> Shop:
    tokens = [sandbox.add_user(login, email=f"{login}@example.invalid") for login in ("alice", "bob", "carol")]
    sandbox.create_repo("acme", "shop", collaborators={"alice": "admin", "bob": "write", "carol": "read"})
    sandbox.commit("acme", "shop", "main", {"app.py": "a = 1\nb = 2\n"}, "Base", author="alice")
    sandbox.commit("acme", "shop", "feature", {"app.py": "a = 1\nb = 20\n", "new.py": "n = 1\n"}, "Feature",
                   author="bob")
    admin, writer, reader = (client(sandbox, token) for token in tokens)
    return Shop(sandbox, admin, writer, reader, sandbox.app.git_repo(sandbox.repo("acme", "shop")))


def run(api: httpx.Client, document: str, variables: dict[str, Any], *, path: str = "/graphql") -> dict[str, Any]:
    """Check the document against GitHub's schema, send it, and return the JSON answer (HTTP 200)."""
    get_contract_validator().validate_graphql(document, variables)
    response = api.post(path, json={"query": document, "variables": variables})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def pull(api: httpx.Client, number: int = 1) -> dict[str, Any]:
    answer = run(api, STATE, {**VARIABLES, "number": number})
    assert "errors" not in answer, answer
    data: dict[str, Any] = answer["data"]["repository"]["pullRequest"]
    return data


# ---------------------------------------------------------------------------------------------------
# The schema


def test_schema_is_a_subset_of_githubs() -> None:
    """Same names and types as GitHub's schema: what validates here validates on GitHub."""
    ours, theirs = build_schema(SDL), get_contract_validator().graphql_schema
    assert ours.query_type is not None
    assert ours.mutation_type is not None
    assert (ours.query_type.name, ours.mutation_type.name) == ("Query", "Mutation")
    for name, kind in ours.type_map.items():
        if name.startswith("__"):
            continue
        official = theirs.get_type(name)
        assert official is not None, f"{name} is not in GitHub's schema"
        assert type(kind) is type(official), name
        if isinstance(kind, GraphQLEnumType):
            assert set(kind.values) == set(official.values), name  # type: ignore[union-attr]
        if isinstance(kind, GraphQLUnionType):
            assert {t.name for t in kind.types} <= {t.name for t in official.types}, name  # type: ignore[union-attr]
        if isinstance(kind, GraphQLObjectType | GraphQLInterfaceType):
            assert {i.name for i in kind.interfaces} <= {i.name for i in official.interfaces}, name  # type: ignore[union-attr]
        if not isinstance(kind, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            continue
        for field_name, ours_field in kind.fields.items():
            official_field = official.fields.get(field_name)  # type: ignore[union-attr]
            where = f"{name}.{field_name}"
            assert official_field is not None, f"{where} is not in GitHub's schema"
            assert str(ours_field.type) == str(official_field.type), where
            if isinstance(kind, GraphQLInputObjectType):
                continue
            for argument, value in ours_field.args.items():
                assert argument in official_field.args, f"{where}({argument})"
                assert str(value.type) == str(official_field.args[argument].type), f"{where}({argument})"
            required = {a for a, v in official_field.args.items()
                        if isinstance(v.type, GraphQLNonNull) and v.default_value is None}
            assert required <= set(ours_field.args), f"{where} lacks a required argument"


# ---------------------------------------------------------------------------------------------------
# Pull request state


def test_opsgh_pull_request_state_document(sandbox: Sandbox, shop: Shop) -> None:
    """opsgh's own document (opsgh/github/graphql/ship_pull_request.graphql) through its gateway."""
    shop.open()
    gateway = GitHubGateway.connect(api_url=sandbox.url, token=str(shop.admin.headers["authorization"])[7:],
                                    clock=FakeClock(), jitter=None)
    try:
        def state() -> dict[str, Any]:
            data = gateway.graphql("ship_pull_request", VARIABLES)
            result: dict[str, Any] = data["repository"]["pullRequest"]
            return result

        first = state()  # the REST answer to the creation started the mergeability job
        assert (first["number"], first["state"], first["mergeable"], first["mergeStateStatus"]) == (
            1, "OPEN", "MERGEABLE", "CLEAN")
        assert first["headRefOid"] == shop.tip("feature")
        assert first["commits"]["nodes"] == [{"commit": {"oid": shop.tip("feature"), "statusCheckRollup": None}}]
        assert (first["labels"]["nodes"], first["latestReviews"]["nodes"]) == ([], [])
        pushed = sandbox.commit("acme", "shop", "feature", {"more.py": "m = 1\n"}, "More", author="bob")
        after_push = state()
        assert (after_push["headRefOid"], after_push["mergeable"], after_push["mergeStateStatus"]) == (
            pushed, "UNKNOWN", "UNKNOWN")  # computed asynchronously: poll, never read it as CONFLICTING
        assert state()["mergeable"] == "MERGEABLE"
        assert shop.writer.post(f"/repos/acme/shop/statuses/{pushed}",
                                json={"state": "pending", "context": "ci"}).status_code == 201
        assert shop.writer.post("/repos/acme/shop/issues/1/labels", json={"labels": ["release"]}).status_code == 200
        labelled = state()
        assert labelled["labels"]["nodes"] == [{"name": "release"}]
        rollup = labelled["commits"]["nodes"][0]["commit"]["statusCheckRollup"]
        assert rollup["state"] == "PENDING"
        [status] = rollup["contexts"]["nodes"]
        assert status.pop("createdAt").endswith("Z")
        assert status == {"__typename": "StatusContext", "context": "ci", "state": "PENDING", "description": None,
                          "isRequired": False}
        assert labelled["mergeStateStatus"] == "UNSTABLE"  # a non-required check is not passing
    finally:
        gateway.close()


def test_checks_reviews_and_merge_in_one_document(sandbox: Sandbox, shop: Shop) -> None:
    sandbox.protect("acme", "shop", "main", required_pull_request_reviews={"required_approving_review_count": 1},
                    required_status_checks={"strict": False, "contexts": ["build"]})
    shop.open()
    first = pull(shop.writer)
    assert (first["mergeable"], first["mergeStateStatus"], first["reviewDecision"]) == (
        "MERGEABLE", "BLOCKED", "REVIEW_REQUIRED")
    assert (first["author"], first["isDraft"], first["merged"], first["mergeCommit"], first["mergedAt"]) == (
        {"login": "bob", "__typename": "User"}, False, False, None, None)
    assert first["url"] == f"{sandbox.url}/acme/shop/pull/1"
    head = shop.tip("feature")
    ci = client(sandbox, sandbox.add_user("ci", kind="actions", repositories=("acme/shop",)))
    assert ci.post("/repos/acme/shop/check-runs", json={"name": "build", "head_sha": head, "status": "completed",
                                                        "conclusion": "failure"}).status_code == 201
    shop.writer.post(f"/repos/acme/shop/statuses/{head}", json={"state": "success", "context": "deploy/preview"})
    failing = pull(shop.writer)["commits"]["nodes"][0]["commit"]["statusCheckRollup"]
    assert failing == {"state": "FAILURE", "contexts": {"nodes": [
        {"name": "build", "status": "COMPLETED", "conclusion": "FAILURE"},
        {"context": "deploy/preview", "state": "SUCCESS"}]}}
    ci.post("/repos/acme/shop/check-runs", json={"name": "build", "head_sha": head, "status": "completed",
                                                 "conclusion": "success"})
    shop.admin.post("/repos/acme/shop/pulls/1/reviews", json={"event": "REQUEST_CHANGES", "body": "not yet"})
    assert pull(shop.writer)["reviewDecision"] == "CHANGES_REQUESTED"
    shop.admin.post("/repos/acme/shop/pulls/1/reviews", json={"event": "APPROVE"})
    approved = pull(shop.writer)
    assert (approved["reviewDecision"], approved["mergeStateStatus"]) == ("APPROVED", "CLEAN")
    assert [(r["state"], r["author"]["login"], r["commit"]["oid"]) for r in approved["reviews"]["nodes"]] == [
        ("CHANGES_REQUESTED", "alice", head), ("APPROVED", "alice", head)]
    assert approved["commits"]["nodes"][0]["commit"]["statusCheckRollup"]["state"] == "SUCCESS"
    merged = shop.writer.put("/repos/acme/shop/pulls/1/merge", json={"sha": head}).json()
    done = pull(shop.writer)
    assert (done["state"], done["merged"], done["mergeCommit"], done["mergeable"]) == (
        "MERGED", True, {"oid": merged["sha"]}, "UNKNOWN")
    assert done["mergedAt"] is not None


def test_review_decision_is_null_without_required_reviews(shop: Shop) -> None:
    shop.open()
    shop.admin.post("/repos/acme/shop/pulls/1/reviews", json={"event": "APPROVE"})
    state = pull(shop.reader)
    assert state["reviewDecision"] is None  # GitHub: only protection's required reviews make a decision
    assert [r["state"] for r in state["reviews"]["nodes"]] == ["APPROVED"]


def test_bots_are_named_without_their_suffix(sandbox: Sandbox, shop: Shop) -> None:
    bot = client(sandbox, sandbox.add_user("ci", kind="actions", repositories=("acme/shop",)))
    set_actions_settings(sandbox, "acme", "shop", can_approve_pull_request_reviews=True)
    created = bot.post("/repos/acme/shop/pulls", json={"title": "Bot", "head": "feature", "base": "main"})
    assert created.json()["user"]["login"] == "github-actions[bot]"  # REST
    assert pull(shop.reader)["author"] == {"login": "github-actions", "__typename": "Bot"}  # GraphQL


# ---------------------------------------------------------------------------------------------------
# revertPullRequest


@pytest.mark.parametrize("method", ["merge", "squash", "rebase"])
def test_revert_pull_request_undoes_the_merge(shop: Shop, method: str) -> None:
    sandbox = shop.sandbox
    original = shop.open()
    before = shop.tip("main")
    shop.writer.put("/repos/acme/shop/pulls/1/merge", json={"merge_method": method})
    sandbox.commit("acme", "shop", "main", {"later.txt": "later\n"}, "Later work", author="alice")
    answer = run(shop.writer, REVERT, {"id": original["node_id"], "title": None, "draft": True})
    assert "errors" not in answer, answer
    payload = answer["data"]["revertPullRequest"]
    revert = payload["revertPullRequest"]  # the NEW pull request
    assert payload["pullRequest"] == {"number": 1}  # the original one
    assert (revert["number"], revert["headRefName"], revert["baseRefName"], revert["isDraft"], revert["title"]) == (
        2, "revert-1-feature", "main", True, 'Revert "Merge feature"')
    assert revert["url"] == f"{sandbox.url}/acme/shop/pull/2"
    rest = shop.writer.get("/repos/acme/shop/pulls/2").json()
    assert (rest["node_id"], rest["body"], rest["user"]["login"]) == (revert["id"], "Reverts acme/shop#1", "bob")
    # the revert branch undoes exactly what the merge brought, keeping what came after it
    tree = {e.path: e.sha for e in shop.git.list_tree(shop.tip("revert-1-feature"), recursive=True)}
    expected = {e.path: e.sha for e in shop.git.list_tree(before, recursive=True)}
    expected["later.txt"] = shop.git.entry("main", "later.txt").sha  # type: ignore[union-attr]
    assert tree == expected
    files = {f["filename"]: f["status"] for f in shop.writer.get("/repos/acme/shop/pulls/2/files").json()}
    assert files == {"app.py": "modified", "new.py": "removed"}
    resolved = run(shop.reader, "query Node($id: ID!) { node(id: $id) { ... on PullRequest { number } } }",
                   {"id": revert["id"]})
    assert resolved == {"data": {"node": {"number": 2}}}


def test_revert_refusals(shop: Shop) -> None:
    original = shop.open()
    unmerged = run(shop.writer, REVERT, {"id": original["node_id"]})
    assert unmerged["data"] == {"revertPullRequest": None}
    assert unmerged["errors"][0]["type"] == "UNPROCESSABLE"
    shop.writer.put("/repos/acme/shop/pulls/1/merge")
    forbidden = run(shop.reader, REVERT, {"id": original["node_id"]})
    assert forbidden["errors"][0]["type"] == "FORBIDDEN"
    assert forbidden["errors"][0]["message"] == "carol does not have the correct permissions to execute " \
                                                "`RevertPullRequest`"
    unknown = run(shop.writer, REVERT, {"id": "MDExOlB1bGxSZXF1ZXN0OTk5"})
    assert unknown["errors"][0]["type"] == "NOT_FOUND"
    assert shop.git.ref("refs/heads/revert-1-feature") is None  # nothing was created


# ---------------------------------------------------------------------------------------------------
# Errors


def test_not_found_like_github(shop: Shop) -> None:
    missing = run(shop.reader, STATE, {**VARIABLES, "number": 99})
    assert missing == {"data": {"repository": {"pullRequest": None}}, "errors": [
        {"type": "NOT_FOUND", "path": ["repository", "pullRequest"], "locations": [{"line": 4, "column": 5}],
         "message": "Could not resolve to a PullRequest with the number of 99."}]}
    nowhere = run(shop.reader, STATE, {**VARIABLES, "name": "nope"})
    assert nowhere["data"] == {"repository": None}
    assert nowhere["errors"][0]["message"] == "Could not resolve to a Repository with the name 'acme/nope'."
    shop.sandbox.create_repo("acme", "secret", private=True, collaborators={"alice": "admin"})
    hidden = run(shop.reader, STATE, {**VARIABLES, "name": "secret"})
    assert hidden["errors"][0]["type"] == "NOT_FOUND"  # a private repository the caller cannot see


def test_connections_need_bounds(shop: Shop) -> None:
    shop.open()
    document = "query L($number: Int!) { repository(owner: \"acme\", name: \"shop\") { " \
               "pullRequest(number: $number) { labels { totalCount } commits(first: 101) { totalCount } } } }"
    answer = run(shop.reader, document, {"number": 1})
    assert [(e["type"], e["message"]) for e in answer["errors"]] == [
        ("MISSING_PAGINATION_BOUNDARIES",
         "You must provide a `first` or `last` value to properly paginate the `labels` connection."),
        ("EXCESSIVE_PAGINATION",
         "Requesting 101 records on the `commits` connection exceeds the `first` limit of 100 records.")]


def test_invalid_documents_are_answered_with_errors(shop: Shop, sandbox_contract: ContractRecorder) -> None:
    sandbox_contract.expect("line 1 column", operation="GraphQL Broken")  # invalid on purpose
    sandbox_contract.expect("syntax")
    response = shop.reader.post("/graphql", json={"query": "query Broken($n: Int!) { repository(owner: \"a\", "
                                                           "name: \"b\") { pullRequest(number: $n) { nope } } }",
                                                  "variables": {"n": 1}})
    assert response.status_code == 200
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["message"] == "Field 'nope' doesn't exist on type 'PullRequest'"  # GitHub's words
    assert body["errors"][0]["extensions"] == {"code": "undefinedField", "typeName": "PullRequest",
                                               "fieldName": "nope"}
    assert body["errors"][0]["locations"] == [{"line": 1, "column": 88}]
    garbled = shop.reader.post("/graphql", json={"query": "query {", "variables": {}})
    assert garbled.status_code == 200
    assert "Syntax Error" in garbled.json()["errors"][0]["message"]


def test_authentication_and_the_enterprise_path(sandbox: Sandbox, shop: Shop,
                                                sandbox_contract: ContractRecorder) -> None:
    sandbox_contract.expect("request body", operation="POST /graphql")  # a request without a query, on purpose
    document = "query Who($owner: String!, $name: String!) { viewer { login } " \
               "repository(owner: $owner, name: $name) { nameWithOwner } }"
    anonymous = client(sandbox).post("/graphql", json={"query": document, "variables": {"owner": "acme",
                                                                                         "name": "shop"}})
    assert anonymous.status_code == 401
    assert anonymous.json()["message"] == "This endpoint requires you to be authenticated."
    answer = run(shop.reader, document, {"owner": "acme", "name": "shop"}, path="/api/graphql")
    assert answer == {"data": {"viewer": {"login": "carol"}, "repository": {"nameWithOwner": "acme/shop"}}}
    assert shop.reader.post("/graphql", json={"variables": {}}).json() == {
        "errors": [{"message": "A query attribute must be specified and must be a string."}]}


# ---------------------------------------------------------------------------------------------------
# markPullRequestReadyForReview

READY = """
mutation Ready($id: ID!) {
  markPullRequestReadyForReview(input: {pullRequestId: $id}) {
    pullRequest { number isDraft }
  }
}
"""


def test_a_draft_is_marked_ready_for_review(shop: Shop) -> None:
    response = shop.writer.post("/repos/acme/shop/pulls", json={"title": "WIP", "head": "feature", "base": "main",
                                                                "draft": True})
    draft = response.json()
    assert draft["draft"] is True
    assert shop.writer.put("/repos/acme/shop/pulls/1/merge").status_code == 405  # a draft does not merge
    forbidden = run(shop.reader, READY, {"id": draft["node_id"]})
    assert forbidden["errors"][0]["type"] == "FORBIDDEN"
    assert shop.admin.get("/repos/acme/shop/pulls/1").json()["draft"] is True

    answer = run(shop.writer, READY, {"id": draft["node_id"]})  # bob, the author
    assert answer == {"data": {"markPullRequestReadyForReview": {"pullRequest": {"number": 1, "isDraft": False}}}}
    assert shop.admin.get("/repos/acme/shop/pulls/1").json()["draft"] is False
    again = run(shop.admin, READY, {"id": draft["node_id"]})  # not a draft any more: nothing changes
    assert again["data"]["markPullRequestReadyForReview"]["pullRequest"]["isDraft"] is False
    assert shop.writer.put("/repos/acme/shop/pulls/1/merge").status_code == 200
    closed = run(shop.admin, READY, {"id": draft["node_id"]})
    assert closed["errors"][0]["type"] == "UNPROCESSABLE"


BASE_RULES = """
query BaseRules($owner: String!, $name: String!, $number: Int!) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      baseRef {
        name
        rules(first: 100) {
          totalCount
          nodes {
            type
            parameters {
              __typename
              ... on RequiredStatusChecksParameters {
                strictRequiredStatusChecksPolicy
                requiredStatusChecks { context integrationId }
              }
            }
          }
        }
      }
    }
  }
}
"""


def test_the_base_refs_ruleset_rules_as_the_rules_api_lists_them(sandbox: Sandbox, shop: Shop) -> None:
    from opsgh.sandbox.routes.rulesets import add_ruleset

    shop.open()
    empty = run(shop.reader, BASE_RULES, VARIABLES)["data"]["repository"]["pullRequest"]["baseRef"]
    assert empty == {"name": "main", "rules": {"totalCount": 0, "nodes": []}}
    add_ruleset(sandbox, "acme", "shop", {
        "name": "main checks", "target": "branch", "enforcement": "active",
        "conditions": {"ref_name": {"include": ["~DEFAULT_BRANCH"], "exclude": []}},
        "rules": [{"type": "deletion"},
                  {"type": "required_status_checks", "parameters": {
                      "strict_required_status_checks_policy": True,
                      "required_status_checks": [{"context": "ci", "integration_id": 15368}, {"context": "lint"}]}}]})
    add_ruleset(sandbox, "acme", "shop", {
        "name": "only evaluated", "target": "branch", "enforcement": "evaluate",
        "conditions": {"ref_name": {"include": ["~ALL"], "exclude": []}},
        "rules": [{"type": "required_status_checks", "parameters": {
            "strict_required_status_checks_policy": False, "required_status_checks": [{"context": "e2e"}]}}]})
    rules = run(shop.reader, BASE_RULES, VARIABLES)["data"]["repository"]["pullRequest"]["baseRef"]["rules"]
    assert rules == {"totalCount": 2, "nodes": [
        {"type": "DELETION", "parameters": None},
        {"type": "REQUIRED_STATUS_CHECKS", "parameters": {
            "__typename": "RequiredStatusChecksParameters", "strictRequiredStatusChecksPolicy": True,
            "requiredStatusChecks": [{"context": "ci", "integrationId": 15368},
                                     {"context": "lint", "integrationId": None}]}}]}
    rest = shop.reader.get("/repos/acme/shop/rules/branches/main").json()
    assert [r["type"] for r in rest] == ["deletion", "required_status_checks"]  # the same rules, both ways
