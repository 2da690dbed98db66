"""Outbound requests only where they belong (syndicator/common/netsafe.py): which addresses
are public, and a fetch held to public hosts, with redirects, size and time bounded.

The servers here are real ones on loopback; a loopback listener that must never be reached
tells whether a refused URL was connected to. The only thing faked is a DNS answer, at the
edge, where a test needs a host name that resolves to a chosen address.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from syndicator.common.netsafe import (
    FetchLimits,
    Origin,
    fetch_public,
    non_public,
    origin_of,
    shown,
    url_problem,
)
from syndicator.errors import ItemRejected, Transient
from tests.conftest import JPEG

LIMITS = FetchLimits(max_bytes=1000, timeout=2.0, deadline=3.0)


# ---------------------------------------------------------------------- the rules
@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.9.9.9", "loopback"),
        ("::1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "not a public"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:169.254.169.254", "link-local"),
        ("::ffff:10.0.0.1", "private"),
        ("2002:7f00:1::", "loopback"),  # 6to4 around 127.0.0.1
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 around 169.254.169.254
    ],
)
def test_addresses_that_are_not_public_say_what_they_are(address: str, kind: str) -> None:
    why = non_public(ipaddress.ip_address(address))
    assert why is not None and kind in why


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:4700::6810:84e5", "::ffff:8.8.8.8"])
def test_public_addresses_pass(address: str) -> None:
    assert non_public(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("https://169.254.169.254/latest/meta-data/rug.jpg", "169.254.169.254 is a link-local"),
        ("https://[::1]/rug.jpg", "::1 is a loopback address"),
        ("https://127.0.0.1/rug.jpg", "127.0.0.1 is a loopback address"),
        ("https://10.0.0.1/rug.jpg", "10.0.0.1 is a private network address"),
        ("https://[::ffff:127.0.0.1]/rug.jpg", "loopback"),
        ("https://2130706433/rug.jpg", "127.0.0.1 is a loopback"),  # 127.0.0.1 as one number
        ("https://0x7f.1/rug.jpg", "127.0.0.1 is a loopback"),
        ("https://localhost:8443/rug.jpg", "localhost is this machine"),
        ("https://user:s3cret@cdn.example.org/rug.jpg", "user name or password"),
        ("https://cdn.example.org@127.0.0.1/rug.jpg", "user name or password"),
        ("http://cdn.example.org/rug.jpg", "not an https:// address"),
        ("https:///rug.jpg", "names no host"),
        ("https://cdn.example.org:http/rug.jpg", "not a valid address"),
    ],
)
def test_url_problems_found_without_the_network(url: str, said: str) -> None:
    problem = url_problem(url)
    assert problem is not None and said in problem
    assert "s3cret" not in problem


def test_a_public_host_name_passes_and_the_trusted_origin_may_be_local() -> None:
    assert url_problem("https://cdn.example.org/rugs/bno-001.jpg") is None
    assert url_problem("https://زربية.example/rug.jpg") is None
    sandbox = origin_of("http://127.0.0.1:8700/etsy")
    assert sandbox == Origin("http", "127.0.0.1", 8700)
    assert url_problem("http://127.0.0.1:8700/photos/rug.jpg", trusted=sandbox) is None
    assert url_problem("http://127.0.0.1:8701/photos/rug.jpg", trusted=sandbox) is not None


def test_a_password_in_a_url_is_never_shown() -> None:
    assert shown("https://me:s3cret@cdn.example.org/a.jpg") == "https://***@cdn.example.org/a.jpg"
    assert shown("https://cdn.example.org/a.jpg") == "https://cdn.example.org/a.jpg"


# ---------------------------------------------------------------------- real servers
class Listener:
    """A loopback port that must never be reached: did anyone connect?"""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]

    def reached(self) -> bool:
        self.sock.settimeout(0.3)
        try:
            conn, _ = self.sock.accept()
        except TimeoutError:
            return False
        conn.close()
        return True


@pytest.fixture
def listener() -> Iterator[Listener]:
    it = Listener()
    yield it
    it.sock.close()


class Photos(BaseHTTPRequestHandler):
    """A photo host with every way of answering a test needs."""

    protocol_version = "HTTP/1.1"
    hosts: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.hosts.append(self.headers.get("Host", ""))
        path, _, query = self.path.partition("?")
        if path == "/rug.jpg":
            self._send(200, JPEG, "image/jpeg")
        elif path == "/go":
            self._send(302, b"", headers={"Location": query})
        elif path == "/loop":
            self._send(302, b"", headers={"Location": "/loop"})
        elif path == "/big":
            self._send(200, JPEG + b"\x00" * 2000, "image/jpeg")
        elif path == "/big-unannounced":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for _ in range(50):
                self.wfile.write(b"100\r\n" + b"\x00" * 256 + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        elif path == "/trickle":
            self.send_response(200)
            self.send_header("Content-Length", "900")
            self.end_headers()
            for _ in range(900):
                self.wfile.write(b"\x00")
                self.wfile.flush()
                time.sleep(0.05)
        else:
            self._send(404, b"no such photo", "text/plain")

    def _send(
        self, status: int, body: bytes, kind: str = "", headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        for key, value in {**(headers or {}), "Content-Length": str(len(body))}.items():
            self.send_header(key, value)
        if kind:
            self.send_header("Content-Type", kind)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class Served:
    def __init__(self, server: ThreadingHTTPServer, scheme: str) -> None:
        self.server = server
        self.port = server.server_address[1]
        self.origin = Origin(scheme, "127.0.0.1", self.port)
        self.base = f"{scheme}://127.0.0.1:{self.port}"


def _serve(server: ThreadingHTTPServer, scheme: str) -> Iterator[Served]:
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield Served(server, scheme)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def photos() -> Iterator[Served]:
    """A plain http photo host on loopback (reachable only as the trusted origin)."""
    Photos.hosts = []
    yield from _serve(ThreadingHTTPServer(("127.0.0.1", 0), Photos), "http")


def test_a_loopback_url_is_never_connected_to(listener: Listener) -> None:
    for url in (
        f"https://127.0.0.1:{listener.port}/rug.jpg",
        f"https://[::ffff:127.0.0.1]:{listener.port}/rug.jpg",
        f"https://localhost:{listener.port}/rug.jpg",
    ):
        with pytest.raises(ItemRejected, match=r"loopback|this machine"):
            fetch_public(url, LIMITS)
    assert not listener.reached()


def test_a_host_name_that_resolves_to_a_local_address_is_refused(listener: Listener) -> None:
    for answer in (["127.0.0.1"], ["93.184.215.14", "169.254.169.254"], ["::1"]):
        with pytest.raises(ItemRejected, match=r"images\.example resolves to") as refused:
            fetch_public(
                f"https://images.example:{listener.port}/rug.jpg",
                LIMITS,
                resolve=lambda host, port, a=answer: a,
            )
        assert "not a public one" in refused.value.message
    assert not listener.reached()


def test_the_trusted_origin_is_fetched_at_the_address_that_was_checked(photos: Served) -> None:
    asked: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        return ["127.0.0.1"] if len(asked) == 1 else ["10.9.9.9"]  # a second answer differs

    trusted = Origin("http", "photos.example", photos.port)
    got = fetch_public(
        f"http://photos.example:{photos.port}/rug.jpg", LIMITS, trusted=trusted, resolve=resolve
    )
    assert (got.status, got.data, got.content_type) == (200, JPEG, "image/jpeg")
    assert asked == ["photos.example"]  # resolved once, connected to that very address
    assert Photos.hosts == [f"photos.example:{photos.port}"]


def test_each_redirect_is_held_to_the_same_rules(photos: Served, listener: Listener) -> None:
    for target in (
        f"http://127.0.0.1:{listener.port}/rug.jpg",
        f"https://127.0.0.1:{listener.port}/rug.jpg",
        "https://169.254.169.254/latest/meta-data/",
        "file:///etc/passwd",
    ):
        with pytest.raises(ItemRejected, match="redirected to") as refused:
            fetch_public(f"{photos.base}/go?{target}", LIMITS, trusted=photos.origin)
        assert "cannot be fetched" in refused.value.message
    assert not listener.reached()
    got = fetch_public(f"{photos.base}/go?/rug.jpg", LIMITS, trusted=photos.origin)
    assert got.data == JPEG and got.url == f"{photos.base}/rug.jpg"
    with pytest.raises(ItemRejected, match="more than 5"):
        fetch_public(f"{photos.base}/loop", LIMITS, trusted=photos.origin)


def test_the_size_is_bounded_announced_or_not(photos: Served) -> None:
    for path in ("/big", "/big-unannounced"):
        with pytest.raises(ItemRejected, match="1,000 bytes"):
            fetch_public(photos.base + path, LIMITS, trusted=photos.origin)


def test_the_time_is_bounded_even_for_a_server_that_trickles(photos: Served) -> None:
    limits = FetchLimits(max_bytes=1000, timeout=1.0, deadline=1.0)
    started = time.monotonic()
    with pytest.raises(Transient, match="more than 1 s"):
        fetch_public(photos.base + "/trickle", limits, trusted=photos.origin)
    assert time.monotonic() - started < 3.0  # a read timeout alone would wait 45 s


def test_an_error_answer_comes_back_with_its_status(photos: Served) -> None:
    got = fetch_public(photos.base + "/missing.jpg", LIMITS, trusted=photos.origin)
    assert (got.status, got.data) == (404, b"")


# ---------------------------------------------------------------------- TLS
def _self_signed(folder: Path, name: str) -> tuple[Path, bytes]:
    """A key and self-signed certificate for ``name`` (an IP or a DNS name), as one PEM
    file; and the certificate alone, for a client to trust."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    try:
        alt: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        alt = x509.DNSName(name)
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([alt]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM)
    chain = folder / f"{name}.pem"
    chain.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        + pem
    )
    return chain, pem


@pytest.mark.parametrize(("named", "fetched"), [("127.0.0.1", True), ("other.example", False)])
def test_https_checks_the_certificate_against_the_host_in_the_url(
    tmp_path: Path, named: str, fetched: bool
) -> None:
    chain, pem = _self_signed(tmp_path, named)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Photos)
    serving = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    serving.load_cert_chain(chain)
    server.socket = serving.wrap_socket(server.socket, server_side=True)
    client = ssl.create_default_context(cadata=pem.decode())
    for served in _serve(server, "https"):
        url = f"{served.base}/rug.jpg"
        if fetched:
            got = fetch_public(url, LIMITS, trusted=served.origin, context=client)
            assert got.data == JPEG
        else:
            with pytest.raises(Transient, match="SSL"):
                fetch_public(url, LIMITS, trusted=served.origin, context=client)
