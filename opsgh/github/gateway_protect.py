"""The GitHub calls of `opsgh protect` (`opsgh.ports.ProtectPort`), mixed into `GitHubGateway`.

Raw REST on the gateway's transport (one retry policy, one ledger, the write pacer). Protection and
rulesets are returned as GitHub's JSON; `opsgh.ops.protect_model` reads them. The classic protection
PUT, the signature switch and the deletes are idempotent (sending them twice leaves the same state), so
the transport may retry them after a 5xx; creating a ruleset is not, and raises `AmbiguousWrite` for the
caller to read back first.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any
from urllib.parse import quote

from opsgh.errors import NotFound
from opsgh.github.transport import Transport
from opsgh.ports import ClassicProtectionRead, RepoInfo, RulesetRef

PERMISSION_KEYS = ("admin", "maintain", "push", "triage", "pull")


def _q(segment: str) -> str:
    return quote(segment, safe="/")


def repo_info(data: dict[str, Any]) -> RepoInfo:
    """`full-repository` or `minimal-repository` JSON as a RepoInfo."""
    perms = data.get("permissions")
    return RepoInfo(
        full_name=str(data["full_name"]),
        default_branch=str(data.get("default_branch") or "main"),
        private=bool(data.get("private")),
        archived=bool(data.get("archived")),
        fork=bool(data.get("fork")),
        permissions={k: bool(perms[k]) for k in PERMISSION_KEYS if k in perms} if isinstance(perms, dict) else None,
        allow_merge_commit=data.get("allow_merge_commit"),
        allow_squash_merge=data.get("allow_squash_merge"),
        allow_rebase_merge=data.get("allow_rebase_merge"),
        topics=tuple(str(t) for t in data.get("topics") or ()),
    )


class ProtectGatewayMixin:
    """`ProtectPort` for `GitHubGateway` (which provides `transport`)."""

    transport: Transport

    def list_org_repositories(self, org: str) -> list[RepoInfo]:
        return [repo_info(item) for item in self.transport.paginate(
            f"/orgs/{quote(org, safe='')}/repos", {"type": "all", "sort": "full_name", "per_page": 100})]

    # ------------------------------------------------------------------ classic protection

    def _protection(self, full_name: str, branch: str) -> str:
        return f"/repos/{full_name}/branches/{_q(branch)}/protection"

    def read_classic_protection(self, full_name: str, branch: str) -> ClassicProtectionRead:
        """GitHub answers 404 for an unprotected branch ("Branch not protected"), a missing branch ("Branch
        not found") and a caller without admin rights ("Not Found"): only the last is an error."""
        try:
            data = self.transport.get_json(self._protection(full_name, branch))
        except NotFound as err:
            message = err.message.lower()
            if "branch not protected" in message:
                return ClassicProtectionRead(True, None)
            if "branch not found" in message:
                return ClassicProtectionRead(False, None)
            raise
        return ClassicProtectionRead(True, data if isinstance(data, dict) else None)

    def put_classic_protection(self, full_name: str, branch: str, body: dict[str, Any]) -> dict[str, Any]:
        data = self.transport.request("PUT", self._protection(full_name, branch), json=body, idempotent=True).json()
        return data if isinstance(data, dict) else {}

    def set_required_signatures(self, full_name: str, branch: str, enabled: bool) -> None:
        self.transport.request("POST" if enabled else "DELETE",
                               f"{self._protection(full_name, branch)}/required_signatures", idempotent=True)

    def delete_classic_protection(self, full_name: str, branch: str) -> None:
        try:
            self.transport.request("DELETE", self._protection(full_name, branch), idempotent=True)
        except NotFound as err:
            if "branch not protected" not in err.message.lower():  # gone already: what was asked
                raise

    # ------------------------------------------------------------------ rulesets

    def list_rulesets(self, full_name: str) -> list[RulesetRef]:
        try:
            return [RulesetRef(int(item["id"]), str(item["name"]), str(item.get("target") or "branch"),
                               str(item.get("enforcement") or "active"))
                    for item in self.transport.paginate(f"/repos/{full_name}/rulesets", {"includes_parents": False})]
        except NotFound:
            # The repository was just read: a 404 here is a server without rulesets (GHES before 3.11).
            return []

    def get_ruleset(self, full_name: str, ruleset_id: int) -> dict[str, Any]:
        data = self.transport.get_json(f"/repos/{full_name}/rulesets/{ruleset_id}")
        return data if isinstance(data, dict) else {}

    def create_ruleset(self, full_name: str, body: dict[str, Any]) -> dict[str, Any]:
        data = self.transport.request("POST", f"/repos/{full_name}/rulesets", json=body).json()
        return data if isinstance(data, dict) else {}

    def update_ruleset(self, full_name: str, ruleset_id: int, body: dict[str, Any]) -> dict[str, Any]:
        data = self.transport.request("PUT", f"/repos/{full_name}/rulesets/{ruleset_id}", json=body,
                                      idempotent=True).json()
        return data if isinstance(data, dict) else {}

    def delete_ruleset(self, full_name: str, ruleset_id: int) -> None:
        with suppress(NotFound):  # gone already: what was asked (a re-sent DELETE after a lost answer)
            self.transport.request("DELETE", f"/repos/{full_name}/rulesets/{ruleset_id}", idempotent=True)

    # ------------------------------------------------------------------ what reports checks

    def reported_check_names(self, full_name: str, ref: str) -> frozenset[str]:
        try:
            runs = self.transport.get_json(f"/repos/{full_name}/commits/{_q(ref)}/check-runs", {"per_page": 100})
            combined = self.transport.get_json(f"/repos/{full_name}/commits/{_q(ref)}/status", {"per_page": 100})
        except NotFound:
            return frozenset()
        names = {str(run["name"]) for run in (runs or {}).get("check_runs") or () if isinstance(run, dict)}
        names |= {str(status["context"]) for status in (combined or {}).get("statuses") or ()
                  if isinstance(status, dict)}
        return frozenset(names)
