"""The parity criterion: staging and production health documents compared field by field.

Both JSON documents are flattened to dotted paths (`database.ok`, `deps.0.version`); the match
ratio is the share of leaf fields present on both sides that hold equal values. Fields present on
one side only do not count in the ratio but are listed in the details. Leaves whose last segment
is in `VOLATILE_FIELDS` (clocks, hosts, process ids) differ on every call and are left out;
versions and dependency lists DO count: that is what the runbooks' parity check compares, and
`min_match` (e.g. 0.9) leaves room for the release's own version bump.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from opsgh.config import Parity
from opsgh.gate.probe_port import ProbeClient
from opsgh.gate.verdict import CriterionResult, Outcome

KEY = "parity"
TITLE = "Staging/production parity"
DEFAULT_TIMEOUT_S = 10.0
VOLATILE_FIELDS = frozenset({"timestamp", "time", "now", "date", "uptime", "uptime_s", "uptime_seconds",
                             "hostname", "host", "pid", "request_id", "requestId", "env", "environment"})


def flatten(document: object, prefix: str = "") -> dict[str, object]:
    """`{"a": {"b": [1]}}` -> `{"a.b.0": 1}`; an empty object or list is a leaf of its own."""
    if isinstance(document, Mapping) and document:
        found: dict[str, object] = {}
        for key, value in document.items():
            found.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return found
    if isinstance(document, list) and document:
        found = {}
        for index, value in enumerate(document):
            found.update(flatten(value, f"{prefix}.{index}" if prefix else str(index)))
        return found
    return {prefix or "(root)": document}


def _fetch_json(client: ProbeClient, side: str, url: str, timeout_s: float) -> tuple[object, str | None]:
    response = client.fetch(url, timeout_s)
    if response.timed_out:
        return None, f"{side} ({url}) timed out after {timeout_s:g} s"
    if response.status is None:
        return None, f"{side} ({url}) did not answer: {response.error or 'unknown error'}"
    if not 200 <= response.status < 300:
        return None, f"{side} ({url}) answered status {response.status}"
    try:
        return json.loads(response.body), None
    except (UnicodeDecodeError, json.JSONDecodeError):
        snippet = response.body[:60].decode("utf-8", errors="replace")
        return None, f"{side} ({url}) did not return JSON ({snippet!r})"


def _same(left: object, right: object) -> bool:
    # json.dumps keeps True and 1 apart (Python's == does not); sort_keys for empty objects.
    return json.dumps(left, sort_keys=True) == json.dumps(right, sort_keys=True) or (
        not isinstance(left, bool) and not isinstance(right, bool)
        and isinstance(left, int | float) and isinstance(right, int | float) and left == right)


def evaluate_parity(parity: Parity | None, client: ProbeClient, *, timeout_s: float = DEFAULT_TIMEOUT_S,
                    advisory: bool = False) -> CriterionResult | None:
    """Compare the two endpoints; None when parity is not configured."""
    if parity is None:
        return None
    staging, staging_error = _fetch_json(client, "staging", parity.staging, timeout_s)
    production, production_error = _fetch_json(client, "production", parity.production, timeout_s)
    errors = [e for e in (staging_error, production_error) if e]
    if errors:
        return CriterionResult(KEY, TITLE, Outcome.FAIL, "; ".join(errors), tuple(errors), blocking=not advisory)
    left = {k: v for k, v in flatten(staging).items() if k.rsplit(".", 1)[-1] not in VOLATILE_FIELDS}
    right = {k: v for k, v in flatten(production).items() if k.rsplit(".", 1)[-1] not in VOLATILE_FIELDS}
    common = sorted(left.keys() & right.keys())
    if not common:
        return CriterionResult(KEY, TITLE, Outcome.FAIL, "the two health documents share no field to compare",
                               blocking=not advisory)
    differing = [k for k in common if not _same(left[k], right[k])]
    ratio = (len(common) - len(differing)) / len(common)
    details = [f"`{k}`: staging {json.dumps(left[k])}, production {json.dumps(right[k])}" for k in differing]
    details += [f"`{k}`: only on staging" for k in sorted(left.keys() - right.keys())]
    details += [f"`{k}`: only on production" for k in sorted(right.keys() - left.keys())]
    summary = (f"{ratio:.0%} of {len(common)} shared fields match (minimum {parity.min_match:.0%})"
               + (f"; differing: {', '.join(differing[:5])}" if differing else ""))
    outcome = Outcome.PASS if ratio >= parity.min_match else Outcome.FAIL
    return CriterionResult(KEY, TITLE, outcome, summary, tuple(details), blocking=not advisory)
