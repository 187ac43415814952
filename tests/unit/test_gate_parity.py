"""The parity criterion: staging vs production health documents, field by field."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping

import pytest
from probe_server import HEALTHY, serve

from opsgh.config import Parity
from opsgh.gate.parity import evaluate_parity, flatten
from opsgh.gate.probe_port import ProbeResponse
from opsgh.gate.verdict import CriterionResult, Outcome
from opsgh.github.probes import HttpxProbeClient


class UrlClient:
    def __init__(self, answers: Mapping[str, ProbeResponse]) -> None:
        self._answers = answers

    def fetch(self, url: str, timeout_s: float) -> ProbeResponse:
        return self._answers[url]


def doc(value: object) -> ProbeResponse:
    return ProbeResponse(200, json.dumps(value).encode(), 3.0)


STAGING, PRODUCTION = "http://staging/health", "http://production/health"


def compare(staging: ProbeResponse, production: ProbeResponse, min_match: float = 0.9) -> CriterionResult | None:
    client = UrlClient({STAGING: staging, PRODUCTION: production})
    return evaluate_parity(Parity(STAGING, PRODUCTION, min_match), client)


def test_not_configured_gives_no_result() -> None:
    assert evaluate_parity(None, UrlClient({})) is None


def test_flatten_uses_dotted_paths() -> None:
    assert flatten({"a": {"b": [1, {"c": True}]}, "d": {}, "e": []}) == {"a.b.0": 1, "a.b.1.c": True, "d": {}, "e": []}


def test_identical_documents_pass_ignoring_volatile_fields() -> None:
    result = compare(doc({**HEALTHY, "uptime": 1}), doc({**HEALTHY, "uptime": 99999, "hostname": "prod-7"}), 1.0)
    assert result is not None
    assert result.outcome is Outcome.PASS, result
    assert result.key == "parity"
    assert result.summary.startswith("100% of 7 shared fields match")


def test_ratio_below_minimum_fails_and_names_the_differences() -> None:
    staging = {"a": 1, "b": 2, "c": 3, "d": 4, "version": "1.5.0"}
    production = {"a": 1, "b": 2, "c": 30, "d": 4, "version": "1.4.0"}
    result = compare(doc(staging), doc(production), 0.9)
    assert result is not None
    assert result.outcome is Outcome.FAIL
    assert result.summary == "60% of 5 shared fields match (minimum 90%); differing: c, version"
    assert '`version`: staging "1.5.0", production "1.4.0"' in result.details
    passing = compare(doc(staging), doc(production), 0.6)
    assert passing is not None
    assert passing.outcome is Outcome.PASS


def test_fields_on_one_side_are_listed_but_not_counted() -> None:
    result = compare(doc({"a": 1, "new_flag": True}), doc({"a": 1, "old": 0}), 1.0)
    assert result is not None
    assert result.outcome is Outcome.PASS
    assert "`new_flag`: only on staging" in result.details
    assert "`old`: only on production" in result.details


def test_true_and_one_are_not_equal() -> None:
    result = compare(doc({"ok": True}), doc({"ok": 1}), 1.0)
    assert result is not None
    assert result.outcome is Outcome.FAIL


def test_nothing_in_common_fails() -> None:
    result = compare(doc({"a": 1}), doc({"b": 1}))
    assert result is not None
    assert result.outcome is Outcome.FAIL
    assert "share no field" in result.summary


def test_garbage_from_either_side_fails_with_the_reason() -> None:
    result = compare(doc(HEALTHY), ProbeResponse(200, b"<html>oops", 3.0))
    assert result is not None
    assert result.outcome is Outcome.FAIL
    assert result.summary.startswith("production (http://production/health) did not return JSON")
    timed_out = compare(ProbeResponse(None, error="timed out after 10 s", timed_out=True), doc(HEALTHY))
    assert timed_out is not None
    assert "staging (http://staging/health) timed out" in timed_out.summary
    server_error = compare(doc(HEALTHY), ProbeResponse(503, b"{}", 1.0))
    assert server_error is not None
    assert "answered status 503" in server_error.summary


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serve() as url:
        yield url


def test_against_the_local_server(base_url: str) -> None:
    with HttpxProbeClient() as client:
        same = evaluate_parity(Parity(f"{base_url}/health", f"{base_url}/health", 1.0), client)
        garbage = evaluate_parity(Parity(f"{base_url}/health", f"{base_url}/garbage", 0.5), client)
        down = evaluate_parity(Parity(f"{base_url}/health", f"{base_url}/health-db-down", 0.99), client)
    assert same is not None
    assert same.outcome is Outcome.PASS
    assert garbage is not None
    assert garbage.outcome is Outcome.FAIL
    assert "did not return JSON" in garbage.summary
    assert down is not None
    assert down.outcome is Outcome.FAIL
    assert "database.ok" in down.summary


def test_advisory_parity_does_not_block() -> None:
    client = UrlClient({STAGING: doc({"a": 1}), PRODUCTION: doc({"a": 2})})
    result = evaluate_parity(Parity(STAGING, PRODUCTION, 1.0), client, advisory=True)
    assert result is not None
    assert result.outcome is Outcome.FAIL
    assert result.blocking is False
