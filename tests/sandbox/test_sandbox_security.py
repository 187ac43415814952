"""Dependabot and code scanning alert lists (filters, pagination, disabled features, access) and the
Actions settings (workflow permissions) in the sandbox."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx
import pytest
from sandbox.support import ContractRecorder, client

from opsgh.sandbox import Sandbox
from opsgh.sandbox.routes.actions_settings import set_actions_settings
from opsgh.sandbox.routes.security import add_code_scanning_alert, add_dependabot_alert, set_security_features

DEPENDABOT = "/repos/acme/shop/dependabot/alerts"
CODE_SCANNING = "/repos/acme/shop/code-scanning/alerts"
WORKFLOW = "/repos/acme/shop/actions/permissions/workflow"


@dataclass
class Shop:
    admin: str
    writer: str
    reader: str
    api: httpx.Client  # as the admin


@pytest.fixture
def shop(sandbox: Sandbox) -> Shop:
    admin = sandbox.add_user("alice")
    writer = sandbox.add_user("bob")
    reader = sandbox.add_user("carol")
    sandbox.create_repo("acme", "shop", private=True,
                        collaborators={"alice": "admin", "bob": "write", "carol": "read"})
    return Shop(admin, writer, reader, client(sandbox, admin))


def links(response: httpx.Response) -> dict[str, str]:
    return {rel: url for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', response.headers.get("link", ""))}


# ------------------------------------------------------------------------------------------- Dependabot


def test_dependabot_alerts_filter_like_github(sandbox: Sandbox, shop: Shop) -> None:
    seeded = [
        add_dependabot_alert(sandbox, "acme", "shop", severity="critical", package="lodash", created_at=100),
        add_dependabot_alert(sandbox, "acme", "shop", severity="high", package="django", ecosystem="pip",
                             manifest_path="requirements.txt", created_at=200),
        add_dependabot_alert(sandbox, "acme", "shop", severity="low", package="jest", scope="development",
                             created_at=300),
        add_dependabot_alert(sandbox, "acme", "shop", severity="high", package="axios", state="fixed", created_at=400),
    ]
    api = client(sandbox, shop.writer)  # write access reads alerts
    everything = api.get(DEPENDABOT).json()
    assert [a["number"] for a in everything] == seeded[::-1]  # newest first
    first = everything[-1]
    assert first["security_advisory"]["severity"] == "critical"
    assert first["dependency"]["package"] == {"ecosystem": "npm", "name": "lodash"}
    assert first["security_vulnerability"]["first_patched_version"] == {"identifier": "4.17.21"}
    assert first["html_url"] == f"{sandbox.url}/acme/shop/security/dependabot/{seeded[0]}"

    def numbers(**params: str) -> list[int]:
        return [a["number"] for a in api.get(DEPENDABOT, params=params).json()]

    assert numbers(state="open") == [seeded[2], seeded[1], seeded[0]]
    assert numbers(severity="high,critical") == [seeded[3], seeded[1], seeded[0]]
    assert numbers(state="open", severity="high,critical") == [seeded[1], seeded[0]]
    assert numbers(ecosystem="pip") == [seeded[1]]
    assert numbers(scope="development") == [seeded[2]]
    assert numbers(package="lodash,jest", direction="asc") == [seeded[0], seeded[2]]
    assert numbers(manifest="requirements.txt") == [seeded[1]]


def test_dependabot_alerts_paginate_by_cursor(sandbox: Sandbox, shop: Shop) -> None:
    for index in range(5):
        add_dependabot_alert(sandbox, "acme", "shop", package=f"pkg{index}", created_at=100 + index)
    repo_id = sandbox.repo("acme", "shop").id
    seen: list[int] = []
    response = shop.api.get(DEPENDABOT, params={"per_page": 2})
    assert "prev" not in links(response)
    pages = 0
    while True:
        pages += 1
        seen += [a["number"] for a in response.json()]
        following = links(response)
        if "next" not in following:
            break
        assert following["next"].startswith(f"{sandbox.url}/repositories/{repo_id}/dependabot/alerts?per_page=2&after=")
        response = shop.api.get(following["next"])
        assert "prev" in links(response)
    assert (pages, seen) == (3, [5, 4, 3, 2, 1])
    back = shop.api.get(links(response)["prev"])  # from the last page back to the middle one
    assert [a["number"] for a in back.json()] == [3, 2]
    refused = shop.api.get(DEPENDABOT, params={"page": 2})
    assert (refused.status_code, refused.json()["message"]) == (
        400, "Pagination using the `page` parameter is not supported.")


def test_dependabot_alerts_disabled_and_access(sandbox: Sandbox, shop: Shop) -> None:
    add_dependabot_alert(sandbox, "acme", "shop")
    reader = client(sandbox, shop.reader).get(DEPENDABOT)
    assert reader.status_code == 403  # read access does not show alerts
    stranger = client(sandbox, sandbox.add_user("dave")).get(DEPENDABOT)
    assert stranger.status_code == 404  # a private repository they cannot see
    no_scope = client(sandbox, sandbox.add_user("erin", scopes=())).get(DEPENDABOT)
    assert no_scope.status_code == 404
    plain_app = sandbox.add_app("ci-bot", "acme", permissions={"contents": "read", "metadata": "read"})
    refused = client(sandbox, sandbox.installation_token(plain_app)).get(DEPENDABOT)
    assert (refused.status_code, refused.headers["x-accepted-github-permissions"]) == (
        403, "vulnerability_alerts=read")
    alerts_app = sandbox.add_app("sec-bot", "acme", permissions={"vulnerability_alerts": "read", "metadata": "read"})
    assert len(client(sandbox, sandbox.installation_token(alerts_app)).get(DEPENDABOT).json()) == 1
    set_security_features(sandbox, "acme", "shop", dependabot_alerts=False)
    disabled = shop.api.get(DEPENDABOT)
    assert (disabled.status_code, disabled.json()["message"]) == (
        403, "Dependabot alerts are disabled for this repository.")


# ---------------------------------------------------------------------------------------- code scanning


def test_code_scanning_alerts_need_an_analysis_then_filter(sandbox: Sandbox, shop: Shop) -> None:
    missing = shop.api.get(CODE_SCANNING)
    assert (missing.status_code, missing.json()["message"]) == (404, "no analysis found")
    sandbox.create_branch("acme", "shop", "prod", "main")
    high = add_code_scanning_alert(sandbox, "acme", "shop", severity="high", rule_id="py/sql-injection")
    note = add_code_scanning_alert(sandbox, "acme", "shop", severity=None, rule_severity="note",
                                   rule_id="py/unused-import")
    other = add_code_scanning_alert(sandbox, "acme", "shop", severity="critical", tool="Semgrep")
    fixed = add_code_scanning_alert(sandbox, "acme", "shop", severity="medium", state="fixed")
    on_prod = add_code_scanning_alert(sandbox, "acme", "shop", severity="critical", ref="prod")
    api = client(sandbox, shop.writer)

    def numbers(**params: str) -> list[int]:
        response = api.get(CODE_SCANNING, params=params)
        assert response.status_code == 200
        return [a["number"] for a in response.json()]

    assert numbers() == [fixed, other, note, high]  # the default branch, newest first
    assert numbers(state="open") == [other, note, high]
    assert numbers(severity="critical,high") == [other, high]
    assert numbers(severity="note") == [note]
    assert numbers(tool_name="CodeQL", sort="number", direction="asc") == [high, note, fixed]
    assert numbers(ref="refs/heads/prod") == numbers(ref="prod") == [on_prod]
    alert = api.get(CODE_SCANNING, params={"severity": "high"}).json()[0]
    assert alert["rule"]["security_severity_level"] == "high"
    assert alert["most_recent_instance"]["ref"] == "refs/heads/main"
    assert alert["most_recent_instance"]["commit_sha"] == sandbox.app.git_repo(sandbox.repo("acme", "shop")).ref(
        "refs/heads/main")
    paged = api.get(CODE_SCANNING, params={"per_page": 3})
    assert len(paged.json()) == 3
    assert set(links(paged)) == {"next", "last"}
    assert client(sandbox, shop.reader).get(CODE_SCANNING).status_code == 403


# -------------------------------------------------------------------------------------- Actions settings


def test_workflow_permissions_round_trip_admin_only(sandbox: Sandbox, shop: Shop,
                                                    sandbox_contract: ContractRecorder) -> None:
    assert shop.api.get(WORKFLOW).json() == {"default_workflow_permissions": "read",
                                             "can_approve_pull_request_reviews": False}
    changed = shop.api.put(WORKFLOW, json={"default_workflow_permissions": "write",
                                           "can_approve_pull_request_reviews": True})
    assert changed.status_code == 204
    assert shop.api.get(WORKFLOW).json() == {"default_workflow_permissions": "write",
                                             "can_approve_pull_request_reviews": True}
    assert shop.api.put(WORKFLOW, json={"can_approve_pull_request_reviews": False}).status_code == 204
    assert shop.api.get(WORKFLOW).json()["default_workflow_permissions"] == "write"  # untouched
    writer = client(sandbox, shop.writer)
    assert writer.get(WORKFLOW).status_code == 404
    assert writer.put(WORKFLOW, json={"default_workflow_permissions": "read"}).status_code == 404
    operation = "PUT /repos/{owner}/{repo}/actions/permissions/workflow"
    sandbox_contract.expect("request body", operation=operation)
    sandbox_contract.expect("status", operation=operation)  # GitHub's 422 is not in the description
    bad = shop.api.put(WORKFLOW, json={"default_workflow_permissions": "admin"})
    assert bad.status_code == 422
    assert bad.json()["message"] == 'Invalid request.\n\nadmin is not a member of ["read", "write"].'
    set_actions_settings(sandbox, "acme", "shop", allowed_actions="selected")
    assert shop.api.get("/repos/acme/shop/actions/permissions").json() == {
        "enabled": True, "allowed_actions": "selected",
        "selected_actions_url": f"{sandbox.url}/repos/acme/shop/actions/permissions/selected-actions"}
