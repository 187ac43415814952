"""Fixtures for contract tests: the validator against GitHub's official API descriptions."""

from __future__ import annotations

import pytest
from contract.harness import ContractValidator, get_contract_validator


@pytest.fixture(scope="session")
def contract() -> ContractValidator:
    """The process-wide ContractValidator (OpenAPI + GraphQL), built once per worker."""
    return get_contract_validator()
