"""Outbound requests only where they belong: which addresses are public, and a bounded fetch
that goes nowhere else.

A catalog may name an image by its https URL, and whoever writes the catalog then chooses
where the daemon connects. Without a rule, that is any address the daemon's host can reach:
its own loopback services, the cloud's metadata endpoint (169.254.169.254), the private
network. So :func:`fetch_public`:

- takes only ``https`` URLs with no user or password in them;
- resolves the host once and refuses the URL unless *every* address it resolves to is public
  (:func:`non_public` says why one is not: loopback, link-local, private, reserved,
  multicast, unspecified, or an IPv4 one of those written as IPv6);
- connects to the very address it checked (TLS still verifies the certificate against the
  host name), so a DNS answer that changes between the check and the connection changes
  nothing;
- follows redirects itself, each hop held to the same rules, at most ``max_redirects``;
- bounds the body (``max_bytes``, refused as soon as it is over, announced or not) and the
  time (``timeout`` for each connect or read, ``deadline`` for the whole exchange, redirects
  and a server that trickles included).

:func:`url_problem` is the part that needs no network (scheme, user, a literal address), for
checks made before any fetch (``syndicator validate``). ``trusted`` names the one origin
(scheme, host, port) that may be local: the in-process sandbox, set by the code that wires
it, never by a catalog. Proxies from the environment are not used: the address checked is
the address connected to.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import urljoin, urlsplit

from syndicator.errors import ItemRejected, Transient

__all__ = [
    "FetchLimits",
    "Fetched",
    "Origin",
    "default_context",
    "fetch_public",
    "literal_address",
    "non_public",
    "origin_of",
    "shown",
    "url_problem",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]

REDIRECTS = frozenset({301, 302, 303, 307, 308})
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_CHUNK = 64 * 1024


class Origin(NamedTuple):
    """Scheme, host (lower case, no brackets) and port of a URL."""

    scheme: str
    host: str
    port: int


@dataclass(frozen=True, slots=True)
class FetchLimits:
    """How much one fetch may take: bytes, seconds per connect or read, seconds in all,
    redirects followed."""

    max_bytes: int
    timeout: float = 30.0
    deadline: float = 120.0
    max_redirects: int = 5


@dataclass(frozen=True, slots=True)
class Fetched:
    """The final answer: the URL that gave it, its status and, for a 2xx, its body."""

    url: str
    status: int
    content_type: str
    data: bytes


def non_public(address: IPAddress) -> str | None:
    """Why ``address`` is not a public one (``"a loopback address"`` ...), or None."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return non_public(embedded)
    for kind, flag in (
        ("an unspecified address", address.is_unspecified),
        ("a loopback address (this machine)", address.is_loopback),
        ("a link-local address", address.is_link_local),
        ("a multicast address", address.is_multicast),
        ("a reserved address", address.is_reserved),
        ("a private network address", address.is_private),
    ):
        if flag:
            return kind
    return None if address.is_global else "not a public address"


def literal_address(host: str) -> IPAddress | None:
    """``host`` as an IP address when it is one, in any form a resolver reads without asking
    DNS (``[::1]``, ``127.1``, ``2130706433``, ``0x7f.0.0.1``); None for a host name."""
    name = host.strip("[]").rstrip(".")
    try:
        return ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(name))
    except (OSError, UnicodeError, ValueError):
        return None


def shown(url: str) -> str:
    """``url`` fit for a message: a user or password in it is replaced by ``***``."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]).geturl()


def origin_of(url: str) -> Origin | None:
    """The origin of ``url``, None when it has no host or a bad port."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    try:  # a host name in other letters (IDNA) goes out in ASCII
        host = parts.hostname.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    scheme = parts.scheme.lower()
    return Origin(scheme, host, port or (443 if scheme == "https" else 80))


def url_problem(url: str, trusted: Origin | None = None) -> str | None:
    """What keeps ``url`` from being fetched, found without the network (None: nothing; a
    host name is only resolved when fetched). The answer names the problem, not the URL."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return "it is not a valid address"
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return "it carries a user name or password (never put one in an address)"
    origin = origin_of(url)
    if origin is None:
        return "it names no host, or one that cannot be written in an address"
    if trusted is not None and origin == trusted:
        return None
    if origin.scheme != "https":
        return "it is not an https:// address"
    host = origin.host.rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return f"{origin.host} is this machine, not a public host"
    address = literal_address(origin.host)
    if address is not None:
        why = non_public(address)
        if why is not None:
            return f"{address} is {why}, not a public one"
    return None


def default_context() -> ssl.SSLContext:
    """Certificates checked against the same authorities ``requests`` trusts (certifi's),
    or the system's when certifi is not installed."""
    try:
        import certifi
    except ImportError:  # pragma: no cover - installed with requests
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=certifi.where())


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (the system's resolver)."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in found))


def fetch_public(
    url: str,
    limits: FetchLimits,
    *,
    trusted: Origin | None = None,
    context: ssl.SSLContext | None = None,
    resolve: Resolver = system_resolver,
) -> Fetched:
    """GET ``url`` under the rules of this module. :class:`ItemRejected` when a rule refuses
    the URL, a redirect or the body (the message says which, never the URL's password);
    :class:`Transient` when the network fails or a time bound is reached. A final answer
    that is not a 2xx comes back with no body, for the caller to judge its status."""
    deadline = time.monotonic() + limits.deadline
    tls = context or default_context()
    hops = 0
    while True:
        problem = url_problem(url, trusted)
        if problem is not None:
            where = "" if hops == 0 else f" (redirected to {shown(url)})"
            raise ItemRejected(f"cannot be fetched{where}: {problem}")
        origin = origin_of(url)
        assert origin is not None  # url_problem checked it
        addresses = _checked_addresses(origin, origin == trusted, resolve)
        status, headers, data = _exchange(url, origin, addresses, tls, limits, deadline)
        if status not in REDIRECTS:
            return Fetched(url, status, headers.get("content-type", ""), data)
        location = headers.get("location")
        if not location:
            raise ItemRejected(f"answered {status} without saying where to")
        hops += 1
        if hops > limits.max_redirects:
            raise ItemRejected(f"redirected more than {limits.max_redirects} times")
        url = urljoin(url, location.strip())


def _checked_addresses(origin: Origin, trusted: bool, resolve: Resolver) -> list[str]:
    """The host's addresses, resolved once, each one public (unless the origin is trusted)."""
    try:
        addresses = list(resolve(origin.host.strip("[]"), origin.port))
    except (OSError, UnicodeError) as exc:
        raise Transient(f"host {origin.host} cannot be resolved ({type(exc).__name__})") from None
    if not addresses:
        raise Transient(f"host {origin.host} has no address")
    for text in addresses:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        why = None if trusted else non_public(address)
        if why is not None:
            said = f"{origin.host} resolves to {address}, {why}, not a public one"
            raise ItemRejected(f"cannot be fetched: {said}")
    return addresses


class _PinnedHTTP(http.client.HTTPConnection):
    """A connection to ``address`` for the host named in the URL (its Host header)."""

    def __init__(self, origin: Origin, address: str, timeout: float) -> None:
        super().__init__(origin.host, origin.port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPS(_PinnedHTTP):
    """The same over TLS: SNI and the certificate check use the host name, not the
    address."""

    default_port = 443

    def __init__(
        self, origin: Origin, address: str, timeout: float, context: ssl.SSLContext
    ) -> None:
        super().__init__(origin, address, timeout)
        self.tls = context

    def connect(self) -> None:
        super().connect()
        self.sock = self.tls.wrap_socket(self.sock, server_hostname=self.host)


def _exchange(
    url: str,
    origin: Origin,
    addresses: Sequence[str],
    tls: ssl.SSLContext,
    limits: FetchLimits,
    deadline: float,
) -> tuple[int, dict[str, str], bytes]:
    """One GET to the first of ``addresses`` that answers: status, headers (lower-case
    names) and, for a 2xx, the body."""
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    failure: Exception | None = None
    for address in addresses:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        timeout = min(limits.timeout, left)
        conn: _PinnedHTTP = (
            _PinnedHTTPS(origin, address, timeout, tls)
            if origin.scheme == "https"
            else _PinnedHTTP(origin, address, timeout)
        )
        # The deadline holds even against a server that answers a byte at a time.
        watchdog = threading.Timer(left, _cut, (conn,))
        watchdog.daemon = True
        watchdog.start()
        try:
            conn.connect()
        except (OSError, ssl.SSLError) as exc:
            failure = exc
            watchdog.cancel()
            conn.close()
            continue
        try:
            return _answer(conn, target, limits, deadline)
        except ItemRejected:
            raise
        except (OSError, http.client.HTTPException, ValueError) as exc:
            if time.monotonic() >= deadline:
                raise Transient(f"took more than {limits.deadline:g} s to fetch") from None
            raise Transient(f"cannot be fetched ({type(exc).__name__})") from None
        finally:
            watchdog.cancel()
            conn.close()
    if failure is None:
        raise Transient(f"took more than {limits.deadline:g} s to fetch")
    raise Transient(f"cannot be fetched ({type(failure).__name__})")


def _answer(
    conn: _PinnedHTTP, target: str, limits: FetchLimits, deadline: float
) -> tuple[int, dict[str, str], bytes]:
    conn.request("GET", target, headers={"Accept": "image/*", "Accept-Encoding": "identity"})
    answer = conn.getresponse()
    headers = {k.lower(): v for k, v in answer.getheaders()}
    if not 200 <= answer.status < 300:
        return answer.status, headers, b""
    announced = headers.get("content-length", "").strip()
    if announced.isdigit() and int(announced) > limits.max_bytes:
        raise ItemRejected(
            f"is {int(announced):,} bytes, over the {limits.max_bytes:,} bytes allowed"
        )
    chunks: list[bytes] = []
    size = 0
    while chunk := answer.read1(_CHUNK):
        size += len(chunk)
        if size > limits.max_bytes:
            raise ItemRejected(f"is over the {limits.max_bytes:,} bytes allowed")
        chunks.append(chunk)
    if answer.length or time.monotonic() >= deadline:  # cut short, by the server or the watchdog
        raise http.client.IncompleteRead(b"", answer.length)
    return answer.status, headers, b"".join(chunks)


def _cut(conn: http.client.HTTPConnection) -> None:
    """The deadline passed: shut the socket, which ends any read waiting on it."""
    sock = conn.sock
    if sock is not None:
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
