"""The `sandbox` fixture: a fresh sandbox per test, every exchange checked against GitHub's OpenAPI.

Each REST request the sandbox accepts and each response it returns goes through the contract
validator (tests/contract/harness.py). A violation fails the test at teardown, naming the operation
and the field. A test that provokes one on purpose says so with `sandbox_contract.expect(...)`; an
expected violation that does not happen fails too. Handler crashes (answered 500) fail the test as well.

One reading is narrower than the harness, with its reason (TOLERATED below): the raw media type of
GET /contents (`Accept: application/vnd.github.raw`), which GitHub documents in prose only; it is
accepted only when the client asked for that media type and got it back.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from contract.harness import ContractValidator, Violation, get_contract_validator

from opsgh.clock import FakeClock
from opsgh.sandbox import Sandbox

RAW_MEDIA_TYPES = ("application/vnd.github.raw", "application/vnd.github.v3.raw")
TOLERATED = {
    ("GET /repos/{owner}/{repo}/contents/{path}", "response content-type"):
        "raw media types are documented in prose only; the description lists JSON content alone",
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
        if (violation.operation, violation.field) not in TOLERATED:
            return False
        accept = request_headers.get("accept", "").lower()
        answered = response_headers.get("content-type", "").lower()
        return any(kind in accept for kind in RAW_MEDIA_TYPES) and answered.startswith(RAW_MEDIA_TYPES)

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


@pytest.fixture
def sandbox_contract() -> ContractRecorder:
    return ContractRecorder(get_contract_validator())


@pytest.fixture
def sandbox_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sandbox(sandbox_contract: ContractRecorder, sandbox_clock: FakeClock) -> Iterator[Sandbox]:
    """A started sandbox on a FakeClock, contract-checked; stopped (and its files removed) afterwards."""
    instance = Sandbox(clock=sandbox_clock)
    instance.add_observer(sandbox_contract)
    instance.start()
    try:
        yield instance
    finally:
        instance.stop()
    if instance.errors:
        raise AssertionError("the sandbox crashed while handling a request:\n" + "\n".join(instance.errors))
    sandbox_contract.check()


def timed(function: Any) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started
