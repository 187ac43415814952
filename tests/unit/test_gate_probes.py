"""The HTTP probes criterion: against a real local server, and with a fake client where numbers matter."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from probe_server import HEALTHY, self_signed, serve

from opsgh.clock import FakeClock, SystemClock
from opsgh.config import FrozenMap, Probe, ProbeExpect
from opsgh.gate.probe_port import ProbeResponse
from opsgh.gate.probes import evaluate_probes, p95
from opsgh.gate.verdict import Outcome
from opsgh.github.probes import HttpxProbeClient, days_left

EXPECT_HEALTHY = ProbeExpect(200, FrozenMap({"database.ok": True, "migrations_current": True}))


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serve() as url:
        yield url


@pytest.fixture
def client() -> Iterator[HttpxProbeClient]:
    with HttpxProbeClient() as probe_client:
        yield probe_client


def probe(url: str, **kwargs: object) -> Probe:
    settings: dict[str, object] = {"name": "health", "url": url, "expect": EXPECT_HEALTHY, "samples": 3,
                                   "timeout_s": 5.0}
    settings.update(kwargs)
    return Probe(**settings)  # type: ignore[arg-type]


# --- against the local server ---------------------------------------------------------------------

def test_healthy_endpoint_passes(base_url: str, client: HttpxProbeClient) -> None:
    result = evaluate_probes([probe(f"{base_url}/health", p95_ms=2000)], client, FakeClock())
    assert result.outcome is Outcome.PASS, result
    assert result.key == "probes"
    assert "PASS health" in result.details[0]
    assert "status 200" in result.details[0]
    assert "3 samples" in result.details[0]


def test_json_field_expectation_failing_names_the_field(base_url: str, client: HttpxProbeClient) -> None:
    result = evaluate_probes([probe(f"{base_url}/health-db-down")], client, FakeClock())
    assert result.outcome is Outcome.FAIL
    assert "`database.ok` is false, expected true" in result.summary
    assert "3 of 3 samples failed" in result.summary


def test_garbage_body_fails_with_a_clear_reason(base_url: str, client: HttpxProbeClient) -> None:
    result = evaluate_probes([probe(f"{base_url}/garbage")], client, FakeClock())
    assert result.outcome is Outcome.FAIL
    assert "body is not JSON" in result.summary
    assert "502 Bad Gateway" in result.summary


def test_server_error_fails_with_the_status(base_url: str, client: HttpxProbeClient) -> None:
    result = evaluate_probes([probe(f"{base_url}/error")], client, FakeClock())
    assert result.outcome is Outcome.FAIL
    assert "status 500, expected 200" in result.summary


def test_probe_that_times_out_fails_naming_the_timeout(base_url: str, client: HttpxProbeClient) -> None:
    started = time.monotonic()
    result = evaluate_probes([probe(f"{base_url}/slow", samples=2, timeout_s=0.2)], client, FakeClock())
    assert result.outcome is Outcome.FAIL
    assert "timed out after 0.2 s" in result.summary
    assert time.monotonic() - started < 0.9, "the probe waited for the slow server instead of timing out"


def test_redirect_is_not_followed(base_url: str, client: HttpxProbeClient) -> None:
    response = client.fetch(f"{base_url}/redirect", 5.0)
    assert response.status == 302
    result = evaluate_probes([probe(f"{base_url}/redirect", expect=ProbeExpect(302), samples=1)], client, FakeClock())
    assert result.outcome is Outcome.PASS


def test_connection_refused_fails_without_raising(client: HttpxProbeClient) -> None:
    with serve() as url:
        dead = url
    result = evaluate_probes([probe(f"{dead}/health", samples=1, timeout_s=1.0)], client, FakeClock())
    assert result.outcome is Outcome.FAIL
    assert "no answer" in result.summary


def test_one_bad_probe_among_good_ones_is_the_one_named(base_url: str, client: HttpxProbeClient) -> None:
    probes = [probe(f"{base_url}/health", name="api"), probe(f"{base_url}/error", name="auth"),
              probe(f"{base_url}/health", name="web")]
    result = evaluate_probes(probes, client, FakeClock())
    assert result.outcome is Outcome.FAIL
    assert result.summary.startswith("1 of 3 probes failed; `auth`")
    assert [line.split()[0:2] for line in result.details[:3]] == [["PASS", "api"], ["FAIL", "auth"], ["PASS", "web"]]


def test_tls_days_left_read_from_the_real_certificate(tmp_path: Path) -> None:
    server_tls, client_tls = self_signed(tmp_path, valid_days=10)
    with serve(server_tls) as url, HttpxProbeClient(SystemClock(), verify=client_tls) as tls_client:
        response = tls_client.fetch(f"{url}/health", 5.0)
        assert response.status == 200
        assert response.tls_days_left is not None
        assert 9.9 < response.tls_days_left <= 10.0
        result = evaluate_probes([probe(f"{url}/health", tls_min_days=14, samples=1)], tls_client, FakeClock())
    assert result.outcome is Outcome.FAIL
    assert "TLS certificate expires in 10 days (minimum 14)" in result.summary


def test_expired_certificate_fails_with_the_tls_reason(tmp_path: Path) -> None:
    server_tls, client_tls = self_signed(tmp_path, valid_days=-1)
    with serve(server_tls) as url, HttpxProbeClient(SystemClock(), verify=client_tls) as tls_client:
        result = evaluate_probes([probe(f"{url}/health", tls_min_days=14, samples=1)], tls_client, FakeClock())
    assert result.outcome is Outcome.FAIL
    assert "certificate has expired" in result.summary


def test_advisory_probes_do_not_block(base_url: str, client: HttpxProbeClient) -> None:
    result = evaluate_probes([probe(f"{base_url}/error", samples=1)], client, FakeClock(), advisory=True)
    assert result.outcome is Outcome.FAIL
    assert result.blocking is False


def test_no_probes_configured_is_skipped(client: HttpxProbeClient) -> None:
    assert evaluate_probes([], client, FakeClock()).outcome is Outcome.SKIP


# --- with a fake client ----------------------------------------------------------------------------

class ScriptedClient:
    """Answers from a list, in order; records the most requests ever in flight at once."""

    def __init__(self, responses: Sequence[ProbeResponse], hold_s: float = 0.0) -> None:
        self._responses = list(responses)
        self._lock = threading.Lock()
        self._hold_s = hold_s
        self.in_flight = 0
        self.max_in_flight = 0

    def fetch(self, url: str, timeout_s: float) -> ProbeResponse:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            response = self._responses.pop(0) if len(self._responses) > 1 else self._responses[0]
        time.sleep(self._hold_s)
        with self._lock:
            self.in_flight -= 1
        return response


def ok(elapsed_ms: float, tls_days_left: float | None = None) -> ProbeResponse:
    return ProbeResponse(200, json.dumps(HEALTHY).encode(), elapsed_ms, tls_days_left)


def test_p95_is_nearest_rank() -> None:
    assert p95([float(n) for n in range(1, 21)]) == 19.0  # ceil(0.95 * 20) = 19th
    assert p95([5.0, 1.0, 900.0, 2.0, 3.0]) == 900.0  # under 20 samples: the slowest one
    assert p95([42.0]) == 42.0
    with pytest.raises(ValueError, match="no samples"):
        p95([])


def test_p95_over_budget_fails_and_within_passes() -> None:
    latencies = [100.0] * 18 + [150.0, 1000.0]  # p95 of 20 = the 19th smallest = 150
    within = evaluate_probes([probe("http://x/h", samples=20, p95_ms=200)], ScriptedClient([ok(v) for v in latencies]),
                             FakeClock())
    assert within.outcome is Outcome.PASS, within
    assert "p95 150 ms (budget 200 ms)" in within.details[0]
    over = evaluate_probes([probe("http://x/h", samples=20, p95_ms=120)], ScriptedClient([ok(v) for v in latencies]),
                           FakeClock())
    assert over.outcome is Outcome.FAIL
    assert "p95 150 ms over the 120 ms budget" in over.summary


def test_boolean_expectation_does_not_accept_one() -> None:
    body = json.dumps({"database": {"ok": 1}, "migrations_current": True}).encode()
    result = evaluate_probes([probe("http://x/h", samples=1)], ScriptedClient([ProbeResponse(200, body, 5.0)]),
                             FakeClock())
    assert result.outcome is Outcome.FAIL
    assert "`database.ok` is 1, expected true" in result.summary


def test_missing_field_is_reported_as_missing() -> None:
    body = json.dumps({"database": {}}).encode()
    result = evaluate_probes([probe("http://x/h", samples=1)], ScriptedClient([ProbeResponse(200, body, 5.0)]),
                             FakeClock())
    assert "`database.ok` is missing" in result.summary


@pytest.mark.parametrize(("days", "outcome"), [(30.0, Outcome.PASS), (14.0, Outcome.PASS), (13.5, Outcome.FAIL),
                                               (-2.0, Outcome.FAIL)])
def test_tls_days_left_against_the_minimum(days: float, outcome: Outcome) -> None:
    result = evaluate_probes([probe("https://x/h", samples=2, tls_min_days=14)], ScriptedClient([ok(5.0, days)]),
                             FakeClock())
    assert result.outcome is outcome, result


def test_tls_minimum_on_a_plain_http_answer_fails() -> None:
    result = evaluate_probes([probe("http://x/h", samples=1, tls_min_days=14)], ScriptedClient([ok(5.0, None)]),
                             FakeClock())
    assert result.outcome is Outcome.FAIL
    assert "no TLS certificate" in result.summary


def test_days_left_from_the_certificate_date() -> None:
    clock = FakeClock(start=1_800_000_000.0)  # 2027-01-15 08:00:00 UTC
    assert days_left({"notAfter": "Jan 25 08:00:00 2027 GMT"}, clock.now()) == pytest.approx(10.0)
    assert days_left({}, clock.now()) is None
    assert days_left(None, clock.now()) is None


def test_samples_run_concurrently_within_the_bound() -> None:
    client = ScriptedClient([ok(1.0)], hold_s=0.05)
    probes = [probe("http://x/a", samples=6), probe("http://x/b", samples=6)]
    result = evaluate_probes(probes, client, FakeClock(), max_workers=3)
    assert result.outcome is Outcome.PASS
    assert client.max_in_flight == 3


def test_a_client_that_raises_fails_the_probe_not_the_gate() -> None:
    class Broken:
        def fetch(self, url: str, timeout_s: float) -> ProbeResponse:
            raise RuntimeError("bug")

    result = evaluate_probes([probe("http://x/h", samples=1)], Broken(), FakeClock())
    assert result.outcome is Outcome.FAIL
    assert "RuntimeError: bug" in result.summary
