"""The deliveries the Action tests replay are real, and still what GitHub's webhook schemas describe."""

from __future__ import annotations

import jsonschema
import pytest
from webhooks import definition, example, names, schemas


@pytest.mark.parametrize("name", names())
def test_each_delivery_matches_its_definition(name: str) -> None:
    root = {**schemas(), "$ref": f"#/definitions/{definition(name)}"}
    errors = sorted(jsonschema.Draft7Validator(root).iter_errors(example(name)), key=lambda e: list(e.path))
    assert not errors, "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


def test_the_check_can_fail() -> None:
    payload = example("issue_comment.created.pull_request")
    payload["comment"]["id"] = "not a number"
    root = {**schemas(), "$ref": f"#/definitions/{definition('issue_comment.created.pull_request')}"}
    assert list(jsonschema.Draft7Validator(root).iter_errors(payload))


def test_the_derived_deliveries_say_what_they_are() -> None:
    assert example("pull_request.closed")["pull_request"]["merged"] is True
    assert example("issue_comment.created.pull_request")["issue"]["pull_request"]["html_url"].endswith(
        f"/pull/{example('issue_comment.created')['issue']['number']}")
    assert "pull_request" not in example("issue_comment.created")["issue"]
