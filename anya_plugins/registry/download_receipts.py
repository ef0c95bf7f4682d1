# mypy: disallow-untyped-calls=False
# (devpi-server's model functions are untyped; the tween is the adapter to them.)
"""Download receipts: the registry's signed word that a signed-in user fetched a file.

When a signed-in user downloads a release file (``GET /{user}/{index}/+f/...``), the answer
carries ``X-Anya-Download-Receipt``: ``base64url(payload).base64url(HMAC-SHA256)``, the
payload naming the user, the index, the project, the version, the file and its sha256 and
the time. The key is derived from devpi's own auth secret (so a replica sharing the
primary's ``--secretfile`` signs and checks the same receipts) and never leaves the server.

A review sent with a receipt is marked "verified install" when the receipt's signature
checks, it names the signed-in reviewer and the reviewed project. What it proves: this
account fetched this exact file of this project from this registry, at that time. What it
does not: that the file was installed, kept or run (a receipt is obtained by downloading,
e.g. with curl); that the person is independent of the publisher. It cannot be made from
public data (the hash and URL of every file are public; the key is not), and a receipt
taken from another user does not verify a review by someone else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from packaging.utils import canonicalize_name

from anya_plugins.sources.download_receipt import RECEIPT_HEADER

_CONTEXT = b"anya-download-receipt-v1"


@dataclass(frozen=True)
class DownloadReceipt:
    user: str
    index: str
    project: str
    version: str
    filename: str
    sha256: str
    issued: float


class InvalidReceipt(Exception):
    """A receipt that the registry did not issue, or that was altered."""


def receipt_key(auth_secret: bytes) -> bytes:
    """The receipts' HMAC key: devpi's auth secret, bound to this one use."""
    return hmac.new(auth_secret, _CONTEXT, hashlib.sha256).digest()


def issue(key: bytes, receipt: DownloadReceipt) -> str:
    payload = json.dumps(asdict(receipt), sort_keys=True, separators=(",", ":")).encode()
    signature = hmac.new(key, payload, hashlib.sha256).digest()
    return f"{_b64(payload)}.{_b64(signature)}"


def verify(key: bytes, token: str) -> DownloadReceipt:
    """The receipt ``token`` holds; raises InvalidReceipt unless this key signed it."""
    payload_text, dot, signature_text = token.strip().partition(".")
    if not dot:
        raise InvalidReceipt("not a download receipt")
    try:
        payload = _unb64(payload_text)
        signature = _unb64(signature_text)
    except ValueError:
        raise InvalidReceipt("not a download receipt") from None
    expected = hmac.new(key, payload, hashlib.sha256).digest()
    if not hmac.compare_digest(signature, expected):
        raise InvalidReceipt("the registry did not sign this receipt")
    try:
        return DownloadReceipt(**json.loads(payload))
    except (ValueError, TypeError):
        raise InvalidReceipt("the receipt's payload is not one the registry writes") from None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def server_key(xom: Any) -> bytes:
    return receipt_key(xom.config.get_auth_secret())


Handler = Callable[[Any], Any]


def receipt_tween(handler: Handler, registry: Any) -> Handler:
    """Add a signed receipt to a release file served to a signed-in user."""
    xom = registry["xom"]
    key: list[bytes] = []

    def tween(request: Any) -> Any:
        response = handler(request)
        if request.method != "GET" or response.status_code != 200:
            return response
        parts = request.path_info.strip("/").split("/")
        if len(parts) < 4 or parts[2] != "+f" or parts[-1].endswith(".metadata"):
            return response
        user = request.authenticated_userid
        if not user:
            return response
        entry = xom.filestore.get_file_entry("/".join(parts))
        sha256 = entry.hashes.get("sha256") if entry is not None else None
        project = _project_of(parts[-1])
        if not sha256 or project is None:
            return response
        if not key:
            key.append(server_key(xom))
        receipt = DownloadReceipt(
            user=str(user), index=f"{parts[0]}/{parts[1]}", project=project[0],
            version=project[1], filename=parts[-1], sha256=str(sha256), issued=time.time(),
        )  # fmt: skip
        response.headers[RECEIPT_HEADER] = issue(key[0], receipt)
        return response

    return tween


def _project_of(filename: str) -> tuple[str, str] | None:
    """(canonical project name, version) of a wheel or sdist file name."""
    from packaging.utils import (
        InvalidSdistFilename,
        InvalidWheelFilename,
        parse_sdist_filename,
        parse_wheel_filename,
    )

    try:
        if filename.endswith(".whl"):
            name, version, _build, _tags = parse_wheel_filename(filename)
        else:
            name, version = parse_sdist_filename(filename)
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    return str(canonicalize_name(name)), str(version)
