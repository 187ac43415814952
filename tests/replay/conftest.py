"""Replay real GitHub recordings (cassettes/, from npm @octokit/fixtures) through `GitHubGateway`.

`replay(name)` opens a cassette with vcrpy (record_mode="none": nothing reaches a network) and yields
a gateway on http://127.0.0.1:9 whose every exchange is checked against GitHub's official OpenAPI
description. Only the deviations listed in tests/contract/recorded_deviations.yaml are tolerated (the
same list tests/contract/test_recordings.py uses: read from that file, never copied).

Requests match on method, path and query (vcrpy sorts the query); headers such as Authorization and
Accept do not matter, nor does the body (each test asserts the bodies it cares about).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import vcr
import yaml
from contract.harness import ContractValidator, Violation, get_contract_validator

from opsgh.clock import FakeClock
from opsgh.github.gateway import GitHubGateway

CASSETTES = Path(__file__).resolve().parent / "cassettes"
DEVIATIONS_FILE = Path(__file__).resolve().parents[1] / "contract" / "recorded_deviations.yaml"
LOCAL_BASE = "http://127.0.0.1:9"


def allowed_deviations() -> frozenset[tuple[str, str]]:
    """The (operation, field) pairs of recorded_deviations.yaml."""
    entries = yaml.safe_load(DEVIATIONS_FILE.read_text(encoding="utf-8"))
    return frozenset((entry["operation"], entry["field"]) for entry in entries)


def query_matcher(omitted: Mapping[str, str]) -> Callable[[Any, Any], None]:
    """vcrpy's query matcher, except that a parameter in `omitted`, sent with exactly that value by one
    side and absent from the other, is ignored.

    Octokit recorded many list calls without `per_page` or `ref`; opsgh always sends them. A test lists
    a parameter here only where both requests get the same answer from GitHub (the recorded list fits
    in one page; `ref` names the repository's default branch), and asserts that premise itself.
    """

    def query(first: Any, second: Any) -> None:
        left, right = list(first.query), list(second.query)
        for name, value in omitted.items():
            in_left = {v for k, v in left if k == name}
            in_right = {v for k, v in right if k == name}
            if in_left == {value} and not in_right:
                left = [(k, v) for k, v in left if k != name]
            elif in_right == {value} and not in_left:
                right = [(k, v) for k, v in right if k != name]
        assert left == right, f"query {left} != {right}"

    return query


@dataclass
class Exchange:
    method: str
    url: str
    request_headers: Mapping[str, str]
    request_body: bytes | None
    status: int
    response_headers: Mapping[str, str]
    response_body: bytes


@dataclass
class Replay:
    """One open cassette and the gateway that replays it."""

    gateway: GitHubGateway
    cassette: Any  # vcr.cassette.Cassette
    exchanges: list[Exchange] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)

    def recorded_request_body(self, index: int) -> Any:
        """The JSON body of the cassette's `index`-th recorded request (what GitHub received)."""
        import json

        body = self.cassette.requests[index].body
        return json.loads(body) if body else None

    def recorded_responses(self, method: str, path: str) -> list[dict[str, Any]]:
        return [response for request, response in zip(self.cassette.requests, self.cassette.responses,
                                                      strict=True)
                if request.method == method and request.path == path]


@pytest.fixture(scope="session")
def contract_validator() -> ContractValidator:
    return get_contract_validator()


@pytest.fixture
def replay(contract_validator: ContractValidator) -> Callable[..., AbstractContextManager[Replay]]:
    """`with replay("branch-protection") as r: r.gateway...`; on leaving, every exchange must conform to
    the description (bar the listed deviations) and have been answered by the recording."""
    allowed = allowed_deviations()

    @contextmanager
    def open_replay(name: str, *, omitted_query: Mapping[str, str] | None = None) -> Iterator[Replay]:
        recorder = vcr.VCR(record_mode="none")
        recorder.register_matcher("query_or_default", query_matcher(omitted_query or {}))
        exchanges: list[Exchange] = []
        violations: list[Violation] = []

        def on_exchange(method: str, url: str, request_headers: Mapping[str, str], request_body: bytes | None,
                        status: int, response_headers: Mapping[str, str], response_body: bytes) -> None:
            exchanges.append(Exchange(method, url, request_headers, request_body, status, response_headers,
                                      response_body))
            violations.extend(contract_validator.exchange_violations(
                method, url, dict(request_headers), request_body, status, dict(response_headers), response_body))

        with recorder.use_cassette(str(CASSETTES / f"{name}.yaml"), match_on=("method", "path", "query_or_default"),
                                   allow_playback_repeats=False) as cassette:
            gateway = GitHubGateway.connect(token="test-token", api_url=LOCAL_BASE, clock=FakeClock(), jitter=None,
                                            on_exchange=on_exchange)
            try:
                yield Replay(gateway, cassette, exchanges, violations)
            finally:
                gateway.close()
        unexpected = [str(v) for v in violations if (v.operation, v.field) not in allowed]
        assert not unexpected, "exchanges that GitHub's description rejects:\n" + "\n".join(unexpected)
        # Every request sent was answered by the recording, and every answer went through the contract.
        assert cassette.play_count == len(gateway.ledger) == len(exchanges)

    return open_replay
