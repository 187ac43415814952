"""The HTTP probes criterion: status, JSON fields, p95 latency and TLS days left, per probe.

Each probe is fetched `samples` times; all samples of all probes run concurrently on a bounded
thread pool (`max_workers`). A probe passes when every sample answered with the expected status
and JSON fields, the p95 of the sample latencies is within `p95_ms`, and the certificate has at
least `tls_min_days` left. p95 is nearest-rank: the ceil(0.95 * n)-th smallest latency, so with
fewer than 20 samples it is the slowest one (no interpolation, no averaging a spike away).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from opsgh.clock import Clock
from opsgh.config import JsonScalar, Probe
from opsgh.gate.probe_port import ProbeClient, ProbeResponse
from opsgh.gate.verdict import CriterionResult, Outcome

KEY = "probes"
TITLE = "HTTP probes"
DEFAULT_MAX_WORKERS = 8

_MISSING = object()


def p95(latencies_ms: Sequence[float]) -> float:
    """Nearest-rank 95th percentile; raises ValueError on no samples."""
    if not latencies_ms:
        raise ValueError("p95 of no samples")
    ordered = sorted(latencies_ms)
    rank = max(1, math.ceil(0.95 * len(ordered)))
    return ordered[rank - 1]


def lookup(document: object, dotted_path: str) -> object:
    """The value at `a.b.0.c` (dict keys, list indexes), or `_MISSING`."""
    current = document
    for part in dotted_path.split("."):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return _MISSING
    return current


def same_json_value(actual: object, expected: JsonScalar) -> bool:
    """Equality without Python's `True == 1`: a boolean only matches a boolean; 1 matches 1.0."""
    if isinstance(actual, bool) or isinstance(expected, bool):
        return isinstance(actual, bool) and isinstance(expected, bool) and actual is expected
    return actual == expected


def _show(value: object) -> str:
    return "missing" if value is _MISSING else json.dumps(value)


def check_json(body: bytes, expectations: Mapping[str, JsonScalar]) -> list[str]:
    """The problems with `body` against `{dotted.path: value}`; [] when all hold."""
    if not expectations:
        return []
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        snippet = body[:60].decode("utf-8", errors="replace")
        return [f"body is not JSON ({snippet!r})"]
    problems = []
    for path, expected in expectations.items():
        actual = lookup(document, path)
        if actual is _MISSING or not same_json_value(actual, expected):
            problems.append(f"`{path}` is {_show(actual)}, expected {json.dumps(expected)}")
    return problems


def sample_problems(probe: Probe, response: ProbeResponse) -> list[str]:
    """What is wrong with one sample: no answer, wrong status, JSON fields."""
    if response.timed_out:
        return [f"timed out after {probe.timeout_s:g} s"]
    if response.status is None:
        return [f"no answer: {response.error or 'unknown error'}"]
    if response.status != probe.expect.status:
        return [f"status {response.status}, expected {probe.expect.status}"]
    return check_json(response.body, probe.expect.json)


@dataclass(frozen=True, slots=True)
class ProbeReport:
    """One probe's evaluation: `problems` empty means it passed."""

    probe: Probe
    responses: tuple[ProbeResponse, ...]
    problems: tuple[str, ...]
    p95_ms: float | None

    @property
    def passed(self) -> bool:
        return not self.problems

    def line(self) -> str:
        answered = [r for r in self.responses if r.status is not None and not r.timed_out]
        statuses = sorted({str(r.status) for r in answered}) or ["-"]
        latency = "-" if self.p95_ms is None else f"{self.p95_ms:.0f} ms"
        budget = "" if self.probe.p95_ms is None else f" (budget {self.probe.p95_ms:g} ms)"
        tls = [r.tls_days_left for r in self.responses if r.tls_days_left is not None]
        tls_part = f"; TLS {min(tls):.0f} days left" if tls else ""
        head = f"{'PASS' if self.passed else 'FAIL'} {self.probe.name} ({self.probe.url}): " \
               f"status {'/'.join(statuses)}; p95 {latency}{budget}; {len(self.responses)} samples{tls_part}"
        return head if self.passed else f"{head} — {'; '.join(self.problems)}"


def judge(probe: Probe, responses: Sequence[ProbeResponse]) -> ProbeReport:
    """Evaluate one probe's samples (no I/O: the fetching is done by `evaluate_probes`)."""
    problems: list[str] = []
    bad_samples = 0
    for response in responses:
        found = sample_problems(probe, response)
        if found:
            bad_samples += 1
            for problem in found:
                if problem not in problems:
                    problems.append(problem)
    if bad_samples:
        problems.insert(0, f"{bad_samples} of {len(responses)} samples failed")
    answered = [r.elapsed_ms for r in responses if r.status is not None and not r.timed_out]
    latency = p95(answered) if answered else None
    if probe.p95_ms is not None and latency is not None and latency > probe.p95_ms:
        problems.append(f"p95 {latency:.0f} ms over the {probe.p95_ms:g} ms budget")
    if probe.tls_min_days is not None:
        days = [r.tls_days_left for r in responses if r.tls_days_left is not None]
        if not days:
            if answered:
                problems.append("no TLS certificate to check (is the URL https?)")
        elif min(days) < probe.tls_min_days:
            problems.append(f"TLS certificate expires in {min(days):.0f} days (minimum {probe.tls_min_days})")
    return ProbeReport(probe, tuple(responses), tuple(problems), latency)


def fetch_samples(probes: Sequence[Probe], client: ProbeClient, *,
                  max_workers: int = DEFAULT_MAX_WORKERS) -> list[list[ProbeResponse]]:
    """Every probe's `samples` responses (index-aligned with `probes`), at most `max_workers` in flight."""
    jobs = [(index, probe) for index, probe in enumerate(probes) for _ in range(max(1, probe.samples))]
    gathered: list[list[ProbeResponse]] = [[] for _ in probes]
    with ThreadPoolExecutor(max_workers=max(1, max_workers), thread_name_prefix="opsgh-probe") as pool:
        futures = [(index, pool.submit(client.fetch, probe.url, probe.timeout_s)) for index, probe in jobs]
        for index, future in futures:
            try:
                gathered[index].append(future.result())
            except Exception as exc:  # a client bug must fail the probe, not the whole gate
                gathered[index].append(ProbeResponse(None, error=f"{type(exc).__name__}: {exc}"))
    return gathered


def evaluate_probes(probes: Sequence[Probe], client: ProbeClient, clock: Clock, *,
                    max_workers: int = DEFAULT_MAX_WORKERS, advisory: bool = False) -> CriterionResult:
    """Fetch every probe's samples (at most `max_workers` requests in flight) and judge them."""
    if not probes:
        return CriterionResult(KEY, TITLE, Outcome.SKIP, "no probes configured", blocking=not advisory)
    started = clock.monotonic()
    gathered = fetch_samples(probes, client, max_workers=max_workers)
    took = clock.monotonic() - started
    reports = [judge(probe, gathered[index]) for index, probe in enumerate(probes)]
    failed = [r for r in reports if not r.passed]
    details = (*(r.line() for r in reports), f"probed in {took:.1f} s")
    if not failed:
        return CriterionResult(KEY, TITLE, Outcome.PASS, f"all {len(reports)} probes passed", details,
                               blocking=not advisory)
    first = failed[0]
    summary = f"{len(failed)} of {len(reports)} probes failed; `{first.probe.name}`: {'; '.join(first.problems)}"
    return CriterionResult(KEY, TITLE, Outcome.FAIL, summary, details, blocking=not advisory)
