"""The download receipt a registry attaches to a file: kept when it reads as a receipt for the
very file downloaded, dropped otherwise, and never a reason to fail the download."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from anya_plugins.registry.download_receipts import DownloadReceipt, issue, receipt_key
from anya_plugins.sources.download import download
from anya_plugins.sources.download_receipt import (
    RECEIPT_HEADER,
    receipt_from,
    receipt_payload,
    receipt_user,
)
from anya_plugins.sources.mirrors import MirrorSet
from anya_plugins.sources.simple import FileLink
from tests.sources.conftest import ServeRoutes
from tests.sources.network import send

FILENAME = "anya_ext_demo-1.0-py3-none-any.whl"
CONTENT = b"not really a wheel"
SHA256 = hashlib.sha256(CONTENT).hexdigest()


def token(*, filename: str = FILENAME, sha256: str = SHA256, user: str = "alice") -> str:
    receipt = DownloadReceipt(user, "quokkahub/ext", "anya-ext-demo", "1.0", filename, sha256, 1.0)
    return issue(receipt_key(b"the registry's secret"), receipt)


def test_a_receipt_for_the_file_is_kept() -> None:
    kept = receipt_from({RECEIPT_HEADER: token()}, FILENAME, SHA256.upper())

    assert kept == token()
    assert receipt_user(kept) == "alice"


@pytest.mark.parametrize(
    "value",
    [
        "", "no-dot-here", "!!!.???", "e30.", "W10.c2ln",  # "[]": not an object
        token(filename="anya_ext_other-1.0-py3-none-any.whl"), token(sha256="0" * 64),
        token() + "A" * 5000, "é" + token(),
        base64.urlsafe_b64encode(b"[" * 3000).decode() + ".c2ln",
    ],
    ids=["empty", "no-dot", "not-base64", "no-signature", "not-an-object", "another-file",
         "another-hash", "too-long", "not-ascii", "nested-too-deep"],
)  # fmt: skip
def test_a_header_that_is_not_a_receipt_for_the_file_is_dropped(value: str) -> None:
    assert receipt_from({RECEIPT_HEADER: value}, FILENAME, SHA256) is None


def test_no_header_no_receipt() -> None:
    assert receipt_from({}, FILENAME, SHA256) is None
    assert receipt_payload("garbage") is None
    assert receipt_user("garbage") is None


def test_the_download_hands_over_the_headers_and_a_garbled_receipt_fails_nothing(
    serve: ServeRoutes, mirrors_of: Callable[..., MirrorSet], tmp_path: Path
) -> None:
    server = serve(
        {f"/files/{FILENAME}": lambda handler: send(
            handler, 200, CONTENT, headers={RECEIPT_HEADER: "garbled.receipt!"})}
    )  # fmt: skip
    url = f"{server.url()}/files/{FILENAME}"
    seen: list[Mapping[str, str]] = []

    path = download(
        FileLink(FILENAME, url, {"sha256": SHA256}), tmp_path / "dest",
        expected_sha256=SHA256, mirrors=mirrors_of(f"{server.url()}/simple/"),
        on_headers=seen.append,
    )  # fmt: skip

    assert path.read_bytes() == CONTENT
    (headers,) = seen
    assert headers[RECEIPT_HEADER] == "garbled.receipt!"
    assert receipt_from(headers, FILENAME, SHA256) is None
