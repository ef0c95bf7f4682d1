"""High-water marks: a source never goes back to older releases unnoticed, and only a
release that was downloaded and verified moves the mark."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.version import Version

from anya_plugins.sources.freshness import HighWaterMarks, IndexRollback, forget_seen

SOURCE = "http://index.example/anya/primary/+simple/"


def _versions(*texts: str) -> list[Version]:
    return [Version(text) for text in texts]


def test_a_verified_release_raises_the_mark_and_older_pages_are_refused(tmp_path: Path) -> None:
    marks = HighWaterMarks.in_cache(tmp_path)
    marks.record(SOURCE, "anya-ext-x", "1.1")
    marks.check(SOURCE, "anya-ext-x", _versions("1.0", "1.1"), "mirror-b")
    marks.record(SOURCE, "anya-ext-x", "2.0")
    marks.record(SOURCE, "anya-ext-x", "1.0")  # an older verified release lowers nothing
    with pytest.raises(IndexRollback):
        marks.check(SOURCE, "anya-ext-x", _versions("1.0", "1.1"), "mirror-b")


def test_older_releases_than_verified_are_refused_naming_both(tmp_path: Path) -> None:
    marks = HighWaterMarks.in_cache(tmp_path)
    marks.record(SOURCE, "anya-ext-x", "2.0")
    with pytest.raises(
        IndexRollback, match=r"mirror-b offers anya-ext-x only up to 1\.0, but 2\.0 was verified"
    ):
        marks.check(SOURCE, "anya-ext-x", _versions("1.0"), "mirror-b")


def test_a_listed_version_alone_raises_no_mark(tmp_path: Path) -> None:
    """A lying mirror listing a fake 99.0.0 must not block the project afterwards."""
    marks = HighWaterMarks.in_cache(tmp_path)
    marks.check(SOURCE, "anya-ext-x", _versions("1.0", "99.0.0"), "liar")
    marks.check(SOURCE, "anya-ext-x", _versions("1.0"), "honest")


def test_marks_are_per_source_and_per_project(tmp_path: Path) -> None:
    marks = HighWaterMarks.in_cache(tmp_path)
    marks.record(SOURCE, "anya-ext-x", "2.0")
    marks.check("http://other.example/+simple/", "anya-ext-x", _versions("1.0"), "b")
    marks.check(SOURCE, "anya-ext-y", _versions("1.0"), "a")


def test_forgetting_everything_accepts_a_withdrawn_release(tmp_path: Path) -> None:
    marks = HighWaterMarks.in_cache(tmp_path)
    marks.record(SOURCE, "anya-ext-x", "2.0")
    assert marks.forget() == 1
    marks.check(SOURCE, "anya-ext-x", _versions("1.0"), "a")


def test_forgetting_one_project_keeps_the_others(tmp_path: Path) -> None:
    marks = HighWaterMarks.in_cache(tmp_path)
    marks.record(SOURCE, "anya-ext-x", "2.0")
    marks.record("http://other.example/+simple/", "anya-ext-x", "3.0")
    marks.record(SOURCE, "anya-ext-y", "2.0")
    assert forget_seen(tmp_path, "Anya_Ext.X") == 2
    marks.check(SOURCE, "anya-ext-x", _versions("1.0"), "a")
    with pytest.raises(IndexRollback):
        marks.check(SOURCE, "anya-ext-y", _versions("1.0"), "a")
