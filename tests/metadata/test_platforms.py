"""Platforms from wheel tags, and the check that says why a wheel does not fit."""

from __future__ import annotations

import sys

from packaging.tags import sys_tags

from anya_plugins.metadata.hostapi import check_host_api
from anya_plugins.metadata.platforms import (
    check_tags,
    platform_name,
    platform_names,
    tags_from_wheel_filename,
)


def test_friendly_names_for_the_supported_platforms() -> None:
    assert platform_name("any") == "pure"
    assert platform_name("manylinux_2_17_x86_64") == "linux-x86_64"
    assert platform_name("musllinux_1_2_aarch64") == "linux-aarch64"
    assert platform_name("macosx_11_0_arm64") == "macos-arm64"
    assert platform_name("macosx_10_9_x86_64") == "macos-x86_64"
    assert platform_name("win_amd64") == "windows-x86_64"


def test_universal2_counts_for_both_mac_architectures() -> None:
    assert platform_names(["cp311-cp311-macosx_10_9_universal2"]) == ("macos-arm64", "macos-x86_64")


def test_tags_from_a_wheel_file_name() -> None:
    tags = tags_from_wheel_filename("anya_ext_x-1.0-py2.py3-none-any.whl")
    assert tags == ("py2-none-any", "py3-none-any")


def test_pure_wheel_fits_and_no_tags_means_built_locally() -> None:
    assert check_tags(["py3-none-any"]).ok
    assert check_tags([]).ok


def test_own_most_specific_tag_fits() -> None:
    assert check_tags([str(next(iter(sys_tags())))]).ok


def test_wheel_for_another_platform_says_which_and_what_this_is() -> None:
    foreign = "py3-none-macosx_11_0_arm64" if sys.platform != "darwin" else "py3-none-win_amd64"
    result = check_tags([foreign])
    assert not result.ok
    assert foreign in result.reason
    assert "this interpreter runs on" in result.reason


def test_wheel_for_another_python_on_this_platform_says_so() -> None:
    here = next(iter(sys_tags()))
    result = check_tags([f"cp27-cp27m-{here.platform}"])
    assert not result.ok
    assert "built for another Python" in result.reason


def test_host_api_range() -> None:
    assert check_host_api(">=1.0,<2", "1.0").ok
    refused = check_host_api(">=2.0,<3", "1.0")
    assert not refused.ok
    assert refused.reason == "needs host API >=2.0,<3; this host offers 1.0"
