"""The registry's download receipt, as the client sees it: a header kept, never trusted.

An Anya registry answers a signed-in download of a release file with ``X-Anya-Download-Receipt``
(:mod:`anya_plugins.registry.download_receipts`): ``base64url(payload).base64url(HMAC)``. The
client cannot check the HMAC (the key stays on the server, which checks it when a review
carries the receipt); it only keeps a header that reads as a receipt for the very file it
downloaded, so that a stray or garbled header is dropped instead of being carried into a
review. Nothing here raises: a missing or unreadable receipt leaves the install as it was,
without one.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping

RECEIPT_HEADER = "X-Anya-Download-Receipt"
MAX_RECEIPT_LENGTH = 4096
"""A receipt is a few hundred characters; a longer header is not one."""


def receipt_from(headers: Mapping[str, str], filename: str, sha256: str) -> str | None:
    """The receipt in ``headers`` if it names ``filename`` with ``sha256``; None otherwise."""
    token = (headers.get(RECEIPT_HEADER) or "").strip()
    if not token or len(token) > MAX_RECEIPT_LENGTH or not token.isascii():
        return None
    payload = receipt_payload(token)
    if payload is None:
        return None
    if payload.get("filename") != filename or payload.get("sha256") != sha256.lower():
        return None
    return token


def receipt_user(token: str) -> str | None:
    """The user a receipt names (as written: only the registry can tell it is genuine)."""
    payload = receipt_payload(token)
    user = payload.get("user") if payload is not None else None
    return user if isinstance(user, str) else None


def receipt_payload(token: str) -> dict[str, object] | None:
    """The receipt's payload, unchecked; None when ``token`` does not read as a receipt."""
    payload_text, dot, signature = token.partition(".")
    if not dot or not payload_text or not signature:
        return None
    try:
        payload = json.loads(_unb64(payload_text))
        _unb64(signature)
    except (ValueError, RecursionError):  # binascii.Error is a ValueError
        return None
    return payload if isinstance(payload, dict) else None


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
