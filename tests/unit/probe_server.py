"""A local HTTP(S) server on 127.0.0.1 for the gate's network criteria tests."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import ClassVar

from local_http import base_url, serving

HEALTHY = {"status": "ok", "database": {"ok": True, "latency_ms": 3}, "migrations_current": True,
           "version": "1.4.0", "deps": [{"name": "django", "version": "5.0"}], "uptime": 1234}
SLOW_SECONDS = 1.0


class ProbeHandler(BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, tuple[int, bytes]]] = {
        "/health": (200, json.dumps(HEALTHY).encode()),
        "/health-db-down": (200, json.dumps({**HEALTHY, "database": {"ok": False}}).encode()),
        "/garbage": (200, b"<html>502 Bad Gateway</html>\x00\xff"),
        "/error": (500, b'{"error": "boom"}'),
    }

    def do_GET(self) -> None:
        if self.path == "/slow":
            time.sleep(SLOW_SECONDS)
            status, body = 200, json.dumps(HEALTHY).encode()
        elif self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/health")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        else:
            status, body = self.routes.get(self.path, (404, b"not found"))
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serve(tls: ssl.SSLContext | None = None) -> Iterator[str]:
    """Serve `ProbeHandler` on a free port; yields the base URL."""
    with serving(ProbeHandler, tls) as server:
        yield base_url(server, tls=tls is not None)


def self_signed(directory: Path, valid_days: float) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context trusting it) for a 127.0.0.1 certificate valid `valid_days` more days."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=30)).not_valid_after(now + dt.timedelta(days=valid_days))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert_pem)
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cadata=cert_pem.decode())
    return server, client
