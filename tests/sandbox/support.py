"""Helpers for tests that run against the sandbox: the contract recorder and an HTTP client.

ContractRecorder: each REST request the sandbox accepts and each response it returns goes through the
contract validator (tests/contract/harness.py). A violation fails the test at teardown (the `sandbox`
fixture calls `check()`), naming the operation and the field. A test that provokes one on purpose says
so with `sandbox_contract.expect(...)`; an expected violation that does not happen fails too.

Where GitHub's description itself is wrong, TOLERATED below names the (operation, field) and why; the
sandbox answers what GitHub answers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx
from contract.harness import ContractValidator, Violation

from opsgh.sandbox import Sandbox

RAW_MEDIA_TYPES = ("application/vnd.github.raw", "application/vnd.github.v3.raw")
# (operation, regex on the violation's field) -> why the sandbox, like GitHub, does not do what the
# description says. Keep this short: every entry is a place where the description is wrong, not the sandbox.
TOLERATED: dict[tuple[str, str], str] = {
    ("GET /repos/{owner}/{repo}/contents/{path}", r"response content-type"):
        "raw media types are documented in prose only; the description lists JSON content alone (accepted only "
        "when the client asked for a raw type and got it back)",
    ("GET /app/installations", r"response body \$\[\d+\]\.account\.(name|slug|created_at|updated_at)"):
        "the description's inline installation item joins simple-user and enterprise with allOf (the named "
        "`installation` schema uses anyOf), demanding enterprise fields of every user or organization account",
    ("PUT /repos/{owner}/{repo}/branches/{branch}/protection", r"request body \$\.required_status_checks\.contexts"):
        "`checks` alone is what GitHub takes to pin a check's App (contexts is deprecated, and GitHub refuses both "
        "together, see go-github#2976); the description still requires `contexts` (shapes.LENIENT agrees)",
    ("GET /repos/{owner}/{repo}/pulls", r"response body \$\[\d+\]\.labels\[\d+\]\.description"):
        "a label without a description is `\"description\": null` on GitHub (see the real recording "
        "tests/replay/cassettes/add-labels-to-issue.yaml); the pull list's inline label schema says string",
    ("GET /repos/{owner}/{repo}/compare/{basehead}", r"response body \$\.commits\[\d+\]\.(author|committer)"):
        "a commit whose email maps to no account (e.g. a bot's back-port) has `\"committer\": null` on GitHub; the "
        "description means it (`nullable: true`) but puts it next to a `oneOf` without a `type`, which OpenAPI "
        "3.0.3 says to ignore",
}


@dataclass
class Expected:
    field_contains: str
    operation: str | None
    seen: int = 0


@dataclass
class ContractRecorder:
    """Validates every exchange of one sandbox; collects violations for the teardown check."""

    validator: ContractValidator
    violations: list[tuple[Violation, str, int]] = field(default_factory=list)  # (violation, url, status)
    expected: list[Expected] = field(default_factory=list)
    exchanges: int = 0

    def __call__(self, method: str, url: str, request_headers: Mapping[str, str], request_body: bytes | None,
                 status: int, response_headers: Mapping[str, str], response_body: bytes) -> None:
        self.exchanges += 1
        for violation in self.validator.exchange_violations(method, url, request_headers, request_body, status,
                                                            response_headers, response_body):
            if not self._tolerated(violation, request_headers, response_headers):
                self.violations.append((violation, f"{method} {url}", status))

    @staticmethod
    def _tolerated(violation: Violation, request_headers: Mapping[str, str],
                   response_headers: Mapping[str, str]) -> bool:
        for (operation, field_pattern), _reason in TOLERATED.items():
            if violation.operation != operation or not re.fullmatch(field_pattern, violation.field):
                continue
            if field_pattern != "response content-type":
                return True
            accept = request_headers.get("accept", "").lower()
            answered = response_headers.get("content-type", "").lower()
            return any(kind in accept for kind in RAW_MEDIA_TYPES) and answered.startswith(RAW_MEDIA_TYPES)
        return False

    def expect(self, field_contains: str, *, operation: str | None = None) -> None:
        """This test provokes a violation whose field contains `field_contains` (on `operation`)."""
        self.expected.append(Expected(field_contains, operation))

    def unexpected(self) -> list[str]:
        remaining = []
        for violation, request, status in self.violations:
            for expectation in self.expected:
                if expectation.field_contains in violation.field and expectation.operation in (
                        None, violation.operation):
                    expectation.seen += 1
                    break
            else:
                remaining.append(f"{violation} (in {request} -> {status})")
        return remaining

    def check(self) -> None:
        problems = self.unexpected()
        missing = [e for e in self.expected if not e.seen]
        if problems:
            raise AssertionError("the sandbox broke GitHub's OpenAPI description:\n  " + "\n  ".join(problems))
        if missing:
            raise AssertionError(f"expected contract violations did not happen: {missing}")


def client(sandbox: Sandbox, token: str | None = None, *, base: str | None = None,
           timeout: float = 10.0) -> httpx.Client:
    """An httpx client on the sandbox's REST base with GitHub's headers (and the token, if any)."""
    headers = {"accept": "application/vnd.github+json", "x-github-api-version": "2022-11-28"}
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    return httpx.Client(base_url=base or sandbox.url, headers=headers, timeout=timeout)
