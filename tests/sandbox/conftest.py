"""Fixtures for the sandbox tests: `sandbox` (fresh per test, contract-checked), `sandbox_contract`.

See tests/sandbox/support.py for what the contract check does and how a test expects a violation.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from contract.harness import get_contract_validator
from sandbox.support import ContractRecorder

from opsgh.clock import FakeClock
from opsgh.sandbox import Sandbox


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

