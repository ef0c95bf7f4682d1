"""Which proxy a request goes through: the one the environment names, as urllib and pip read
it (``https_proxy``, ``http_proxy``, ``all_proxy``, ``no_proxy``, in either case; the
system's settings on macOS and Windows).

One exception: this machine's loopback (``localhost``, ``127.0.0.0/8``, ``::1``) is always
reached directly, as Go's HTTP client does, because a proxy elsewhere cannot reach it: the
embedded registry at ``http://127.0.0.1:3141`` keeps working when only ``HTTPS_PROXY`` and
``HTTP_PROXY`` are set.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def proxy_for(url: str) -> str | None:
    """The proxy URL for a request to ``url``, or None to connect directly."""
    parts = urlsplit(url)
    if is_loopback(parts.hostname or ""):
        return None
    import urllib.request  # not for the loopback: a local registry's commands start faster

    if urllib.request.proxy_bypass(parts.netloc):
        return None
    proxies = urllib.request.getproxies()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if not proxy:
        return None
    # "proxy.example:3128" without a scheme means an HTTP proxy, as requests reads it
    return proxy if "://" in proxy else f"http://{proxy}"


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
