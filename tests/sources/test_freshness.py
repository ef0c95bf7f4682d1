"""High-water marks: a source never goes back to older releases unnoticed."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.version import Version

from anya_plugins.sources.freshness import HighWaterMarks, IndexRollback

SOURCE = "http://index.example/anya/primary/+simple/"


def _versions(*texts: str) -> list[Version]:
    return [Version(text) for text in texts]


def test_newer_or_equal_releases_pass_and_raise_the_mark(tmp_path: Path) -> None:
    marks = HighWaterMarks.in_cache(tmp_path)
    marks.check(SOURCE, "anya-ext-x", _versions("1.0", "1.1"), "mirror-a")
    marks.check(SOURCE, "anya-ext-x", _versions("1.0", "1.1"), "mirror-b")
    marks.check(SOURCE, "anya-ext-x", _versions("1.0", "1.1", "2.0"), "mirror-a")
    with pytest.raises(IndexRollback):
        marks.check(SOURCE, "anya-ext-x", _versions("1.0", "1.1"), "mirror-b")


def test_older_releases_than_seen_are_refused_naming_both(tmp_path: Path) -> None:
    marks = HighWaterMarks.in_cache(tmp_path)
    marks.check(SOURCE, "anya-ext-x", _versions("2.0"), "mirror-a")
    with pytest.raises(
        IndexRollback, match=r"mirror-b offers anya-ext-x only up to 1\.0, but .* 2\.0"
    ):
        marks.check(SOURCE, "anya-ext-x", _versions("1.0"), "mirror-b")


def test_marks_are_per_source_and_per_project(tmp_path: Path) -> None:
    marks = HighWaterMarks.in_cache(tmp_path)
    marks.check(SOURCE, "anya-ext-x", _versions("2.0"), "a")
    marks.check("http://other.example/+simple/", "anya-ext-x", _versions("1.0"), "b")
    marks.check(SOURCE, "anya-ext-y", _versions("1.0"), "a")


def test_forgetting_accepts_a_withdrawn_release(tmp_path: Path) -> None:
    marks = HighWaterMarks.in_cache(tmp_path)
    marks.check(SOURCE, "anya-ext-x", _versions("2.0"), "a")
    marks.forget()
    marks.check(SOURCE, "anya-ext-x", _versions("1.0"), "a")
