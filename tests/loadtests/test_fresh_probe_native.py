"""The fresh-connection probe runs in native threads: a Locust gevent loop held up (closed-loop journeys and a user
that computes without yielding) does not starve it (it keeps its rate, on schedule), its TLS is real blocking TLS
inside a monkey-patched process, and the timeline records the loop's own lag next to the buckets."""

from __future__ import annotations

import datetime
import http.server
import ipaddress
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from aftershock.core.timeline.store import read_timeline
from tests.loadtests.loadkit import REPO, Procs, StandinShop, locust_cmd

RATE = 20
EDGE_MS = 2000
# Closed-loop journeys keep the loop busy but each greenlet yields within a request (~10 ms of lag at most); a user
# that computes without yielding (a heavy parse in a user's own locustfile) holds every greenlet up: 60 ms at a time.
HOG = """
import time
from locust import User, constant, task

class Hog(User):
    fixed_count = 1
    wait_time = constant(0.01)

    @task
    def compute(self):
        end = time.perf_counter() + 0.06
        while time.perf_counter() < end:
            pass
"""


def test_the_probe_keeps_its_rate_when_the_loop_is_held_up(shop: StandinShop, procs: Procs,
                                                                       tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    hog = tmp_path / "hog.py"
    hog.write_text(HOG)
    argv = locust_cmd(shop.url, out, users=100, seconds=8, extra=("--task-rate", "0", "--fresh-rate", str(RATE)))
    argv[argv.index("-f") + 1] += f",{hog}"
    locust = procs.start(argv, tmp_path / "locust.log")
    assert locust.wait(timeout=90) == 0, (tmp_path / "locust.log").read_text()[-3000:]
    timeline = read_timeline(out)
    assert timeline.start_ms is not None and timeline.end_ms is not None
    lo, hi = timeline.start_ms + EDGE_MS, timeline.end_ms - EDGE_MS
    inside = [b for b in timeline.buckets if lo <= b.start_ms < hi]
    journeys = sum(b.total for b in inside if not b.name.startswith("fresh:"))
    per_second = [sum(b.total for b in inside if b.name.startswith("fresh:") and s <= b.start_ms < s + 1000)
                  for s in range(lo, hi - 999, 1000)]
    worst_lag = max(lag.max_ms for lag in timeline.lags if lo <= lag.start_ms < hi)
    print(f"fresh per second {per_second}, journeys {journeys * 1000 / (hi - lo):.0f}/s, worst loop lag "
          f"{worst_lag:.1f} ms")
    assert worst_lag > 40.0, "the loop was not held up: the test proves nothing"
    assert all(RATE - 2 <= n <= RATE + 2 for n in per_second), per_second  # on schedule, second by second
    assert timeline.failures == 0


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (its own CA) and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = f'{{"host": "{self.headers.get("Host")}", "probe": "{self.headers.get("X-Probe")}"}}'.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    cert, key = _certificate(tmp_path)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", cert
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


PROBE = """
import sys
import locust  # gevent's monkey-patching, as in every Locust process
from aftershock.core.workload import TlsSettings
from aftershock.loadtests.fresh import fresh_get
url, ca, verify = sys.argv[1], sys.argv[2] or None, sys.argv[3] == "1"
try:
    r = fresh_get(url, "/health", connect_timeout=2, response_timeout=2, tls=TlsSettings(verify=verify, ca_file=ca),
                  headers={"Host": "shop.example", "X-Probe": "yes"})
    print(r.status, r.body.decode())
except OSError as exc:
    print("failed", type(exc).__name__)
"""


def test_the_probe_speaks_real_tls_in_a_patched_process(tls_server: tuple[str, Path]) -> None:
    url, cert = tls_server

    def probe(ca: str, verify: bool) -> str:
        done = subprocess.run([sys.executable, "-c", PROBE, url, ca, "1" if verify else "0"], capture_output=True,
                              text=True, timeout=60, cwd=REPO)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout.strip()

    assert probe(str(cert), True) == '200 {"host": "shop.example", "probe": "yes"}'  # verified against its CA
    assert probe("", True) == "failed SSLCertVerificationError"  # not a system authority: refused
    assert probe("", False) == '200 {"host": "shop.example", "probe": "yes"}'  # verify: false
