"""Whom the HTTP client trusts for TLS: the system's trust store, plus a CA bundle.

As pip does: the system store through ``truststore`` (on Linux that is OpenSSL's default
paths, so ``SSL_CERT_FILE`` and ``SSL_CERT_DIR`` apply), and beside it the CA certificates
of ``[sources] ca_bundle``, else of ``REQUESTS_CA_BUNDLE``, else of ``CURL_CA_BUNDLE`` — a
file of PEM certificates or a directory of hashed ones (``c_rehash``). Without
``truststore`` the standard library's default context is used.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from pathlib import Path

from anya_plugins.sources.errors import CaBundleError

CONFIG_KEY = "sources.ca_bundle"
CA_BUNDLE_ENV = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


def ssl_context(
    ca_bundle: Path | None = None, *, environ: Mapping[str, str] | None = None
) -> ssl.SSLContext:
    """A client context verifying certificates and host names against the trust above."""
    try:
        import truststore
    except ImportError:
        context = ssl.create_default_context()
    else:
        context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    chosen = ca_bundle_source(ca_bundle, os.environ if environ is None else environ)
    if chosen is not None:
        where, path = chosen
        try:
            if path.is_dir():
                context.load_verify_locations(capath=str(path))
            else:
                context.load_verify_locations(cafile=str(path))
        except (OSError, ssl.SSLError) as exc:
            raise CaBundleError(where, path, getattr(exc, "strerror", None) or str(exc)) from exc
    return context


def ca_bundle_source(ca_bundle: Path | None, environ: Mapping[str, str]) -> tuple[str, Path] | None:
    """Which CA bundle applies and who named it: the setting first, then the environment."""
    if ca_bundle is not None:
        return CONFIG_KEY, ca_bundle
    for variable in CA_BUNDLE_ENV:
        value = environ.get(variable)
        if value:
            return variable, Path(value).expanduser()
    return None
