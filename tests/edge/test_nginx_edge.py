"""The edge's nginx configuration: accepted by Debian's nginx (``nginx -t``) in each variant,
and every location that caches asks devpi first."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from anya_plugins.registry import nginx_edge
from anya_plugins.registry.nginx_edge import EdgeConfig, EdgeTls, render_config
from tests.edge.conftest import needs_nginx


def _check(config: EdgeConfig) -> subprocess.CompletedProcess[str]:
    directory = config.directory
    for sub in ("cache", "tmp"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    conf = directory / "nginx.conf"
    conf.write_text(render_config(config))
    nginx = shutil.which("nginx") or nginx_edge.NGINX
    return subprocess.run(
        [nginx, "-t", "-q", "-p", str(directory), "-c", str(conf), "-e", str(directory / "e.log")],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip


@needs_nginx
@pytest.mark.parametrize("brotli", [False, True])
def test_nginx_accepts_the_configuration(tmp_path: Path, brotli: bool) -> None:
    if brotli and not nginx_edge.BROTLI_MODULE.is_file():
        pytest.skip("Debian's libnginx-mod-http-brotli-filter is not installed")
    config = EdgeConfig(tmp_path, "http://127.0.0.1:3141", port=8080, brotli=brotli)
    done = _check(config)
    assert done.returncode == 0, done.stderr
    assert ("brotli on;" in render_config(config)) is brotli


@needs_nginx
def test_nginx_accepts_the_configuration_with_tls(tmp_path: Path) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    config = EdgeConfig(
        tmp_path / "edge", "http://127.0.0.1:3141", port=8443, tls=EdgeTls(cert, key)
    )
    assert config.url == "https://127.0.0.1:8443"
    done = _check(config)
    assert done.returncode == 0, done.stderr


def test_cached_files_ask_devpi_first_and_cached_pages_are_per_credentials(
    tmp_path: Path,
) -> None:
    text = render_config(EdgeConfig(tmp_path, "http://127.0.0.1:3141", port=8080, brotli=False))
    locations = dict(re.findall(r"location ([^{]+)\{(.*?)\n        \}", text, re.S))
    files = next(body for where, body in locations.items() if "[fe]" in where)
    pages = next(body for where, body in locations.items() if "simple" in where)
    assert "proxy_cache files;" in files and "auth_request /+anya-edge-authcheck;" in files
    assert "proxy_cache pages;" in pages
    key = re.search(r"proxy_cache_key (.*);", pages)
    assert key is not None
    for credential in ("$http_authorization", "$http_x_devpi_auth", "$http_cookie"):
        assert credential in key.group(1)


def test_the_cache_is_bounded(tmp_path: Path) -> None:
    text = render_config(
        EdgeConfig(tmp_path, "http://127.0.0.1:3141", port=8080, cache_max_size_mb=64)
    )
    assert "keys_zone=files:10m\n                     max_size=64m" in text


def test_an_upstream_that_is_no_url_is_refused(tmp_path: Path) -> None:
    from anya_plugins.registry.errors import ServerError

    with pytest.raises(ServerError, match="not an http"):
        render_config(EdgeConfig(tmp_path, "127.0.0.1:3141", port=8080))
