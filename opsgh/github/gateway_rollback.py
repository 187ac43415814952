"""The GitHub calls of `opsgh rollback` and of the re-apply after it (`opsgh.ports.RollbackPort`), mixed
into `GitHubGateway`.

The revert is GraphQL's `revertPullRequest` (REST has none); the re-apply commit is made with the Git
database API. Everything goes through the gateway's transport (one retry policy, one ledger); a write
that failed ambiguously raises `AmbiguousWrite` and the caller reads back first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opsgh.errors import GitHubError
from opsgh.github.gateway_ship import pull_state_of
from opsgh.github.graphql import GraphQLClient
from opsgh.github.transport import Transport
from opsgh.ports import GitCommitRef, IssueText, PullShipState


class RollbackGatewayMixin:
    """`RollbackPort` for `GitHubGateway` (which provides `transport`; `ShipGatewayMixin` the rest)."""

    transport: Transport

    def revert_pull(self, full_name: str, node_id: str, *, title: str, body: str) -> PullShipState:
        data = GraphQLClient(self.transport).execute("revert_pull_request",
                                                     {"id": node_id, "title": title, "body": body})
        pull = (data.get("revertPullRequest") or {}).get("revertPullRequest")
        if not isinstance(pull, dict):
            raise GitHubError(f"GitHub GraphQL (RevertPullRequest): no new pull request in the answer for {full_name}",
                              "look for a pull request from a `revert-...` branch, then re-run: opsgh finds it")
        return pull_state_of(pull, ())

    def issues_since(self, full_name: str, since: str, labels: Sequence[str] = ()) -> list[IssueText]:
        params: dict[str, Any] = {"state": "all", "since": since, "sort": "created", "direction": "desc"}
        if labels:
            params["labels"] = ",".join(labels)
        return [IssueText(int(issue["number"]), str(issue["title"]), str(issue["html_url"]),
                          str(issue.get("body") or ""), str(issue["state"]))
                for issue in self.transport.paginate(f"/repos/{full_name}/issues", params)
                if issue.get("pull_request") is None]

    def get_git_commit(self, full_name: str, sha: str) -> GitCommitRef:
        return _git_commit(self.transport.get_json(f"/repos/{full_name}/git/commits/{sha}"))

    def create_git_commit(self, full_name: str, *, tree: str, parents: Sequence[str],
                          message: str) -> GitCommitRef:
        # No branch moves: a second commit after a lost answer is an unreferenced object, safe to retry.
        data = self.transport.request("POST", f"/repos/{full_name}/git/commits", idempotent=True,
                                      json={"tree": tree, "parents": list(parents), "message": message}).json()
        return _git_commit(data)


def _git_commit(data: dict[str, Any]) -> GitCommitRef:
    return GitCommitRef(str(data["sha"]), str(data["tree"]["sha"]),
                        tuple(str(parent["sha"]) for parent in data.get("parents") or ()), str(data["message"]))
