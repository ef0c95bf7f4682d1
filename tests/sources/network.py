"""Real network pieces on 127.0.0.1 for the plumbing tests: a server whose answers a test
writes (plain or TLS), a forwarding proxy that records what it forwarded, and a certificate
authority made with ``cryptography``.

Host names that do not resolve (``index.test``) reach a server only through the proxy,
which maps them to 127.0.0.1: a request that arrives proves it went through the proxy.
"""

from __future__ import annotations

import datetime
import ipaddress
import select
import socket
import ssl
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

Route = Callable[[BaseHTTPRequestHandler], None]
"""Writes the whole answer to one request."""


@dataclass(frozen=True)
class Seen:
    """One request a server or the proxy received."""

    method: str
    target: str
    """The path (a server) or the absolute URL / ``host:port`` (the proxy)."""
    headers: Mapping[str, str]

    @property
    def authorization(self) -> str | None:
        return self.headers.get("Authorization")


class _Threaded:
    """A ThreadingHTTPServer on 127.0.0.1 and a free port, serving in a daemon thread."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True

    def start(self) -> None:
        threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()

    @property
    def port(self) -> int:
        return self._httpd.server_port

    def stop(self) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()


class Server(_Threaded):
    """Answers each path with the route a test gave for it (404 otherwise); records requests."""

    def __init__(self, routes: Mapping[str, Route], *, tls: ssl.SSLContext | None = None) -> None:
        self.routes = dict(routes)
        self.seen: list[Seen] = []
        super().__init__(_server_handler(self))
        if tls is not None:
            self._httpd.socket = tls.wrap_socket(self._httpd.socket, server_side=True)
        self.scheme = "https" if tls is not None else "http"
        self.start()

    def url(self, host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}"


def _server_handler(server: Server) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            server.seen.append(Seen(self.command, self.path, dict(self.headers.items())))
            route = server.routes.get(self.path.split("?")[0])
            if route is None:
                send(self, 404, b"not found")
            else:
                route(self)

        do_HEAD = do_GET

    return Handler


def send(
    handler: BaseHTTPRequestHandler,
    status: int,
    body: bytes = b"",
    *,
    content_type: str = "text/plain",
    headers: Mapping[str, str] | None = None,
) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(body)


def redirect(location: str) -> Route:
    return lambda handler: send(handler, 302, headers={"Location": location})


class ForwardingProxy(_Threaded):
    """An HTTP proxy: forwards absolute-form requests and tunnels CONNECT, mapping the host
    names in ``aliases`` to 127.0.0.1; records every request it received."""

    def __init__(self, aliases: frozenset[str] = frozenset()) -> None:
        self.aliases = aliases
        self.seen: list[Seen] = []
        super().__init__(_proxy_handler(self))
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def address(self, host: str, port: int) -> tuple[str, int]:
        return ("127.0.0.1" if host in self.aliases else host, port)


def _proxy_handler(proxy: ForwardingProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            proxy.seen.append(Seen(self.command, self.path, dict(self.headers.items())))
            target = urlsplit(self.path)
            host, port = proxy.address(target.hostname or "", target.port or 80)
            path = target.path + (f"?{target.query}" if target.query else "")
            with socket.create_connection((host, port), timeout=5) as upstream:
                request = f"{self.command} {path} HTTP/1.0\r\n"
                headers = "".join(
                    f"{name}: {value}\r\n"
                    for name, value in self.headers.items()
                    if name.lower() not in ("proxy-authorization", "proxy-connection", "connection")
                )
                upstream.sendall(f"{request}{headers}Connection: close\r\n\r\n".encode())
                self.close_connection = True
                while chunk := upstream.recv(65536):
                    self.wfile.write(chunk)

        do_HEAD = do_GET

        def do_CONNECT(self) -> None:
            proxy.seen.append(Seen(self.command, self.path, dict(self.headers.items())))
            name, _, port = self.path.rpartition(":")
            with socket.create_connection(proxy.address(name, int(port)), timeout=5) as upstream:
                self.send_response(200, "Connection established")
                self.end_headers()
                self.wfile.flush()
                _pump(self.connection, upstream)
            self.close_connection = True

    return Handler


def _pump(one: socket.socket, other: socket.socket) -> None:
    """Copy bytes both ways until either side closes."""
    while True:
        ready, _, _ = select.select([one, other], [], [], 5)
        if not ready:
            return
        for sock in ready:
            data = sock.recv(65536)
            if not data:
                return
            (other if sock is one else one).sendall(data)


@dataclass(frozen=True)
class Certificates:
    """A CA and a server certificate it signed, as PEM files."""

    ca_file: Path
    server_context: ssl.SSLContext


def make_certificates(directory: Path, hosts: tuple[str, ...]) -> Certificates:
    """A throwaway CA and a server certificate for ``hosts`` (names or IP addresses)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Anya test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_file = directory / "ca.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    chain = directory / "server.pem"
    chain.write_bytes(
        server.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain)
    return Certificates(ca_file, context)
