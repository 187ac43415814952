"""The GitHub calls of `opsgh ship` (`opsgh.ports.ShipPort`), mixed into `GitHubGateway`.

Raw REST calls and one GraphQL document (`ship_pull_request.graphql`) on the gateway's transport, so
the one retry policy and the ledger see them. Reads are retried by the transport; a write that failed
ambiguously raises `AmbiguousWrite` and the caller reads back first (`opsgh.github.idempotent`).
Every method returns the frozen values of `opsgh.ports`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import quote

from opsgh.errors import GitHubError, NotFound
from opsgh.github.graphql import GraphQLClient
from opsgh.github.transport import Transport
from opsgh.ports import (
    BranchChecks,
    CheckContextState,
    CheckRunRef,
    CommentRef,
    DeploymentRef,
    IssueRef,
    PullRef,
    PullShipState,
    ReleaseRef,
    TagRef,
)

# Check-run conclusions GitHub's protection counts as passing.
PASSING_CONCLUSIONS = frozenset({"SUCCESS", "NEUTRAL", "SKIPPED"})
# An annotated tag may point at another tag; GitHub allows chains, real ones are short.
MAX_TAG_CHAIN = 5
# The statusCheckRollup pages of one commit we follow (100 contexts each).
MAX_CONTEXT_PAGES = 20


def _q(segment: str) -> str:
    return quote(segment, safe="/")


def _login(actor: Any) -> str | None:
    return str(actor["login"]) if isinstance(actor, dict) and actor.get("login") else None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def check_context_state(node: dict[str, Any]) -> CheckContextState | None:
    """A statusCheckRollup context (CheckRun or StatusContext) as success/failure/pending."""
    required = bool(node.get("isRequired"))
    if node.get("__typename") == "CheckRun":
        status = str(node.get("status") or "QUEUED")
        conclusion = node.get("conclusion")
        run_id = int(node["databaseId"]) if node.get("databaseId") is not None else None
        if status != "COMPLETED":
            return CheckContextState(str(node.get("name")), "pending", status.lower(), required, run_id)
        outcome = "success" if conclusion in PASSING_CONCLUSIONS else "failure"
        return CheckContextState(str(node.get("name")), outcome, f"completed/{str(conclusion).lower()}", required,
                                 run_id, at=_text(node.get("completedAt")))
    if node.get("__typename") == "StatusContext":
        state = str(node.get("state") or "PENDING")
        outcome = {"SUCCESS": "success", "PENDING": "pending", "EXPECTED": "pending"}.get(state, "failure")
        return CheckContextState(str(node.get("context")), outcome, state.lower(), required,
                                 description=_text(node.get("description")), at=_text(node.get("createdAt")))
    return None


def _pull_ref(pull: dict[str, Any]) -> PullRef:
    """A `pull-request-simple` as the list endpoints return it."""
    return PullRef(
        number=int(pull["number"]), url=str(pull["html_url"]), title=str(pull["title"]), state=str(pull["state"]),
        head_ref=str(pull["head"]["ref"]), base_ref=str(pull["base"]["ref"]), head_sha=str(pull["head"]["sha"]),
        merged=pull.get("merged_at") is not None, merge_commit_sha=pull.get("merge_commit_sha"))


def pull_state_of(pull: dict[str, Any], checks: tuple[CheckContextState, ...]) -> PullShipState:
    """A GraphQL `PullRequest` (the fields of ship_pull_request.graphql) as a PullShipState."""
    merge_commit = pull.get("mergeCommit")
    return PullShipState(
        number=int(pull["number"]), url=str(pull["url"]), title=str(pull["title"]), body=str(pull.get("body") or ""),
        state=str(pull["state"]), is_draft=bool(pull.get("isDraft")), head_ref=str(pull["headRefName"]),
        base_ref=str(pull["baseRefName"]), head_sha=str(pull["headRefOid"]), base_sha=str(pull["baseRefOid"]),
        mergeable=str(pull.get("mergeable") or "UNKNOWN"),
        merge_state_status=str(pull.get("mergeStateStatus") or "UNKNOWN"),
        review_decision=pull.get("reviewDecision"), checks=checks, author=_login(pull.get("author")),
        merged_at=pull.get("mergedAt"), merged_by=_login(pull.get("mergedBy")),
        merge_commit_sha=str(merge_commit["oid"]) if isinstance(merge_commit, dict) else None,
        node_id=str(pull.get("id") or ""), created_at=pull.get("createdAt"),
        labels=tuple(str(n["name"]) for n in (pull.get("labels") or {}).get("nodes") or () if n),
        latest_reviews=tuple((_login(n.get("author")) or "ghost", str(n["state"]))
                             for n in (pull.get("latestReviews") or {}).get("nodes") or () if n),
        base_ruleset_contexts=_ruleset_contexts(pull.get("baseRef")),
    )


def _ruleset_contexts(base_ref: Any) -> tuple[str, ...] | None:
    """The required check names of the base branch's ruleset rules (`baseRef.rules`), None when unread."""
    if not isinstance(base_ref, dict) or not isinstance(base_ref.get("rules"), dict):
        return None
    contexts: list[str] = []
    for rule in base_ref["rules"].get("nodes") or ():
        if isinstance(rule, dict) and rule.get("type") == "REQUIRED_STATUS_CHECKS":
            parameters = rule.get("parameters") or {}
            contexts.extend(str(c["context"]) for c in parameters.get("requiredStatusChecks") or ())
    return tuple(dict.fromkeys(contexts))


class ShipGatewayMixin:
    """`ShipPort` for `GitHubGateway` (which provides `transport`)."""

    transport: Transport

    # ------------------------------------------------------------------ pull requests

    def list_pulls_between(self, full_name: str, head: str, base: str, state: str = "open",
                           limit: int = 30) -> list[PullRef]:
        """Pull requests head -> base, newest first, one page of at most `limit` (GitHub allows one open
        pull request per head and base, so the newest page is all a release train needs)."""
        owner = full_name.split("/", 1)[0]
        data = self.transport.get_json(f"/repos/{full_name}/pulls", {
            "state": state, "head": f"{owner}:{head}", "base": base, "sort": "created", "direction": "desc",
            "per_page": max(1, min(limit, 100))})
        return [_pull_ref(pull) for pull in data or ()]

    def pull_ship_state(self, full_name: str, number: int) -> PullShipState:
        """One GraphQL read (more only past 100 check contexts on the head)."""
        owner, name = full_name.split("/", 1)
        client = GraphQLClient(self.transport)
        variables: dict[str, Any] = {"owner": owner, "name": name, "number": number, "contextsAfter": None}
        checks: list[CheckContextState] = []
        pull: dict[str, Any] | None = None
        for _ in range(MAX_CONTEXT_PAGES):
            data = client.execute("ship_pull_request", variables)
            found = ((data.get("repository") or {}).get("pullRequest"))
            if not isinstance(found, dict):
                raise NotFound(f"GitHub: no pull request #{number} in {full_name}",
                               "check the number; it must be a pull request, not an issue")
            pull = pull or found
            page = self._rollup_contexts(found)
            checks.extend(c for c in map(check_context_state, page.get("nodes") or ()) if c is not None)
            info = page.get("pageInfo") or {}
            if not info.get("hasNextPage") or not info.get("endCursor"):
                break
            variables["contextsAfter"] = info["endCursor"]
        else:
            raise GitHubError(f"GitHub: more than {MAX_CONTEXT_PAGES * 100} checks on the head of #{number}",
                              "opsgh stops paging there; ask for fewer checks per commit")
        assert pull is not None
        return pull_state_of(pull, tuple(checks))

    @staticmethod
    def _rollup_contexts(pull: dict[str, Any]) -> dict[str, Any]:
        nodes = ((pull.get("commits") or {}).get("nodes")) or []
        commit = (nodes[-1] or {}).get("commit") if nodes else None
        rollup = (commit or {}).get("statusCheckRollup")
        contexts = (rollup or {}).get("contexts")
        return contexts if isinstance(contexts, dict) else {}

    def branch_checks(self, full_name: str, branch: str, *, rulesets: bool = True) -> BranchChecks:
        """GET the branch (its tip and classic protection's required checks, readable with read access)
        and, with `rulesets`, its rules (rulesets' required checks); a server without rules (old GHES)
        counts as none."""
        data = self.transport.get_json(f"/repos/{full_name}/branches/{_q(branch)}")
        contexts: list[str] = []
        protection = data.get("protection") or {}
        required = protection.get("required_status_checks") or {}
        if protection.get("enabled") and required.get("enforcement_level", "everyone") != "off":
            contexts.extend(str(c) for c in required.get("contexts") or ())
            contexts.extend(str(c["context"]) for c in required.get("checks") or () if isinstance(c, dict))
        if rulesets:
            contexts.extend(self._ruleset_contexts(full_name, branch))
        return BranchChecks(str(data["name"]), str(data["commit"]["sha"]), tuple(dict.fromkeys(contexts)))

    def _ruleset_contexts(self, full_name: str, branch: str) -> list[str]:
        contexts: list[str] = []
        try:
            for rule in self.transport.paginate(f"/repos/{full_name}/rules/branches/{_q(branch)}"):
                if rule.get("type") == "required_status_checks":
                    parameters = rule.get("parameters") or {}
                    contexts.extend(str(c["context"]) for c in parameters.get("required_status_checks") or ())
        except NotFound:
            pass
        return contexts

    def merge_pull(self, full_name: str, number: int, *, sha: str, merge_method: str,
                   commit_title: str | None = None, commit_message: str | None = None) -> str:
        """Merge at exactly `sha` (a push in between: 409 `Conflict`); returns the merge commit's sha."""
        body: dict[str, Any] = {"sha": sha, "merge_method": merge_method}
        if commit_title:
            body["commit_title"] = commit_title
        if commit_message:
            body["commit_message"] = commit_message
        data = self.transport.request("PUT", f"/repos/{full_name}/pulls/{number}/merge", json=body).json()
        return str(data["sha"])

    # ------------------------------------------------------------------ tags and releases

    def list_tags(self, full_name: str, prefix: str, *, peel: bool = True) -> list[TagRef]:
        """Tags whose name starts with `prefix` (every page), annotated ones peeled to their commit
        unless `peel` is False (then their sha is the tag object's: one request saved per tag)."""
        tags = []
        for ref in self.transport.paginate(f"/repos/{full_name}/git/matching-refs/{_q('tags/' + prefix)}"):
            name = str(ref["ref"]).removeprefix("refs/tags/")
            target = ref.get("object") or {}
            sha, kind = str(target.get("sha")), str(target.get("type"))
            tags.append(TagRef(name, self._peel(full_name, sha, kind) if peel else sha))
        return tags

    def _peel(self, full_name: str, sha: str, kind: str) -> str:
        for _ in range(MAX_TAG_CHAIN):
            if kind != "tag":
                return sha
            target = self.transport.get_json(f"/repos/{full_name}/git/tags/{sha}").get("object") or {}
            sha, kind = str(target.get("sha")), str(target.get("type"))
        return sha

    def create_tag(self, full_name: str, tag: str, sha: str) -> TagRef:
        """A lightweight tag (a ref): one request, nothing orphaned if the answer is lost."""
        data = self.transport.request("POST", f"/repos/{full_name}/git/refs",
                                      json={"ref": f"refs/tags/{tag}", "sha": sha}).json()
        return TagRef(str(data["ref"]).removeprefix("refs/tags/"), str(data["object"]["sha"]))

    def get_release_by_tag(self, full_name: str, tag: str) -> ReleaseRef | None:
        try:
            data = self.transport.get_json(f"/repos/{full_name}/releases/tags/{_q(tag)}")
        except NotFound:
            return None
        return _release(data)

    def create_release(self, full_name: str, *, tag: str, target_sha: str, name: str, body: str) -> ReleaseRef:
        data = self.transport.request("POST", f"/repos/{full_name}/releases", json={
            "tag_name": tag, "target_commitish": target_sha, "name": name, "body": body, "draft": False,
            "prerelease": False, "make_latest": "true"}).json()
        return _release(data)

    # ------------------------------------------------------------------ deployments

    def list_deployments(self, full_name: str, *, sha: str, environment: str) -> list[DeploymentRef]:
        return [_deployment(d) for d in self.transport.paginate(
            f"/repos/{full_name}/deployments", {"sha": sha, "environment": environment})]

    def create_deployment(self, full_name: str, *, sha: str, environment: str, description: str,
                          required_contexts: tuple[str, ...], payload: dict[str, Any],
                          production: bool = True) -> DeploymentRef:
        """`auto_merge: false` (never merge the default branch into what ships) and explicit
        `required_contexts` (the caller says which checks GitHub must see green on `sha`)."""
        data = self.transport.request("POST", f"/repos/{full_name}/deployments", json={
            "ref": sha, "task": "deploy", "environment": environment, "description": description[:140],
            "auto_merge": False, "required_contexts": list(required_contexts), "payload": payload,
            "transient_environment": False, "production_environment": production}).json()
        return _deployment(data)

    def list_deployment_states(self, full_name: str, deployment_id: int) -> list[str]:
        """The states of a deployment's statuses, newest first."""
        return [str(s["state"]) for s in self.transport.paginate(
            f"/repos/{full_name}/deployments/{deployment_id}/statuses")]

    def create_deployment_status(self, full_name: str, deployment_id: int, *, state: str, description: str,
                                 log_url: str | None = None, environment_url: str | None = None) -> None:
        body: dict[str, Any] = {"state": state, "description": description[:140]}
        if log_url:
            body["log_url"] = log_url
        if environment_url:
            body["environment_url"] = environment_url
        self.transport.request("POST", f"/repos/{full_name}/deployments/{deployment_id}/statuses", json=body)

    # ------------------------------------------------------------------ issues and comments

    def list_issue_comments_since(self, full_name: str, number: int, since: str | None) -> list[CommentRef]:
        """Comments on an issue or pull request updated at or after `since` (ISO 8601), oldest first."""
        params = {"since": since} if since else None
        return [_comment(c) for c in self.transport.paginate(f"/repos/{full_name}/issues/{number}/comments",
                                                             params)]

    def create_issue_comment(self, full_name: str, number: int, body: str) -> CommentRef:
        data = self.transport.request("POST", f"/repos/{full_name}/issues/{number}/comments",
                                      json={"body": body}).json()
        return _comment(data)

    def iter_issue_comments(self, full_name: str, number: int) -> Iterator[CommentRef]:
        """Comments oldest first, 100 a page, fetched lazily (stop iterating to stop paying)."""
        for item in self.transport.paginate(f"/repos/{full_name}/issues/{number}/comments"):
            yield _comment(item)

    def update_issue_comment(self, full_name: str, comment_id: int, body: str) -> CommentRef:
        data = self.transport.request("PATCH", f"/repos/{full_name}/issues/comments/{comment_id}",
                                      json={"body": body}).json()
        return _comment(data)

    # ------------------------------------------------------------------ check runs

    def find_check_run(self, full_name: str, sha: str, name: str) -> CheckRunRef | None:
        """The latest check run named `name` on `sha` (one request: GitHub filters by name)."""
        data = self.transport.get_json(f"/repos/{full_name}/commits/{_q(sha)}/check-runs",
                                       {"check_name": name, "filter": "latest", "per_page": 100})
        runs = [r for r in data.get("check_runs") or () if isinstance(r, dict) and r.get("name") == name]
        return _check_run(runs[0]) if runs else None

    def create_check_run(self, full_name: str, *, name: str, head_sha: str, status: str, conclusion: str | None,
                         title: str, summary: str, details_url: str | None = None) -> CheckRunRef:
        body: dict[str, Any] = {"name": name, "head_sha": head_sha, "status": status,
                                "output": {"title": title, "summary": summary}}
        if conclusion is not None:
            body["conclusion"] = conclusion
        if details_url:
            body["details_url"] = details_url
        return _check_run(self.transport.request("POST", f"/repos/{full_name}/check-runs", json=body).json())

    def update_check_run(self, full_name: str, run_id: int, *, status: str, conclusion: str | None,
                         title: str, summary: str) -> CheckRunRef:
        body: dict[str, Any] = {"status": status, "output": {"title": title, "summary": summary}}
        if conclusion is not None:
            body["conclusion"] = conclusion
        return _check_run(self.transport.request("PATCH", f"/repos/{full_name}/check-runs/{run_id}",
                                                 json=body).json())

    def find_open_issue(self, full_name: str, title: str) -> IssueRef | None:
        """The oldest open issue (not pull request) titled exactly `title`; pages stop at the first hit."""
        wanted = title.strip()
        for issue in self._open_issues_oldest_first(full_name):
            if issue.get("pull_request") is None and str(issue.get("title", "")).strip() == wanted:
                return IssueRef(int(issue["number"]), str(issue["title"]), str(issue["html_url"]))
        return None

    def _open_issues_oldest_first(self, full_name: str) -> Iterator[dict[str, Any]]:
        yield from self.transport.paginate(f"/repos/{full_name}/issues",
                                           {"state": "open", "sort": "created", "direction": "asc"})

    def create_issue(self, full_name: str, title: str, body: str, *, labels: Sequence[str] = (),
                     assignees: Sequence[str] = ()) -> IssueRef:
        payload: dict[str, Any] = {"title": title, "body": body}
        if labels:
            payload["labels"] = list(labels)
        if assignees:
            payload["assignees"] = list(assignees)
        data = self.transport.request("POST", f"/repos/{full_name}/issues", json=payload).json()
        return IssueRef(int(data["number"]), str(data["title"]), str(data["html_url"]))


def _release(data: dict[str, Any]) -> ReleaseRef:
    return ReleaseRef(int(data["id"]), str(data["tag_name"]), data.get("name"), str(data["html_url"]),
                      bool(data.get("draft")))


def _deployment(data: dict[str, Any]) -> DeploymentRef:
    return DeploymentRef(int(data["id"]), str(data["sha"]), str(data["ref"]), str(data["environment"]),
                         str(data["url"]))


def _comment(data: dict[str, Any]) -> CommentRef:
    return CommentRef(int(data["id"]), str(data["html_url"]), str(data.get("body") or ""), _login(data.get("user")))


def _check_run(data: dict[str, Any]) -> CheckRunRef:
    output = data.get("output") or {}
    return CheckRunRef(int(data["id"]), str(data.get("html_url") or ""), str(data.get("status") or "queued"),
                       data.get("conclusion"), output.get("title"), output.get("summary"))
