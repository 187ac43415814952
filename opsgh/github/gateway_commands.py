"""`CommandPort` for `GitHubGateway`: what answering a slash command needs besides the ship and verdict
ports: the commenter's role on the repository and reactions on the comment."""

from __future__ import annotations

from urllib.parse import quote

from opsgh.github.transport import Transport

# The roles GitHub reports in `role_name`, weakest first; custom roles fall back on `permission`.
ROLES = ("read", "triage", "write", "maintain", "admin")


class CommandGatewayMixin:
    transport: Transport

    def collaborator_role(self, full_name: str, login: str) -> str:
        """The user's role on the repository: read, triage, write, maintain, admin, or none.

        GET /repos/{owner}/{repo}/collaborators/{username}/permission: `role_name` is the role (custom
        roles carry their own name: then the legacy `permission`, admin/write/read, is used).
        """
        data = self.transport.get_json(f"/repos/{full_name}/collaborators/{quote(login, safe='')}/permission")
        role = str(data.get("role_name") or "")
        if role in ROLES:
            return role
        legacy = str(data.get("permission") or "none")
        return legacy if legacy in ROLES else "none"

    def add_reaction(self, full_name: str, comment_id: int, content: str) -> None:
        """React to an issue comment (GitHub answers 200 for a reaction that exists: idempotent)."""
        self.transport.request("POST", f"/repos/{full_name}/issues/comments/{comment_id}/reactions",
                               json={"content": content})
