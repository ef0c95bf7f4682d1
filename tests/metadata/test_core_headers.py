"""Core metadata fields read without the email parser are the ones importlib.metadata reads."""

from __future__ import annotations

import email
from importlib import metadata as importlib_metadata

import pytest

from anya_plugins.metadata.core_headers import first_headers, name_and_version


def test_every_installed_distribution_reads_as_importlib_metadata_reads_it() -> None:
    dists = list(importlib_metadata.distributions())
    assert len(dists) > 50  # the test environment: pytest, devpi, sigstore and their deps
    for dist in dists:
        assert name_and_version(dist) == (dist.metadata["Name"], dist.version), dist._path  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "text",
    [
        "Metadata-Version: 2.1\nName: plain\nVersion: 1.0\n\nName: in-the-body\n",
        "Metadata-Version: 2.1\r\nName: crlf\r\nVersion: 2.0\r\n\r\nbody\r\n",
        "Name:   padded \t\nVersion:\t3.0 \n",
        "Name: folded\n  onto two lines\nVersion: 4.0\n",
        "name: lower-case\nVERSION: 5.0\n",
        "Name: first\nName: second\nVersion: 6.0\nVersion: 7.0\n",
        "Summary: no name\n",
        "Name: body-without-blank-line\nnot a header\nVersion: 8.0\n",
        "Name: tab-continued\n\tmore\nVersion: 9.0",
        "Bad Header: x\nName: after-a-bad-one\nVersion: 1\n",
        "",
        "\nName: after-an-empty-first-line\n",
        "Description: a\n multi-line\n |\n value\nName: after\nVersion: 1.1\n",
        "Name: cr-only\rVersion: 1.0\r\rName: body\r",
        "Version: 1.0\nName: name-last\n  folded\nSummary: x\n",
        "Name: x\nVersion: 1\x0bstill the version line\n",
        "Name\x7f: not a name\nName: real\n",
        ": empty name\nName: after-it\nVersion: 2\n",
    ],
)
def test_headers_line_breaks_and_names_are_what_the_email_parser_gives(text: str) -> None:
    message = email.message_from_string(text)
    expected = {
        key: value for key in ("name", "version") if (value := message.get(key)) is not None
    }
    assert first_headers(text, ("name", "version")) == expected
