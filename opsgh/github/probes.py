"""`ProbeClient` over httpx: the go/no-go gate's HTTP probes and parity fetches.

- Every request has a timeout (`timeout_s` for connect, read, write and pool wait; plus an overall
  deadline while the body streams in, so a server trickling bytes cannot hold the gate).
- Redirects are NOT followed: a health endpoint that redirects (to a login page, to http) is
  reported with its 3xx status, which fails a probe expecting 200. Configure `expect.status: 301`
  to assert a redirect on purpose.
- For https URLs the certificate's days left are read from the peer certificate of the very
  connection that answered (httpcore's `network_stream` extension -> `ssl_object.getpeercert()`),
  so no second connection is made. Requires certificate verification (the default), since an
  unverified connection exposes no parsed certificate.
- Bodies are capped at `max_body_bytes`; the client is thread-safe (one `httpx.Client`, its pool
  sized for the gate's bounded concurrency).
"""

from __future__ import annotations

import ssl
import time
from typing import Any

import httpx

from opsgh import __version__
from opsgh.clock import Clock, SystemClock
from opsgh.gate.probe_port import ProbeResponse

MAX_BODY_BYTES = 1_048_576
SECONDS_PER_DAY = 86_400.0


def days_left(peer_certificate: dict[str, Any] | None, now: float) -> float | None:
    """Days until the certificate's `notAfter` (negative once expired); None when unknown."""
    not_after = (peer_certificate or {}).get("notAfter")
    if not isinstance(not_after, str):
        return None
    return (ssl.cert_time_to_seconds(not_after) - now) / SECONDS_PER_DAY


def _peer_certificate(response: httpx.Response) -> dict[str, Any] | None:
    stream = response.extensions.get("network_stream")
    if stream is None:
        return None
    ssl_object = stream.get_extra_info("ssl_object")
    if ssl_object is None:
        return None
    certificate: dict[str, Any] | None = ssl_object.getpeercert()
    return certificate


class HttpxProbeClient:
    """GET a URL once and tell what happened; never raises for network failures."""

    def __init__(self, clock: Clock | None = None, *, verify: ssl.SSLContext | bool = True,
                 max_connections: int = 8, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self._clock = clock or SystemClock()
        self._max_body = max_body_bytes
        self._client = httpx.Client(
            verify=verify, follow_redirects=False, trust_env=False,
            headers={"User-Agent": f"opsgh/{__version__} (go/no-go probe)", "Accept": "application/json, */*"},
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections))

    def fetch(self, url: str, timeout_s: float) -> ProbeResponse:
        started = time.perf_counter()

        def elapsed_ms() -> float:
            return (time.perf_counter() - started) * 1000.0

        timed_out = ProbeResponse(None, error=f"timed out after {timeout_s:g} s", timed_out=True)
        try:
            with self._client.stream("GET", url, timeout=httpx.Timeout(timeout_s)) as response:
                tls = days_left(_peer_certificate(response), self._clock.now())
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    chunks.append(chunk)
                    size += len(chunk)
                    if elapsed_ms() > timeout_s * 1000.0:
                        return ProbeResponse(None, elapsed_ms=elapsed_ms(), tls_days_left=tls,
                                             error=f"timed out after {timeout_s:g} s reading the body",
                                             timed_out=True)
                    if size > self._max_body:
                        break
                return ProbeResponse(response.status_code, b"".join(chunks)[:self._max_body], elapsed_ms(), tls)
        except httpx.TimeoutException:
            return ProbeResponse(None, elapsed_ms=elapsed_ms(), error=timed_out.error, timed_out=True)
        except httpx.HTTPError as exc:
            return ProbeResponse(None, elapsed_ms=elapsed_ms(), error=f"{type(exc).__name__}: {exc}")
        except ssl.SSLError as exc:
            return ProbeResponse(None, elapsed_ms=elapsed_ms(), error=f"TLS error: {exc}")

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpxProbeClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
