"""Guards for the whole suite: no test reaches beyond 127.0.0.1, none sees the developer's tokens.

Like pre-commit's conftest, these fail loudly instead of letting a test pass by accident
against a real account or the real network.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from opsgh.clock import FakeClock
from opsgh.sandbox import Sandbox

TESTS = Path(__file__).resolve().parent
REPO_ROOT = TESTS.parent
# Importable test helpers live beside the tests (e.g. `from contract.harness import ...`).
sys.path.insert(0, str(TESTS))
sys.path.insert(0, str(TESTS / "action"))
sys.path.insert(0, str(TESTS / "ops"))

from contract.harness import get_contract_validator  # noqa: E402 - needs the path above
from sandbox.support import ContractRecorder  # noqa: E402

# Variables that would make a test act on a real account or change behaviour silently.
ISOLATED_PREFIXES = ("GITHUB_", "GH_", "INPUT_", "OPSGH_", "RUNNER_", "ACTIONS_")


class NetworkGuardError(AssertionError):
    pass


def _is_loopback(address: Any) -> bool:
    if isinstance(address, tuple) and address:
        host = address[0]
    else:
        return True  # AF_UNIX and friends
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    if not _is_loopback(address):
        raise NetworkGuardError(f"test tried to connect to {address!r}: tests talk only to 127.0.0.1")
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> Any:
    if not _is_loopback(address):
        raise NetworkGuardError(f"test tried to connect to {address!r}: tests talk only to 127.0.0.1")
    return _real_connect_ex(self, address)


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if host not in (None, "localhost") and not _is_loopback((host,)):
        raise NetworkGuardError(f"test tried to resolve {host!r}: tests talk only to 127.0.0.1")
    return _real_getaddrinfo(host, *args, **kwargs)


def pytest_configure(config: pytest.Config) -> None:
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = _guarded_getaddrinfo


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # "No tests collected" (5) is not a failure of the code under test; say so and pass.
    if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        print("\nopsgh: no tests were collected", file=sys.stderr)
        session.exitstatus = pytest.ExitCode.OK


@pytest.fixture(autouse=True)
def _isolate_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Hide the developer's GitHub/Actions environment from every test, and check it stays hidden."""
    for name in list(os.environ):
        if name.startswith(ISOLATED_PREFIXES):
            monkeypatch.delenv(name)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    yield
    leaked = [n for n in os.environ if n in ("GITHUB_TOKEN", "GH_TOKEN") and not os.environ[n].startswith("test")]
    if leaked:
        raise AssertionError(f"a test left a real-looking token in the environment: {leaked}")


# ----------------------------------------------------------------------------- the sandbox
# A fresh local GitHub per test, on a FakeClock, with every exchange checked against GitHub's
# official OpenAPI description (see tests/sandbox/support.py). Available to every test directory.


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

