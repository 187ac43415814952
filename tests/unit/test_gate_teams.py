"""Team members for the approvals criterion: read through the gateway, a hidden team is None."""

from __future__ import annotations

import httpx

from opsgh.clock import FakeClock
from opsgh.github.gateway import GitHubGateway

TOKEN = "test-token-teams"


def answer(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/orgs/acme/teams/release-managers/members":
        if request.url.params.get("page") == "2":
            return httpx.Response(200, json=[{"login": "carol"}])
        return httpx.Response(200, json=[{"login": "anna"}, {"login": "Erin"}], headers={
            "link": '<https://api.github.com/orgs/acme/teams/release-managers/members?per_page=100&page=2>; '
                    'rel="next"'})
    return httpx.Response(404, json={"message": "Not Found"})


def test_team_members_every_page_and_none_when_not_visible() -> None:
    gateway = GitHubGateway.connect(token=TOKEN, clock=FakeClock(), jitter=None,
                                    http_transport=httpx.MockTransport(answer))
    try:
        assert gateway.team_members("acme", "release-managers") == ("anna", "Erin", "carol")
        assert gateway.team_members("acme", "secret") is None
    finally:
        gateway.close()
