"""The GitHub calls of `opsgh hotfix start` and `opsgh backport` (`opsgh.ports_hotfix.HotfixPort`),
mixed into `GitHubGateway`.

Raw REST calls on the gateway's transport (one retry policy, one ledger). Reads are retried; a write
that failed ambiguously raises `AmbiguousWrite` and the operation reads back before trying again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from opsgh.errors import NotFound
from opsgh.github.transport import Transport
from opsgh.ports_hotfix import BranchTip, IssueDetail, PullDetail


def _q(segment: str) -> str:
    return quote(segment, safe="/")


def _login(user: object) -> str | None:
    return str(user["login"]) if isinstance(user, dict) and user.get("login") else None


def pull_detail(data: dict[str, Any]) -> PullDetail:
    head, base = data.get("head") or {}, data.get("base") or {}
    return PullDetail(
        number=int(data["number"]), url=str(data.get("html_url") or ""), title=str(data.get("title") or ""),
        body=str(data.get("body") or ""), state=str(data.get("state") or "open"),
        merged=bool(data.get("merged")) or data.get("merged_at") is not None,
        merge_commit_sha=data.get("merge_commit_sha") if isinstance(data.get("merge_commit_sha"), str) else None,
        head_ref=str(head.get("ref") or ""), base_ref=str(base.get("ref") or ""), author=_login(data.get("user")),
        labels=tuple(str(label["name"]) for label in data.get("labels") or () if isinstance(label, dict)),
        draft=bool(data.get("draft")), commits=int(data.get("commits") or 0),
        requested_reviewers=tuple(login for login in map(_login, data.get("requested_reviewers") or ()) if login),
        requested_teams=tuple(str(team["slug"]) for team in data.get("requested_teams") or ()
                              if isinstance(team, dict) and team.get("slug")),
    )


class HotfixGatewayMixin:
    """Hotfix and back-port calls; `GitHubGateway` provides `transport`."""

    transport: Transport

    def branch_tip(self, full_name: str, branch: str) -> BranchTip | None:
        try:
            data = self.transport.get_json(f"/repos/{full_name}/branches/{_q(branch)}")
        except NotFound:
            return None
        commit = data.get("commit") or {}
        tree = ((commit.get("commit") or {}).get("tree") or {}).get("sha")
        return BranchTip(str(data["name"]), str(commit["sha"]), str(tree))

    def get_pull(self, full_name: str, number: int) -> PullDetail:
        try:
            return pull_detail(self.transport.get_json(f"/repos/{full_name}/pulls/{number}"))
        except NotFound as err:
            raise NotFound(f"GitHub: no pull request #{number} in {full_name}",
                           "check the number: it must be a pull request, not an issue", status=err.status,
                           method=err.method, path=err.path, request_id=err.request_id) from None

    def find_pull(self, full_name: str, head: str, base: str) -> PullDetail | None:
        """One request: the list item says enough (state, merge, labels, draft); its `commits` reads 0."""
        owner = full_name.split("/", 1)[0]
        found = self.transport.get_json(f"/repos/{full_name}/pulls", {
            "state": "all", "head": f"{owner}:{head}", "base": base, "sort": "created", "direction": "desc",
            "per_page": 1})
        return pull_detail(found[0]) if found else None

    def get_issue(self, full_name: str, number: int) -> IssueDetail:
        data = self.transport.get_json(f"/repos/{full_name}/issues/{number}")
        return IssueDetail(int(data["number"]), str(data.get("title") or ""), str(data.get("html_url") or ""),
                           str(data.get("state") or "open"), data.get("pull_request") is not None)

    def reviewers_of(self, full_name: str, number: int) -> tuple[str, ...]:
        logins: dict[str, None] = {}
        for review in self.transport.paginate(f"/repos/{full_name}/pulls/{number}/reviews"):
            login = _login(review.get("user"))
            if login and review.get("state") != "PENDING":
                logins.setdefault(login)
        return tuple(logins)

    def request_reviewers(self, full_name: str, number: int, users: Sequence[str], teams: Sequence[str]) -> None:
        body: dict[str, Any] = {"reviewers": list(users)}
        if teams:
            body["team_reviewers"] = list(teams)
        # Asking the same people again changes nothing: safe to retry.
        self.transport.request("POST", f"/repos/{full_name}/pulls/{number}/requested_reviewers", json=body,
                               idempotent=True)

    def remove_label(self, full_name: str, number: int, label: str) -> None:
        with contextlib.suppress(NotFound):  # not on it (any more): what we wanted
            self.transport.request("DELETE", f"/repos/{full_name}/issues/{number}/labels/{_q(label)}")

    def create_commit(self, full_name: str, *, tree: str, parents: Sequence[str], message: str) -> str:
        # A commit object is content-addressed and on no branch: creating it twice is harmless.
        data = self.transport.request("POST", f"/repos/{full_name}/git/commits",
                                      json={"tree": tree, "parents": list(parents), "message": message},
                                      idempotent=True).json()
        return str(data["sha"])

    def clone_url(self, full_name: str) -> str:
        """The repository's HTTPS clone URL (GitHub, GHES or a sandbox: from the API, never guessed)."""
        return str(self.transport.get_json(f"/repos/{full_name}")["clone_url"])

    def git_token(self) -> str | None:
        """The token git should send (an App's installation token is refreshed when it expires)."""
        return self.transport.current_token()
