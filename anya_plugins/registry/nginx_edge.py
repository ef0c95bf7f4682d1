"""An nginx caching edge in front of one devpi node: its configuration and its process.

:func:`render_config` turns an :class:`EdgeConfig` into ``nginx.conf`` text (pure; the
enterprise TLS front reuses it); :func:`start` writes it under the edge's directory and runs
Debian's nginx there (``nginx -p DIR -c nginx.conf``, unprivileged paths only), :func:`stop`
ends it, :func:`cache_stats` reads its hit ratio from its access log.

What is cached and for how long:

- release files (``/+f/``, ``/+e/``): their path holds their sha256, so they never change:
  cached up to ``cache_max_size_mb``, sent on as ``immutable`` with a year's ``max-age``
  (a replica streaming a file it is still fetching asks nginx not to buffer it, which would
  also keep it out of the cache: that header is ignored);
- simple pages (``/+simple/``): ``page_max_age_seconds`` at the edge and downstream; once
  expired, the next request waits for the fresh page while concurrent ones get the expired
  copy (so no request sees a page older than the max-age plus one fetch; no background
  refresh, which would answer the first request after a long idle with an old page), and
  the expired copy is served while the node is down; the cache key holds
  ``Accept`` (HTML or PEP 691 JSON) and the caller's credentials, so a private index's page
  fetched by a member is never answered from the cache to anyone else;
- everything else (JSON API, uploads, login) goes through uncached.

A cached file is shared by every caller, so devpi is asked first whether this caller may
read it (``auth_request`` against ``/+authcheck``, the answer itself cached for
``auth_cache_seconds`` per path and credentials): without it a file a member fetched once
would be answered from the cache to anonymous callers (measured: ``200 HIT``). A cached page
is shared only by callers sending the very same credentials (they are in its cache key), so
anyone else's request reaches devpi, whose read check answers it; a member whose access is
withdrawn still gets the page they fetched for at most ``page_max_age_seconds``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from anya_plugins.registry.errors import ServerError

NGINX = "/usr/sbin/nginx"
BROTLI_MODULE = Path("/usr/lib/nginx/modules/ngx_http_brotli_filter_module.so")
"""Debian's ``libnginx-mod-http-brotli-filter``; brotli is on when it is installed."""
CACHE_STATUS_HEADER = "X-Cache-Status"
CONFIG_FILE = "nginx.conf"
PID_FILE = "nginx.pid"
ACCESS_LOG = "access.log"
ERROR_LOG = "error.log"
YEAR_SECONDS = 31_536_000
PAGE_CACHE_KEY = "$request_uri|$http_accept|$http_authorization|$http_x_devpi_auth|$http_cookie"
"""A page is shared only by requests for the same form (HTML or PEP 691 JSON) with the same
credentials."""
COMPRESSED_TYPES = (
    "application/json application/vnd.pypi.simple.v1+json application/vnd.pypi.simple.v1+html"
)
"""Beside text/html, which gzip and brotli always compress."""


@dataclass(frozen=True)
class EdgeTls:
    """Serve HTTPS with this certificate chain and key (PEM files)."""

    certificate: Path
    key: Path


@dataclass(frozen=True)
class EdgeConfig:
    """One edge: where it listens, the devpi node behind it, where it keeps its files."""

    directory: Path
    """Config, cache, temporary files, logs and pid file (created by :func:`start`)."""
    upstream: str
    """The devpi node's base URL, e.g. ``http://127.0.0.1:3141``."""
    port: int
    host: str = "127.0.0.1"
    cache_max_size_mb: int = 1024
    """Bound of the file cache on disk (least recently used files are evicted)."""
    page_max_age_seconds: int = 2
    """How long a simple page is answered from the cache (and may be kept downstream)."""
    auth_cache_seconds: int = 5
    """How long devpi's answer to "may this caller read this path" is reused."""
    brotli: bool | None = None
    """None: on when Debian's brotli filter module is installed."""
    tls: EdgeTls | None = None
    run_as_root: bool | None = None
    """None: ``user root;`` when started as root (nginx's workers would run as nobody and
    could not write a cache directory owned by root)."""

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"


@dataclass(frozen=True)
class EdgeProcess:
    """A running edge."""

    url: str
    pid: int
    directory: Path


@dataclass(frozen=True)
class CacheStats:
    """Cache answers counted from the access log (requests that the cache may serve)."""

    hits: int
    misses: int
    other: int
    """EXPIRED, STALE, UPDATING, REVALIDATED, BYPASS."""

    @property
    def requests(self) -> int:
        return self.hits + self.misses + self.other

    @property
    def hit_ratio(self) -> float | None:
        return self.hits / self.requests if self.requests else None


def render_config(config: EdgeConfig) -> str:
    """``nginx.conf`` for ``config`` (paths absolute, nothing outside its directory)."""
    d = config.directory.resolve()
    upstream = urllib.parse.urlsplit(config.upstream)
    if upstream.scheme not in ("http", "https") or not upstream.netloc:
        raise ServerError(f"edge upstream {config.upstream!r} is not an http(s) URL")
    brotli = BROTLI_MODULE.is_file() if config.brotli is None else config.brotli
    as_root = os.geteuid() == 0 if config.run_as_root is None else config.run_as_root
    listen_host = f"[{config.host}]" if ":" in config.host else config.host
    listen = f"{listen_host}:{config.port}" + (" ssl" if config.tls else "")
    tls = (
        f"        ssl_certificate {config.tls.certificate.resolve()};\n"
        f"        ssl_certificate_key {config.tls.key.resolve()};\n"
        if config.tls
        else ""
    )
    auth_seconds = config.auth_cache_seconds
    page_seconds = config.page_max_age_seconds
    return f"""\
# Generated by anya_plugins.registry.nginx_edge; regenerated on every start.
{f"load_module {BROTLI_MODULE};" if brotli else ""}
{"user root;" if as_root else ""}
worker_processes auto;
daemon off;
pid {d / PID_FILE};
error_log {d / ERROR_LOG} warn;
events {{ worker_connections 1024; }}
http {{
    log_format anya '$upstream_cache_status $status $request_time "$request"';
    access_log {d / ACCESS_LOG} anya buffer=32k flush=1s;
    client_body_temp_path {d / "tmp/client_body"};
    proxy_temp_path {d / "tmp/proxy"};
    fastcgi_temp_path {d / "tmp/fastcgi"};
    uwsgi_temp_path {d / "tmp/uwsgi"};
    scgi_temp_path {d / "tmp/scgi"};
    client_max_body_size 0;
    proxy_cache_path {d / "cache/files"} levels=1:2 keys_zone=files:10m
                     max_size={config.cache_max_size_mb}m inactive=30d use_temp_path=off;
    proxy_cache_path {d / "cache/pages"} levels=1:2 keys_zone=pages:10m
                     max_size=100m inactive=10m use_temp_path=off;
    proxy_cache_path {d / "cache/auth"} levels=1:2 keys_zone=auth:10m
                     max_size=10m inactive=1m use_temp_path=off;
    gzip on;
    gzip_proxied any;
    gzip_vary on;
    gzip_types {COMPRESSED_TYPES};
{f"    brotli on;{chr(10)}    brotli_types {COMPRESSED_TYPES};" if brotli else ""}
    upstream devpi {{
        server {upstream.netloc};
        keepalive 16;
    }}
    server {{
        listen {listen};
{tls}        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $http_host;
        # devpi builds the links of its pages from this header.
        proxy_set_header X-Outside-URL $scheme://$http_host;
        add_header {CACHE_STATUS_HEADER} $upstream_cache_status always;

        location = /+anya-edge-authcheck {{
            internal;
            proxy_pass {upstream.scheme}://devpi/+authcheck;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Original-URI $request_uri;
            proxy_cache auth;
            proxy_cache_key "$request_uri|$http_authorization|$http_x_devpi_auth|$cookie_auth_tkt";
            proxy_cache_valid 200 401 403 {auth_seconds}s;
            proxy_ignore_headers Cache-Control Expires Set-Cookie;
        }}
        location ~ /\\+[fe]/ {{
            auth_request /+anya-edge-authcheck;
            proxy_pass {upstream.scheme}://devpi;
            proxy_cache files;
            proxy_cache_key $request_uri;
            proxy_cache_valid 200 {YEAR_SECONDS}s;
            proxy_cache_lock on;
            proxy_cache_use_stale error timeout updating http_500 http_502 http_503 http_504;
            proxy_ignore_headers Cache-Control Expires Set-Cookie X-Accel-Buffering;
            proxy_hide_header Cache-Control;
            add_header Cache-Control "max-age={YEAR_SECONDS}, immutable" always;
            add_header {CACHE_STATUS_HEADER} $upstream_cache_status always;
        }}
        location ~ /\\+simple/ {{
            proxy_pass {upstream.scheme}://devpi;
            proxy_cache pages;
            proxy_cache_key "{PAGE_CACHE_KEY}";
            proxy_cache_valid 200 {page_seconds}s;
            proxy_cache_lock on;
            proxy_cache_revalidate on;
            proxy_cache_use_stale error timeout updating http_500 http_502 http_503 http_504;
            proxy_ignore_headers Cache-Control Expires Set-Cookie Vary X-Accel-Buffering;
            proxy_hide_header Cache-Control;
            add_header Cache-Control "max-age={page_seconds}, must-revalidate" always;
            add_header Vary "Accept, Authorization" always;
            add_header {CACHE_STATUS_HEADER} $upstream_cache_status always;
        }}
        location / {{
            proxy_pass {upstream.scheme}://devpi;
        }}
    }}
}}
"""


def start(config: EdgeConfig, *, timeout: float = 15.0) -> EdgeProcess:
    """Write the configuration, check it (``nginx -t``), start nginx, return when it listens.

    nginx runs in its own session and outlives this process (``registry up`` returns while
    the topology keeps running); :func:`stop` ends it from its pid file."""
    directory = config.directory.resolve()
    for sub in ("cache", "tmp"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    conf = directory / CONFIG_FILE
    conf.write_text(render_config(config))
    arguments = [_nginx(), "-p", str(directory), "-c", str(conf), "-e", str(directory / ERROR_LOG)]
    checked = subprocess.run(
        [*arguments, "-t", "-q"], capture_output=True, text=True, check=False, timeout=30
    )
    if checked.returncode != 0:
        raise ServerError(f"nginx refused {conf}:\n{checked.stderr.strip()}")
    with (directory / "nginx.out").open("ab") as out:
        process = subprocess.Popen(
            arguments,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(f"nginx exited with code {process.returncode}: {_tail(directory)}")
        if _answers(config):
            return EdgeProcess(config.url, process.pid, directory)
        time.sleep(0.05)
    process.kill()
    process.wait()
    raise ServerError(f"nginx did not answer at {config.url} within {timeout:.0f} s")


def ensure(config: EdgeConfig) -> EdgeProcess:
    """The edge of ``config`` running: left alone when it runs with this very configuration,
    else (re)started."""
    directory = config.directory.resolve()
    pid = running_pid(directory)
    if pid is not None:
        try:
            current = (directory / CONFIG_FILE).read_text()
        except OSError:
            current = ""
        if current == render_config(config):
            return EdgeProcess(config.url, pid, directory)
        stop(directory)
    return start(config)


def stop(directory: Path, *, timeout: float = 10.0) -> bool:
    """Stop the edge kept in ``directory``; False when none was running there."""
    pid = running_pid(directory)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            break
        time.sleep(0.05)
    else:
        os.kill(pid, signal.SIGKILL)
    (directory / PID_FILE).unlink(missing_ok=True)
    return True


def running_pid(directory: Path) -> int | None:
    """The pid of the nginx master serving ``directory``'s configuration, if it runs."""
    directory = directory.resolve()
    try:
        pid = int((directory / PID_FILE).read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    if b"nginx" not in cmdline or str(directory).encode() not in cmdline:
        return None
    return pid if _alive(pid) else None


def cache_stats(directory: Path) -> CacheStats:
    """Cache answers so far (the log is flushed every second, so the last second may be
    missing)."""
    counts: Counter[str] = Counter()
    try:
        with (directory / ACCESS_LOG).open(errors="replace") as log:
            for line in log:
                counts[line.split(" ", 1)[0]] += 1
    except FileNotFoundError:
        pass
    other = sum(n for key, n in counts.items() if key not in ("HIT", "MISS", "-"))
    return CacheStats(counts["HIT"], counts["MISS"], other)


def _nginx() -> str:
    import shutil

    found = shutil.which("nginx") or (NGINX if Path(NGINX).is_file() else None)
    if found is None:
        raise ServerError(
            "nginx is not installed", hint="apt-get install nginx-light (Debian's package)"
        )
    return found


def _answers(config: EdgeConfig) -> bool:
    import socket

    try:
        with socket.create_connection((config.host, config.port), timeout=0.5):
            return True
    except OSError:
        return False


def _alive(pid: int) -> bool:
    with contextlib.suppress(ChildProcessError):  # reap it if it is our child
        os.waitpid(pid, os.WNOHANG)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def _tail(directory: Path) -> str:
    parts = []
    for name in (ERROR_LOG, "nginx.out"):
        try:
            parts.append((directory / name).read_text(errors="replace")[-1500:])
        except OSError:
            continue
    return "\n".join(parts) or "(no log)"
