"""Real GitHub answers (tests/replay/cassettes, from npm @octokit/fixtures) against today's descriptions.

Two things are checked: the cassettes replay with vcrpy through both HTTP stacks opsgh uses (httpx
for GraphQL, requests under PyGithub), and every recorded exchange conforms to the official OpenAPI
description, except the deviations listed with a reason in recorded_deviations.yaml. A deviation
that disappears must be removed from that list, so the list never hides anything.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from contract.harness import ContractValidator

TESTS = Path(__file__).resolve().parents[1]
CASSETTES = TESTS / "replay" / "cassettes"
DEVIATIONS_FILE = Path(__file__).resolve().parent / "recorded_deviations.yaml"
LOCAL_BASE = "http://127.0.0.1:9"


def cassette_paths() -> list[Path]:
    return sorted(CASSETTES.glob("*.yaml"))


def interactions(path: Path) -> Iterator[tuple[Any, dict[str, Any]]]:
    from vcr.serialize import deserialize
    from vcr.serializers import yamlserializer

    requests, responses = deserialize(path.read_text(encoding="utf-8"), yamlserializer)
    yield from zip(requests, responses, strict=True)


def load_deviations() -> dict[tuple[str, str], str]:
    entries = yaml.safe_load(DEVIATIONS_FILE.read_text(encoding="utf-8"))
    deviations = {}
    for entry in entries:
        assert entry.get("reason", "").strip(), f"deviation without a reason: {entry}"
        deviations[(entry["operation"], entry["field"])] = entry["reason"]
    return deviations


def test_the_selected_scenarios_are_present() -> None:
    names = {path.stem for path in cassette_paths()}
    assert {
        "branch-protection",
        "paginate-issues",
        "errors",
        "git-refs",
        "get-repository",
        "create-status",
        "rename-repository",
        "get-content",
        "labels",
    } <= names


def test_recorded_exchanges_conform_to_the_official_description(contract: ContractValidator) -> None:
    allowed = load_deviations()
    unexpected: list[str] = []
    used: set[tuple[str, str]] = set()
    conforming = total = 0
    for path in cassette_paths():
        for request, response in interactions(path):
            total += 1
            violations = contract.exchange_violations(
                request.method,
                request.uri,
                dict(request.headers),
                request.body,
                response["status"]["code"],
                response["headers"],
                response["body"]["string"],
            )
            for violation in violations:
                key = (violation.operation, violation.field)
                if key in allowed:
                    used.add(key)
                else:
                    unexpected.append(f"{path.name}: {violation}")
            conforming += not violations
    assert not unexpected, "recorded GitHub answers that today's description rejects:\n" + "\n".join(
        unexpected
    )
    stale = sorted(set(allowed) - used)
    assert not stale, f"recorded_deviations.yaml lists deviations no recording shows any more: {stale}"
    # Not vacuous: most recorded exchanges (29 of 41 today) conform outright, none is skipped.
    assert total >= 40
    assert conforming > total // 2


def test_real_branch_protection_404_and_validation_422_shapes(contract: ContractValidator) -> None:
    """The two error answers opsgh must read: "Branch not protected" and 422 with an errors array."""
    protection = next(interactions(CASSETTES / "branch-protection.yaml"))
    assert protection[1]["status"]["code"] == 404
    assert json.loads(protection[1]["body"]["string"])["message"] == "Branch not protected"
    errors = next(interactions(CASSETTES / "errors.yaml"))
    assert errors[1]["status"]["code"] == 422
    assert json.loads(errors[1]["body"]["string"])["errors"][0]["code"] == "invalid"
    for request, response in (protection, errors):
        contract.validate_exchange(
            request.method,
            request.uri,
            dict(request.headers),
            request.body,
            response["status"]["code"],
            response["headers"],
            response["body"]["string"],
        )


def _cassette(name: str) -> Any:
    import vcr

    return vcr.VCR(record_mode="none").use_cassette(str(CASSETTES / f"{name}.yaml"))


def test_cassette_replays_with_httpx() -> None:
    import httpx

    with _cassette("paginate-issues") as cassette, httpx.Client(base_url=LOCAL_BASE) as client:
        first = client.get("/repos/octokit-fixture-org/paginate-issues/issues", params={"per_page": 3})
        # Follow the recorded Link header, as a paginating client does.
        second = client.get(first.links["next"]["url"])
    assert (first.status_code, second.status_code) == (200, 200)
    assert [issue["number"] for issue in first.json()] == [13, 12, 11]
    assert [issue["number"] for issue in second.json()] == [10, 9, 8]
    assert second.links["next"]["url"] == f"{LOCAL_BASE}/repositories/1000/issues?page=3&per_page=3"
    assert cassette.play_count == 2


def test_cassette_replays_with_requests() -> None:
    import requests

    with _cassette("branch-protection") as cassette:
        response = requests.get(
            f"{LOCAL_BASE}/repos/octokit-fixture-org/branch-protection/branches/main/protection", timeout=5
        )
    assert response.status_code == 404
    assert response.json()["message"] == "Branch not protected"
    assert cassette.play_count == 1


def test_unrecorded_request_is_refused_not_sent() -> None:
    import requests
    from vcr.errors import CannotOverwriteExistingCassetteException

    with _cassette("get-repository"), pytest.raises(CannotOverwriteExistingCassetteException):
        requests.get(f"{LOCAL_BASE}/repos/octokit-fixture-org/not-recorded", timeout=5)
